"""Snakemake adapter: series matrix + annotation -> log2 gene matrix with groups."""

from igf1r_resistance.runner import run_step
from igf1r_resistance.steps import run_prepare


def step(smk, log):
    run_prepare(
        smk.wildcards.ds, smk.params.settings, smk.input.series, smk.input.annotation, smk.input.hgnc,
        smk.output.adata, smk.output.samples, smk.output.probes, log,
    )


run_step(snakemake, step)  # noqa: F821
