# Reference outputs of R GSVA 1.46 for tests/test_scoring.py.
#
# Regenerate (from the repository root):
#   .venv/bin/python tests/reference/make_scoring_inputs.py   # inputs (only if changed)
#   Rscript tests/reference/make_scoring_fixtures.R
#
# For every case in tests/data/reference/scoring_<case>_expr.tsv (+ _sets.gmt) this runs
#   gsva(x, sets, method = "gsva",   kcdf = "Gaussian", mx.diff = TRUE, tau = 1)
#   gsva(x, sets, method = "ssgsea", tau = 0.25, ssgsea.norm = TRUE)    -> ssgsea
#   gsva(x, sets, method = "ssgsea", tau = 0.25, ssgsea.norm = FALSE)   -> ssgsea_raw
#   gsva(x, sets, method = "zscore")
#   gsva(x, sets, method = "plage")
# (min.sz = 1, max.sz = Inf, abs.ranking = FALSE) and writes
# scoring_<case>_<method>.tsv: one row per gene set (column gene_set), one column per
# sample, numbers at 17 significant digits. Only GSVA's old (<= 1.48) API is used.

suppressPackageStartupMessages(library(GSVA))
stopifnot(packageVersion("GSVA") >= "1.46.0", packageVersion("GSVA") < "1.49.0")

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
refdir <- file.path(root, "tests", "data", "reference")

read_gmt <- function(path) {
  lines <- readLines(path)
  fields <- strsplit(lines, "\t", fixed = TRUE)
  sets <- lapply(fields, function(f) f[-(1:2)])
  names(sets) <- vapply(fields, `[`, "", 1)
  sets
}

write_scores <- function(es, path) {
  es <- as.matrix(es)
  out <- data.frame(gene_set = rownames(es), check.names = FALSE, stringsAsFactors = FALSE)
  for (j in seq_len(ncol(es))) out[[colnames(es)[j]]] <- sprintf("%.17g", es[, j])
  write.table(out, path, sep = "\t", quote = FALSE, row.names = FALSE)
}

runs <- list(
  gsva = list(method = "gsva", kcdf = "Gaussian", mx.diff = TRUE, tau = 1),
  ssgsea = list(method = "ssgsea", tau = 0.25, ssgsea.norm = TRUE),
  ssgsea_raw = list(method = "ssgsea", tau = 0.25, ssgsea.norm = FALSE),
  zscore = list(method = "zscore"),
  plage = list(method = "plage")
)

for (case in c("random", "gse27473", "ties")) {
  x <- read.delim(file.path(refdir, sprintf("scoring_%s_expr.tsv", case)),
                  row.names = 1, check.names = FALSE, colClasses = c("character"))
  x <- as.matrix(x)
  storage.mode(x) <- "double"
  sets <- read_gmt(file.path(refdir, sprintf("scoring_%s_sets.gmt", case)))
  for (name in names(runs)) {
    opts <- runs[[name]]
    es <- suppressWarnings(do.call(gsva, c(list(expr = x, gset.idx.list = sets,
                                                min.sz = 1, max.sz = Inf,
                                                abs.ranking = FALSE, verbose = FALSE),
                                           opts)))
    out <- file.path(refdir, sprintf("scoring_%s_%s.tsv", case, name))
    write_scores(es, out)
    cat("wrote", out, "\n")
  }
}
