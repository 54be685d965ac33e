# Reference values for the verdict statistics of issue 13 (src/igf1r_resistance/tl/stats.py
# tost_p, src/igf1r_resistance/tl/_limma.py confint_from_t), computed with R.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/make_verdict_fixtures.R
# Needs R (>= 4.2) with limma (tested with limma 3.54). R only makes fixtures. Writes
#   tests/data/reference/stats_tost.tsv              TOST = max of the two one-sided Welch
#                                                    t.test p values at mu = -margin / +margin
#   tests/data/reference/limma_confint_gse15709.tsv  topTable(confint = TRUE) on the
#                                                    limma_gse15709 fixture (eBayes, no trend)
#   tests/data/reference/limma_confint_gse15709_robust.tsv  the same with eBayes(robust = TRUE)
#                                                    (gene-wise df.total)
#   tests/data/reference/limma_quantile_{input,normalised}.tsv  normalizeBetweenArrays(x, "quantile")
#                                                    on a 15 x 4 matrix with ties

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
refdir <- file.path(root, "tests", "data", "reference")
fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))

# ---- TOST on Welch comparisons
set.seed(13)
cases <- list(
  list(x = rnorm(3, 0.1, 0.2), y = rnorm(3, 0, 0.2), margin = 0.5),
  list(x = rnorm(5, 0.3, 1), y = rnorm(4, 0, 0.5), margin = 0.5),
  list(x = rnorm(12, 0.05, 0.3), y = rnorm(10, 0, 0.3), margin = 0.25),
  list(x = rnorm(4, 2, 0.3), y = rnorm(4, 0, 0.3), margin = 0.5)
)
rows <- lapply(cases, function(k) {
  lower <- t.test(k$x, k$y, mu = -k$margin, alternative = "greater", var.equal = FALSE)$p.value
  upper <- t.test(k$x, k$y, mu = k$margin, alternative = "less", var.equal = FALSE)$p.value
  data.frame(x = paste(fmt(k$x), collapse = ","), y = paste(fmt(k$y), collapse = ","),
             margin = fmt(k$margin), tost_p = fmt(max(lower, upper)))
})
write.table(do.call(rbind, rows), file.path(refdir, "stats_tost.tsv"), quote = FALSE, sep = "\t",
            row.names = FALSE)

# ---- limma topTable(confint = TRUE)
expr <- read.delim(gzfile(file.path(refdir, "limma_gse15709_expr.tsv.gz")), row.names = 1,
                   check.names = FALSE)
groups <- read.delim(file.path(refdir, "limma_gse15709_groups.tsv"), colClasses = "character")
groups <- groups[groups$group %in% c("resistant", "sensitive") & groups$sample %in% colnames(expr), ]
x <- as.matrix(expr[, groups$sample])
group <- factor(groups$group)
design <- model.matrix(~0 + group)
colnames(design) <- levels(group)
cm <- makeContrasts(resistant - sensitive, levels = design)
for (robust in c(FALSE, TRUE)) {
  fit2 <- eBayes(contrasts.fit(lmFit(x, design), cm), robust = robust)
  tt <- topTable(fit2, number = Inf, sort.by = "none", confint = TRUE)
  keep <- seq_len(min(300, nrow(tt)))
  out <- data.frame(gene = rownames(tt)[keep],
                    apply(as.matrix(tt[keep, c("logFC", "CI.L", "CI.R", "t", "P.Value")]), 2, fmt),
                    df.total = fmt(fit2$df.total[keep]), check.names = FALSE)
  name <- if (robust) "limma_confint_gse15709_robust.tsv" else "limma_confint_gse15709.tsv"
  write.table(out, file.path(refdir, name), quote = FALSE, sep = "\t", row.names = FALSE)
}

# ---- quantile normalisation (hypotheses.quantile_normalise), with ties
set.seed(7)
qx <- matrix(round(rnorm(60, 8, 2), 1), nrow = 15,
             dimnames = list(paste0("G", 1:15), paste0("S", 1:4)))
qx[, 2] <- qx[, 2] + 1
qn <- normalizeBetweenArrays(qx, method = "quantile")
write.table(data.frame(gene = rownames(qx), apply(qx, 2, fmt), check.names = FALSE),
            file.path(refdir, "limma_quantile_input.tsv"), quote = FALSE, sep = "\t", row.names = FALSE)
write.table(data.frame(gene = rownames(qn), apply(qn, 2, fmt), check.names = FALSE),
            file.path(refdir, "limma_quantile_normalised.tsv"), quote = FALSE, sep = "\t", row.names = FALSE)
