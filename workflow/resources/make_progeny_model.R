# Extract the PROGENy human model (Schubert et al. 2018, Nat Commun 9:20) once, into
#   workflow/resources/progeny_human_top500.tsv.gz   (columns: pathway, gene, weight, p_value)
#
# Source: Bioconductor package progeny 1.20 (Debian r-bioc-progeny), licence Apache-2.0
# (https://www.apache.org/licenses/LICENSE-2.0); the model is redistributed unchanged apart
# from the selection below, with this notice.
#
# Regenerate (from the repository root):  Rscript workflow/resources/make_progeny_model.R
#
# Top N = 500 genes per pathway (by the model's p value), as decoupleR's get_progeny()
# default and its PROGENy vignettes recommend for weighted methods such as ulm: more
# footprint genes keep a pathway scorable on platforms that miss some of them (the 100-gene
# default of progeny() was chosen for its own weighted-sum score on full transcriptomes).
# Zero weights (a gene outside a pathway's top N) are not written.
# R is never a runtime dependency: the workflow reads the TSV.

suppressPackageStartupMessages(library(progeny))
stopifnot(packageVersion("progeny") == "1.20.0")

top <- 500
args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
out <- file.path(root, "workflow", "resources", sprintf("progeny_human_top%d.tsv.gz", top))

# getModel() keeps, per pathway, the `top` genes with the smallest p value
model <- progeny::getModel("Human", top = top)
full <- progeny::model_human_full
long <- do.call(rbind, lapply(colnames(model), function(p) {
  w <- model[, p]
  keep <- w != 0
  g <- rownames(model)[keep]
  pv <- full$p.value[match(paste(g, p), paste(full$gene, full$pathway))]
  data.frame(pathway = p, gene = g, weight = sprintf("%.17g", w[keep]), p_value = sprintf("%.17g", pv))
}))
long <- long[order(long$pathway, long$gene), ]
con <- gzfile(out, "w")
write.table(long, con, sep = "\t", quote = FALSE, row.names = FALSE)
close(con)
cat(sprintf("%d pathways, %d pathway-gene weights -> %s\n", length(unique(long$pathway)), nrow(long), out))
