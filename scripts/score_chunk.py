"""Snakemake adapter: chunk k of scoring.chunks (gathered by rule score)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_scoring_chunk


def step(smk, log):
    run_scoring_chunk(
        smk.input.adata, smk.input.gene_sets, smk.params.scoring, int(smk.wildcards.k), smk.output.chunk, log,
    )


run_step(snakemake, step)  # noqa: F821
