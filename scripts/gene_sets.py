"""Snakemake adapter: the gene sets as used for one data set (gene_sets.tsv, gene_sets.gmt)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_gene_sets


def step(smk, log):
    run_gene_sets(
        smk.wildcards.ds, smk.input.adata, smk.input.catalogue, list(smk.input.gmt), smk.params.set_uses,
        smk.params.min_size, smk.output.table, smk.output.gmt, log,
    )


run_step(snakemake, step)  # noqa: F821
