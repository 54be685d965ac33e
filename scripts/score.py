"""Snakemake adapter: per-sample gene-set scores for every configured method."""

from igf1r_resistance.runner import run_step
from igf1r_resistance.steps import run_scoring


def step(smk, log):
    run_scoring(
        smk.input.adata, smk.params.gene_sets, smk.params.extra, smk.params.scoring,
        smk.output.scores, smk.output.gmt, log,
    )


run_step(snakemake, step)  # noqa: F821
