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
