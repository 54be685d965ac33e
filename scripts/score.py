"""Snakemake adapter: per-sample gene-set scores for every configured method.

One job (scoring.chunks = 1) scores the expression; otherwise it gathers the score_chunk
tables into the same scores.tsv. The sets come from rule gene_sets (gene_sets.tsv).
"""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_scoring, run_scoring_gather


def step(smk, log):
    if "chunks" in smk.input.keys():
        run_scoring_gather(
            list(smk.input.chunks), smk.params.scoring, smk.output.scores, log,
        )
    else:
        run_scoring(
            smk.input.adata, smk.input.gene_sets, smk.params.scoring, smk.output.scores, log,
        )


run_step(snakemake, step)  # noqa: F821
