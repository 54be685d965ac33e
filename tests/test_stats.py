"""Tests for igf1r_resistance.tl.stats against R reference values and hand-worked cases.

Reference values: tests/data/reference/stats_*.tsv, made by
``Rscript tests/reference/make_stats_fixtures.R`` (R 4.2.2, metafor 3.8-1).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from igf1r_resistance.tl import _spearman
from igf1r_resistance.tl import stats as st

REF = Path(__file__).parent / "data" / "reference"
TOL = 1e-6  # relative, or absolute where |reference| < 1


def _read(name: str) -> pd.DataFrame:
    # round_trip: the 17-digit values must parse to exactly R's doubles
    return pd.read_csv(REF / name, sep="\t", float_precision="round_trip")


def assert_close(actual, expected, what: str = "") -> None:
    """|actual - expected| <= TOL * max(1, |expected|); NaN must match NaN."""
    a = np.atleast_1d(np.asarray(actual, dtype=float))
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    assert a.shape == e.shape, what
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"NaN pattern {what}")
    ok = ~np.isnan(e)
    err = np.abs(a[ok] - e[ok]) / np.maximum(1.0, np.abs(e[ok]))
    assert (err <= TOL).all(), f"{what}: got {a}, R gives {e} (max scaled error {err.max():.3g})"


# ------------------------------------------------------------------ R fixtures

GROUP_DATA = _read("stats_groups_data.tsv")
GROUPS = _read("stats_groups.tsv")
SMD_SUMMARY = _read("stats_smd_summary.tsv")
META = _read("stats_meta.tsv")
META_STUDIES = _read("stats_meta_studies.tsv")
PADJUST = _read("stats_padjust.tsv")
SPEARMAN = _read("stats_spearman.tsv")
SPEARMAN_DATA = _read("stats_spearman_data.tsv")


def _groups(case: str) -> tuple[np.ndarray, np.ndarray]:
    d = GROUP_DATA[GROUP_DATA["case"] == case]
    return (
        d.loc[d["group"] == "resistant", "value"].to_numpy(),
        d.loc[d["group"] == "sensitive", "value"].to_numpy(),
    )


@pytest.mark.parametrize("case", GROUPS["case"].tolist())
def test_compare_groups_matches_r_ttest_and_escalc(case: str) -> None:
    ref = GROUPS.set_index("case").loc[case]
    res = st.compare_groups(*_groups(case))
    assert (res.n_resistant, res.n_sensitive) == (ref["n1"], ref["n2"])
    pairs = {
        "mean_diff": "mean_diff",
        "welch_t": "welch_t",
        "welch_df": "welch_df",
        "welch_p": "welch_p",
        "diff_ci_low": "ci_low",
        "diff_ci_high": "ci_high",
        "hedges_g": "yi",
        "g_variance": "vi",
    }
    for ours, theirs in pairs.items():
        assert_close(getattr(res, ours), ref[theirs], f"{case} {ours}")
    half = 1.959963984540054 * math.sqrt(ref["vi"])
    assert_close([res.g_ci_low, res.g_ci_high], [ref["yi"] - half, ref["yi"] + half], case)


@pytest.mark.parametrize("case", SMD_SUMMARY["case"].tolist())
def test_smd_from_summary_matches_escalc(case: str) -> None:
    r = SMD_SUMMARY.set_index("case").loc[case]
    g, v = st.smd_from_summary(r["m1"], r["m2"], r["sd1"], r["sd2"], int(r["n1"]), int(r["n2"]))
    assert_close([g, v], [r["yi"], r["vi"]], case)


@pytest.mark.parametrize("case", META["case"].tolist())
def test_random_effects_dl_matches_metafor(case: str) -> None:
    ref = META.set_index("case").loc[case]
    studies = META_STUDIES[META_STUDIES["case"] == case]
    res = st.random_effects_dl(studies["yi"].to_numpy(), studies["vi"].to_numpy())
    assert res.k == ref["k"]
    for field in ["estimate", "se", "ci_low", "ci_high", "z", "p_value", "tau2", "i2", "q", "q_p"]:
        assert_close(getattr(res, field), ref[field], f"{case} {field}")
    assert_close(res.weights, studies["weight"].to_numpy(), f"{case} weights")


@pytest.mark.parametrize("case", PADJUST["case"].unique().tolist())
def test_bh_fdr_matches_p_adjust(case: str) -> None:
    d = PADJUST[PADJUST["case"] == case]
    assert_close(st.bh_fdr(d["p"].to_numpy()), d["bh"].to_numpy(), case)


@pytest.mark.parametrize("case", SPEARMAN["case"].tolist())
def test_spearman_matches_cor_test(case: str) -> None:
    ref = SPEARMAN.set_index("case").loc[case]
    d = SPEARMAN_DATA[SPEARMAN_DATA["case"] == case]
    rho, p = st.spearman(d["x"].to_numpy(), d["y"].to_numpy())
    assert_close([rho, p], [ref["rho"], ref["p_value"]], case)


# ------------------------------------------------------------------ permutation


def test_exact_permutation_fully_separated_3v3() -> None:
    p, exact = st.permutation_p(np.array([4.0, 5.0, 6.0]), np.array([1.0, 2.0, 3.0]))
    assert exact
    assert p == pytest.approx(2 / 20, abs=1e-15)  # observed labelling and its mirror
    res = st.compare_groups(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert res.permutation_exact and res.permutation_p == pytest.approx(0.1, abs=1e-15)


def test_exact_permutation_equals_brute_force_with_ties() -> None:
    r = np.array([1.0, 2.0, 2.0, 3.5])
    s = np.array([2.0, 1.0, 0.5, 3.5, 1.0])
    values = np.concatenate([r, s])
    obs = abs(r.mean() - s.mean())
    hits = 0
    combos = list(itertools.combinations(range(9), 4))
    for c in combos:
        mask = np.zeros(9, bool)
        mask[list(c)] = True
        hits += abs(values[mask].mean() - values[~mask].mean()) >= obs - 1e-9
    p, exact = st.permutation_p(r, s)
    assert exact and p == pytest.approx(hits / len(combos), abs=1e-15)


def test_monte_carlo_permutation_reproducible_and_close_to_exact() -> None:
    rng = np.random.default_rng(11)
    r = rng.normal(1.0, 1.0, 6)
    s = rng.normal(0.0, 1.0, 6)
    p_exact, exact = st.permutation_p(r, s)  # C(12, 6) = 924 relabellings
    assert exact
    b = 20_000
    p1, ex1 = st.permutation_p(r, s, max_exact=0, n_permutations=b, seed=3)
    p2, _ = st.permutation_p(r, s, max_exact=0, n_permutations=b, seed=3)
    p3, _ = st.permutation_p(r, s, max_exact=0, n_permutations=b, seed=4)
    assert not ex1
    assert p1 == p2
    assert p1 != p3
    se = math.sqrt(p_exact * (1 - p_exact) / b)
    assert abs(p1 - p_exact) <= 4 * se + 1 / b
    assert abs(p3 - p_exact) <= 4 * se + 1 / b


def test_monte_carlo_p_is_never_zero() -> None:
    r = np.arange(10.0, 20.0)
    s = np.arange(0.0, 10.0)
    p, exact = st.permutation_p(r, s, max_exact=100, n_permutations=99, seed=1)
    assert not exact and p == pytest.approx(1 / 100)


def test_permutation_tolerates_float_ties_at_large_offset() -> None:
    # mirror labelling has exactly |diff| = |observed| in exact arithmetic
    p, exact = st.permutation_p(1e6 + np.array([0.3, 0.4, 0.5]), 1e6 + np.array([0.0, 0.1, 0.2]))
    assert exact and p == pytest.approx(0.1, abs=1e-15)


# ------------------------------------------------------------------ edge cases


def test_nan_values_are_dropped() -> None:
    r = np.array([5.1, np.nan, 6.3, 5.9, 7.0])
    s = np.array([4.0, 4.4, np.nan, 3.1])
    with_nan = st.compare_groups(r, s)
    without = st.compare_groups(r[~np.isnan(r)], s[~np.isnan(s)])
    assert with_nan == without
    assert (with_nan.n_resistant, with_nan.n_sensitive) == (4, 3)


@pytest.mark.parametrize(
    ("resistant", "sensitive", "message"),
    [
        ([1.0], [1.0, 2.0], "resistant group has 1"),
        ([1.0, 2.0], [np.nan, 3.0], "sensitive group has 1"),
        ([1.0, np.inf], [1.0, 2.0], "infinite"),
    ],
)
def test_compare_groups_rejects_bad_groups(resistant, sensitive, message) -> None:
    with pytest.raises(ValueError, match=message):
        st.compare_groups(np.array(resistant), np.array(sensitive))
    with pytest.raises(ValueError, match=message):
        st.permutation_p(np.array(resistant), np.array(sensitive))


def test_both_groups_constant_gives_nan_effect_but_permutation_p() -> None:
    res = st.compare_groups(np.array([2.0, 2.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    assert res.mean_diff == 1.0
    for field in [
        "hedges_g",
        "g_variance",
        "g_ci_low",
        "g_ci_high",
        "welch_t",
        "welch_df",
        "welch_p",
        "diff_ci_low",
        "diff_ci_high",
    ]:
        assert math.isnan(getattr(res, field)), field
    assert res.permutation_exact and res.permutation_p == pytest.approx(0.1)


def test_one_constant_group_is_fine() -> None:
    ref = GROUPS.set_index("case").loc["onezero"]  # R fixture: resistant all 2
    res = st.compare_groups(*_groups("onezero"))
    assert math.isfinite(res.hedges_g) and math.isfinite(res.welch_p)
    assert_close(res.welch_df, ref["welch_df"])  # = n_sensitive - 1
    assert res.welch_df == pytest.approx(4.0)


def test_hedges_correction_exact_vs_approximation() -> None:
    for n1, n2 in [(3, 3), (5, 5), (10, 8), (50, 40)]:
        m = n1 + n2 - 2
        approx = 1 - 3 / (4 * (n1 + n2) - 9)
        assert st.hedges_correction(m) == pytest.approx(approx, rel=3e-3)
        assert st.hedges_correction(m) < approx
    assert st.hedges_correction(4) == pytest.approx(
        math.gamma(2) / (math.sqrt(2) * math.gamma(1.5)), rel=1e-14
    )
    assert math.isnan(st.hedges_correction(1))


def test_meta_k1_like_metafor() -> None:
    res = st.random_effects_dl(np.array([0.5]), np.array([0.1]))
    assert (res.k, res.tau2, res.i2, res.q, res.q_p) == (1, 0.0, 0.0, 0.0, 1.0)
    assert res.se == pytest.approx(math.sqrt(0.1))
    np.testing.assert_array_equal(res.weights, [100.0])


def test_meta_drops_nan_studies() -> None:
    ref = META.set_index("case").loc["k4"]
    d = META_STUDIES[META_STUDIES["case"] == "k4"]
    yi = np.append(d["yi"].to_numpy(), [np.nan, 0.4])
    vi = np.append(d["vi"].to_numpy(), [0.2, np.nan])
    res = st.random_effects_dl(yi, vi)
    assert res.k == 4
    assert_close(res.estimate, ref["estimate"])
    assert np.isnan(res.weights[-2:]).all()
    assert_close(res.weights[:4], d["weight"].to_numpy())


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2], [0.1, 0.0], "variances must be > 0"),
        ([0.1, 0.2], [0.1], "same length"),
        ([np.nan], [0.1], "no study"),
        ([np.inf, 0.1], [0.1, 0.1], "finite"),
    ],
)
def test_meta_rejects_bad_input(yi, vi, message) -> None:
    with pytest.raises(ValueError, match=message):
        st.random_effects_dl(np.array(yi), np.array(vi))


def test_bh_fdr_edge_cases() -> None:
    assert st.bh_fdr(np.array([])).shape == (0,)
    np.testing.assert_array_equal(st.bh_fdr(np.array([np.nan, 0.2])), [np.nan, 0.2])
    p = np.array([[0.01, 0.02], [0.03, np.nan]])
    out = st.bh_fdr(p)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out.ravel()[:3], [0.03, 0.03, 0.03])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        st.bh_fdr(np.array([0.5, 1.2]))


def test_spearman_exact_distribution_matches_enumeration() -> None:
    # independent check of the AS 89 exact branch: enumerate all 7! permutations
    n = 7
    base = np.arange(n)
    s_all = np.array([((base - np.array(p)) ** 2).sum() for p in itertools.permutations(base)])
    counts = _spearman._spearman_null_counts(n)
    np.testing.assert_array_equal(counts, np.bincount(s_all, minlength=counts.size))
    x = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6])
    y = np.array([2.7, 1.8, 2.8, 1.0, 8.0, 4.5, 0.9])
    rho, p = st.spearman(x, y)
    s_obs = ((sps.rankdata(x) - sps.rankdata(y)) ** 2).sum()
    assert rho == pytest.approx(1 - 6 * s_obs / (n**3 - n))
    assert p == pytest.approx(min(1.0, 2 * np.mean(s_all <= s_obs)), abs=1e-15)


def test_spearman_edge_cases() -> None:
    rho, p = st.spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert math.isnan(rho) and math.isnan(p)
    with pytest.raises(ValueError, match="same length"):
        st.spearman(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="complete pairs"):
        st.spearman(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, np.nan]))
    rho, p = st.spearman(np.array([1.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 5.0, 6.0]))
    assert rho == pytest.approx(1.0) and p == 0.0  # ties and |rho| = 1: t = inf


# ------------------------------------------------------------------ verdict


@pytest.mark.parametrize(
    ("effect", "fdr", "predicted", "expected"),
    [
        (0.8, 0.01, "up", "supported"),
        (0.8, 0.01, "positive", "supported"),
        (-0.8, 0.01, "up", "contradicted"),
        (-0.8, 0.01, "positive", "contradicted"),
        (0.8, 0.2, "up", "inconclusive"),
        (-0.8, 0.2, "up", "inconclusive"),
        (-0.8, 0.01, "down", "supported"),
        (-0.8, 0.01, "negative", "supported"),
        (0.8, 0.01, "down", "contradicted"),
        (0.8, 0.01, "negative", "contradicted"),
        (0.8, 0.06, "down", "inconclusive"),
        # two-sided predictions are "changed", never "supported" (issue 13 item 4)
        (0.8, 0.01, "changed", "changed"),
        (-0.8, 0.01, "changed", "changed"),
        (0.8, 0.3, "changed", "inconclusive"),
        (0.8, 0.05, "up", "inconclusive"),  # fdr must be strictly below alpha
        (0.0, 0.001, "up", "inconclusive"),
        (math.nan, 0.01, "up", "inconclusive"),
        (0.8, math.nan, "down", "inconclusive"),
        (math.nan, math.nan, "changed", "inconclusive"),
    ],
)
def test_verdict_truth_table(effect, fdr, predicted, expected) -> None:
    assert st.verdict(effect, fdr, predicted) == expected


def test_verdict_alpha_and_bad_direction() -> None:
    assert st.verdict(0.5, 0.08, "up", alpha=0.1) == "supported"
    assert st.verdict(0.5, 0.08, "up") == "inconclusive"
    with pytest.raises(ValueError, match="predicted direction"):
        st.verdict(0.5, 0.01, "increase")
    with pytest.raises(ValueError, match="alpha"):
        st.verdict(0.5, 0.01, "up", alpha=1.5)


def test_verdict_needs_competitive_significance_in_the_same_direction() -> None:
    # self-contained significant, competitive significant, same sign: decided
    assert st.verdict(0.5, 0.01, "up", competitive_fdr=0.01, competitive_sign=1) == "supported"
    assert st.verdict(-0.5, 0.01, "up", competitive_fdr=0.01, competitive_sign=-1) == "contradicted"
    # competitive not significant, or significant the other way, or missing: not decided
    assert st.verdict(0.5, 0.01, "up", competitive_fdr=0.2, competitive_sign=1) == "inconclusive"
    assert st.verdict(0.5, 0.01, "up", competitive_fdr=0.01, competitive_sign=-1) == "inconclusive"
    assert st.verdict(0.5, 0.01, "up", competitive_fdr=math.nan, competitive_sign=1) == "inconclusive"
    # not required (None): self-contained alone, as for genes and couplings
    assert st.verdict(0.5, 0.01, "up", competitive_fdr=None) == "supported"


def test_verdict_words_for_equivalence_measurability_and_roles() -> None:
    assert st.verdict(0.01, 0.9, "up", equivalence_p=0.01) == "no_change"
    assert st.verdict(0.01, 0.9, "up", equivalence_p=0.2) == "inconclusive"
    # a significant change is never "no_change", whatever the equivalence test says
    assert st.verdict(0.01, 0.001, "changed", equivalence_p=0.001) == "changed"
    assert st.verdict(0.5, 0.01, "up", measurable=False) == "not_measurable"
    assert st.verdict(0.5, 0.01, "up", testable=False) == "not_testable"
    assert st.verdict(0.5, 0.01, "up", role="context") == "context"
    assert set(st.VERDICTS) >= {"supported", "contradicted", "changed", "no_change", "inconclusive",
                                "not_measurable", "not_testable", "context"}


def test_tost_by_hand() -> None:
    """TOST p computed by hand: estimate 0.1, se 0.2, df 10, margin 0.5.

    t_low = (0.1 + 0.5) / 0.2 = 3, t_high = (0.1 - 0.5) / 0.2 = -2; p = max(P[T >= 3],
    P[T <= -2]) = P[T <= -2] on 10 df = 0.036694017385370 (R: pt(-2, 10)); the normal
    version (df = Inf) is pnorm(-2) = 0.022750131948179.
    """
    assert st.tost_p(0.1, 0.2, 10, 0.5) == pytest.approx(0.036694017385370, rel=1e-12)
    assert st.tost_p(0.1, 0.2, math.inf, 0.5) == pytest.approx(0.022750131948179, rel=1e-12)
    # symmetric: the sign of the estimate does not matter
    assert st.tost_p(-0.1, 0.2, 10, 0.5) == pytest.approx(0.036694017385370, rel=1e-12)
    # an estimate outside the margin cannot be equivalent
    assert st.tost_p(0.7, 0.2, 10, 0.5) > 0.5
    assert math.isnan(st.tost_p(0.1, 0.0, 10, 0.5)) and math.isnan(st.tost_p(0.1, 0.2, 10, 0.0))


def test_tost_equals_two_welch_t_tests_in_r() -> None:
    """Against R t.test(..., mu = -/+margin, alternative = "greater"/"less") (fixture)."""
    ref = pd.read_csv(REF / "stats_tost.tsv", sep="\t")
    for row in ref.itertuples():
        x = np.array([float(v) for v in row.x.split(",")])
        y = np.array([float(v) for v in row.y.split(",")])
        cmp = st.compare_groups(x, y)
        se = cmp.mean_diff / cmp.welch_t
        assert st.tost_p(cmp.mean_diff, se, cmp.welch_df, row.margin) == pytest.approx(row.tost_p, rel=1e-9)


# ------------------------------------------------------------------ calibration


def test_null_calibration_5v5() -> None:
    """Under the null, Welch and exact permutation p < 0.05 should occur ~5% of the time."""
    rng = np.random.default_rng(2024)
    n_sets = 200
    welch_hits = perm_hits = 0
    for _ in range(n_sets):
        values = rng.normal(0.0, 1.0, 10)
        labels = rng.permutation(10) < 5
        res = st.compare_groups(values[labels], values[~labels])
        assert res.permutation_exact  # C(10, 5) = 252
        welch_hits += res.welch_p < 0.05
        perm_hits += res.permutation_p < 0.05
    # expected 10 of 200 (SD ~3.1); the bounds allow sampling error
    assert 2 <= welch_hits <= 0.08 * n_sets
    assert 2 <= perm_hits <= 0.07 * n_sets


def test_permutation_counts_split_into_chunks_add_up_to_the_unsplit_count() -> None:
    rng = np.random.default_rng(11)
    pairs = [(rng.normal(0.3, 1, 15), rng.normal(0, 1, 15)) for _ in range(3)]
    pairs.append((rng.normal(0.5, 1, 9), rng.normal(0, 1, 10)))  # other sizes, own relabellings
    kw = {"max_exact": 1000, "n_permutations": 2500, "seed": 5}
    whole = st.permutation_counts(pairs, **kw)
    assert all(c.complete and not c.exact and c.n_total == 2500 for c in whole)
    for n_chunks in (2, 3, 4):  # 3 blocks of 1,000 / 1,000 / 500: 4 chunks leave one empty
        parts = [st.permutation_counts(pairs, chunk=k, n_chunks=n_chunks, **kw) for k in range(n_chunks)]
        for i, c in enumerate(whole):
            combined = st.PermutationCount.combine([p[i] for p in parts])
            assert combined == c
            assert combined.p == st.permutation_p(*pairs[i], **kw)[0]
    # pairs of the same sizes share relabellings: computing one alone gives the same count
    assert st.permutation_counts(pairs[1:2], **kw)[0] == whole[1]
    # an incomplete count has no p-value
    first = st.permutation_counts(pairs, chunk=0, n_chunks=3, **kw)[0]
    with pytest.raises(ValueError, match="needs them all"):
        _ = first.p


def test_exact_permutation_counts_split_into_chunks() -> None:
    r, s = np.array([2.0, 3.1, 4.2, 5.0, 1.0, 2.2]), np.array([1.5, 0.2, 2.9, 1.1, 0.7, 3.3])
    whole = st.permutation_counts([(r, s)])[0]  # C(12, 6) = 924 relabellings
    assert whole.exact and whole.units == 924
    parts = [st.permutation_counts([(r, s)], chunk=k, n_chunks=5)[0] for k in range(5)]
    assert [p.n_done for p in parts] == [184, 185, 185, 185, 185]
    assert st.PermutationCount.combine(parts) == whole
    with pytest.raises(ValueError, match="gap or overlap"):
        st.PermutationCount.combine([parts[0], parts[2]])
