"""Snakemake adapter: fetch a GEO series matrix (local mirror first, then GEO)."""

from igf1r_resistance.io.acquire import fetch_series
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    fetch_series(smk.wildcards.ds, smk.params.settings, smk.params.geo, smk.output[0], log)


run_step(snakemake, step)  # noqa: F821 (injected by Snakemake)
