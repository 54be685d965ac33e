"""Snakemake adapter: gather data sets and meta-analyse each hypothesis."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_meta


def step(smk, log):
    run_meta(list(smk.input), smk.params.fdr, smk.output.hypotheses, smk.output.meta, log,
             models=smk.params.models, settings=smk.params.settings)


run_step(snakemake, step)  # noqa: F821
