# Reference values for src/igf1r_resistance/tl/meta_stats.py from metafor 3.8.
#
#   Rscript tests/reference/make_meta_fixtures.R     (from the repository root)
#
# Writes tests/data/reference/meta_rma_studies.tsv (case, study, yi, vi),
# meta_rma_fits.tsv (one row per case x method: rma(yi, vi, method, test = "knha") with
# predict() and confint()) and meta_rma_leave1out.tsv (leave1out() of every fit).
# Cases cover k = 2, 3, 5 and 10, a tau^2 = 0 boundary (homogeneous effects), a case whose
# Knapp-Hartung factor is below 1 (metafor does not truncate it with test = "knha"), and
# REML, Paule-Mandel and DerSimonian-Laird; also the Wald ("z") test for each method, which
# the coverage benchmark compares. R makes the fixtures only; it is not a runtime dependency.
suppressPackageStartupMessages(library(metafor))
stopifnot(packageVersion("metafor") >= "3.8")
set.seed(20260316)
out <- "tests/data/reference"

hedges_var <- function(g, n1, n2) 1 / n1 + 1 / n2 + g^2 / (2 * (n1 + n2))
make_case <- function(k, tau2, n1, n2, mu = 0.6) {
  theta <- rnorm(k, mu, sqrt(tau2))
  vi <- hedges_var(theta, n1, n2)
  yi <- rnorm(k, theta, sqrt(vi))
  list(yi = yi, vi = hedges_var(yi, n1, n2))
}
cases <- list(
  k2 = make_case(2, 0.3, 3, 3),
  k3 = make_case(3, 0.5, 3, 3),
  k5 = make_case(5, 0.2, 5, 5),
  k10 = make_case(10, 0.4, 4, 6),
  k2_heterogeneous = list(yi = c(-0.5, 1.8), vi = c(0.3, 0.4)),
  k3_homogeneous = list(yi = c(0.50, 0.52, 0.49), vi = c(0.40, 0.50, 0.45)),
  k5_homogeneous = list(yi = c(0.30, 0.35, 0.28, 0.33, 0.31), vi = c(0.6, 0.7, 0.5, 0.8, 0.65)),
  k4_knha_below_1 = list(yi = c(0.40, 0.45, 0.38, 0.42), vi = c(0.30, 0.35, 0.25, 0.40)),
  k3_heterogeneous = list(yi = c(-2.3, 0.4, 7.1), vi = c(0.9, 0.7, 4.5)),
  k6_mixed_sign = list(yi = c(1.2, -0.4, 0.8, 2.5, 0.1, -1.0), vi = c(0.5, 0.6, 0.4, 0.9, 0.3, 0.7))
)

studies <- do.call(rbind, lapply(names(cases), function(cs) {
  data.frame(case = cs, study = seq_along(cases[[cs]]$yi), yi = cases[[cs]]$yi, vi = cases[[cs]]$vi)
}))
fits <- list()
loo <- list()
for (cs in names(cases)) {
  d <- cases[[cs]]
  for (method in c("REML", "PM", "DL")) {
    for (test in c("knha", "z")) {
      fit <- rma(d$yi, d$vi, method = method, test = test)
      pr <- predict(fit)
      ci <- confint(fit)
      fits[[length(fits) + 1]] <- data.frame(
        case = cs, method = method, test = test, k = fit$k,
        estimate = as.numeric(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
        stat = fit$zval, p_value = fit$pval, tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2,
        q = fit$QE, q_p = fit$QEp, s2w = fit$s2w,
        pi_low = pr$pi.lb, pi_high = pr$pi.ub,
        tau2_ci_low = ci$random["tau^2", "ci.lb"], tau2_ci_high = ci$random["tau^2", "ci.ub"],
        i2_ci_low = ci$random["I^2(%)", "ci.lb"], i2_ci_high = ci$random["I^2(%)", "ci.ub"]
      )
      l1 <- leave1out(fit)
      loo[[length(loo) + 1]] <- data.frame(
        case = cs, method = method, test = test, study = seq_along(d$yi),
        estimate = l1$estimate, ci_low = l1$ci.lb, ci_high = l1$ci.ub, tau2 = l1$tau2,
        i2 = l1$I2, q = l1$Q
      )
    }
  }
}
write_tsv <- function(x, name) {
  write.table(x, file.path(out, name), sep = "\t", quote = FALSE, row.names = FALSE)
}
fmt <- function(x) { x[] <- lapply(x, function(col) if (is.numeric(col)) sprintf("%.15g", col) else col); x }
write_tsv(fmt(studies), "meta_rma_studies.tsv")
write_tsv(fmt(do.call(rbind, fits)), "meta_rma_fits.tsv")
write_tsv(fmt(do.call(rbind, loo)), "meta_rma_leave1out.tsv")
