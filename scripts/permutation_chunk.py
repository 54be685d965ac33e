"""Snakemake adapter: chunk k of hypotheses.permutation_chunks (gathered by rule hypotheses)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_permutation_chunk


def step(smk, log):
    run_permutation_chunk(
        smk.wildcards.ds, smk.input.adata, smk.input.scores, smk.params.gene_sets,
        smk.params.hypotheses, smk.params.scoring, int(smk.wildcards.k), smk.output[0], log,
        drug_class=smk.params.drug_class,
    )


run_step(snakemake, step)  # noqa: F821
