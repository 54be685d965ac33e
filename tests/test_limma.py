"""Tests of the numpy port of limma's moderated t-test against R limma fixtures.

Fixtures in tests/data/reference/limma_* are produced by
``tests/reference/make_limma_inputs.py`` (inputs) and
``tests/reference/make_limma_fixtures.R`` (R limma 3.54.1 outputs, 17 digits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from igf1r_resistance.tl import _limma as limma
from igf1r_resistance.tl import _squeeze_var
from igf1r_resistance.tl._limma import LimmaInputError, moderated_t
from igf1r_resistance.tl._squeeze_var import natural_spline_basis, trigamma_inverse
from igf1r_resistance.tl.stats import bh_fdr

REF = Path(__file__).parent / "data" / "reference"
NUMERIC = ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
RTOL = 1e-6

RUNS = [
    ("gse15709", "plain"),
    ("gse15709", "trend"),
    ("gse15709", "robust"),
    ("gse11440", "plain"),
    ("gse11440", "trend"),
    ("logcpm", "plain"),
    ("logcpm", "trend"),
    ("logcpm", "robust"),
    ("infdf", "plain"),
    ("infdf", "robust"),
    ("outliers", "plain"),
    ("outliers", "robust"),
]


def load_case(case: str) -> tuple[pd.DataFrame, pd.Series]:
    expr = pd.read_csv(REF / f"limma_{case}_expr.tsv.gz", sep="\t", index_col=0)
    groups = pd.read_csv(REF / f"limma_{case}_groups.tsv", sep="\t", index_col=0)["group"]
    return expr, groups


def assert_close_to_r(got: np.ndarray, want: np.ndarray, name: str) -> None:
    """Relative 1e-6, absolute where |want| < 1; NaN positions must agree."""
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{name}: NaN positions differ"
    ok = ~np.isnan(want)
    err = np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1.0)
    assert err.size == 0 or err.max() <= RTOL, f"{name}: max scaled error {err.max():.3g}"


@pytest.fixture(scope="module")
def cases() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    names = {case for case, _ in RUNS}
    return {name: load_case(name) for name in names}


# --------------------------------------------------------------------------------------
# agreement with R limma
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("case", "variant"), RUNS)
def test_matches_r_limma(cases, case: str, variant: str) -> None:
    expr, groups = cases[case]
    want = pd.read_csv(
        REF / f"limma_{case}_{variant}.tsv.gz", sep="\t", keep_default_na=False, na_values=["NA"]
    )
    got = moderated_t(expr, groups, trend=variant == "trend", robust=variant == "robust")
    assert list(got.columns) == ["gene", *NUMERIC]
    assert got["gene"].astype(str).tolist() == want["gene"].astype(str).tolist()
    for col in NUMERIC:
        assert_close_to_r(got[col].to_numpy(), want[col].to_numpy(), f"{case}/{variant}/{col}")


CONFINT_RUNS = [("gse11440", "plain"), ("logcpm", "trend"), ("infdf", "plain"), ("outliers", "robust")]


@pytest.mark.parametrize(("case", "variant"), CONFINT_RUNS)
def test_confidence_interval_matches_r_toptable_confint(cases, case: str, variant: str) -> None:
    """CI.L / CI.R equal topTable(confint = 0.95) (tests/reference/make_limma_confint_fixtures.R)."""
    expr, groups = cases[case]
    want = pd.read_csv(REF / f"limma_{case}_{variant}_confint.tsv.gz", sep="\t", keep_default_na=False,
                       na_values=["NA"])
    got = moderated_t(expr, groups, trend=variant == "trend", robust=variant == "robust", confint=0.95)
    assert list(got.columns) == ["gene", "logFC", "CI.L", "CI.R", *NUMERIC[1:]]
    for col in ["logFC", "CI.L", "CI.R"]:
        assert_close_to_r(got[col].to_numpy(), want[col].to_numpy(), f"{case}/{variant}/{col}")
    # the interval is logFC +- qt(0.975, df.total) * logFC / t: symmetric about logFC
    ok = got["t"].notna() & (got["t"] != 0)
    np.testing.assert_allclose((got["CI.R"] - got["logFC"])[ok], (got["logFC"] - got["CI.L"])[ok], rtol=1e-9)


def test_confint_level_must_be_a_probability(cases) -> None:
    expr, groups = cases["gse11440"]
    with pytest.raises(ValueError, match="confint"):
        moderated_t(expr.iloc[:50], groups, confint=95)


@pytest.mark.parametrize(("case", "variant"), RUNS)
def test_hyperparameters_match_r(cases, case: str, variant: str) -> None:
    hyper = pd.read_csv(REF / "limma_hyperparameters.tsv", sep="\t")
    row = hyper[(hyper["case"] == case) & (hyper["variant"] == variant)].iloc[0]
    expr, groups = cases[case]
    values, is_res, _ = limma._prepare(expr, groups)
    coef, su, s2, dfres, amean = limma._fit_two_groups(values, is_res)
    keep = np.isfinite(amean)
    eb = limma._ebayes(
        coef[keep],
        su[keep],
        s2[keep],
        dfres[keep],
        amean[keep] if variant == "trend" else None,
        robust=variant == "robust",
    )
    df_prior = np.atleast_1d(eb["df_prior"])
    for got, want in [
        (df_prior.min(), row["df_prior_min"]),
        (df_prior.max(), row["df_prior_max"]),
        (np.median(eb["s2_prior"]), row["s2_prior_median"]),
        (eb["var_prior"], row["var_prior"]),
        (np.nansum(dfres), row["df_pooled"]),
    ]:
        if np.isinf(want):
            assert np.isinf(got)
        else:
            assert got == pytest.approx(float(want), rel=RTOL)


def test_natural_spline_basis_matches_splines_ns() -> None:
    """Same column space as R's ns(x, df, intercept=TRUE), also for predict() beyond
    the boundary knots (linear extrapolation)."""
    tab = pd.read_csv(REF / "limma_ns_basis.tsv", sep="\t")
    for df, sub in tab.groupby("df"):
        fit = sub[sub["where"] == "fit"].pivot(index="x", columns="column", values="value")
        new = sub[sub["where"] == "predict"].pivot(index="x", columns="column", values="value")
        x = fit.index.to_numpy()
        knots = _squeeze_var._ns_default_knots(x, int(df))
        boundary = (x.min(), x.max())
        mine = natural_spline_basis(x, knots, boundary)
        assert mine.shape == fit.shape
        # mine = R @ M for an invertible M
        m, *_ = np.linalg.lstsq(fit.to_numpy(), mine, rcond=None)
        np.testing.assert_allclose(fit.to_numpy() @ m, mine, atol=1e-10)
        assert abs(np.linalg.det(m)) > 1e-8
        pred = natural_spline_basis(new.index.to_numpy(), knots, boundary)
        np.testing.assert_allclose(new.to_numpy() @ m, pred, atol=1e-9)


# --------------------------------------------------------------------------------------
# hand-checkable behaviour
# --------------------------------------------------------------------------------------
def _toy(n_genes: int = 200, n_res: int = 4, n_sens: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    samples = [f"s{i}" for i in range(n_res + n_sens)]
    groups = pd.Series(["resistant"] * n_res + ["sensitive"] * n_sens, index=samples)
    values = rng.normal(8.0, 1.0, (n_genes, n_res + n_sens))
    expr = pd.DataFrame(values, index=[f"G{i}" for i in range(n_genes)], columns=samples)
    return expr, groups


def test_equal_variances_give_pooled_t_exactly() -> None:
    """All residual variances equal -> df.prior = Inf, s2.post = s2 and the moderated t
    is the ordinary pooled two-sample t with df = sum(df.residual)."""
    rng = np.random.default_rng(3)
    pattern = np.array([0.9, -0.3, -0.6, 1.0, -1.0, 0.2, -0.2])  # group-centred below
    res, sens = pattern[:3] - pattern[:3].mean(), pattern[3:] - pattern[3:].mean()
    n_genes = 150
    shift = rng.normal(0, 1, (n_genes, 1))
    values = np.hstack([5 + shift + res, 5 + np.zeros((n_genes, 1)) + sens])
    samples = [f"x{i}" for i in range(7)]
    expr = pd.DataFrame(values, columns=samples)
    groups = pd.Series(["resistant"] * 3 + ["sensitive"] * 4, index=samples)
    out = moderated_t(expr, groups)
    pooled = stats.ttest_ind(values[:, :3], values[:, 3:], axis=1, equal_var=True)
    np.testing.assert_allclose(out["t"], pooled.statistic, rtol=1e-9)
    df_pooled = n_genes * (7 - 2)
    np.testing.assert_allclose(
        out["P.Value"], 2 * stats.t.sf(np.abs(pooled.statistic), df_pooled), rtol=1e-9
    )
    np.testing.assert_allclose(out["logFC"], values[:, :3].mean(1) - values[:, 3:].mean(1))


def test_large_prior_df_gives_t_close_to_pooled_t() -> None:
    """Variances from the Smyth (2004) model with d0 = 1e5: df.prior is estimated large,
    s2.post ~ s2 and the moderated t is close to the pooled two-sample t."""
    rng = np.random.default_rng(11)
    n_genes, n, d0 = 2000, 6, 1e5
    s2 = 0.3 * d0 / rng.chisquare(d0, n_genes)
    values = rng.normal(0, 1, (n_genes, n))
    values -= values[:, :3].mean(1, keepdims=True) * np.r_[np.ones(3), np.zeros(3)]
    values -= values[:, 3:].mean(1, keepdims=True) * np.r_[np.zeros(3), np.ones(3)]
    rss = (values**2).sum(1)
    values *= np.sqrt(s2 * (n - 2) / rss)[:, None]  # residual variance exactly s2
    values[:, :3] += rng.normal(0, 1, (n_genes, 1))
    samples = [f"y{i}" for i in range(n)]
    expr = pd.DataFrame(values, columns=samples)
    groups = pd.Series(["resistant"] * 3 + ["sensitive"] * 3, index=samples)
    out = moderated_t(expr, groups)
    pooled = stats.ttest_ind(values[:, :3], values[:, 3:], axis=1, equal_var=True).statistic
    sq = _squeeze_var.squeeze_var(s2, np.full(n_genes, n - 2.0))
    assert sq["df_prior"] > 1000
    assert sq["var_prior"] == pytest.approx(0.3, rel=1e-3)
    np.testing.assert_allclose(out["t"], pooled, rtol=0.02)
    df_total = min(n - 2 + sq["df_prior"], n_genes * (n - 2.0))
    np.testing.assert_allclose(
        out["P.Value"], 2 * stats.t.sf(np.abs(out["t"]), df_total), rtol=1e-9
    )


def test_output_shape_order_and_direction() -> None:
    expr, groups = _toy()
    expr.iloc[0, :4] += 3.0  # resistant up
    out = moderated_t(expr, groups)
    assert list(out.columns) == ["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
    assert out["gene"].tolist() == expr.index.tolist()
    assert isinstance(out.index, pd.RangeIndex)
    assert out.loc[0, "logFC"] > 2.5 and out.loc[0, "t"] > 0
    np.testing.assert_allclose(out["AveExpr"], expr.mean(axis=1))
    np.testing.assert_allclose(out["adj.P.Val"], bh_fdr(out["P.Value"].to_numpy()))


def test_sample_order_and_extra_samples_do_not_matter() -> None:
    expr, groups = _toy()
    base = moderated_t(expr, groups)
    shuffled = expr[expr.columns[::-1]].assign(extra=1.0, other=2.0)
    labels = pd.concat([groups, pd.Series({"other": "control", "missing": "resistant"})])
    out = moderated_t(shuffled, labels.iloc[::-1])
    pd.testing.assert_frame_equal(out, base, check_exact=False, rtol=1e-12)


def test_missing_values() -> None:
    expr, groups = _toy()
    expr.iloc[1, 4:] = np.nan  # whole sensitive group missing
    expr.iloc[2, :] = np.nan  # nothing observed
    expr.iloc[3, [1, 2, 3, 5, 6, 7]] = np.nan  # one value per group: df.residual 0
    out = moderated_t(expr, groups)
    assert np.isnan(out.loc[1, ["logFC", "t", "P.Value", "adj.P.Val", "B"]].astype(float)).all()
    assert out.loc[1, "AveExpr"] == pytest.approx(expr.iloc[1, :4].mean())
    assert out.loc[2, NUMERIC].isna().all()
    # limma: df.residual 0 -> s2.post = s2.prior, finite statistics
    assert np.isfinite(out.loc[3, NUMERIC].astype(float)).all()
    assert out[NUMERIC].drop(index=[1, 2]).notna().all().all()
    # trend=True must not fail on the all-missing row (limma would stop on NaN AveExpr)
    trend = moderated_t(expr, groups, trend=True)
    assert trend.loc[2, NUMERIC].isna().all()


def test_blockwise_fit_is_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    expr, groups = _toy(n_genes=101)
    expr.iloc[::7, 3] = np.nan
    whole = moderated_t(expr, groups)
    monkeypatch.setattr(limma, "_BLOCK_CELLS", 40)  # 5 genes per block
    pd.testing.assert_frame_equal(moderated_t(expr, groups), whole)


@pytest.mark.parametrize(
    ("n_res", "n_sens", "name"), [(1, 4, "resistant"), (4, 1, "sensitive"), (4, 0, "sensitive")]
)
def test_too_few_samples_per_group(n_res: int, n_sens: int, name: str) -> None:
    expr, groups = _toy(n_res=n_res, n_sens=n_sens)
    with pytest.raises(ValueError, match=f"group '{name}'"):
        moderated_t(expr, groups)


def test_input_validation() -> None:
    expr, groups = _toy()
    with pytest.raises(LimmaInputError, match="duplicated sample columns"):
        moderated_t(expr.rename(columns={"s1": "s0"}), groups)
    with pytest.raises(ValueError, match="numeric"):
        moderated_t(expr.astype(object).assign(s0="high"), groups)
    bad = expr.copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        moderated_t(bad, groups)
    with pytest.raises(ValueError, match="zero rows"):
        moderated_t(expr.iloc[:0], groups)
    with pytest.raises(NotImplementedError, match="trend=True, robust=True"):
        moderated_t(expr, groups, trend=True, robust=True)


def test_trigamma_inverse_round_trip() -> None:
    x = np.array([1e-8, 1e-3, 0.1, 0.5, 1.0, 3.0, 100.0, 1e6, 1e8])
    y = trigamma_inverse(x)
    mid = (x >= 1e-6) & (x <= 1e7)
    np.testing.assert_allclose(special.polygamma(1, y[mid]), x[mid], rtol=1e-7)
    assert y[0] == pytest.approx(1e8) and y[-1] == pytest.approx(1e-4)
    assert np.isnan(trigamma_inverse(np.array([-1.0, np.nan]))).all()


def test_p_adjust_bh_like_r() -> None:
    # R: p.adjust(c(0.01, 0.04, NA, 0.03, 0.2), "BH") -> 0.04 0.0533.. NA 0.0533.. 0.2
    got = bh_fdr(np.array([0.01, 0.04, np.nan, 0.03, 0.2]))
    np.testing.assert_allclose(got, [0.04, 0.16 / 3, np.nan, 0.16 / 3, 0.2], rtol=1e-15)
    assert np.isnan(bh_fdr(np.array([np.nan, np.nan]))).all()


# ------------------------------------------------------------------ confint (issue 13 item 5)


@pytest.mark.parametrize(("variant", "robust"), [("", False), ("_robust", True)])
def test_confint_equals_toptable_confint(variant, robust):
    """CI.L/CI.R of topTable(confint = TRUE), from our logFC, t and P.Value alone (the df
    recovered from t and p), and from R's df.total directly."""
    ref = pd.read_csv(REF / f"limma_confint_gse15709{variant}.tsv", sep="\t").set_index("gene")
    expr, groups = load_case("gse15709")
    ours = limma.moderated_t(expr, groups, robust=robust).set_index("gene").loc[ref.index]
    low, high = limma.confint(ours["logFC"], ours["t"], p_value=ours["P.Value"])
    ok = np.isfinite(ref["CI.L"].to_numpy())
    np.testing.assert_allclose(low[ok], ref["CI.L"].to_numpy()[ok], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(high[ok], ref["CI.R"].to_numpy()[ok], rtol=1e-6, atol=1e-8)
    low2, high2 = limma.confint(ref["logFC"], ref["t"], df=ref["df.total"])
    np.testing.assert_allclose(low2[ok], ref["CI.L"].to_numpy()[ok], rtol=1e-10)
    np.testing.assert_allclose(high2[ok], ref["CI.R"].to_numpy()[ok], rtol=1e-10)


def test_df_from_t_and_p_round_trips():
    for df in (2.5, 10.123, 300.0):
        p = 2 * stats.t.sf(2.1, df)
        assert limma.df_from_t_and_p(2.1, p) == pytest.approx(df, rel=1e-8)
    assert np.isnan(limma.df_from_t_and_p(0.0, 1.0))
    assert limma.df_from_t_and_p(2.0, 2 * stats.norm.sf(2.0)) == np.inf or \
        limma.df_from_t_and_p(2.0, 2 * stats.norm.sf(2.0)) > 1e6
