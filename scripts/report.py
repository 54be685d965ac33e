"""Snakemake adapter for rule report: the self-contained HTML report and the forest SVG."""

from igf1r_resistance.report import run_report
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    run_report(dict(smk.input.items()), smk.params.config, smk.params.datasets, smk.output.html, log,
               qc_settings=smk.params.qc, forest_out=smk.output.forest, models=smk.params.models)


run_step(snakemake, step)  # noqa: F821
