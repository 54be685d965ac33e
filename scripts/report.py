"""Snakemake adapter: write the self-contained HTML report."""

from igf1r_resistance.report import run_report
from igf1r_resistance.runner import run_step


def step(smk, log):
    run_report(dict(smk.input.items()), smk.params.config, smk.params.datasets, smk.output[0], log)


run_step(snakemake, step)  # noqa: F821
