# Reference values for src/igf1r_resistance/tl/stats.py, computed with R.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/make_stats_fixtures.R
# Needs R (>= 4.2) with metafor (tested with metafor 3.8-1, R 4.2.2); writes
# tests/data/reference/stats_*.tsv. R is only needed to (re)make these fixtures,
# never at run time. All numbers are written with 17 significant digits
# (sprintf("%.17g")), which round-trips IEEE doubles exactly.
#
# Files written:
#   stats_groups_data.tsv   raw two-group data sets (case, group, value)
#   stats_groups.tsv        per case: t.test(var.equal = FALSE) and
#                           escalc(measure = "SMD", vtype = "LS") on the raw data
#   stats_smd_summary.tsv   escalc(measure = "SMD") from summary statistics
#   stats_meta_studies.tsv  rma() inputs per case (yi, vi) and weights(fit) in percent
#   stats_meta.tsv          rma(yi, vi, method = "DL") results per case
#   stats_padjust.tsv       p.adjust(p, method = "BH"), NA/NaN kept
#   stats_spearman_data.tsv x, y per case (NA allowed: dropped by complete.cases)
#   stats_spearman.tsv      cor.test(x, y, method = "spearman") with the default
#                           exact = NULL (exact AS 89 without ties for n < 1290,
#                           t approximation with ties)

suppressPackageStartupMessages(library(metafor))

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

write_tsv <- function(df, name) {
  df[] <- lapply(df, fmt)
  write.table(df, file.path(out_dir, name), sep = "\t", quote = FALSE,
              row.names = FALSE, na = "NA")
}

# ---------------------------------------------------------------- two groups
set.seed(20240601)
groups <- list(
  r3s3 = list(r = c(8.1, 7.4, 9.0), s = c(6.2, 6.9, 5.8)),
  separated3 = list(r = c(4, 5, 6), s = c(1, 2, 3)),
  r5s5 = list(r = rnorm(5, 7.5, 1.0), s = rnorm(5, 7.0, 0.6)),
  r4s7 = list(r = rnorm(4, 10, 2.0), s = rnorm(7, 11, 0.5)),
  r10s8 = list(r = rnorm(10, 5, 1.5), s = rnorm(8, 5.2, 1.5)),
  r6s6 = list(r = rnorm(6, 3, 1), s = rnorm(6, 2, 1)),
  onezero = list(r = c(2, 2, 2, 2), s = c(1.5, 2.5, 3.1, 0.7, 1.9)),
  bigmean = list(r = 1e4 + c(0.11, 0.35, -0.2, 0.05), s = 1e4 + c(-0.3, -0.12, 0.01))
)

data_rows <- do.call(rbind, lapply(names(groups), function(nm) {
  g <- groups[[nm]]
  rbind(data.frame(case = nm, group = "resistant", value = g$r),
        data.frame(case = nm, group = "sensitive", value = g$s))
}))
write_tsv(data_rows, "stats_groups_data.tsv")

group_rows <- do.call(rbind, lapply(names(groups), function(nm) {
  r <- groups[[nm]]$r
  s <- groups[[nm]]$s
  tt <- t.test(r, s, var.equal = FALSE)
  es <- escalc(measure = "SMD", m1i = mean(r), m2i = mean(s), sd1i = sd(r),
               sd2i = sd(s), n1i = length(r), n2i = length(s), vtype = "LS")
  data.frame(case = nm, n1 = length(r), n2 = length(s),
             mean_diff = mean(r) - mean(s),
             welch_t = unname(tt$statistic), welch_df = unname(tt$parameter),
             welch_p = tt$p.value, ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
             yi = es$yi[1], vi = es$vi[1])
}))
write_tsv(group_rows, "stats_groups.tsv")

# ---------------------------------------------------- escalc from summaries
smd <- data.frame(
  case = c("n3v3", "n5v5", "n4v7", "n20v15", "neg", "n2v2", "equal"),
  n1 = c(3, 5, 4, 20, 6, 2, 8),
  n2 = c(3, 5, 7, 15, 9, 2, 8),
  m1 = c(8.2, 5.1, 10.0, 1.3, 2.0, 4.0, 3.3),
  m2 = c(6.3, 4.2, 11.4, 0.9, 3.5, 3.0, 3.3),
  sd1 = c(0.8, 1.1, 2.0, 0.45, 1.2, 0.5, 0.9),
  sd2 = c(0.5, 0.7, 0.6, 0.52, 0.8, 0.7, 1.4)
)
es <- escalc(measure = "SMD", m1i = m1, m2i = m2, sd1i = sd1, sd2i = sd2,
             n1i = n1, n2i = n2, data = smd, vtype = "LS")
smd$yi <- as.numeric(es$yi)
smd$vi <- as.numeric(es$vi)
write_tsv(smd, "stats_smd_summary.tsv")

# ------------------------------------------------------------ meta-analysis
meta_cases <- list(
  k1 = list(yi = 0.5, vi = 0.1),
  k3_homog = list(yi = c(0.40, 0.45, 0.50), vi = c(0.20, 0.25, 0.30)),
  k3_het = list(yi = c(-0.2, 1.1, 2.3), vi = c(0.10, 0.15, 0.08)),
  k4 = list(yi = c(0.8, 1.5, -0.3, 0.6), vi = c(0.35, 0.50, 0.42, 0.28)),
  k5 = list(yi = c(1.9, 0.2, 1.1, 2.8, 0.7), vi = c(0.9, 0.3, 0.45, 1.2, 0.25)),
  escalc_groups = list(yi = group_rows$yi[group_rows$case %in% c("r3s3", "r5s5", "r4s7", "r10s8", "r6s6")],
                       vi = group_rows$vi[group_rows$case %in% c("r3s3", "r5s5", "r4s7", "r10s8", "r6s6")])
)
study_rows <- list()
meta_rows <- list()
for (nm in names(meta_cases)) {
  m <- meta_cases[[nm]]
  fit <- rma(yi = m$yi, vi = m$vi, method = "DL")
  study_rows[[nm]] <- data.frame(case = nm, study = seq_along(m$yi), yi = m$yi,
                                 vi = m$vi, weight = as.numeric(weights(fit)))
  meta_rows[[nm]] <- data.frame(case = nm, k = fit$k, estimate = as.numeric(fit$beta),
                                se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
                                z = fit$zval, p_value = fit$pval, tau2 = fit$tau2,
                                i2 = fit$I2, q = fit$QE, q_p = fit$QEp)
}
write_tsv(do.call(rbind, study_rows), "stats_meta_studies.tsv")
write_tsv(do.call(rbind, meta_rows), "stats_meta.tsv")

# --------------------------------------------------------------- p.adjust BH
p_cases <- list(
  plain = c(0.01, 0.04, 0.03, 0.2, 0.5, 0.001),
  with_na = c(0.02, NA, 0.01, NaN, 0.04, 0.3, NA),
  ties = c(0.01, 0.01, 0.02, 0.02, 0.9, 1),
  clip = c(0.6, 0.7, 0.8, 0.95),
  single = c(0.03),
  extremes = c(0, 1e-300, 1e-10, 0.5, 1)
)
pa_rows <- do.call(rbind, lapply(names(p_cases), function(nm) {
  p <- p_cases[[nm]]
  data.frame(case = nm, index = seq_along(p), p = p, bh = p.adjust(p, method = "BH"))
}))
write_tsv(pa_rows, "stats_padjust.tsv")

# ------------------------------------------------------------------ Spearman
set.seed(7)
sp_cases <- list(
  n5 = list(x = c(1.2, 3.4, 2.2, 5.0, 4.1), y = c(0.3, 0.9, 0.1, 1.7, 1.1)),
  n5_perfect = list(x = c(1, 2, 3, 4, 5), y = c(2.1, 2.5, 3.9, 4.0, 8.0)),
  n6_negative = list(x = c(1, 2, 3, 4, 5, 6), y = c(9, 8, 7, 6, 5, 4)),
  n9 = list(x = rnorm(9), y = rnorm(9)),
  n9_corr = list(x = 1:9, y = c(1, 3, 2, 5, 4, 7, 6, 9, 8)),
  n10 = list(x = rnorm(10), y = rnorm(10)),
  n12_corr = list(x = 1:12, y = c(2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11) + 0.5),
  n30 = list(x = rnorm(30), y = rnorm(30)),
  ties8 = list(x = c(1, 2, 2, 3, 4, 5, 5, 6), y = c(1.5, 1.1, 2.9, 3.3, 3.0, 4.8, 6.1, 5.5)),
  ties_negative = list(x = c(3, 3, 2, 1, 0, 0, -1), y = c(1, 2, 3, 4, 5, 6, 6)),
  with_na = list(x = c(1.1, NA, 2.5, 3.3, 0.4, 5.9, 4.4, 2.0),
                 y = c(2.0, 1.0, NA, 3.1, 0.2, 4.0, 6.3, 1.8))
)
x100 <- rnorm(100)
sp_cases$n100 <- list(x = x100, y = 0.2 * x100 + rnorm(100))
sp_data <- do.call(rbind, lapply(names(sp_cases), function(nm) {
  d <- sp_cases[[nm]]
  data.frame(case = nm, i = seq_along(d$x), x = d$x, y = d$y)
}))
write_tsv(sp_data, "stats_spearman_data.tsv")
sp_rows <- do.call(rbind, lapply(names(sp_cases), function(nm) {
  d <- sp_cases[[nm]]
  ok <- complete.cases(d$x, d$y)
  ties <- min(length(unique(d$x[ok])), length(unique(d$y[ok]))) < sum(ok)
  ct <- suppressWarnings(cor.test(d$x, d$y, method = "spearman"))
  data.frame(case = nm, n = sum(ok), ties = ties, rho = unname(ct$estimate),
             S = unname(ct$statistic), p_value = ct$p.value)
}))
write_tsv(sp_rows, "stats_spearman.tsv")

cat("wrote stats fixtures to", out_dir, "with", R.version.string,
    "metafor", as.character(packageVersion("metafor")), "\n")
