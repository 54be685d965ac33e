"""The verdict rule of a hypothesis row (the one home of the verdict words) and the
equivalence test (TOST) that a ``no_change`` verdict rests on (docs/verdicts.md).

Part of :mod:`.stats` (which re-exports these names: callers use ``stats.verdict``).
"""

from __future__ import annotations

import math

from scipy import stats as sps

_PREDICTIONS = {"up": 1, "positive": 1, "down": -1, "negative": -1, "changed": 0}

#: Every verdict word of a hypothesis row (docs/verdicts.md).
VERDICTS = ("supported", "contradicted", "changed", "no_change", "inconclusive", "not_measurable",
            "not_testable", "context")


def tost_p(estimate: float, se: float, df: float, margin: float) -> float:
    """p value of the two one-sided tests (TOST; Schuirmann 1987, J Pharmacokinet Biopharm
    15:657-680) that the true effect lies inside (-margin, margin).

    With t_low = (estimate + margin) / se and t_high = (estimate - margin) / se, the two
    one-sided p values are P[T >= t_low] (H0: effect <= -margin) and P[T <= t_high]
    (H0: effect >= margin) for T ~ t(df) (normal when df is infinite); the TOST p is the
    larger one, so p < alpha exactly when the (1 - 2 alpha) CI lies inside the margins.
    Equal to R ``max(t.test(x, y, mu = -margin, alternative = "greater")$p.value,
    t.test(x, y, mu = margin, alternative = "less")$p.value)`` for a Welch comparison.
    NaN when an input is not finite, se <= 0 or margin <= 0.
    """
    if not all(math.isfinite(v) for v in (estimate, se, margin)) or se <= 0 or margin <= 0 or not df > 0:
        return math.nan
    t_low, t_high = (estimate + margin) / se, (estimate - margin) / se
    if math.isinf(df):
        return float(max(sps.norm.sf(t_low), sps.norm.cdf(t_high)))
    return float(max(sps.t.sf(t_low, df), sps.t.cdf(t_high, df)))


def verdict(
    effect: float,
    fdr: float,
    predicted: str,
    *,
    alpha: float = 0.05,
    competitive_fdr: float | None = None,
    competitive_sign: float | None = None,
    equivalence_p: float | None = None,
    measurable: bool = True,
    testable: bool = True,
    role: str = "primary",
) -> str:
    """The verdict word of one hypothesis row (the one home of the verdict rule).

    In order:

    * ``context`` for rows whose role is "context" (shown, never judged);
    * ``not_testable`` when not `testable` (too few genes, a group with < 3 samples);
    * ``not_measurable`` when not `measurable` (the gene, or every gene of the set, at
      the noise floor);
    * decided when ``fdr < alpha``, the effect is non-zero and -- when `competitive_fdr` is
      given (not None) -- the competitive test is significant too, ``competitive_fdr <
      alpha`` (the competitive p BH-adjusted within the same family as `fdr`), in the same
      direction (`competitive_sign`, the sign of the effect relative to the random gene
      sets, equals the effect's sign); a NaN `competitive_fdr` never decides. A decided row is ``changed`` for a two-sided prediction ("changed": never
      read as support of a direction), ``supported`` when the effect has the predicted
      sign ("up"/"positive" > 0, "down"/"negative" < 0), ``contradicted`` otherwise;
    * ``no_change`` when the equivalence test puts the effect inside its margin
      (``equivalence_p < alpha``, :func:`tost_p`);
    * ``inconclusive`` otherwise (including NaN effect or fdr).

    The null of a decided row is the intersection-union of "the score does not differ
    between the groups" (self-contained, BH-adjusted) and "the set moves no more than
    random gene sets of its size and expression" (competitive): both must be rejected, each
    with its false discovery rate controlled within the family.

    Raises:
        ValueError: unknown `predicted` or alpha outside (0, 1).
    """
    if predicted not in _PREDICTIONS:
        raise ValueError(
            f"predicted direction must be one of {sorted(_PREDICTIONS)}, got {predicted!r}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if role == "context":
        return "context"
    if not testable:
        return "not_testable"
    if not measurable:
        return "not_measurable"
    effect, fdr = float(effect), float(fdr)
    decided = not (math.isnan(effect) or math.isnan(fdr) or effect == 0) and fdr < alpha
    if decided and competitive_fdr is not None:
        cp = float(competitive_fdr)
        sign = float(competitive_sign) if competitive_sign is not None else math.nan
        decided = cp < alpha and not math.isnan(sign) and sign != 0 and (sign > 0) == (effect > 0)
    if decided:
        expected = _PREDICTIONS[predicted]
        if expected == 0:
            return "changed"
        return "supported" if (effect > 0) == (expected > 0) else "contradicted"
    if equivalence_p is not None and float(equivalence_p) < alpha:
        return "no_change"
    return "inconclusive"
