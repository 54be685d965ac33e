# Reference values for drug-response panels (src/igf1r_resistance/tl/panels.py gene_associations):
# limma with a numeric drug response as a term of the design, adjusted for tissue, computed with
# R limma.
#
# Regenerate (from the repository root):  Rscript tests/reference/make_response_fixtures.R
# Needs R (>= 4.2) with limma (tested with limma 3.54.1, R 4.2.2); R only makes the fixture.
# Writes tests/data/reference/response_{expr,samples}.tsv.gz and response_<variant>.tsv.gz:
#   design <- model.matrix(~ tissue + auc)            # adjusted (variants plain, trend)
#   design <- model.matrix(~ auc)                      # naive (variant naive: no tissue)
#   topTable(eBayes(lmFit(x, design)), coef = "auc", number = Inf, sort.by = "none",
#            confint = TRUE)
# 17 significant digits.
#
# The panel (a known answer): 48 lines in 4 tissues whose tissue shifts the response (AUC).
#   G001-G020  within-tissue association with AUC (slope 0.6 log2 per AUC unit), no tissue effect
#   G021-G040  tissue-confounded: expression follows the tissue (hence AUC across tissues) but
#              has no association with AUC within any tissue
#   the rest   null; two lines miss the AUC (NA: left out of the fit)

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
out_dir <- file.path(root, "tests", "data", "reference")
fmt <- function(x) {
  if (is.numeric(x)) {
    s <- sprintf("%.17g", x)
    s[is.na(x)] <- "NA"
    s
  } else as.character(x)
}
write_table <- function(df, name) {
  con <- gzfile(file.path(out_dir, paste0(name, ".gz")), "w")
  write.table(as.data.frame(lapply(df, fmt), check.names = FALSE), con, sep = "\t", quote = FALSE,
              row.names = FALSE)
  close(con)
}

set.seed(4815)
n_genes <- 300
tissue <- rep(c("breast", "colon", "lung", "skin"), times = c(10, 14, 12, 12))
shift <- c(breast = 0, colon = 1.5, lung = 3, skin = 4.5)[tissue]
within <- rnorm(length(tissue))
auc <- shift + within
x <- matrix(rnorm(n_genes * length(tissue), sd = rep(sqrt(rchisq(n_genes, 6) / 6) * 0.5, length(tissue))),
            n_genes, length(tissue)) + rnorm(n_genes, 8, 1.5)
x[1:20, ] <- x[1:20, ] + outer(rep(0.6, 20), within)
x[21:40, ] <- x[21:40, ] + outer(rep(0.8, 20), shift)
genes <- sprintf("G%03d", seq_len(n_genes))
samples <- data.frame(sample = sprintf("L%02d", seq_along(tissue)), tissue = tissue, auc = auc)
samples$auc[c(7, 30)] <- NA
dimnames(x) <- list(genes, samples$sample)
write_table(data.frame(gene = genes, x, check.names = FALSE), "response_expr.tsv")
write_table(samples, "response_samples.tsv")

ok <- !is.na(samples$auc)
xs <- x[, ok]
s <- samples[ok, ]
fits <- list(
  plain = list(design = model.matrix(~ tissue + auc, data = s), trend = FALSE),
  trend = list(design = model.matrix(~ tissue + auc, data = s), trend = TRUE),
  naive = list(design = model.matrix(~ auc, data = s), trend = FALSE)
)
for (variant in names(fits)) {
  f <- fits[[variant]]
  eb <- eBayes(lmFit(xs, f$design), trend = f$trend)
  tab <- topTable(eb, coef = "auc", number = Inf, sort.by = "none", confint = TRUE)
  write_table(data.frame(gene = rownames(tab), tab[, c("logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value",
                                                         "adj.P.Val", "B")]), sprintf("response_%s.tsv", variant))
}
cat("response fixtures written to", out_dir, "\n")
