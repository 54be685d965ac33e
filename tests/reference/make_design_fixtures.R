# Reference values for linear designs with several contrasts (src/igf1r_resistance/tl/_limma.py
# fit_design / contrasts_fit / design_table), computed with R limma.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/make_design_fixtures.R
# Needs R (>= 4.2) with limma (tested with limma 3.54.1, R 4.2.2); writes
# tests/data/reference/design_<case>_{expr,samples,contrasts,design}.tsv.gz and
# design_<case>_<contrast>_<variant>.tsv.gz (topTable(confint = TRUE, sort.by = "none")).
# R is only needed to (re)make these fixtures, never at run time. 17 significant digits.
#
# Cases (random data, seeded; the design is model.matrix(~ 0 + factor + covariates [+ pair])):
#   covariate   2 arms x 2 batches (factor covariate), one contrast
#   numeric     2 arms + a numeric covariate (e.g. passage), one contrast
#   paired      4 lines, each parental and resistant (pair_by = line), one contrast
#   three       3 arms (C, O, R) + batch, contrasts O - C and R - C and R - O, some NA values
# Variants: plain (eBayes()), trend (eBayes(trend = TRUE)), robust (eBayes(robust = TRUE)).

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
out_dir <- file.path(root, "tests", "data", "reference")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fmt <- function(x) {
  if (is.numeric(x)) {
    s <- sprintf("%.17g", x)
    s[is.na(x) & !is.nan(x)] <- "NA"
    s[is.nan(x)] <- "NaN"
    s
  } else {
    as.character(x)
  }
}
write_table <- function(df, name) {
  out <- as.data.frame(lapply(df, fmt), stringsAsFactors = FALSE, check.names = FALSE)
  con <- gzfile(file.path(out_dir, paste0(name, ".gz")), "w")
  write.table(out, con, sep = "\t", quote = FALSE, row.names = FALSE)
  close(con)
}

make_case <- function(name, samples, formula, contrasts, n_genes = 200, na_fraction = 0) {
  n <- nrow(samples)
  base <- rnorm(n_genes, 8, 2)
  expr <- matrix(rnorm(n_genes * n, sd = rep(sqrt(rchisq(n_genes, 4) / 4) * 0.4, n)), n_genes, n)
  expr <- expr + base
  design <- model.matrix(formula, data = samples)
  # true effects of the arms and batches on a fifth of the genes
  eff <- matrix(rnorm(n_genes * ncol(design), sd = 1) * (runif(n_genes) < 0.2), n_genes, ncol(design))
  eff[, 1] <- 0
  expr <- expr + eff %*% t(design)
  if (na_fraction > 0) expr[sample(length(expr), round(na_fraction * length(expr)))] <- NA
  # a gene missing a whole arm, and one observed in only 3 samples
  if (na_fraction > 0) {
    expr[1, samples$arm == levels(samples$arm)[2]] <- NA
    expr[2, -(1:3)] <- NA
  }
  genes <- sprintf("G%03d", seq_len(n_genes))
  rownames(expr) <- genes
  colnames(expr) <- samples$sample
  write_table(data.frame(gene = genes, expr, check.names = FALSE), sprintf("design_%s_expr.tsv", name))
  write_table(samples, sprintf("design_%s_samples.tsv", name))
  write_table(data.frame(sample = samples$sample, design, check.names = FALSE),
              sprintf("design_%s_design.tsv", name))
  cm <- makeContrasts(contrasts = contrasts, levels = design)
  colnames(cm) <- names(contrasts)
  write_table(data.frame(column = rownames(cm), cm, check.names = FALSE),
              sprintf("design_%s_contrasts.tsv", name))
  fit <- contrasts.fit(lmFit(expr, design), cm)
  for (variant in c("plain", "trend", "robust")) {
    eb <- switch(variant,
                 plain = eBayes(fit), trend = eBayes(fit, trend = TRUE), robust = eBayes(fit, robust = TRUE))
    for (cn in names(contrasts)) {
      tab <- topTable(eb, coef = cn, number = Inf, sort.by = "none", confint = TRUE)
      tab <- data.frame(gene = rownames(tab), tab[, c("logFC", "CI.L", "CI.R", "AveExpr", "t",
                                                        "P.Value", "adj.P.Val", "B")])
      write_table(tab, sprintf("design_%s_%s_%s.tsv", name, cn, variant))
    }
  }
}

set.seed(20261203)
s <- data.frame(sample = sprintf("S%02d", 1:12),
                arm = factor(rep(c("C", "R"), each = 6)),
                batch = factor(rep(c("b1", "b2", "b1", "b2"), each = 3)))
# the first batch is lighter in one arm: not orthogonal, so contrasts.fit's general branch runs
s$batch[c(3, 9, 10)] <- c("b2", "b2", "b1")
make_case("covariate", s, ~ 0 + arm + batch, c(R_vs_C = "armR - armC"))

s <- data.frame(sample = sprintf("S%02d", 1:10),
                arm = factor(rep(c("C", "R"), each = 5)),
                passage = c(3, 5, 8, 4, 6, 9, 12, 7, 10, 11))
make_case("numeric", s, ~ 0 + arm + passage, c(R_vs_C = "armR - armC"))

s <- data.frame(sample = sprintf("S%02d", 1:8),
                arm = factor(rep(c("parental", "resistant"), times = 4)),
                line = factor(rep(c("L1", "L2", "L3", "L4"), each = 2)))
make_case("paired", s, ~ 0 + arm + line, c(resistant_vs_parental = "armresistant - armparental"))

s <- data.frame(sample = sprintf("S%02d", 1:15),
                arm = factor(rep(c("C", "O", "R"), each = 5)),
                batch = factor(rep(c("b1", "b2", "b1", "b2", "b1"), times = 3)))
make_case("three", s, ~ 0 + arm + batch,
          c(O_vs_C = "armO - armC", R_vs_C = "armR - armC", R_vs_O = "armR - armO"),
          na_fraction = 0.02)
cat("design fixtures written to", out_dir, "\n")
