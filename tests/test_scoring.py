"""Tests of igf1r_resistance.tl.scoring against R GSVA 1.46 fixtures and hand examples.

Fixtures: tests/data/reference/scoring_<case>_{expr.tsv,sets.gmt,<method>.tsv}, made by
    .venv/bin/python tests/reference/make_scoring_inputs.py
    Rscript tests/reference/make_scoring_fixtures.R
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.tl import scoring

REF = Path(__file__).parent / "data" / "reference"
CASES = ("random", "gse27473", "ties")
TOL = 1e-6


def read_gmt(path: Path) -> dict[str, list[str]]:
    sets = {}
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        sets[fields[0]] = fields[2:]
    return sets


def load_case(case: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    expr = pd.read_csv(REF / f"scoring_{case}_expr.tsv", sep="\t", index_col=0)
    return expr, read_gmt(REF / f"scoring_{case}_sets.gmt")


def load_ref(case: str, method: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"scoring_{case}_{method}.tsv", sep="\t", index_col=0)


R_METHODS = {
    "gsva": scoring.gsva,
    "ssgsea": scoring.ssgsea,
    "ssgsea_raw": lambda x, s: scoring.ssgsea(x, s, normalize=False),
    "zscore": scoring.zscore,
    "plage": scoring.plage,
}


# ---------------------------------------------------------------- R GSVA 1.46 fixtures


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", sorted(R_METHODS))
def test_matches_r_gsva(case: str, method: str) -> None:
    expr, sets = load_case(case)
    ref = load_ref(case, method)
    got = R_METHODS[method](expr, sets)
    assert list(got.index) == list(ref.index)
    assert list(got.columns) == list(ref.columns)
    got_v, ref_v = got.to_numpy(), ref.to_numpy()
    if method == "plage":  # sign of a singular vector is arbitrary
        got_v = got_v * np.sign((got_v * ref_v).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got_v, ref_v, rtol=0, atol=TOL)


def test_fixture_cases_exercise_ties() -> None:
    """The tie semantics matter: reversing the row order of tied genes changes R's result."""
    expr, sets = load_case("ties")
    assert any(expr[c].duplicated().any() for c in expr)
    ref = load_ref("ties", "ssgsea").to_numpy()
    reversed_rows = scoring.ssgsea(expr.iloc[::-1], sets).to_numpy()
    assert np.abs(reversed_rows - ref).max() > 1e-3


def test_constant_gene_dropped_for_gsva_family_only() -> None:
    expr, sets = load_case("ties")
    assert expr.loc["T007"].nunique() == 1 and "T007" in sets["TIES_20"]
    without = expr.drop(index="T007")
    for fn in (scoring.gsva, scoring.zscore, scoring.plage):
        pd.testing.assert_frame_equal(fn(expr, sets), fn(without, sets))
    assert not np.allclose(scoring.ssgsea(expr, sets), scoring.ssgsea(without, sets))


def test_score_gene_sets_long_format_matches_wide() -> None:
    expr, sets = load_case("random")
    gene_sets = [GeneSet(name, tuple(genes)) for name, genes in sets.items()]
    methods = ["gsva", "ssgsea", "zscore", "plage", "singscore"]
    long = scoring.score_gene_sets(expr, gene_sets, methods, min_size=5)
    assert list(long.columns) == ["sample", "gene_set", "method", "score"]
    assert len(long) == expr.shape[1] * len(gene_sets) * len(methods)
    assert not long.duplicated(["sample", "gene_set", "method"]).any()
    assert long["score"].dtype == float
    wide = long[long["method"] == "gsva"].pivot(index="gene_set", columns="sample", values="score")
    ref = load_ref("random", "gsva")
    np.testing.assert_allclose(wide.loc[ref.index, ref.columns], ref, rtol=0, atol=TOL)


# ---------------------------------------------------------------- singscore by hand


def hand_matrix() -> pd.DataFrame:
    # S1 ranks g1..g6 = 1..6, S2 ranks 6..1, S3 has ties -> min ranks 1 1 3 4 4 4
    return pd.DataFrame(
        {"S1": [1.0, 2, 3, 4, 5, 6], "S2": [6.0, 5, 4, 3, 2, 1], "S3": [1.0, 1, 2, 3, 3, 3]},
        index=[f"g{i}" for i in range(1, 7)],
    )


def test_singscore_hand_examples_up_only() -> None:
    x = hand_matrix()
    sets = [
        GeneSet("top", ("g5", "g6")),
        GeneSet("spread", ("g1", "g6")),
        GeneSet("tied", ("g4", "g5")),
    ]
    got = scoring.singscore(x, sets)
    # N = 6, n = 2: score = (mean rank - (n+1)/2) / (N - n) - 0.5 = (m - 1.5) / 4 - 0.5
    # top:    S1 m = 5.5 -> 0.5;  S2 m = 1.5 -> -0.5;  S3 ranks 4,4 -> m = 4 -> 0.125
    # spread: S1 m = 3.5 -> 0.0;  S2 m = 3.5 -> 0.0;   S3 ranks 1,4 -> m = 2.5 -> -0.25
    # tied:   S1 m = 4.5 -> 0.25; S2 m = 2.5 -> -0.25; S3 ranks 4,4 -> 0.125
    expected = np.array([[0.5, -0.5, 0.125], [0.0, 0.0, -0.25], [0.25, -0.25, 0.125]])
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-15)


def test_singscore_hand_example_up_down() -> None:
    x = hand_matrix()
    got = scoring.singscore(x, [GeneSet("updown", ("g5", "g6"), ("g1", "g2"))])
    # up as above: S1 0.5, S2 -0.5, S3 0.125
    # down, uncentred d = (m - 1.5) / 4, score = (1 - d) - 0.5:
    #   S1 ranks 1,2 -> d = 0 -> 0.5;  S2 ranks 6,5 -> d = 1 -> -0.5;
    #   S3 ranks 1,1 -> m = 1 -> d = -0.125 -> 0.625
    # total: S1 1.0, S2 -1.0, S3 0.75
    np.testing.assert_allclose(got.to_numpy()[0], [1.0, -1.0, 0.75], atol=1e-15)


def test_singscore_dispersion_hand_example() -> None:
    x = hand_matrix()
    got = scoring.singscore_dispersion(
        x, [GeneSet("a", ("g1", "g3", "g6")), GeneSet("ud", ("g1", "g3", "g6"), ("g2", "g5"))]
    )
    # a: S1 ranks 1,3,6 -> median 3, |dev| 2,0,3 -> MAD 2 * 1.4826 = 2.9652
    #    S2 ranks 6,4,1 -> same; S3 ranks 1,3,4 -> median 3, |dev| 2,0,1 -> 1.4826
    # ud adds the down dispersion: S1 ranks 2,5 -> median 3.5, |dev| 1.5,1.5 -> 2.2239;
    #    S2 ranks 5,2 -> 2.2239; S3 ranks 1,4 -> median 2.5 -> 2.2239
    np.testing.assert_allclose(got.loc["a"], [2.9652, 2.9652, 1.4826], atol=1e-12)
    np.testing.assert_allclose(
        got.loc["ud"], [2.9652 + 2.2239, 2.9652 + 2.2239, 1.4826 + 2.2239], atol=1e-12
    )


def test_singscore_bounds() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(100, 5)), index=[f"g{i}" for i in range(100)])
    top = x[0].sort_values().index[-10:]
    got = scoring.singscore(x, [GeneSet("top0", tuple(top))])
    assert got.iloc[0, 0] == pytest.approx(0.5)
    assert ((got.to_numpy() >= -0.5) & (got.to_numpy() <= 0.5)).all()


# ---------------------------------------------------------------- other behaviour


def random_expr(n_genes: int = 200, n_samples: int = 8, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(6.0, 1.0, (n_genes, n_samples)),
        index=[f"G{i}" for i in range(n_genes)],
        columns=[f"S{j}" for j in range(n_samples)],
    )


def test_score_genes_reproducible_with_seed() -> None:
    x = random_expr()
    sets = [GeneSet("a", tuple(x.index[:20])), GeneSet("b", tuple(x.index[50:60]))]
    first = scoring.score_genes(x, sets, seed=7, ctrl_size=5)
    again = scoring.score_genes(x, sets, seed=7, ctrl_size=5)
    other = scoring.score_genes(x, sets, seed=8, ctrl_size=5)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first, other)
    state = np.random.get_state()[1].copy()
    scoring.score_genes(x, sets, seed=7)
    assert (np.random.get_state()[1] == state).all()  # global RNG restored


def test_shifted_set_scores_higher_in_shifted_samples() -> None:
    x = random_expr()
    shifted = tuple(x.index[:20])
    x.loc[list(shifted), ["S0", "S1", "S2", "S3"]] += 2.0
    sets = [GeneSet("shifted", shifted), GeneSet("other", tuple(x.index[100:130]))]
    long = scoring.score_gene_sets(x, sets, list(scoring.METHODS), min_size=5, seed=0)
    for method in scoring.METHODS:
        s = long[(long["method"] == method) & (long["gene_set"] == "shifted")]
        s = s.set_index("sample")["score"]
        assert s[["S0", "S1", "S2", "S3"]].min() > s[["S4", "S5", "S6", "S7"]].max(), method


def test_down_genes_are_subtracted() -> None:
    x = random_expr()
    up, down = tuple(x.index[:15]), tuple(x.index[15:25])
    both = [GeneSet("ud", up, down)]
    for fn in (scoring.zscore, scoring.plage, scoring.gsva):
        got = fn(x, both).loc["ud"]
        sep = fn(x, {"u": up, "d": down})
        np.testing.assert_allclose(got, sep.loc["u"] - sep.loc["d"], atol=1e-12)
    # ssGSEA normalises by the range over all parts scored together
    raw = scoring.ssgsea(x, {"u": up, "d": down}, normalize=False)
    expected = (raw.loc["u"] - raw.loc["d"]) / (raw.to_numpy().max() - raw.to_numpy().min())
    np.testing.assert_allclose(scoring.ssgsea(x, both).loc["ud"], expected, atol=1e-12)


def test_plage_sign_follows_mean_expression() -> None:
    x = random_expr()
    genes = list(x.index[:20])
    got = scoring.plage(x, {"s": genes}).loc["s"]
    z = x.loc[genes].sub(x.loc[genes].mean(axis=1), axis=0)
    assert np.corrcoef(got, z.mean(axis=0))[0, 1] > 0
    assert np.linalg.norm(got) == pytest.approx(1.0)


def test_min_size_skips_small_sets_and_ignores_unmeasured_genes() -> None:
    x = random_expr()
    sets = [
        GeneSet("four", tuple(x.index[:4])),
        GeneSet("five_of_seven", (*x.index[10:15], "NOT_A_GENE", "ALSO_MISSING")),
        GeneSet("small_down", tuple(x.index[20:30]), ("G40", "G41", "NOPE")),
    ]
    long = scoring.score_gene_sets(x, sets, ["zscore"], min_size=5)
    assert set(long["gene_set"]) == {"five_of_seven", "small_down"}
    z = long.set_index("gene_set").loc["five_of_seven"].set_index("sample")["score"]
    np.testing.assert_allclose(z[x.columns], scoring.zscore(x, {"a": x.index[10:15]}).loc["a"])
    sd = long.set_index("gene_set").loc["small_down"].set_index("sample")["score"]
    np.testing.assert_allclose(sd[x.columns], scoring.zscore(x, {"a": x.index[20:30]}).loc["a"])
    assert len(scoring.score_gene_sets(x, sets, ["zscore"], min_size=4)) == 3 * x.shape[1]
    empty = scoring.score_gene_sets(x, sets[:1], ["zscore"], min_size=5)
    assert list(empty.columns) == ["sample", "gene_set", "method", "score"] and empty.empty


def test_genes_with_nan_are_dropped() -> None:
    x = random_expr()
    sets = [GeneSet("a", tuple(x.index[:20])), GeneSet("b", tuple(x.index[30:50]))]
    with_nan = x.copy()
    with_nan.loc["G5", "S2"] = np.nan
    with_nan.loc["G150", "S0"] = np.nan
    clean = x.drop(index=["G5", "G150"])
    methods = ["singscore", "ssgsea", "gsva", "zscore", "plage"]
    pd.testing.assert_frame_equal(
        scoring.score_gene_sets(with_nan, sets, methods),
        scoring.score_gene_sets(clean, sets, methods),
    )


def test_array_input_and_errors() -> None:
    x = random_expr()
    by_position = scoring.zscore(x.to_numpy(), {"a": list(range(10))})
    np.testing.assert_allclose(
        by_position.loc["a"], scoring.zscore(x, {"a": x.index[:10]}).loc["a"]
    )
    with pytest.raises(ValueError, match="unknown scoring method"):
        scoring.score_gene_sets(x, [GeneSet("a", tuple(x.index[:10]))], ["gsea"])
    dup = x.copy()
    dup.index = ["G0", *x.index[:-1]]
    with pytest.raises(ValueError, match="duplicated gene"):
        scoring.zscore(dup, {"a": x.index[:10]})


def test_gsva_family_needs_two_samples() -> None:
    x = random_expr(n_samples=1)
    for fn in (scoring.gsva, scoring.zscore, scoring.plage):
        with pytest.raises(ValueError, match="at least 2 samples"):
            fn(x, {"a": x.index[:10]})
    assert np.isfinite(scoring.singscore(x, {"a": x.index[:10]}).to_numpy()).all()


# ---------------------------------------------------------------- cohort engine


def tied_cohort(n_genes: int = 1500, n_samples: int = 30, seed: int = 4) -> pd.DataFrame:
    """Values rounded to 0.1 (many ties), a constant gene, signed zeros, one NaN."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(6.0, 1.5, size=(n_genes, n_samples)), 1)
    x[3] = 2.0
    x[4, :6] = -0.0
    x[5, :6] = 0.0
    x[6, :4] = -1.5
    x[7, :4] = -1.5
    x[8, 2] = np.nan
    return pd.DataFrame(x, index=[f"g{i}" for i in range(n_genes)],
                        columns=[f"s{j}" for j in range(n_samples)])


def cohort_sets(x: pd.DataFrame) -> list[GeneSet]:
    g = list(x.index)
    return [
        GeneSet("plain", tuple(g[:25])),
        GeneSet("updown", tuple(g[25:60]), tuple(g[60:75])),
        GeneSet("with_ties_and_nan", tuple(g[2:12]) + ("NOT_MEASURED",)),
        GeneSet("big", tuple(g[100:900])),
        GeneSet("unmeasured", ("NOPE",)),
        GeneSet("down_only", ("NOPE",), tuple(g[30:40])),
    ]


def brute_aucell(x: pd.DataFrame, genes: list[str], max_rank: float) -> np.ndarray:
    """AUCell's .auc on rankings by decreasing value, ties in row order (literal port)."""
    x = x[x.notna().all(axis=1)]
    k_auc = round(max_rank * len(x))
    members = [g for g in dict.fromkeys(genes) if g in x.index]
    out = []
    for col in x.columns:
        order = np.argsort(-x[col].to_numpy(), kind="stable")
        rank = np.empty(len(x), dtype=int)
        rank[order] = np.arange(1, len(x) + 1)
        r = np.sort(rank[x.index.get_indexer(members)])
        r = r[r < k_auc]
        y = np.arange(1, len(r) + 1)
        out.append(np.sum(np.diff(np.append(r, k_auc)) * y) / (k_auc * len(members)))
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("chunk_size", "threads"), [(None, 1), (7, 1), (4, 2)])
def test_cohort_engine_equals_the_single_method_functions(dtype, chunk_size, threads) -> None:
    x = tied_cohort()
    sets = cohort_sets(x)
    got = scoring.score_cohort(x.astype(dtype), sets, scoring.COHORT_METHODS, chunk_size=chunk_size,
                               threads=threads)
    ref = x.astype(dtype).astype(float)  # float32 values, exactly, for the reference
    want = {
        "singscore": scoring.singscore(ref, sets),
        "ssgsea": scoring.ssgsea(ref, sets),
        "zscore": scoring.zscore(ref, sets),
        "aucell": scoring.aucell(ref, sets),
    }
    for method in scoring.COHORT_METHODS:
        pd.testing.assert_index_equal(got[method].index, want[method].index)
        np.testing.assert_array_equal(np.isnan(got[method]), np.isnan(want[method]))
        np.testing.assert_allclose(got[method], want[method], rtol=0, atol=1e-12, err_msg=method)
    assert got["singscore"].loc[["unmeasured", "down_only"]].isna().all().all()


def test_engine_rank_scores_are_exact_for_float32_input() -> None:
    """float32 input is ranked as float32: rank-based scores equal the float64 run bit for bit."""
    x = tied_cohort()
    sets = cohort_sets(x)
    a = scoring.score_cohort(x.astype(np.float32), sets, ("singscore", "ssgsea", "aucell"))
    b = scoring.score_cohort(x, sets, ("singscore", "ssgsea", "aucell"))
    for method in a:
        np.testing.assert_array_equal(a[method].to_numpy(), b[method].to_numpy())


def test_engine_float32_option_is_close() -> None:
    x = tied_cohort()
    sets = cohort_sets(x)
    exact = scoring.score_cohort(x, sets, ("ssgsea", "zscore"))
    approx = scoring.score_cohort(x, sets, ("ssgsea", "zscore"), float32=True)
    for method in exact:
        np.testing.assert_allclose(approx[method], exact[method], rtol=1e-5, atol=1e-5)


def test_aucell_matches_aucell_formula() -> None:
    x = tied_cohort()
    for name, genes, max_rank in [("a", list(x.index[:40]), 0.05), ("b", list(x.index[::7]), 0.2)]:
        got = scoring.aucell(x, {name: genes}, max_rank=max_rank).loc[name].to_numpy()
        np.testing.assert_allclose(got, brute_aucell(x, genes, max_rank), rtol=0, atol=1e-15)
    # ten genes at the top of every sample: AUC = sum_{r=1..10} (K - r) / (10 K), K = 75
    top = x.copy()
    top.iloc[10:20] = 50.0 + np.arange(10)[:, None]
    got = scoring.aucell(top, {"top": list(top.index[10:20])}).loc["top"]
    assert np.allclose(got, (75 * 10 - 55) / 750)


def test_engine_memory_budget_sets_the_chunks() -> None:
    x = tied_cohort()
    sets = cohort_sets(x)
    tiny = scoring.score_cohort(x, sets, ("singscore", "ssgsea"), memory_mb=0.05)  # 1 sample/chunk
    whole = scoring.score_cohort(x, sets, ("singscore", "ssgsea"))
    for method in tiny:
        np.testing.assert_allclose(tiny[method], whole[method], rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="unknown cohort method"):
        scoring.score_cohort(x, sets, ("gsva",))
