"""Snakemake adapter: per-sample gene-set scores for every configured method.

One job (scoring.chunks = 1) scores the expression; otherwise it gathers the score_chunk
tables into the same scores.tsv and gene_sets.gmt.
"""

from igf1r_resistance.workflow.runner import run_step
from igf1r_resistance.workflow.steps import run_scoring, run_scoring_gather


def step(smk, log):
    if "chunks" in smk.input.keys():
        run_scoring_gather(
            list(smk.input.chunks), list(smk.input.gmts), smk.params.scoring,
            smk.output.scores, smk.output.gmt, log,
        )
    else:
        run_scoring(
            smk.input.adata, smk.params.gene_sets, smk.params.extra, smk.params.scoring,
            smk.output.scores, smk.output.gmt, log,
        )


run_step(snakemake, step)  # noqa: F821
