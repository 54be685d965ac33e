"""Snakemake adapter: competitive gene-set tests (preranked GSEA and camera) of one data set."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_gsea


def step(smk, log):
    run_gsea(
        smk.params.model["id"], smk.input.de, smk.input.adata, smk.input.gene_sets,
        smk.params.gsea, smk.output.gsea, smk.output.camera, log, model=smk.params.model,
    )


run_step(snakemake, step)  # noqa: F821
