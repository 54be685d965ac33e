"""The report's first screen in words: one bottom-line sentence per hypothesis over all models.

Each sentence says where the prediction holds (verdict `supported`, or `changed` for a
two-sided prediction), then describes every model by its estimate and 95% CI: genes as log2
change with fold change, gene sets as Hedges' g (standardised effect) with the set's
percentile among random gene sets (contract 1; "not available" when the run has no random
sets), couplings as Spearman rho. Models without a test are named with their verdict word.
Plain text: the template escapes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tables import (
    NOT_AVAILABLE,
    DatasetTables,
    Model,
    control_passed,
    controls_status,
    isnan,
    num,
    primary_rows,
)
from .views import anchor

# A gene whose 95% CI stays below this fold change "rules out a rise" of that size.
MEANINGFUL_FOLD = 1.2
CLAIMS = {"up": ("higher", "lower"), "down": ("lower", "higher"), "changed": ("changed", "changed"),
          "positive": ("positively correlated", "negatively correlated"),
          "negative": ("negatively correlated", "positively correlated")}
UNTESTED = ("not_testable", "not_measurable", "context")


@dataclass(frozen=True)
class Sentence:
    hypothesis: str
    text: str


@dataclass(frozen=True)
class Family:
    name: str
    sentences: list[Sentence]


def signed(x: float, digits: int = 2) -> str:
    """+0.85 / -1.00 (a minus sign, not a hyphen, would not survive copying into R)."""
    return "NA" if math.isnan(x) else f"{x:+.{digits}f}"


def subject(h: dict) -> str:
    """What the sentence is about, e.g. 'IGF1R mRNA' or 'the ABC_TRANSPORTERS set'."""
    test = str(h.get("test", "group"))
    if test == "gene":
        return f"{h.get('gene')} mRNA"
    if test == "coupling":
        return f"the {h.get('gene_set')} and {h.get('with_set')} scores"
    readout = str(h.get("readout") or "")
    if test == "footprint" and readout.startswith("progeny:"):
        return f"PROGENy {readout.split(':', 1)[1]} pathway activity"
    return f"the {h.get('gene_set')} set"


def evidence(row: pd.Series, test: str, percentile: bool = True) -> str:
    """The numbers of one model: estimate, 95% CI and what a biologist reads beside them
    (`percentile`: say the random-set percentile, or that it is not available)."""
    if test == "gene":
        est, lo, hi = num(row["effect"]), num(row["ci_low"]), num(row["ci_high"])
        fold = f"{2 ** est:.2f}-fold" if not math.isnan(est) else "fold change NA"
        return f"{signed(est)} log2, 95% CI {signed(lo)} to {signed(hi)}, {fold}"
    if test == "coupling":
        return f"rho {signed(num(row['effect']))}, 95% CI {signed(num(row['ci_low']))} to {signed(num(row['ci_high']))}"
    if test == "footprint":  # ulm score on limma's t (no CI); Hedges' g of the per-sample scores
        return (f"footprint score {signed(num(row['effect']))} on the contrast, per-sample g "
                f"{signed(num(row.get('hedges_g')))}")
    pct = num(row.get("random_percentile"))
    pct_text = f"random-set percentile {pct:.0f}" if not math.isnan(pct) else f"random-set percentile {NOT_AVAILABLE}"
    return (f"g {signed(num(row['hedges_g']))}, 95% CI {signed(num(row['g_ci_low']))} to "
            f"{signed(num(row['g_ci_high']))}" + (f", {pct_text}" if percentile else ""))


def side(row: pd.Series, test: str) -> int:
    """+1 / -1 when the 95% CI lies wholly above / below 0, else 0."""
    lo, hi = (num(row["ci_low"]), num(row["ci_high"])) if test in ("gene", "coupling") else (
        num(row.get("g_ci_low")), num(row.get("g_ci_high")))
    if not math.isnan(lo) and lo > 0:
        return 1
    if not math.isnan(hi) and hi < 0:
        return -1
    return 0


def model_key(row: pd.Series) -> str:
    """The model id of a hypotheses row (`model`, else its data set: older tables)."""
    m = row.get("model")
    return str(row["dataset"]) if isnan(m) or str(m) == "" else str(m)


def _by_word(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for word, item in pairs:
        out.setdefault(word, []).append(item)
    return out


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def bottom_line(h: dict, rows: pd.DataFrame, models: dict[str, Model]) -> str:
    """One sentence for one hypothesis over every model (rows: its primary rows, one per data set)."""
    test = str(h.get("test", "group"))
    predicted = str(h.get("predicted", "up"))
    claim, opposite = CLAIMS.get(predicted, (predicted, f"not {predicted}"))
    two_sided = predicted == "changed"
    by_ds = {model_key(r): r for _, r in rows.iterrows()}
    # a run without random gene sets says so once (first screen), not in every model's numbers
    percentile = "random_percentile" in rows.columns and rows["random_percentile"].notna().any()
    holds, nominal, against, unclear = [], [], [], []
    untested: dict[str, list[str]] = {}
    n_tested = 0
    for d, m in models.items():
        r = by_ds.get(d)
        if r is None:  # the hypothesis does not apply to this model (e.g. another drug class)
            continue
        verdict = "not_testable" if isnan(r.get("verdict")) else str(r["verdict"])
        if verdict in UNTESTED:
            untested.setdefault(verdict.replace("_", " "), []).append(m.label)
            continue
        n_tested += 1
        s = side(r, test)
        item = f"{m.label} ({evidence(r, test, percentile)})"
        word = (CLAIMS["up"][0] if s > 0 else CLAIMS["up"][1]) if test != "coupling" else \
            (CLAIMS["positive"][0] if s > 0 else CLAIMS["positive"][1])
        predicted_side = {"up": 1, "positive": 1, "down": -1, "negative": -1}.get(predicted, 0)
        if verdict == ("changed" if two_sided else "supported"):
            holds.append((word if two_sided and s else claim, item))
        elif verdict == "contradicted" or (s and not two_sided and s == -predicted_side):
            against.append(item)
        elif s:  # the CI excludes 0 but the FDR-adjusted test does not pass
            nominal.append((word, item))
        else:
            extra = ""
            if test == "gene" and predicted == "up" and num(r["ci_high"]) < math.log2(MEANINGFUL_FOLD):
                extra = f"; the CI rules out a rise above {MEANINGFUL_FOLD}-fold"
            elif test == "gene" and predicted == "down" and num(r["ci_low"]) > -math.log2(MEANINGFUL_FOLD):
                extra = f"; the CI rules out a fall below 1/{MEANINGFUL_FOLD}-fold"
            unclear.append(f"{item[:-1]}{extra})")
    name = subject(h)
    name = name[0].upper() + name[1:]
    verb = "are" if test == "coupling" else "is"
    if holds:
        head = f"{name} {verb} {claim} in {len(holds)} of {n_tested} tested models"
    elif n_tested:
        head = f"{name} {verb} not {claim} in any model" + (" at the FDR threshold" if two_sided else "")
    else:
        head = f"{name} could not be tested in any model"
    parts = [f"{word} in {_join(items)}" for word, items in _by_word(holds).items()]
    if against:
        parts.append(f"{opposite} in {_join(against)}")
    parts += [f"{word} by the 95% CI but short of the FDR threshold in {_join(items)}"
              for word, items in _by_word(nominal).items()]
    if unclear:
        parts.append(f"no clear change in {_join(unclear)}")
    parts += [f"{word} in {_join(labels)}" for word, labels in untested.items()]
    return head + (": " + "; ".join(parts) if parts else "") + "."


def family_of(h: dict, catalogue: dict) -> str:
    """The hypothesis family: the catalogue's `family`, else the gene set the hypothesis is about
    (a single gene belongs to the first catalogue set that lists it)."""
    if h.get("family"):
        return str(h["family"])
    if h.get("gene_set"):
        return str(h["gene_set"])
    gene = str(h.get("gene"))
    for name, spec in (catalogue.get("gene_sets") or {}).items():
        if gene in list(spec.get("up", [])) + list(spec.get("down", [])):
            return str(name)
    return gene


def first_screen(hinfo: dict[str, dict], hyps: pd.DataFrame, models: dict[str, Model],
                 catalogue: dict) -> list[Family]:
    """Bottom-line sentences over the resistance models, grouped by family, in catalogue order;
    context rows carry no sentence; regulator comparisons have their own sentences
    (`regulator_sentences`) and are left out here."""
    models = {k: m for k, m in models.items() if not m.regulator}
    prim = primary_rows(hyps)
    prim = prim[prim.apply(model_key, axis=1).isin(list(models))] if len(prim) else prim
    families: dict[str, list[Sentence]] = {}
    for hid, h in hinfo.items():
        rows = prim[prim["hypothesis"] == hid]
        roles = set(rows["role"].astype(str)) if "role" in rows.columns else set()
        if h.get("role") == "context" or (roles and roles <= {"context"}) or h.get("test") == "claim":
            continue  # context rows and claims that cell-line mRNA cannot test carry no sentence
        if rows.empty:  # applies only to regulator comparisons
            continue
        families.setdefault(family_of(h, catalogue), []).append(Sentence(hid, bottom_line(h, rows, models)))
    return [Family(name, s) for name, s in families.items()]


# --------------------------------------------------------------------------- regulator comparisons

DIRECTION_WORDS = {"up": "higher", "down": "lower"}


def unit(model: Model) -> str:
    """What the samples are, for sentences: 'lines' in cell-line panels, else 'samples'."""
    text = f"{model.description} {model.label}"
    return "lines" if re.search(r"\bline|panel|NCI-?60|CCLE|GDSC", text, flags=re.I) else "samples"


def _fmt_p(x: float) -> str:
    return "NA" if math.isnan(x) else (f"{x:.1e}" if x < 0.001 else f"{x:.3f}")


def _control_numbers(r: pd.Series) -> str:
    observed = str(r.get("observed", ""))
    if observed == "not_measured":
        return f"{r['gene']} not measured"
    note = ", below the noise floor" if observed == "not_measurable" else ""
    return (f"{r['gene']} {signed(num(r.get('logFC')))} log2 (95% CI {signed(num(r.get('ci_low')))} to "
            f"{signed(num(r.get('ci_high')))}, adj.P {_fmt_p(num(r.get('adj_p_value')))}{note})")


def control_sentence(model: Model, controls: pd.DataFrame | None, fdr: float) -> str:
    """The comparison's own positive control in words with numbers, e.g. 'Control of P53_NCI60
    mutant_vs_wild_type (TP53_status): CDKN1A, MDM2, BAX and DDB2, expected lower in TP53-mutant
    than in TP53-wild type lines: 4 of 4 lower, 95% CI excluding 0 for 4, 0 of 4 at adj.P < 0.05
    (CDKN1A -1.47 log2 (95% CI ..., adj.P 0.209); ...); status inconclusive.' The direction count,
    the CI count and the genome-wide FDR count are all given: a control can be right in direction
    and rank yet short of a genome-wide threshold. A failed control is said first."""
    who = f"{model.test_group} than in {model.reference_group} {unit(model)}"
    status = controls_status(controls)
    if controls is None:
        return f"Controls of {model.label}: not available in this run."
    if controls.empty:
        return f"Controls of {model.label}: none known, so nothing shows that this comparison detects its regulator."
    passed = control_passed(controls)
    parts = []
    for expected, sub in controls.groupby(controls["expected"].astype(str), sort=False):
        word = DIRECTION_WORDS.get(expected, expected)
        sign = {"up": 1, "down": -1}.get(expected, 0)
        est = sub["logFC"].map(num)
        lo, hi = sub["ci_low"].map(num), sub["ci_high"].map(num)
        n_dir = int((np.sign(est) == sign).sum())
        n_ci = int(((lo > 0) if sign > 0 else (hi < 0)).sum())
        n_pass = int(passed.loc[sub.index].fillna(False).sum())
        parts.append(f"{_join([str(g) for g in sub['gene']])}, expected {word} in {who}: {n_dir} of {len(sub)} "
                     f"{word}, 95% CI excluding 0 for {n_ci}, {n_pass} of {len(sub)} at adj.P < {fdr:g} "
                     f"({'; '.join(_control_numbers(r) for _, r in sub.iterrows())})")
    head = "The control FAILED" if status == "failed" else "Control"
    return f"{head} of {model.label} ({model.comparison}): " + "; ".join(parts) + f"; status {status}."


def regulation_sentence(h: dict, row: pd.Series, model: Model) -> str:
    """A regulation claim in one model, e.g. 'IGF1R mRNA is lower in TP53-mutant than in TP53-wild
    type lines, against the claim (-0.20 log2, ...; FDR 0.041): contradicted.' Rows without a
    verdict word (not measurable, context) still give their numbers."""
    test = str(h.get("test", "group"))
    predicted = str(h.get("predicted", "up"))
    claim, opposite = CLAIMS.get(predicted, (predicted, f"not {predicted}"))
    verdict = "not_testable" if isnan(row.get("verdict")) else str(row["verdict"])
    name = subject(h)
    name = name[0].upper() + name[1:]
    verb = "are" if test == "coupling" else "is"
    who = f"{model.test_group} than in {model.reference_group} {unit(model)}"
    has_numbers = not math.isnan(num(row.get("hedges_g" if test in ("group",) else "effect")))
    numbers = f"{evidence(row, test)}; FDR {_fmt_p(num(row.get('fdr')))}" if has_numbers else ""
    if verdict == "not_testable" or (verdict == "not_measurable" and not has_numbers):
        return f"{name} {verb} {verdict.replace('_', ' ')} in {model.label}."
    s = side(row, test)
    word = (CLAIMS["up"] if test != "coupling" else CLAIMS["positive"])[0 if s > 0 else 1]
    if verdict == "not_measurable":
        return (f"{name} {verb} below the platform's noise floor in {model.label}, so not measurable "
                f"(observed {evidence(row, test)}).")
    if verdict == "context":
        finding = (f"{verb} {word} in {who}" if s else
                   f"shows no clear difference between {model.test_group} and {model.reference_group} {unit(model)}")
        return f"{name} {finding} ({numbers}): a context row, no verdict."
    if verdict == "supported" or (verdict == "changed" and s):
        finding = f"{verb} {word if predicted == 'changed' else claim} in {who}"
    elif verdict == "contradicted" or (s and s == -{"up": 1, "positive": 1, "down": -1, "negative": -1}.get(predicted, 0)):
        finding = f"{verb} {opposite} in {who}, against the claim"
    elif s:
        finding = f"{verb} {word} in {who} by the 95% CI but short of the FDR threshold"
    else:
        finding = f"shows no clear difference between {model.test_group} and {model.reference_group} {unit(model)}"
    # the finding, not the catalogue statement: a statement shared with resistance models speaks of
    # resistant cells, and this comparison tests whether the regulator moves the readout
    return f"{name} {finding} ({numbers}): {verdict.replace('_', ' ')}."


@dataclass(frozen=True)
class Regulator:
    """The words of one regulator comparison (one model) for the first screen."""

    model: Model
    anchor: str
    control: str
    sentences: list[Sentence]


def regulator_sentences(hinfo: dict[str, dict], hyps: pd.DataFrame, models: dict[str, Model],
                        tables: dict[str, DatasetTables], fdr: float) -> list[Regulator]:
    """Per regulator-comparison model: its control in words, then each hypothesis of its
    comparison (rows of that model) as a regulation claim with numbers."""
    prim = primary_rows(hyps)
    out = []
    for key, model in models.items():
        if not model.regulator:
            continue
        rows = prim[prim.apply(model_key, axis=1) == key] if len(prim) else prim
        sentences = []
        for hid, h in hinfo.items():
            sub = rows[rows["hypothesis"] == hid]
            if sub.empty or h.get("test") == "claim":
                continue  # context rows stay: in a regulator comparison they are its own checks
            sentences.append(Sentence(hid, regulation_sentence(h, sub.iloc[0], model)))
        t = tables.get(key)
        out.append(Regulator(model, anchor("reg", key),
                             control_sentence(model, t.controls if t is not None else None, fdr), sentences))
    return out
