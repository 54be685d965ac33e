# Reference values for the demo panel P53_NCI60 (the GSEA "P53" NCI-60 data set, .test/panels/),
# computed with R limma: TP53-mutant vs wild-type lines adjusted for tissue of origin.
#
# Regenerate (from the repository root):
#   .venv/bin/python tests/reference/make_p53_nci60_inputs.py /tmp/p53_nci60_log2.tsv.gz
#   Rscript tests/reference/make_p53_nci60_fixture.R /tmp/p53_nci60_log2.tsv.gz
# The first command runs the pipeline's prepare step on .test/panels/P53_NCI60 (log2 by GEO2R's
# rule, symbols mapped, multi-gene rows only for genes without a single-gene row) and writes
# the log2 genes x lines matrix; R fits it. Needs R (>= 4.2) with limma (tested with limma
# 3.54.1, R 4.2.2); R is only needed to (re)make the fixture, never at run time.
#
#   design <- model.matrix(~ 0 + TP53_status + tissue)      # 2 + 8 columns, 40 residual df
#   fit <- eBayes(contrasts.fit(lmFit(x, design), makeContrasts(mutant - wild_type)))
#   topTable(fit, number = Inf, sort.by = "none", confint = TRUE)
#
# Writes tests/data/reference/p53_nci60_limma.tsv: the rows of the p53 controls (CDKN1A, MDM2,
# BAX, DDB2), the IGF1R axis (IGF1R, IGF1, IGF2, IRS1, IRS2), IGFBP3, IGFBP7, INSR, TP53 and 100
# genes drawn with a fixed seed, plus the eBayes prior (df.prior, s2.prior) as rows `.df_prior`
# and `.s2_prior` (in column logFC). 17 significant digits.

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = TRUE)
log2_path <- args[1]
script <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
x <- as.matrix(read.delim(gzfile(log2_path), row.names = 1, check.names = FALSE))
samples <- read.delim(file.path(root, ".test", "panels", "P53_NCI60", "samples.tsv"), check.names = FALSE)
stopifnot(identical(colnames(x), samples$sample))
status <- factor(samples$TP53_status, levels = c("mutant", "wild_type"))
tissue <- factor(samples$tissue)
design <- model.matrix(~ 0 + status + tissue)
colnames(design) <- make.names(colnames(design))
cm <- makeContrasts(mutant_vs_wild_type = statusmutant - statuswild_type, levels = design)
eb <- eBayes(contrasts.fit(lmFit(x, design), cm))
tab <- topTable(eb, coef = 1, number = Inf, sort.by = "none", confint = TRUE)
named <- c("CDKN1A", "MDM2", "BAX", "DDB2", "IGF1R", "IGF1", "IGF2", "IRS1", "IRS2", "IGFBP3", "IGFBP7",
           "INSR", "TP53")
set.seed(60)
others <- sample(setdiff(rownames(tab), named), 100)
keep <- c(intersect(named, rownames(tab)), sort(others))
out <- data.frame(gene = keep, tab[keep, c("logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B")])
prior <- data.frame(gene = c(".df_prior", ".s2_prior"), logFC = c(eb$df.prior, eb$s2.prior),
                    CI.L = NA, CI.R = NA, AveExpr = NA, t = NA, P.Value = NA, adj.P.Val = NA, B = NA)
out <- rbind(out, prior)
fmt <- function(v) if (is.numeric(v)) ifelse(is.na(v), "NA", sprintf("%.17g", v)) else as.character(v)
write.table(as.data.frame(lapply(out, fmt)), file.path(root, "tests", "data", "reference", "p53_nci60_limma.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
print(tab[intersect(named, rownames(tab)), c("logFC", "CI.L", "CI.R", "t", "P.Value", "adj.P.Val")], digits = 4)
cat("df.prior", eb$df.prior, "s2.prior", eb$s2.prior, "genes", nrow(tab), "\n")
