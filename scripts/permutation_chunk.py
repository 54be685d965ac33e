"""Snakemake adapter: chunk k of hypotheses.permutation_chunks (gathered by rule hypotheses)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_permutation_chunk


def step(smk, log):
    run_permutation_chunk(
        smk.params.model["dataset"], smk.input.adata, smk.input.scores, smk.input.gene_sets, smk.params.gene_sets,
        smk.params.hypotheses, smk.params.scoring, int(smk.wildcards.k), smk.output[0], log,
        drug_class=smk.params.model["drug_class"], model=smk.params.model,
    )


run_step(snakemake, step)  # noqa: F821
