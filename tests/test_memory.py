"""Cohort-scale memory: the block-wise code paths give the numbers of the direct ones, and
the large-matrix steps hold the expression matrix about once (issue 7: 10,000 samples x
20,000 genes through the whole workflow under 8 GB; docs/cohort.md).

The block paths are forced on small matrices by shrinking the block sizes; peak memory is
measured with tracemalloc, which sees numpy's allocations.
"""

from __future__ import annotations

import gzip
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.io import local_data
from igf1r_resistance.pp import log_scale
from igf1r_resistance.pp import prepare as prep
from igf1r_resistance.pp.log_scale import apply_log2, finite_quantiles
from igf1r_resistance.pp.prepare import _gather_inplace, take
from igf1r_resistance.tl import _camera, qc
from igf1r_resistance.workflow.steps import finite_rows, scorable_genes


def peak_bytes(fn, *args, **kwargs):
    """(result, peak bytes traced while fn ran)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return out, peak


def cohort(n_genes=400, n_samples=60, seed=0, missing=0.0, fortran=True):
    """A genes x samples frame laid out like load_expression's (a view of samples x genes)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(7, 2, (n_samples, n_genes)) + rng.normal(0, 0.3, (n_samples, 1))
    if missing:
        x[rng.random(x.shape) < missing] = np.nan
    values = x.T if fortran else np.ascontiguousarray(x.T)
    samples = [f"S{j:03d}" for j in range(n_samples)]
    expr = pd.DataFrame(values, index=[f"G{i}" for i in range(n_genes)], columns=samples, copy=False)
    groups = pd.Series(np.where(np.arange(n_samples) % 2 == 0, "resistant", "sensitive"), index=samples)
    return expr, groups


# --------------------------------------------------------------------------- exact quantiles


@pytest.mark.parametrize("kind", ["normal", "quantised", "ties", "constant", "heavy", "tiny", "huge"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_finite_quantiles_equal_numpy_to_the_last_bit(kind, order):
    rng = np.random.default_rng(hash(kind) % 2**32)
    shape = (97, 31)
    x = {
        "normal": lambda: rng.normal(7, 2, shape),
        "quantised": lambda: np.round(rng.normal(7, 2, shape), 2),
        "ties": lambda: rng.integers(0, 3, shape).astype(float),
        "constant": lambda: np.full(shape, 3.25),
        "heavy": lambda: np.exp(rng.normal(0, 6, shape)),
        "tiny": lambda: rng.normal(0, 1e-300, shape),
        "huge": lambda: rng.choice([-1.7e308, 0.0, 1.7e308], shape),
    }[kind]()
    x[rng.random(shape) < 0.1] = np.nan
    x[rng.random(shape) < 0.02] = np.inf
    x = np.asarray(x, order=order)
    finite = x[np.isfinite(x)]
    for probs in ([0, 0.25, 0.5, 0.75, 0.99, 1], np.linspace(0, 1, 512), [0.5]):
        for block_cells in (7, 100, 10**9):
            n, q = finite_quantiles(x, probs, block_cells)
            assert n == finite.size
            assert np.array_equal(q, np.quantile(finite, probs))


def test_finite_quantiles_of_nothing_finite():
    n, q = finite_quantiles(np.full((50, 3), np.nan), [0.5, 1.0], block_cells=8)
    assert n == 0 and np.isnan(q).all()
    with pytest.raises(ValueError, match="no finite"):
        log_scale.geo2r_needs_log2(np.full((50, 3), np.nan))


def test_log2_in_place_equals_the_copy(monkeypatch):
    expr, _ = cohort(missing=0.05)
    linear = pd.DataFrame(np.exp2(expr.to_numpy()) - 20, index=expr.index, columns=expr.columns)
    reference, ref_decision = apply_log2(linear.copy(), "yes")
    monkeypatch.setattr(log_scale, "BLOCK_CELLS", 97)
    owned = linear.copy()
    out, decision = apply_log2(owned, "yes", inplace=True)
    assert np.shares_memory(out.to_numpy(), owned.to_numpy())
    assert np.array_equal(out.to_numpy(), reference.to_numpy(), equal_nan=True)
    assert decision == ref_decision


# --------------------------------------------------------------------------- selection in place


@pytest.mark.parametrize("rows", [None, "perm", "subset"])
@pytest.mark.parametrize("cols", [None, "perm", "subset"])
@pytest.mark.parametrize("stride", [0, 3])
def test_gather_in_place_equals_fancy_indexing(rows, cols, stride):
    rng = np.random.default_rng(1)
    n, m = 13, 17
    base = rng.normal(size=(n, m + stride))
    a = base[:, :m]  # rows further apart than their length, as read_matrix's buffer
    expected = a.copy()

    def pick(kind, size):
        return None if kind is None else (rng.permutation(size) if kind == "perm"
                                          else np.sort(rng.choice(size, size // 2, replace=False))[::-1])

    r, c = pick(rows, n), pick(cols, m)
    if r is not None:
        expected = expected[r]
    if c is not None:
        expected = expected[:, c]
    out = _gather_inplace(a, r, c)
    assert out.flags.c_contiguous and np.shares_memory(out, base)
    assert np.array_equal(out, expected)


def test_take_in_place_equals_iloc_and_reuses_the_buffer():
    expr, _ = cohort()
    rows, cols = np.argsort(expr.index)[::-1], np.arange(0, expr.shape[1], 2)
    expected = expr.iloc[rows, cols].copy()
    owned = expr.copy()  # C-ordered genes x samples
    out = take(owned, rows, cols, inplace=True)
    pd.testing.assert_frame_equal(out, expected)
    assert np.shares_memory(out.to_numpy(), owned.to_numpy())
    owned = pd.DataFrame(np.array(expr.to_numpy().T, order="C").T, index=expr.index, columns=expr.columns)
    out = take(owned, rows, cols, inplace=True)  # the AnnData layout
    pd.testing.assert_frame_equal(out, expected)
    pd.testing.assert_frame_equal(take(expr, rows, cols), expected)  # not in place: a copy


def test_scorable_genes_is_no_copy_when_every_gene_is_complete():
    expr, _ = cohort()
    assert scorable_genes(expr) is expr
    gappy, _ = cohort(missing=0.001)
    keep = np.isfinite(gappy.to_numpy()).all(axis=1)
    assert not keep.all()
    pd.testing.assert_frame_equal(scorable_genes(gappy), gappy[keep])
    assert np.array_equal(finite_rows(gappy.to_numpy(), block_cells=50), keep)


# --------------------------------------------------------------------------- camera


@pytest.mark.parametrize("options", [{}, {"inter_gene_cor": None}, {"trend_var": True}])
def test_camera_in_blocks_equals_one_block(monkeypatch, options):
    expr, groups = cohort(missing=0.002)
    rng = np.random.default_rng(2)
    sets = {f"SET{k}": list(rng.choice(expr.index, int(rng.integers(1, 30)), replace=False)) for k in range(8)}
    whole = _camera.camera(expr, groups, sets, **options)
    monkeypatch.setattr(_camera, "_BLOCK_CELLS", 333)
    blocked = _camera.camera(expr, groups, sets, **options)
    pd.testing.assert_frame_equal(blocked, whole, check_exact=False, rtol=1e-12, atol=0)


def test_camera_does_not_copy_the_matrix(monkeypatch):
    expr, groups = cohort(n_genes=4000, n_samples=200)
    sets = {"A": list(expr.index[:50]), "B": list(expr.index[100:120])}
    matrix_bytes = expr.to_numpy().nbytes
    monkeypatch.setattr(_camera, "_BLOCK_CELLS", 2**15)  # 1/25 of the matrix
    _, peak = peak_bytes(_camera.camera, expr, groups, sets, inter_gene_cor=None)
    assert peak < 0.5 * matrix_bytes  # before: residuals and a where() temporary, 2x the matrix


# --------------------------------------------------------------------------- QC


@pytest.fixture
def blocked_qc(monkeypatch):
    monkeypatch.setattr(qc, "SMALL_CELLS", 100)
    monkeypatch.setattr(qc, "BLOCK_CELLS", 517)


@pytest.mark.parametrize("missing", [0.0, 0.001])
def test_qc_block_paths_equal_the_direct_ones(monkeypatch, missing):
    expr, groups = cohort(n_genes=600, n_samples=70, missing=missing)
    de = pd.DataFrame({"gene": expr.index, "t": np.random.default_rng(3).normal(size=len(expr))})
    sets = [GeneSet(name="S1", up=tuple(expr.index[:12]), down=tuple(expr.index[20:25]))]
    settings = {"pca_top_genes": 50, "max_heatmap_columns": 20}
    direct = qc.qc_tables(expr, groups, de, sets, sets, [], settings)
    monkeypatch.setattr(qc, "SMALL_CELLS", 100)
    monkeypatch.setattr(qc, "BLOCK_CELLS", 517)
    blocked = qc.qc_tables(expr, groups, de, sets, sets, [], settings)
    for name, table in direct.items():
        pd.testing.assert_frame_equal(blocked[name], table, check_exact=False, rtol=1e-10, atol=1e-12)


def test_blocked_correlation_equals_corrcoef(blocked_qc):
    expr, _ = cohort(n_genes=300, n_samples=40, missing=0.002)
    complete = expr[np.isfinite(expr.to_numpy()).all(axis=1)]
    r = qc.correlation(expr).to_numpy()
    assert np.allclose(r, np.corrcoef(complete.to_numpy(), rowvar=False), rtol=0, atol=1e-13)
    assert np.array_equal(r, r.T)


def test_qc_correlation_holds_the_samples_square_not_a_matrix_copy(monkeypatch):
    expr, _ = cohort(n_genes=6000, n_samples=150)
    monkeypatch.setattr(qc, "SMALL_CELLS", 1000)
    monkeypatch.setattr(qc, "BLOCK_CELLS", 2**16)
    _, peak = peak_bytes(qc.correlation, expr)
    n = expr.shape[1]
    assert peak < 8 * n * n + 0.25 * expr.to_numpy().nbytes  # np.corrcoef: 2-3 copies of the matrix


# --------------------------------------------------------------------------- prepare


def write_cohort(tmp_path, n_genes=300, n_samples=40, gz=False):
    rng = np.random.default_rng(4)
    genes = ["IGF1R", "AKT1", "ABCB1", "TP53", "EGFR"] + [f"NOT_A_GENE_{i}" for i in range(n_genes - 5)]
    table = pd.DataFrame(np.round(rng.normal(7, 2, (n_genes, n_samples)), 2), index=pd.Index(genes, name="gene"),
                         columns=[f"S{j:03d}" for j in range(n_samples)])
    text = table.to_csv(sep="\t")
    path = tmp_path / ("expr.tsv.gz" if gz else "expr.tsv")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path, table


def test_read_matrix_fills_one_buffer(tmp_path, monkeypatch):
    path, table = write_cohort(tmp_path, n_genes=5000, n_samples=200)
    monkeypatch.setattr(local_data, "MATRIX_CHUNK_CELLS", 50_000)
    raw, peak = peak_bytes(local_data.read_matrix, path)
    pd.testing.assert_frame_equal(raw, table.astype(float), check_names=False)
    assert raw.to_numpy().strides[0] == 8  # samples x genes in memory, the layout of AnnData's X
    assert peak < 1.5 * table.to_numpy().nbytes  # one parse of the whole table: 3.2x


@pytest.mark.parametrize("gz", [False, True])
def test_prepare_matrix_chunked_equals_whole(tmp_path, monkeypatch, gz):
    from igf1r_resistance.pp.symbols import SymbolMapper

    path, table = write_cohort(tmp_path, gz=gz)
    sheet = tmp_path / "samples.tsv"
    pd.DataFrame({"sample": table.columns, "group": ["resistant", "sensitive"] * (table.shape[1] // 2)}).to_csv(
        sheet, sep="\t", index=False)
    mapper = SymbolMapper.from_file("workflow/resources/hgnc_symbols.tsv.gz")
    schema = "workflow/schemas/samples.schema.yaml"
    settings = {"type": "matrix", "log2": "auto"}
    whole = local_data.prepare_matrix("c", settings, str(path), str(sheet), schema, mapper)
    monkeypatch.setattr(local_data, "MATRIX_CHUNK_CELLS", 50)
    monkeypatch.setattr(prep, "BLOCK_CELLS", 64)  # probe selection in place
    monkeypatch.setattr(log_scale, "BLOCK_CELLS", 64)  # the log2 rule's quantiles and log
    chunked = local_data.prepare_matrix("c", settings, str(path), str(sheet), schema, mapper)
    assert np.array_equal(chunked.adata.X, whole.adata.X)
    assert list(chunked.adata.var_names) == list(whole.adata.var_names)
    assert repr(dict(chunked.adata.uns)) == repr(dict(whole.adata.uns))
    pd.testing.assert_frame_equal(chunked.probes, whole.probes)
