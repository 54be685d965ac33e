"""Snakemake adapter: fetch and normalise the platform's probe -> symbol annotation."""

from igf1r_resistance.io.acquire import fetch_platform_annotation
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    fetch_platform_annotation(
        smk.wildcards.ds, smk.params.settings, smk.input.series, smk.params.geo,
        smk.params.overrides, smk.output[0], log,
    )


run_step(snakemake, step)  # noqa: F821
