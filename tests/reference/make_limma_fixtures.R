# Reference outputs of R limma for tests/test_limma.py.
#
# Regenerate (from the repository root):
#   .venv/bin/python tests/reference/make_limma_inputs.py   # inputs (only if changed)
#   Rscript tests/reference/make_limma_fixtures.R
#
# For every case in tests/data/reference/limma_<case>_expr.tsv.gz (+ _groups.tsv) this
# runs the two-group moderated t-test exactly as documented in
# src/igf1r_resistance/tl/_limma.py:
#   design <- model.matrix(~0 + group)
#   fit    <- lmFit(x, design)
#   fit2   <- contrasts.fit(fit, makeContrasts(resistant - sensitive, levels = design))
#   fit2   <- eBayes(fit2, trend = trend, robust = robust)
#   topTable(fit2, number = Inf, sort.by = "none", adjust.method = "BH")
# and writes limma_<case>_<variant>.tsv.gz with all numbers at 17 significant digits,
# plus one row per run in limma_hyperparameters.tsv (df.prior, s2.prior, var.prior).
#
# With trend = TRUE limma stops on an all-NA row ("NA covariate values not allowed"),
# so such rows are dropped before fitting and reported as NA (the Python port does the
# same; all-NA rows do not influence any other gene in limma).

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
refdir <- file.path(root, "tests", "data", "reference")

runs <- list(
  list(case = "gse15709", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "gse15709", variant = "trend", trend = TRUE, robust = FALSE),
  list(case = "gse15709", variant = "robust", trend = FALSE, robust = TRUE),
  list(case = "gse11440", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "gse11440", variant = "trend", trend = TRUE, robust = FALSE),
  list(case = "logcpm", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "logcpm", variant = "trend", trend = TRUE, robust = FALSE),
  list(case = "logcpm", variant = "robust", trend = FALSE, robust = TRUE),
  list(case = "infdf", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "infdf", variant = "robust", trend = FALSE, robust = TRUE),
  list(case = "outliers", variant = "plain", trend = FALSE, robust = FALSE),
  list(case = "outliers", variant = "robust", trend = FALSE, robust = TRUE)
)

fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))

hyper <- list()
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
  cm <- makeContrasts(resistant - sensitive, levels = design)
  fit2 <- contrasts.fit(fit, cm)
  fit2 <- eBayes(fit2, trend = run$trend, robust = run$robust)
  tt <- topTable(fit2, number = Inf, sort.by = "none", adjust.method = "BH")

  cols <- c("logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B")
  out <- matrix(NA_real_, nrow(x), length(cols), dimnames = list(rownames(x), cols))
  out[keep, ] <- as.matrix(tt[, cols])
  txt <- data.frame(gene = rownames(x), apply(out, 2, fmt), check.names = FALSE)
  con <- gzfile(file.path(refdir, sprintf("limma_%s_%s.tsv.gz", run$case, run$variant)), "w")
  write.table(txt, con, quote = FALSE, sep = "\t", row.names = FALSE)
  close(con)

  hyper[[length(hyper) + 1]] <- data.frame(
    case = run$case, variant = run$variant,
    df_prior_min = fmt(min(fit2$df.prior)), df_prior_max = fmt(max(fit2$df.prior)),
    s2_prior_median = fmt(median(fit2$s2.prior)), var_prior = fmt(fit2$var.prior),
    df_pooled = fmt(sum(fit2$df.residual))
  )
}
hyper <- do.call(rbind, hyper)

# splines::ns bases (intercept = TRUE) as used by fitFDist for limma-trend, evaluated at
# the fitting points and, via predict(), at new points inside and outside the boundary.
set.seed(1)
xs <- sort(round(rexp(40, 0.3), 6))
newx <- c(-3, -0.5, 0.25, 3.3, 7.1, max(xs) + 0.5, max(xs) + 10)
nsout <- list()
for (df in 2:4) {
  b <- splines::ns(xs, df = df, intercept = TRUE)
  p <- predict(b, newx = newx)
  for (j in seq_len(ncol(b))) {
    nsout[[length(nsout) + 1]] <- data.frame(df = df, column = j, where = "fit", x = fmt(xs),
                                             value = fmt(b[, j]))
    nsout[[length(nsout) + 1]] <- data.frame(df = df, column = j, where = "predict",
                                             x = fmt(newx), value = fmt(p[, j]))
  }
}
write.table(do.call(rbind, nsout), file.path(refdir, "limma_ns_basis.tsv"), quote = FALSE,
            sep = "\t", row.names = FALSE)
write.table(hyper, file.path(refdir, "limma_hyperparameters.tsv"), quote = FALSE, sep = "\t",
            row.names = FALSE)
cat(sprintf("limma %s, R %s: wrote %d runs to %s\n", packageVersion("limma"),
            getRversion(), nrow(hyper), refdir))
