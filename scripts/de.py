"""Snakemake adapter: limma moderated t of one model (resistant - sensitive, or a contrast of a design)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_de


def step(smk, log):
    run_de(smk.input.adata, smk.params.de, smk.output[0], log, model=smk.params.model)


run_step(snakemake, step)  # noqa: F821
