# Reference outputs of R edgeR (3.40.2) for tests/test_rnaseq.py.
#
# Regenerate (from the repository root):
#   .venv/bin/python tests/reference/make_geo_rnaseq_fixture.py   # inputs (only if changed)
#   Rscript tests/reference/make_edger_fixtures.R
#
# 1. The GEO-shaped fixture GSE999001 (tests/data/geo_rnaseq), exactly the recipe of
#    src/igf1r_resistance/pp/rnaseq.py:
#      keep <- filterByExpr(y, group = group)
#      y <- y[keep, , keep.lib.sizes = FALSE]; y <- calcNormFactors(y)
#      cpm(y, log = TRUE, prior.count = 2)
#    -> edger_geo_rnaseq_keep.tsv, edger_geo_rnaseq_factors.tsv, edger_geo_rnaseq_logcpm.tsv.gz
#    and limma-trend on that log-CPM -> edger_geo_rnaseq_limma_trend.tsv.gz
# 2. A random count matrix with zeros, ties and unequal libraries:
#    calcNormFactors (TMM) -> edger_random_factors.tsv,
#    cpm(log = TRUE) with prior.count 2 and 0.5 on the TMM-normalised libraries
#    -> edger_random_logcpm_prior2.tsv.gz, edger_random_logcpm_prior0.5.tsv.gz
# All numbers at 17 significant digits.

suppressPackageStartupMessages({library(edgeR); library(limma)})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
ref <- file.path(root, "tests", "data", "reference")
geo <- file.path(root, "tests", "data", "geo_rnaseq", "series", "GSE999nnn", "GSE999001", "rnaseq_counts")

write_gz <- function(df, name) {
  con <- gzfile(file.path(ref, name), "w")
  write.table(format(df, digits = 17), con, sep = "\t", quote = FALSE, row.names = FALSE)
  close(con)
}
write_plain <- function(df, name) {
  write.table(format(df, digits = 17), file.path(ref, name), sep = "\t", quote = FALSE, row.names = FALSE)
}

# 1. GEO fixture
counts <- read.delim(file.path(geo, "GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz"), check.names = FALSE,
                     colClasses = c(GeneID = "character"))
x <- as.matrix(counts[, -1]); rownames(x) <- counts$GeneID
groups <- read.delim(file.path(ref, "edger_geo_rnaseq_groups.tsv"))
group <- factor(groups$group[match(colnames(x), groups$sample)], levels = c("sensitive", "resistant"))
y <- DGEList(x, group = group)
keep <- filterByExpr(y, group = group)
write.table(data.frame(GeneID = rownames(x), keep = keep), file.path(ref, "edger_geo_rnaseq_keep.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
y <- y[keep, , keep.lib.sizes = FALSE]
y <- calcNormFactors(y)
write_plain(data.frame(sample = colnames(y), lib.size = y$samples$lib.size, norm.factors = y$samples$norm.factors),
            "edger_geo_rnaseq_factors.tsv")
lc <- cpm(y, log = TRUE, prior.count = 2)
write_gz(data.frame(GeneID = rownames(lc), lc, check.names = FALSE), "edger_geo_rnaseq_logcpm.tsv.gz")
design <- model.matrix(~0 + group); colnames(design) <- levels(group)
fit <- contrasts.fit(lmFit(lc, design), makeContrasts(resistant - sensitive, levels = design))
fit <- eBayes(fit, trend = TRUE)
tt <- topTable(fit, number = Inf, sort.by = "none", adjust.method = "BH")
write_gz(data.frame(GeneID = rownames(tt), tt[, c("logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B")]),
         "edger_geo_rnaseq_limma_trend.tsv.gz")

# 2. random counts
rc <- read.delim(file.path(ref, "edger_random_counts.tsv.gz"))
m <- as.matrix(rc[, -1]); rownames(m) <- rc$gene
f <- calcNormFactors(m)
write_plain(data.frame(sample = colnames(m), lib.size = colSums(m), norm.factors = f), "edger_random_factors.tsv")
for (p in c(2, 0.5)) {
  lc <- cpm(m, lib.size = colSums(m) * f, log = TRUE, prior.count = p)
  write_gz(data.frame(gene = rownames(lc), lc, check.names = FALSE), sprintf("edger_random_logcpm_prior%s.tsv.gz", p))
}
cat("edgeR", as.character(packageVersion("edgeR")), "limma", as.character(packageVersion("limma")), "\n")
