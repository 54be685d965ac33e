"""Snakemake adapter: the data set's positive controls read from limma's table."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_controls


def step(smk, log):
    run_controls(smk.params.model["id"], smk.input.de, smk.params.model["controls"], smk.params.fdr,
                 smk.output.table,
                 smk.output.status, log)


run_step(snakemake, step)  # noqa: F821
