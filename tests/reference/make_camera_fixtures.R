# Reference outputs of R limma's camera for tests/test_camera.py.
#
# Regenerate (from the repository root):
#   .venv/bin/python tests/reference/make_camera_inputs.py   # gene sets (only if changed)
#   Rscript tests/reference/make_camera_fixtures.R
#
# For every case (the limma_<case>_expr.tsv.gz / _groups.tsv inputs of the limma
# fixtures, plus camera_<case>_sets.gmt) this runs, on the genes measured in every used
# sample (camera has no missing-value handling: one NA makes every result NA):
#   design <- model.matrix(~0 + group)
#   contr  <- makeContrasts(resistant - sensitive, levels = design)
#   camera(x, sets, design, contrast = contr, inter.gene.cor = ..., sort = FALSE, ...)
# with the variants
#   fixed      inter.gene.cor = 0.01 (the default)
#   estimated  inter.gene.cor = NA (correlation estimated from the residuals per set)
#   negcor     inter.gene.cor = NA, allow.neg.cor = TRUE
#   trend      inter.gene.cor = 0.01, trend.var = TRUE
#   zero       inter.gene.cor = 0
# and writes camera_<case>_<variant>.tsv (17 significant digits): set, NGenes,
# Correlation (the fixed value when inter.gene.cor is fixed), Direction, PValue, FDR.

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
refdir <- file.path(root, "tests", "data", "reference")

cases <- c("gse15709", "gse11440", "logcpm", "outliers")
variants <- list(
  fixed = list(cor = 0.01, neg = FALSE, trend = FALSE),
  estimated = list(cor = NA, neg = FALSE, trend = FALSE),
  negcor = list(cor = NA, neg = TRUE, trend = FALSE),
  trend = list(cor = 0.01, neg = FALSE, trend = TRUE),
  zero = list(cor = 0, neg = FALSE, trend = FALSE)
)

fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))

read_gmt <- function(path) {
  lines <- readLines(path)
  parts <- strsplit(lines, "\t", fixed = TRUE)
  sets <- lapply(parts, function(p) p[-(1:2)])
  names(sets) <- vapply(parts, `[`, "", 1)
  sets
}

n_written <- 0
for (case in cases) {
  expr <- read.delim(gzfile(file.path(refdir, sprintf("limma_%s_expr.tsv.gz", case))),
                     row.names = 1, check.names = FALSE, na.strings = "NA")
  groups <- read.delim(file.path(refdir, sprintf("limma_%s_groups.tsv", case)),
                       colClasses = "character")
  groups <- groups[groups$group %in% c("resistant", "sensitive") &
                     groups$sample %in% colnames(expr), ]
  x <- as.matrix(expr[, colnames(expr) %in% groups$sample, drop = FALSE])
  x <- x[rowSums(is.na(x)) == 0, , drop = FALSE]
  group <- factor(groups$group[match(colnames(x), groups$sample)])
  design <- model.matrix(~0 + group)
  colnames(design) <- levels(group)
  contr <- makeContrasts(resistant - sensitive, levels = design)
  sets <- read_gmt(file.path(refdir, sprintf("camera_%s_sets.gmt", case)))

  for (vname in names(variants)) {
    v <- variants[[vname]]
    res <- camera(x, sets, design, contrast = contr, inter.gene.cor = v$cor,
                  allow.neg.cor = v$neg, trend.var = v$trend, sort = FALSE)
    corr <- if ("Correlation" %in% names(res)) res$Correlation else rep(v$cor, nrow(res))
    out <- data.frame(gene_set = rownames(res), NGenes = res$NGenes, Correlation = fmt(corr),
                      Direction = res$Direction, PValue = fmt(res$PValue), FDR = fmt(res$FDR))
    write.table(out, file.path(refdir, sprintf("camera_%s_%s.tsv", case, vname)), quote = FALSE,
                sep = "\t", row.names = FALSE)
    n_written <- n_written + 1
  }
}
cat(sprintf("limma %s, R %s: wrote %d camera fixtures to %s\n", packageVersion("limma"),
            getRversion(), n_written, refdir))
