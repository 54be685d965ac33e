"""Scatter/gather of scoring (igf1r_resistance.workflow.chunks): partition, and chunks + gather ==
the unsplit score_gene_sets, byte for byte in scores.tsv, for every method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.io.files import write_tsv
from igf1r_resistance.tl.scoring import METHODS, score_gene_sets
from igf1r_resistance.workflow import chunks


@pytest.mark.parametrize("n", [0, 1, 5, 7, 100])
@pytest.mark.parametrize("n_chunks", [1, 2, 3, 8])
def test_blocks_partition_in_order(n, n_chunks):
    blocks = [chunks.block(n, k, n_chunks) for k in range(n_chunks)]
    assert [i for b in blocks for i in range(n)[b]] == list(range(n))
    sizes = [b.stop - b.start for b in blocks]
    assert max(sizes) - min(sizes) <= 1


def test_block_documented_formula_and_errors():
    assert chunks.block(10, 1, 3) == slice(3, 6)
    assert chunks.block(10, 2, 3) == slice(6, 10)
    for k, n in [(3, 3), (-1, 3), (0, 0)]:
        with pytest.raises(ValueError):
            chunks.block(10, k, n)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    genes = [f"G{i}" for i in range(120)]
    x = rng.normal(6, 1.5, (120, 13)).round(1)  # rounding makes ties (ssGSEA's tie rules)
    x[5] = 3.0  # a constant gene (dropped by gsva, zscore, plage only)
    expr = pd.DataFrame(x, index=genes, columns=[f"s{j}" for j in range(13)])
    expr.columns = ["007", "NA", *expr.columns[2:]]  # ids that must stay text
    sets = [
        GeneSet("UP_ONLY", tuple(genes[0:12])),
        GeneSet("WITH_DOWN", tuple(genes[10:25]), tuple(genes[40:52])),
        GeneSet("SMALL", tuple(genes[60:66]) + ("NOT_MEASURED",)),
        GeneSet("DOWN_UNMEASURED", tuple(genes[70:90]), ("X1", "X2")),
        GeneSet("CONSTANT_IN", tuple(genes[3:9]), tuple(genes[100:110])),
    ]
    return expr, sets


def _tsv(table, path):
    write_tsv(table, path)
    return path.read_bytes()


@pytest.mark.parametrize("n_chunks", [1, 2, 3, 5, 20])
def test_chunks_gathered_equal_unsplit_byte_for_byte(small, tmp_path, n_chunks):
    expr, sets = small
    methods = list(METHODS)
    whole = score_gene_sets(expr, sets, methods, min_size=1, seed=0)
    parts = []
    for k in range(n_chunks):
        path = tmp_path / f"chunk_{k}.tsv"
        chunks.write_chunk(chunks.score_chunk(expr, sets, methods, k, n_chunks, seed=0), path)
        parts.append(chunks.read_chunk(path))
    gathered = chunks.gather(parts, methods)
    # identical numbers, not just identical 10-digit text
    pd.testing.assert_frame_equal(gathered, whole, check_exact=True)
    assert _tsv(gathered, tmp_path / "g.tsv") == _tsv(whole, tmp_path / "w.tsv")


def test_method_order_and_subsets(small, tmp_path):
    expr, sets = small
    methods = ["plage", "ssgsea", "singscore"]
    whole = score_gene_sets(expr, sets, methods, min_size=1, seed=3)
    parts = [chunks.score_chunk(expr, sets, methods, k, 4, seed=3) for k in range(4)]
    assert _tsv(chunks.gather(parts, methods), tmp_path / "g.tsv") == _tsv(whole, tmp_path / "w.tsv")


def test_no_scorable_set_gives_the_empty_table(small, tmp_path):
    expr, _ = small
    sets = [GeneSet("NONE", ("X1", "X2"))]
    whole = score_gene_sets(expr, sets, ["singscore", "ssgsea"], min_size=1)
    parts = [chunks.score_chunk(expr, sets, ["singscore", "ssgsea"], k, 2) for k in range(2)]
    assert _tsv(chunks.gather(parts, ["singscore", "ssgsea"]), tmp_path / "g.tsv") == _tsv(whole, tmp_path / "w.tsv")


def test_chunks_equal_unsplit_with_small_internal_chunks(small, tmp_path, monkeypatch):
    """score_cohort's internal sample chunks (memory budget) do not move a bit either."""
    from igf1r_resistance.tl import _cohort

    expr, sets = small
    if isinstance(_cohort._BYTES_PER_CELL, int):
        monkeypatch.setattr(_cohort, "_BYTES_PER_CELL", int(256 * 2**20 // (len(expr) * 4)) + 1)
        assert chunks._cohort_step(expr) == 3  # internal chunks of 3 samples, last one of 1
    methods = ["singscore", "ssgsea"]
    whole = score_gene_sets(expr, sets, methods, min_size=1)
    for n_chunks in (2, 4, 6, 13):
        parts = [chunks.score_chunk(expr, sets, methods, k, n_chunks) for k in range(n_chunks)]
        pd.testing.assert_frame_equal(chunks.gather(parts, methods), whole, check_exact=True)
