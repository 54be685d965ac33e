"""Snakemake adapter: fetch GEO's NCBI-computed RNA-seq counts and gene table (mirror first, then GEO)."""

from igf1r_resistance.io.acquire import fetch_rnaseq_counts
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    fetch_rnaseq_counts(
        smk.wildcards.ds, smk.params.settings, smk.params.geo, smk.output.counts, smk.output.annotation, log
    )


run_step(snakemake, step)  # noqa: F821
