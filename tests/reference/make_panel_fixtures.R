# Reference values for src/igf1r_resistance/tl/panels.py linear_association, computed with R lm.
#
# Regenerate (from the repository root):  Rscript tests/reference/make_panel_fixtures.R
# Writes tests/data/reference/panel_lines.tsv (line, tissue, response, score_null, score_assoc)
# and panel_lm.tsv (score, estimate, se, t, df, p): summary(lm(score ~ 0 + tissue + response)).
# R (base stats only) makes the fixture; it is never needed at run time. 17 significant digits.
#
# The panel: 60 lines in 4 tissues whose tissue drives both the response and the scores;
# score_null has no association with the response within tissues, score_assoc has a slope of 0.5.

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script)) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
out_dir <- file.path(root, "tests", "data", "reference")
fmt <- function(x) if (is.numeric(x)) sprintf("%.17g", x) else as.character(x)

set.seed(53)
tissue <- rep(c("breast", "colon", "lung", "ovary"), times = c(12, 18, 20, 10))
shift <- c(breast = 0, colon = 2, lung = 4, ovary = 6)[tissue]
response <- shift + rnorm(60)
score_null <- 1.5 * shift + rnorm(60)
score_assoc <- 1.5 * shift + 0.5 * (response - shift) + rnorm(60, sd = 0.5)
lines <- data.frame(line = sprintf("L%02d", 1:60), tissue = tissue, response = response,
                    score_null = score_null, score_assoc = score_assoc)
write.table(as.data.frame(lapply(lines, fmt)), file.path(out_dir, "panel_lines.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
rows <- lapply(c("score_null", "score_assoc"), function(s) {
  fit <- summary(lm(lines[[s]] ~ 0 + factor(tissue) + response, data = lines))
  co <- fit$coefficients["response", ]
  data.frame(score = s, estimate = co[1], se = co[2], t = co[3], df = fit$df[2], p = co[4])
})
out <- do.call(rbind, rows)
write.table(as.data.frame(lapply(out, fmt)), file.path(out_dir, "panel_lm.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
