# Reference confidence intervals of R limma's topTable(confint = 0.95) for tests/test_limma.py.
#
# Regenerate (from the repository root, inputs from make_limma_inputs.py):
#   Rscript tests/reference/make_limma_confint_fixtures.R
#
# Same fit as make_limma_fixtures.R (lmFit on ~0 + group, contrast resistant - sensitive,
# eBayes), then topTable(confint = 0.95), whose interval is
#   logFC -/+ qt(0.975, df.total) * sqrt(s2.post) * stdev.unscaled.
# Writes limma_<case>_<variant>_confint.tsv.gz (gene, logFC, CI.L, CI.R; 17 significant digits).

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
refdir <- file.path(root, "tests", "data", "reference")

runs <- list(
  list(case = "gse11440", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "logcpm", variant = "trend", trend = TRUE, robust = FALSE),
  list(case = "infdf", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "outliers", variant = "robust", trend = FALSE, robust = TRUE)
)
fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))

for (run in runs) {
  expr <- read.delim(gzfile(file.path(refdir, sprintf("limma_%s_expr.tsv.gz", run$case))),
                     row.names = 1, check.names = FALSE, na.strings = "NA")
  groups <- read.delim(file.path(refdir, sprintf("limma_%s_groups.tsv", run$case)),
                       colClasses = "character")
  groups <- groups[groups$group %in% c("resistant", "sensitive") &
                     groups$sample %in% colnames(expr), ]
  x <- as.matrix(expr[, colnames(expr) %in% groups$sample, drop = FALSE])
  group <- factor(groups$group[match(colnames(x), groups$sample)])
  keep <- if (run$trend) rowSums(!is.na(x)) > 0 else rep(TRUE, nrow(x))
  design <- model.matrix(~0 + group)
  colnames(design) <- levels(group)
  fit <- lmFit(x[keep, , drop = FALSE], design)
  fit2 <- eBayes(contrasts.fit(fit, makeContrasts(resistant - sensitive, levels = design)),
                 trend = run$trend, robust = run$robust)
  tt <- topTable(fit2, number = Inf, sort.by = "none", confint = 0.95)
  cols <- c("logFC", "CI.L", "CI.R")
  out <- matrix(NA_real_, nrow(x), length(cols), dimnames = list(rownames(x), cols))
  out[keep, ] <- as.matrix(tt[, cols])
  txt <- data.frame(gene = rownames(x), apply(out, 2, fmt), check.names = FALSE)
  con <- gzfile(file.path(refdir, sprintf("limma_%s_%s_confint.tsv.gz", run$case, run$variant)), "w")
  write.table(txt, con,
              quote = FALSE, sep = "\t", row.names = FALSE)
  close(con)
}
