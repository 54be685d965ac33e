"""Snakemake adapter: preranked GSEA of the data set's gene sets on the moderated t."""

from igf1r_resistance.runner import run_step
from igf1r_resistance.steps import run_gsea


def step(smk, log):
    run_gsea(smk.input.de, smk.input.gmt, smk.params.gsea, smk.params.min_size, smk.output[0], log)


run_step(snakemake, step)  # noqa: F821
