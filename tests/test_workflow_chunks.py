"""Real snakemake runs with scatter/gather give the demo's tables byte for byte.

scoring.chunks: 3 splits scoring, hypotheses.permutation_chunks: 3 splits the
label-permutation tests: GSE15709 (3 vs 3) enumerates its 20 relabellings, GSE108383
(single cells, 108) draws 10,000 Monte-Carlo permutations in blocks of 1,000.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from conftest import copy_workflow, snakemake

DATASET = "GSE15709"
MONTE_CARLO = "GSE108383"


def test_scatter_gather_equals_unsplit_run(demo_run: Path, tmp_path: Path):
    work = copy_workflow(tmp_path / "chunked")
    config = (work / "config.yaml").read_text()
    assert config.count("  chunks: 1\n") == 1 and config.count("  permutation_chunks: 1\n") == 1
    config = config.replace("  chunks: 1\n", "  chunks: 3\n")
    (work / "config.yaml").write_text(config.replace("  permutation_chunks: 1\n", "  permutation_chunks: 3\n"))
    targets = [f"results/{DATASET}/scores.tsv", f"results/{DATASET}/gene_sets.gmt",
               f"results/{DATASET}/hypotheses.tsv", f"results/{MONTE_CARLO}/hypotheses.tsv"]
    result = snakemake(work, "--cores", "2", *targets)
    assert result.returncode == 0, result.stderr[-6000:]
    chunk_files = sorted(p.name for p in (work / f"results/{DATASET}/scores").iterdir())
    assert chunk_files == [f"chunk_{k}.tsv" for k in range(3)]  # the sets come from rule gene_sets
    for target in targets:
        assert (work / target).read_bytes() == (demo_run / target).read_bytes(), target
    # the unsplit (default) run made a single job per step and no chunk files
    assert not (demo_run / f"results/{DATASET}/scores").exists()
    assert not (demo_run / f"results/{DATASET}/permutations").exists()
    assert (work / f"results/benchmarks/score_chunk/{DATASET}_2.tsv").exists()
    # each permutation chunk counted a third of the relabellings of every test
    for ds, exact in ((DATASET, True), (MONTE_CARLO, False)):
        chunks = [pd.read_csv(work / f"results/{ds}/permutations/chunk_{k}.tsv", sep="\t") for k in range(3)]
        assert all(len(c) == len(chunks[0]) > 0 for c in chunks)
        assert (chunks[0]["exact"] == exact).all()
        done = sum(c["n_done"] for c in chunks)
        assert (done == chunks[0]["n_total"]).all() and (chunks[1]["n_done"] < chunks[0]["n_total"]).all()
    hyp = pd.read_csv(work / f"results/{MONTE_CARLO}/hypotheses.tsv", sep="\t")
    perm = hyp["permutation_p"].dropna()
    assert len(perm) > 0 and (perm >= 1 / 10_001).all() and (perm > 1 / 10_001).any()
