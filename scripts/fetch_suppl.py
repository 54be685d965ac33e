"""Snakemake adapter: fetch a file of a GEO series' supplementary folder (mirror first, then GEO)."""

from igf1r_resistance.io.acquire import fetch_suppl
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    fetch_suppl(smk.wildcards.ds, smk.params.settings, smk.params.geo, smk.output[0], log)


run_step(snakemake, step)  # noqa: F821
