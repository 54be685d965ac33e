"""Competitive null of a set score: random gene sets matched in size and expression level.

A self-contained test asks "did this set's score change?"; in a resistant line against its
parent thousands of genes move, so almost any set's score changes. The competitive question
is "did this set move more than gene sets of the same size and expression level drawn at
random from the same data?" (Goeman & Buehlmann 2007, Bioinformatics 23:980-987, "Q1" vs
"Q2"; Wu & Smyth 2012 for camera's answer to the same question).

The per-sample scores whose group difference is a linear function of per-gene quantities
can be computed for any number of random sets from one matrix, without re-scoring:

* singscore (Foroutan et al. 2018): a set of ``k`` of the ``N`` ranked genes scores
  ``(mean rank - (k + 1) / 2) / (N - k) - 0.5`` per sample (ranks within the sample, ties
  at the minimum, as :func:`igf1r_resistance.tl.scoring.singscore`), so its mean difference
  between the groups is ``mean_{g in set}(d_g) / (N - k)`` with ``d_g`` the group
  difference of gene g's mean rank; a down part enters with the opposite sign;
* zscore (Lee et al. 2008): ``sum(z) / sqrt(k)``, so the difference is
  ``sqrt(k) * mean_{g in set}(dz_g)``.

For each set, `n_random` random sets are drawn (seeded; the stream depends on the seed and
the set's name only) from the pool of measured genes, each random gene from the same
average-expression bin (quantiles of the pool's mean log2 expression over the grouped
samples) as the set gene it replaces, without repeating a gene within a random set. The
empirical two-sided competitive p is ``min(1, 2 min(1 + #{E_b >= E}, 1 + #{E_b <= E}) /
(1 + B))`` (Phipson & Smyth 2010), the percentile ``100 (#{E_b < E} + #{E_b = E} / 2) / B``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

#: Scoring methods with a closed-form competitive null (the set's group difference is a mean
#: of per-gene quantities).
LINEAR_METHODS = ("singscore", "zscore")


#: rejection rounds before the rows still repeating a gene are drawn without replacement
MAX_REDRAWS = 50


@dataclass(frozen=True)
class CompetitiveResult:
    """One set's place among its random sets (see :func:`competitive_test`)."""

    effect: float  # the set's group difference computed from the per-gene quantities
    p_value: float  # two-sided empirical competitive p
    percentile: float  # 0-100: where the set's effect lies among the random sets'
    sign: int  # +1 above the random sets' median effect, -1 below, 0 on it
    n_random: int
    random_median: float


class CompetitiveNull:
    """Per-gene group differences and expression bins of one data set (one scoring method).

    Parameters:
        expression: genes x samples log2 matrix (the one the scores were computed from; genes
            with a missing value in any sample are dropped, as the scoring does).
        groups: sample -> "resistant" / "sensitive" (other labels ignored).
        method: a scoring method in :data:`LINEAR_METHODS`.
        pool: genes random sets are drawn from (default: every complete gene); e.g. only the
            measurable genes (``var["measurable"]``).
        n_bins: number of average-expression quantile bins.
        weights: instead of `groups`, sample -> weight of a linear statistic whose weights sum
            to 0 (e.g. :func:`igf1r_resistance.tl.panels.response_weights`: the adjusted slope
            of a response); the per-gene quantity is then ``per_gene @ weights``, so a set's
            effect is its score's slope, and the bins use the mean over the weighted samples.
    """

    def __init__(self, expression: pd.DataFrame, groups: pd.Series | None, method: str, *,
                 pool: pd.Index | None = None, n_bins: int = 10, weights: pd.Series | None = None) -> None:
        if method not in LINEAR_METHODS:
            raise ValueError(f"no competitive null for scoring method {method!r}; "
                             f"available for {', '.join(LINEAR_METHODS)}")
        values = expression.to_numpy(dtype=float)
        complete = np.isfinite(values).all(axis=1)
        genes = expression.index[complete]
        values = values[complete]
        cols = expression.columns
        if weights is not None:
            w = weights.reindex(cols).fillna(0.0).to_numpy(float)
            is_res = is_sen = cols.isin(weights.index)
        else:
            is_res = cols.isin(groups.index[groups == "resistant"])
            is_sen = cols.isin(groups.index[groups == "sensitive"])
            if is_res.sum() < 2 or is_sen.sum() < 2:
                raise ValueError("the competitive null needs at least 2 samples per group")
        if method == "singscore":
            per_gene = rankdata(values, method="min", axis=0)
        else:  # zscore: standardised over all samples, sd with n - 1 (GSVA's zscore)
            centred = values - values.mean(axis=1, keepdims=True)
            sd = np.sqrt((centred**2).sum(axis=1, keepdims=True) / (values.shape[1] - 1))
            with np.errstate(divide="ignore", invalid="ignore"):
                per_gene = np.where(sd > 0, centred / sd, 0.0)
        self.method = method
        self.n_ranked = len(genes)
        if weights is not None:
            self.diff = pd.Series(per_gene @ w, index=genes)
        else:
            self.diff = pd.Series(per_gene[:, is_res].mean(axis=1) - per_gene[:, is_sen].mean(axis=1), index=genes)
        ave = pd.Series(values[:, is_res | is_sen].mean(axis=1), index=genes)
        pool_genes = genes if pool is None else genes[genes.isin(pool)]
        if len(pool_genes) < 2 * n_bins:
            n_bins = max(1, len(pool_genes) // 2)
        qs = np.quantile(ave[pool_genes].to_numpy(), np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 \
            else np.array([])
        self.edges = qs
        self.ave = ave
        pool_bin = np.searchsorted(qs, ave[pool_genes].to_numpy(), side="right")
        self.position = pd.Series(np.arange(len(genes)), index=genes)
        self.bins = [self.position[pool_genes[pool_bin == b]].to_numpy() for b in range(len(qs) + 1)]

    def _scale(self, k: int) -> float:
        return 1.0 / (self.n_ranked - k) if self.method == "singscore" else float(np.sqrt(k))

    def set_effect(self, up: list[str], down: list[str] = ()) -> float:
        """The set's group difference from the per-gene quantities (equals the score's)."""
        effect = self._scale(len(up)) * float(self.diff[list(up)].mean())
        if len(down):
            effect -= self._scale(len(down)) * float(self.diff[list(down)].mean())
        return effect

    def _draw(self, genes: list[str], n_random: int, rng: np.random.Generator) -> np.ndarray:
        """n_random x len(genes) positions, each from its gene's bin, no repeat within a row."""
        bin_of = np.searchsorted(self.edges, self.ave[genes].to_numpy(), side="right")
        out = np.empty((n_random, len(genes)), dtype=np.intp)
        for b in np.unique(bin_of):
            cols = np.flatnonzero(bin_of == b)
            candidates = self.bins[b]
            if len(candidates) < len(cols):
                raise ValueError(f"expression bin {b} holds {len(candidates)} genes, fewer than the "
                                 f"set's {len(cols)} genes in it")
            pick = rng.integers(0, len(candidates), size=(n_random, len(cols)))
            for attempt in range(MAX_REDRAWS + 1):  # redraw the rows that repeat a gene
                if len(cols) < 2:
                    break
                srt = np.sort(pick, axis=1)
                bad = np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))
                if not len(bad):
                    break
                if attempt < MAX_REDRAWS:
                    pick[bad] = rng.integers(0, len(candidates), size=(len(bad), len(cols)))
                else:
                    # many of a bin's genes in one set (e.g. 106 of 428): a row without a repeat
                    # is too rare to wait for; the first k of a random order are a draw without
                    # replacement from the same (uniform) distribution
                    order = np.argsort(rng.random((len(bad), len(candidates))), axis=1)
                    pick[bad] = order[:, : len(cols)]
            out[:, cols] = candidates[pick]
        return out

    def random_effects(self, name: str, up: list[str], down: list[str] = (), *, n_random: int = 1000,
                       seed: int = 0) -> np.ndarray:
        """Group differences of `n_random` random sets matched to the set's parts (seeded by
        `seed` and the set's `name`, so a set's null does not depend on the other sets)."""
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        genes = list(up) + list(down)
        drawn = self._draw(genes, n_random, rng)
        d = self.diff.to_numpy()
        k_up = len(up)
        effects = self._scale(k_up) * d[drawn[:, :k_up]].mean(axis=1)
        if len(down):
            effects -= self._scale(len(down)) * d[drawn[:, k_up:]].mean(axis=1)
        return effects

    def test(self, name: str, up: list[str], down: list[str] = (), *, n_random: int = 1000,
             seed: int = 0) -> CompetitiveResult:
        """The set's effect against its random sets (:func:`competitive_p`)."""
        effect = self.set_effect(up, down)
        rand = self.random_effects(name, up, down, n_random=n_random, seed=seed)
        return competitive_p(effect, rand)


def competitive_p(effect: float, random_effects: np.ndarray) -> CompetitiveResult:
    """Two-sided empirical p and percentile of `effect` among `random_effects`.

    p = min(1, 2 min(1 + #{E_b >= E}, 1 + #{E_b <= E}) / (1 + B)) (Phipson & Smyth 2010:
    never 0, valid for a finite B); percentile = 100 (#{E_b < E} + #{E_b = E} / 2) / B.
    """
    rand = np.asarray(random_effects, dtype=float)
    n = rand.size
    tol = 1e-12 * max(1.0, float(np.max(np.abs(rand))) if n else 1.0)
    n_ge = int(np.count_nonzero(rand >= effect - tol))
    n_le = int(np.count_nonzero(rand <= effect + tol))
    n_eq = n_ge + n_le - n
    p = min(1.0, 2.0 * min(1 + n_ge, 1 + n_le) / (1 + n))
    pct = 100.0 * ((n - n_ge) + n_eq / 2.0) / n
    median = float(np.median(rand))
    sign = 0 if pct == 50.0 else (1 if pct > 50.0 else -1)
    return CompetitiveResult(effect=float(effect), p_value=float(p), percentile=float(pct), sign=sign,
                             n_random=n, random_median=median)
