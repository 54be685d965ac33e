"""Which samples are resistant or sensitive: a regex on one sample field, or numeric
fractions of a response field (e.g. IC50), recorded for the report."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import GroupingError

RESISTANT, SENSITIVE, EXCLUDED = "resistant", "sensitive", "excluded"
#: numeric groups: samples between the resistant and sensitive fractions (kept for the
#: continuous test, ignored by the group tests)
INTERMEDIATE = "intermediate"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# Short names users write in `groups.by`, mapped to the series-matrix field names.
FIELD_ALIASES = {
    "source_name": "source_name_ch1",
    "characteristics": "characteristics_ch1",
    "sample": "geo_accession",
    "gsm": "geo_accession",
    "organism": "organism_ch1",
}


def find_field(samples: pd.DataFrame, by: str) -> str | None:
    """The sample-table column that a config field name means, or None: the exact column, else
    a short name of :data:`FIELD_ALIASES` (source_name -> source_name_ch1, ...), else the column
    that equals it ignoring case. The one rule for `groups.by` and the terms of `design:`."""
    if by in samples.columns:
        return by
    alias = FIELD_ALIASES.get(by.lower())
    if alias and alias in samples.columns:
        return alias
    lowered = {c.lower(): c for c in samples.columns}
    return lowered.get(by.lower())


def resolve_field(samples: pd.DataFrame, by: str, dataset: str) -> str:
    """The sample-table column that `groups.by` names (exact, alias, or case-insensitive)."""
    field = find_field(samples, by)
    if field is not None:
        return field
    raise GroupingError(
        f"data set {dataset}: groups.by = {by!r} is not a sample field. Fields found: "
        + ", ".join(repr(c) for c in samples.columns if not c.startswith("contact_"))
    )


def assign_groups(samples: pd.DataFrame, rule: dict, dataset: str, min_per_group: int = 2) -> pd.Series:
    """Resistant / sensitive / excluded per sample from a regex rule on one field.

    `rule` = {by, resistant, sensitive}; patterns are case-insensitive regexes searched in
    the field. A sample matching both is an error (ambiguous rule); a sample matching
    neither is excluded. Each group needs `min_per_group` samples.
    """
    field = resolve_field(samples, rule["by"], dataset)
    values = samples[field].fillna("").astype(str)
    patterns = {}
    for group in (RESISTANT, SENSITIVE):
        try:
            patterns[group] = re.compile(str(rule[group]), re.IGNORECASE)
        except re.error as exc:
            raise GroupingError(
                f"data set {dataset}: groups.{group} = {rule[group]!r} is not a valid regex ({exc})"
            ) from None
    is_res = values.map(lambda v: bool(patterns[RESISTANT].search(v)))
    is_sen = values.map(lambda v: bool(patterns[SENSITIVE].search(v)))
    both = values.index[is_res & is_sen]
    if len(both):
        raise GroupingError(
            f"data set {dataset}: samples {', '.join(both[:5])} match both groups.resistant "
            f"({rule[RESISTANT]!r}) and groups.sensitive ({rule[SENSITIVE]!r}) in field {field!r} "
            f"(value {values[both[0]]!r}); make the patterns exclusive, e.g. anchor them with ^ and $"
        )
    seen = ", ".join(repr(v) for v in sorted(set(values))[:8])
    if not is_res.any() and not is_sen.any():
        raise GroupingError(
            f"data set {dataset}: neither groups.resistant ({rule[RESISTANT]!r}) nor groups.sensitive "
            f"({rule[SENSITIVE]!r}) matches any sample in field {field!r}; values there: {seen}"
        )
    for group, hits in ((RESISTANT, is_res), (SENSITIVE, is_sen)):
        if hits.sum() < min_per_group:
            raise GroupingError(
                f"data set {dataset}: groups.{group} ({rule[group]!r}) matches {int(hits.sum())} "
                f"sample(s) in field {field!r}, at least {min_per_group} are needed; values there: {seen}"
            )
    groups = pd.Series(EXCLUDED, index=samples.index, name="group")
    groups[is_res] = RESISTANT
    groups[is_sen] = SENSITIVE
    return groups


def parse_numbers(values: pd.Series) -> pd.Series:
    """The first number in each cell ('3.2 uM' -> 3.2, 'IC50: 1e-3' -> 0.001); NaN when there is none."""

    def first(v: object) -> float:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, (int, float, np.number)):
            return float(v)
        m = _NUMBER.search(str(v))
        return float(m.group(0)) if m else np.nan

    return values.map(first).astype(float)


def _fraction_count(fraction: float, n: int) -> int:
    """Samples in a fraction of n: round half up (0.33 of 9 -> 3, of 10 -> 3)."""
    return int(np.floor(fraction * n + 0.5))


def assign_numeric_groups(samples: pd.DataFrame, rule: dict, dataset: str,
                          min_per_group: int = 2) -> tuple[pd.Series, pd.Series, dict]:
    """Resistant / sensitive / intermediate / excluded from a numeric field (IC50, AUC, ...).

    `rule` = {by, numeric: true, resistant_fraction, sensitive_fraction, higher_is}. Of the
    n samples with a number in the field, the k = round(fraction * n) at the resistant end
    (the highest values when higher_is = resistant, the default) are resistant and the k at
    the other end sensitive; samples tied with the k-th value join its group, and a sample
    that would be in both is an error. The others are `intermediate`; samples without a
    number are `excluded`. Returns (groups, response, record) where response is the parsed
    number (NaN where missing) and record describes the cut-offs.
    """
    field = resolve_field(samples, rule["by"], dataset)
    response = parse_numbers(samples[field])
    response.name = "response"
    have = response.dropna()
    n = len(have)
    higher_is = rule.get("higher_is", RESISTANT)
    k_res = _fraction_count(float(rule["resistant_fraction"]), n)
    k_sen = _fraction_count(float(rule["sensitive_fraction"]), n)
    if n == 0:
        shown = ", ".join(repr(v) for v in samples[field].astype(str).unique()[:8])
        raise GroupingError(f"data set {dataset}: groups.by = {field!r} holds no number in any sample "
                            f"(numeric: true); values there: {shown}")
    for group, k, frac in ((RESISTANT, k_res, rule["resistant_fraction"]),
                           (SENSITIVE, k_sen, rule["sensitive_fraction"])):
        if k < min_per_group:
            raise GroupingError(
                f"data set {dataset}: groups.{group}_fraction = {frac} of the {n} samples with a number in "
                f"{field!r} is {k} sample(s); at least {min_per_group} are needed (raise the fraction)"
            )
    ordered = np.sort(have.to_numpy())
    if higher_is == RESISTANT:
        high_cut, low_cut = ordered[n - k_res], ordered[k_sen - 1]
        is_res, is_sen = response >= high_cut, response <= low_cut
    else:
        high_cut, low_cut = ordered[n - k_sen], ordered[k_res - 1]
        is_res, is_sen = response <= low_cut, response >= high_cut
    both = response.index[is_res & is_sen]
    if len(both):
        raise GroupingError(
            f"data set {dataset}: with resistant_fraction {rule['resistant_fraction']} and sensitive_fraction "
            f"{rule['sensitive_fraction']} of {n} samples the groups overlap (ties at {field} = "
            f"{response[both[0]]:g}, samples {', '.join(map(str, both[:5]))}); lower the fractions"
        )
    groups = pd.Series(EXCLUDED, index=samples.index, name="group")
    groups[response.notna()] = INTERMEDIATE
    groups[is_res] = RESISTANT
    groups[is_sen] = SENSITIVE
    res_cut = high_cut if higher_is == RESISTANT else low_cut
    sen_cut = low_cut if higher_is == RESISTANT else high_cut
    op_res, op_sen = (">=", "<=") if higher_is == RESISTANT else ("<=", ">=")
    record = {
        "group_rule": "numeric",
        "group_field": field,
        "response_field": field,
        "higher_is": higher_is,
        "resistant_fraction": float(rule["resistant_fraction"]),
        "sensitive_fraction": float(rule["sensitive_fraction"]),
        "resistant_cutoff": float(res_cut),
        "sensitive_cutoff": float(sen_cut),
        "n_with_response": int(n),
        "n_intermediate": int((groups == INTERMEDIATE).sum()),
        "group_resistant_regex": f"{field} {op_res} {res_cut:g} (top {rule['resistant_fraction']:g})",
        "group_sensitive_regex": f"{field} {op_sen} {sen_cut:g} (bottom {rule['sensitive_fraction']:g})",
    }
    return groups, response, record


@dataclass
class Grouping:
    """How the samples of a data set were split, for the outputs and the record."""

    groups: pd.Series  # per sample: resistant / sensitive / [intermediate] / excluded
    field: str
    response: pd.Series | None  # numeric response per sample (numeric groups only)
    record: dict  # group_rule, group_field, group_*_regex, cut-offs ...


def group_samples(samples: pd.DataFrame, rule: dict, dataset: str, min_per_group: int = 2) -> Grouping:
    """Split samples by the data set's `groups` rule: a regex on a field, or numeric fractions."""
    if rule.get("numeric"):
        groups, response, record = assign_numeric_groups(samples, rule, dataset, min_per_group)
        return Grouping(groups, record["group_field"], response, record)
    groups = assign_groups(samples, rule, dataset, min_per_group)
    field = resolve_field(samples, rule["by"], dataset)
    record = {
        "group_rule": "regex",
        "group_field": field,
        "group_resistant_regex": str(rule[RESISTANT]),
        "group_sensitive_regex": str(rule[SENSITIVE]),
    }
    return Grouping(groups, field, None, record)
