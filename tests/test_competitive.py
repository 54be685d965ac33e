"""Competitive null of a set score: random sets matched in size and expression (issue 13 item 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.tl.competitive import CompetitiveNull, competitive_p
from igf1r_resistance.tl.scoring import score_gene_sets


def data(seed: int = 3, n_genes: int = 400):
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n_genes)]
    samples = [f"R{i}" for i in range(4)] + [f"S{i}" for i in range(4)]
    base = rng.uniform(2, 14, n_genes)[:, None]
    x = base + rng.normal(0, 0.3, (n_genes, 8))
    x[:15, :4] += 1.5  # SET up in resistant
    expr = pd.DataFrame(x, index=genes, columns=samples)
    groups = pd.Series(["resistant"] * 4 + ["sensitive"] * 4, index=samples)
    return expr, groups


def test_competitive_p_and_percentile_by_hand():
    rand = np.array([1.0, 2.0, 3.0, 4.0])
    # >= 3: 2 sets, <= 3: 3 sets -> p = min(1, 2 * (1 + 2) / 5); percentile 100 (2 + 0.5) / 4
    r = competitive_p(3.0, rand)
    assert r.p_value == 1.0 and r.percentile == pytest.approx(62.5) and r.sign == 1
    rand8 = np.arange(1.0, 9.0)  # 7.5 among 1..8: >= 1 set -> p = 2 * 2 / 9
    assert competitive_p(7.5, rand8).p_value == pytest.approx(4 / 9)
    r = competitive_p(10.0, rand)  # above all: p = 2 * 1 / 5
    assert r.p_value == pytest.approx(0.4) and r.percentile == 100 and r.sign == 1
    r = competitive_p(-1.0, rand)
    assert r.percentile == 0 and r.sign == -1
    assert competitive_p(2.5, rand).sign == 0  # on the median
    assert competitive_p(0.0, np.zeros(3)).p_value == 1.0


@pytest.mark.parametrize("method", ["singscore", "zscore"])
def test_set_effect_equals_the_score_difference(method):
    """The closed form from per-gene differences equals the scores' mean difference, also for
    an up/down set and with a gene missing in one sample (dropped, as scoring does)."""
    expr, groups = data()
    expr.iloc[200, 1] = np.nan
    sets = [GeneSet("SET", tuple(expr.index[:15])),
            GeneSet("UD", tuple(expr.index[15:30]), tuple(expr.index[30:40]))]
    wide = score_gene_sets(expr, sets, [method], min_size=5).pivot(index="gene_set", columns="sample",
                                                                   values="score")
    null = CompetitiveNull(expr, groups, method)
    for s in sets:
        observed = wide.loc[s.name, groups.index[groups == "resistant"]].mean() - \
            wide.loc[s.name, groups.index[groups == "sensitive"]].mean()
        assert null.set_effect(list(s.up), list(s.down)) == pytest.approx(observed, rel=1e-12, abs=1e-14)


def test_random_sets_are_matched_seeded_and_without_repeats():
    expr, groups = data()
    null = CompetitiveNull(expr, groups, "singscore", n_bins=5)
    genes = list(expr.index[:15])
    rng = np.random.default_rng(0)
    drawn = null._draw(genes, 300, rng)
    # no gene twice in a random set
    assert all(len(set(row)) == len(row) for row in drawn)
    # every random gene is in the expression bin of the gene it replaces
    bins_of = np.searchsorted(null.edges, null.ave.to_numpy(), side="right")
    want = np.searchsorted(null.edges, null.ave[genes].to_numpy(), side="right")
    assert (bins_of[drawn] == want[None, :]).all()
    a = null.random_effects("SET", genes, n_random=200, seed=1)
    b = null.random_effects("SET", genes, n_random=200, seed=1)
    c = null.random_effects("SET", genes, n_random=200, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_planted_set_is_extreme_and_random_sets_are_uniform():
    expr, groups = data()
    null = CompetitiveNull(expr, groups, "singscore")
    hit = null.test("SET", list(expr.index[:15]), n_random=999)
    assert hit.p_value == pytest.approx(2 / 1000) and hit.percentile == 100
    # sets of unshifted genes: competitive p roughly uniform (at most ~5% below 0.05)
    rng = np.random.default_rng(9)
    ps = [null.test(f"R{i}", list(rng.choice(expr.index[15:], 10, replace=False)), n_random=200).p_value
          for i in range(200)]
    assert np.mean(np.array(ps) < 0.05) <= 0.08


def test_pool_restricts_the_random_genes():
    expr, groups = data()
    pool = expr.index[100:]
    null = CompetitiveNull(expr, groups, "singscore", pool=pool, n_bins=2)
    drawn = null._draw(list(expr.index[100:110]), 50, np.random.default_rng(0))
    assert set(null.diff.index[drawn.ravel()]) <= set(pool)
    with pytest.raises(ValueError, match="no competitive null"):
        CompetitiveNull(expr, groups, "gsva")


def test_a_set_filling_most_of_its_bin_is_drawn_without_repeats():
    """106 of a bin's 130 genes in one set (as HALLMARK EMT in the NCI-60 panel's top bin): a
    row without a repeat by rejection alone has probability ~1e-40; the draw must still end,
    without repeats, from the bin."""
    expr, groups = data(n_genes=260)
    null = CompetitiveNull(expr, groups, "singscore", n_bins=2)
    top = null.bins[1]
    genes = list(null.position.index[top[:106]])
    drawn = null._draw(genes, 300, np.random.default_rng(0))
    assert drawn.shape == (300, 106)
    assert all(len(set(row)) == 106 for row in drawn)
    assert set(drawn.ravel()) <= set(top)
    assert len(set(drawn.ravel())) == len(top)  # every gene of the bin gets drawn


@pytest.mark.parametrize("method", ["singscore", "zscore"])
def test_null_on_a_response_slope_equals_the_scores_slope(method):
    """A response model: the null's per-gene quantity is the adjusted slope (panels.response_weights),
    so a set's effect equals the least-squares slope of its score on ~ tissue + response
    (panels.score_associations), and a set planted on the response lies above its random sets."""
    from igf1r_resistance.tl.panels import response_weights, score_associations

    rng = np.random.default_rng(7)
    n_genes, n_lines = 300, 24
    genes = [f"G{i}" for i in range(n_genes)]
    lines = [f"L{i}" for i in range(n_lines)]
    tissue = np.repeat(["a", "b", "c"], 8)
    auc = rng.normal(0, 1, n_lines) + (tissue == "c") * 2
    x = rng.uniform(2, 14, n_genes)[:, None] + rng.normal(0, 0.3, (n_genes, n_lines))
    x[:12] += 0.6 * auc  # SET follows the response
    expr = pd.DataFrame(x, index=genes, columns=lines)
    samples = pd.DataFrame({"tissue": tissue, "auc": auc}, index=lines)
    sets = [GeneSet("SET", tuple(genes[:12]), (), "test"), GeneSet("RANDOM", tuple(genes[100:112]), (), "test")]
    scores = score_gene_sets(expr, sets, [method], min_size=1)
    fits = score_associations(scores, samples, "auc", ["tissue"], n_permutations=99).set_index("gene_set")
    weights = response_weights(samples, "auc", ["tissue"])
    assert weights.sum() == pytest.approx(0, abs=1e-12)
    null = CompetitiveNull(expr, None, method, weights=weights, n_bins=5)
    for name, s in (("SET", sets[0]), ("RANDOM", sets[1])):
        assert null.set_effect(list(s.up)) == pytest.approx(fits.loc[name, "slope"], rel=1e-9, abs=1e-12)
    res = null.test("SET", list(sets[0].up), n_random=500, seed=1)
    assert res.p_value < 0.01 and res.sign == 1
