"""A real snakemake run with scoring.chunks: 3 gives the demo's scores.tsv byte for byte."""

from __future__ import annotations

from pathlib import Path

from conftest import copy_workflow, snakemake

DATASET = "GSE15709"


def test_scatter_gather_scores_equal_unsplit_run(demo_run: Path, tmp_path: Path):
    work = copy_workflow(tmp_path / "chunked")
    config = (work / "config.yaml").read_text()
    assert config.count("  chunks: 1\n") == 1
    (work / "config.yaml").write_text(config.replace("  chunks: 1\n", "  chunks: 3\n"))
    target = f"results/{DATASET}/scores.tsv"
    result = snakemake(work, "--cores", "2", target, f"results/{DATASET}/gene_sets.gmt")
    assert result.returncode == 0, result.stderr[-6000:]
    chunk_files = sorted(p.name for p in (work / f"results/{DATASET}/scores").iterdir())
    assert chunk_files == [f"chunk_{k}.{ext}" for k in range(3) for ext in ("gmt", "tsv")]
    assert (work / target).read_bytes() == (demo_run / target).read_bytes()
    gmt = f"results/{DATASET}/gene_sets.gmt"
    assert (work / gmt).read_bytes() == (demo_run / gmt).read_bytes()
    # the unsplit (default) run made a single score job and no chunk files
    assert not (demo_run / f"results/{DATASET}/scores").exists()
    assert (work / f"results/benchmarks/score_chunk/{DATASET}_2.tsv").exists()
