"""Snakemake adapter: one data set's inputs (by type) -> analysis matrix with groups."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_prepare


def step(smk, log):
    run_prepare(
        smk.wildcards.ds, smk.params.settings, dict(smk.input.items()), dict(smk.output.items()), log,
        sample_schema=smk.params.sample_schema, workflow_dir=smk.params.workflow_dir,
    )


run_step(snakemake, step)  # noqa: F821
