"""Snakemake adapter for rule report_figures: standalone SVG figures of one data set for
`snakemake --report`."""

from igf1r_resistance.report import run_figures
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    run_figures(dict(smk.input.items()), smk.params.config, smk.wildcards.ds, dict(smk.output.items()), log)


run_step(snakemake, step)  # noqa: F821
