"""Snakemake adapter: QC and plot-ready tables of one data set."""

from igf1r_resistance.tl.qc import run_qc
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    run_qc(
        smk.input.adata, smk.input.de, smk.input.gene_sets, smk.params.gene_sets, smk.params.extra,
        smk.params.qc, dict(smk.output.items()), log,
    )


run_step(snakemake, step)  # noqa: F821
