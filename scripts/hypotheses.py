"""Snakemake adapter: test every hypothesis of one model (gathering permutation chunks)."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_hypotheses


def step(smk, log):
    run_hypotheses(
        smk.params.model["dataset"], smk.input.adata, smk.input.scores, smk.input.gene_sets, smk.params.gene_sets,
        smk.params.hypotheses, smk.params.scoring, smk.output[0], log,
        permutation_chunks=list(smk.input.permutations), de_path=smk.input.de, camera_path=smk.input.camera,
        footprints_path=smk.input.footprints, drug_class=smk.params.model["drug_class"], model=smk.params.model,
    )


run_step(snakemake, step)  # noqa: F821
