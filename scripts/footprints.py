"""Snakemake adapter: PROGENy pathway activity (decoupleR ulm) of one data set."""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_footprints


def step(smk, log):
    run_footprints(
        smk.params.model["id"], smk.input.de, smk.input.adata, smk.input.model, smk.input.symbols,
        smk.params.hypotheses, smk.output[0], log, model=smk.params.model,
    )


run_step(snakemake, step)  # noqa: F821
