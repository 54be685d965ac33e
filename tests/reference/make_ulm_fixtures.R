# Reference values for src/igf1r_resistance/tl/footprints.py (ulm), computed with R decoupleR 2.4.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/make_ulm_fixtures.R
# Needs R with decoupleR 2.4.0 (Debian r-bioc-decoupler). R only makes these fixtures.
# Numbers are written with sprintf("%.17g") (exact round trip of doubles).
#
# Inputs (made here, seeded): a matrix of 700 genes x 6 samples (500 PROGENy footprint genes
# drawn from workflow/resources/progeny_human_top500.tsv.gz, 200 others), resistant samples
# shifted along the PI3K and MAPK footprints; a "contrast" column (one condition: a t-like
# vector); the network = every PROGENy edge whose gene is in the matrix, 40 edges whose genes
# are not (ignored by ulm), and a source TINY with 3 targets (dropped: minsize 5).
#
# Files written (tests/data/reference/):
#   ulm_mat.tsv.gz       gene x (S1..S6, contrast)
#   ulm_net.tsv.gz       source, target, weight
#   ulm_scores.tsv       statistic, source, condition, score, p_value  (run_ulm, minsize = 5)

suppressPackageStartupMessages({library(decoupleR); library(dplyr)})
stopifnot(packageVersion("decoupleR") == "2.4.0")

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
out_dir <- file.path(root, "tests", "data", "reference")
model <- read.delim(file.path(root, "workflow", "resources", "progeny_human_top500.tsv.gz"),
                    stringsAsFactors = FALSE)

set.seed(14)
genes_model <- sort(unique(model$gene))
in_mat <- sample(genes_model, 500)
genes <- c(in_mat, sprintf("OTHER%d", 1:200))
mat <- matrix(rnorm(length(genes) * 6, mean = 8, sd = 1), nrow = length(genes),
              dimnames = list(genes, paste0("S", 1:6)))
for (p in c("PI3K", "MAPK")) {
  w <- model[model$pathway == p & model$gene %in% genes, ]
  idx <- match(w$gene, genes)
  mat[idx, 1:3] <- mat[idx, 1:3] + 0.05 * w$weight
}
contrast <- as.vector(scale(rowMeans(mat[, 1:3]) - rowMeans(mat[, 4:6]))) * 3
mat <- cbind(mat, contrast = contrast)

net <- model[model$gene %in% genes, c("pathway", "gene", "weight")]
absent <- model[!model$gene %in% genes, c("pathway", "gene", "weight")]
net <- rbind(net, absent[sample(nrow(absent), 40), ])
net <- rbind(net, data.frame(pathway = "TINY", gene = genes[1:3], weight = c(1, -2, 0.5)))
colnames(net) <- c("source", "target", "weight")

res <- run_ulm(mat, net, .source = "source", .target = "target", .mor = "weight", minsize = 5)

fmt <- function(df) { for (c in names(df)) if (is.numeric(df[[c]])) df[[c]] <- sprintf("%.17g", df[[c]]); df }
con <- gzfile(file.path(out_dir, "ulm_mat.tsv.gz"), "w")
write.table(fmt(data.frame(gene = rownames(mat), mat, check.names = FALSE)), con, sep = "\t", quote = FALSE,
            row.names = FALSE)
close(con)
con <- gzfile(file.path(out_dir, "ulm_net.tsv.gz"), "w")
write.table(fmt(net), con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)
write.table(fmt(as.data.frame(res)), file.path(out_dir, "ulm_scores.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
cat(sprintf("%d scores written\n", nrow(res)))
