"""Pathway activity from response footprints: PROGENy weights scored with decoupleR's ulm.

Kinase mRNAs do not track pathway flux; the genes a pathway switches on and off do
(Schubert M et al. Perturbation-response genes reveal signaling footprints in cancer gene
expression. Nat Commun 2018;9:20). The PROGENy human model (14 pathways, top 500 genes each,
workflow/resources/progeny_human_top500.tsv.gz, extracted by make_progeny_model.R from
Bioconductor progeny 1.20, Apache-2.0) is scored with the univariate linear model of
decoupleR (Badia-i-Mompel P et al. decoupleR: ensemble of computational methods to infer
biological activities from omics data. Bioinform Adv 2022;2:vbac016):

* on the contrast: ulm on limma's moderated t of every gene (one "condition"): the score is
  the t value of the slope of t ~ weight; its p asks whether the pathway's footprint genes
  move with their weights more than the other genes do (a competitive question);
* per sample: ulm on each sample's expression column, then resistant and sensitive
  samples' scores compared with the Welch test (the self-contained side).

Both equal R decoupleR 2.4 ``run_ulm(mat, net, .source, .target, .mor, minsize = 5)``
(tests/reference/make_ulm_fixtures.R).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from . import stats

#: decoupleR's default: a source needs at least this many targets among the measured genes
MIN_TARGETS = 5
FOOTPRINT_COLUMNS = [
    "pathway", "n_targets", "n_model", "score", "p_value", "mean_resistant", "mean_sensitive",
    "sample_difference", "welch_t", "welch_df", "welch_p", "hedges_g", "g_variance", "g_ci_low", "g_ci_high",
    "n_resistant", "n_sensitive", "note",
]


@functools.lru_cache(maxsize=2)
def load_progeny(path: str, symbols: str | None = None) -> pd.DataFrame:
    """The PROGENy model as a network `source, target, weight` (one row per pathway-gene weight).

    With `symbols` (the HGNC table of workflow/resources), the model's 2018 gene symbols are
    brought up to date as the expression data's are; when two old symbols become one current
    symbol within a pathway, the first (alphabetically by old symbol) is kept.
    """
    table = pd.read_csv(path, sep="\t", dtype={"pathway": str, "gene": str})
    if symbols:
        from ..pp.symbols import SymbolMapper

        mapper = SymbolMapper.from_file(symbols)
        table["gene"] = [mapper.current(g) for g in table["gene"]]
        table = table.drop_duplicates(["pathway", "gene"], keep="first")
    return table.rename(columns={"pathway": "source", "gene": "target"})[["source", "target", "weight"]]


def ulm(mat: pd.DataFrame, network: pd.DataFrame, min_targets: int = MIN_TARGETS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """decoupleR 2.4 ``run_ulm``: per source and condition, the t value of the slope of a
    linear model of the condition's values on the source's weights.

    Args:
        mat: features (genes) x conditions, finite values (decoupleR refuses NA/Inf).
        network: `source, target, weight`; a target missing from `mat` is ignored, and a
            source with fewer than `min_targets` targets in `mat` is dropped (filt_minsize).
        min_targets: decoupleR's `minsize` (5).

    Returns:
        (scores, p_values): sources x conditions. As in decoupleR 2.4 the regression runs over
        EVERY feature of `mat`, the features that are not the source's targets having weight 0;
        p is two-sided from Student's t with n_features - 2 degrees of freedom (R's lm).
    """
    values = mat.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("ulm needs finite values (drop genes with missing values first)")
    features = pd.Index(mat.index.astype(str))
    net = network[network["target"].isin(features)]
    counts = net.groupby("source", sort=False).size()
    sources = [s for s in pd.unique(network["source"]) if counts.get(s, 0) >= min_targets]
    weights = np.zeros((len(features), len(sources)))
    pos = {f: i for i, f in enumerate(features)}
    col = {s: j for j, s in enumerate(sources)}
    for s, t, w in net[net["source"].isin(sources)][["source", "target", "weight"]].itertuples(index=False):
        weights[pos[t], col[s]] = w  # a repeated edge: the last one wins, as decoupleR's loop
    n = len(features)
    xc = weights - weights.mean(axis=0)
    yc = values - values.mean(axis=0)
    sxx = (xc ** 2).sum(axis=0)
    syy = (yc ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (xc.T @ yc) / np.sqrt(np.outer(sxx, syy))
        r = np.clip(r, -1.0, 1.0)
        df = n - 2
        t = r * np.sqrt(df / (1.0 - r ** 2))
    p = 2.0 * sps.t.sf(np.abs(t), df)
    index = pd.Index(sources, name="source")
    return (pd.DataFrame(t, index=index, columns=mat.columns),
            pd.DataFrame(p, index=index, columns=mat.columns))


def footprint_table(de: pd.DataFrame, expression: pd.DataFrame, groups: pd.Series, network: pd.DataFrame,
                    *, max_exact: int = 10_000, n_permutations: int = 10_000, seed: int = 0,
                    no_groups: str = "") -> pd.DataFrame:
    """One row per pathway of the model: ulm on the contrast and the Welch test of per-sample scores.

    Args:
        de: limma table with `gene` and `t` (resistant - sensitive); genes without t are left out.
        expression: genes x samples (log2); genes with a missing value in a grouped sample are left
            out of the per-sample scores (decoupleR needs complete columns).
        groups: sample -> resistant / sensitive / other (others are not scored).
        network: :func:`load_progeny`.

    Returns:
        FOOTPRINT_COLUMNS: `score`, `p_value` = ulm on limma's t (effect and competitive p);
        `welch_p` and Hedges' g = resistant vs sensitive per-sample ulm scores (self-contained).
        A pathway with fewer than 5 targets measured has NaN and a note.
        `no_groups`: the model has no two groups (a response contrast); the per-sample test is
        not run, its columns are NaN and the note is this reason (the ulm on limma's t still is).
    """
    t = de.dropna(subset=["t"]).set_index(de.dropna(subset=["t"])["gene"].astype(str))["t"].astype(float)
    t = t[~t.index.duplicated()]
    contrast, contrast_p = ulm(t.to_frame("contrast"), network)
    groups = groups[groups.isin(["resistant", "sensitive"])]
    sub = expression.loc[:, groups.index]
    sub = sub[np.isfinite(sub.to_numpy(dtype=float)).all(axis=1)]
    per_sample = None if no_groups else ulm(sub, network)[0]
    n_model = network.groupby("source").size()
    rows = []
    for pathway in pd.unique(network["source"]):
        row = {"pathway": pathway, "n_model": int(n_model[pathway]),
               "n_targets": int(network[(network["source"] == pathway) & network["target"].isin(t.index)].shape[0])}
        if pathway not in contrast.index or (per_sample is not None and pathway not in per_sample.index):
            row["note"] = f"fewer than {MIN_TARGETS} footprint genes measured"
            rows.append(row)
            continue
        row["score"] = float(contrast.loc[pathway, "contrast"])
        row["p_value"] = float(contrast_p.loc[pathway, "contrast"])
        if per_sample is None:
            rows.append({**row, "note": no_groups})
            continue
        scores = per_sample.loc[pathway]
        res = scores[groups.index[groups == "resistant"]].to_numpy(float)
        sen = scores[groups.index[groups == "sensitive"]].to_numpy(float)
        if len(res) < 2 or len(sen) < 2:
            row["note"] = "fewer than 2 samples in a group: no per-sample comparison"
            rows.append(row)
            continue
        cmp = stats.compare_groups(res, sen, max_exact=max_exact, n_permutations=n_permutations, seed=seed)
        row.update({
            "mean_resistant": float(np.mean(res)), "mean_sensitive": float(np.mean(sen)),
            "sample_difference": cmp.mean_diff, "welch_t": cmp.welch_t, "welch_df": cmp.welch_df,
            "welch_p": cmp.welch_p, "hedges_g": cmp.hedges_g, "g_variance": cmp.g_variance,
            "g_ci_low": cmp.g_ci_low, "g_ci_high": cmp.g_ci_high,
            "n_resistant": cmp.n_resistant, "n_sensitive": cmp.n_sensitive, "note": "",
        })
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=FOOTPRINT_COLUMNS)


def hypothesis_rows(dataset: str, footprints: pd.DataFrame, hypotheses: list) -> pd.DataFrame:
    """Rows for hypotheses.evaluate(extra_rows=...) (contract 2) from results/{ds}/footprints.tsv.

    For each hypothesis with a `readout: progeny:<PATHWAY>`: method `progeny_ulm`, effect = ulm
    score on limma's t, competitive_p = its p, self_contained_p = Welch p of the per-sample
    scores, p_value = the self-contained p (the verdict's null: per-sample pathway activity is
    equal in resistant and sensitive samples). Claims (test `claim`) get a not_testable row
    with their reason. Hypotheses of other tests are not touched.
    """
    from ..genesets.catalogue import PROGENY_PREFIX

    by_pathway = footprints.set_index("pathway")
    rows = []
    for h in hypotheses:
        if h.test == "claim":
            rows.append({"dataset": dataset, "hypothesis": h.id, "method": "none", "predicted": h.predicted,
                         "observed": "none", "verdict": "not_testable", "primary": True, "test": h.test,
                         "role": h.role, "note": f"not testable with these data: {h.reason}"})
            continue
        if not h.readout.startswith(PROGENY_PREFIX):
            continue
        pathway = h.readout[len(PROGENY_PREFIX):]
        base = {"dataset": dataset, "hypothesis": h.id, "method": "progeny_ulm", "predicted": h.predicted,
                "primary": True, "test": h.test, "role": h.role, "readout": h.readout,
                "effect_measure": "ulm_score_on_moderated_t"}
        if pathway not in by_pathway.index:
            raise ValueError(f"hypothesis {h.id}: PROGENy has no pathway {pathway!r} "
                             f"(it has {', '.join(map(str, by_pathway.index))})")
        f = by_pathway.loc[pathway]
        if not np.isfinite(f["score"]) or not np.isfinite(f["welch_p"]):
            rows.append({**base, "effect": np.nan, "p_value": np.nan, "observed": "none", "verdict": "not_testable",
                         "n_genes": int(f["n_targets"]), "n_genes_in_set": int(f["n_model"]),
                         "note": str(f["note"])})
            continue
        score = float(f["score"])
        rows.append({
            **base, "effect": score, "p_value": float(f["welch_p"]),
            "observed": "up" if score > 0 else "down" if score < 0 else "none",
            "competitive_p": float(f["p_value"]), "self_contained_p": float(f["welch_p"]),
            "hedges_g": f["hedges_g"], "g_variance": f["g_variance"], "g_ci_low": f["g_ci_low"],
            "g_ci_high": f["g_ci_high"], "welch_t": f["welch_t"], "welch_df": f["welch_df"],
            "n_resistant": int(f["n_resistant"]), "n_sensitive": int(f["n_sensitive"]),
            "n_genes": int(f["n_targets"]), "n_genes_in_set": int(f["n_model"]), "genes_missing": "",
            "note": (f"PROGENy {pathway}: ulm on limma's t = {score:.3g} (competitive p = {float(f['p_value']):.3g}); "
                     f"per-sample ulm scores resistant - sensitive = {float(f['sample_difference']):.3g}, "
                     f"Welch p = {float(f['welch_p']):.3g}"),
        })
    return pd.DataFrame(rows)


def model_path(catalogue: str | Path) -> tuple[str, str | None]:
    """The PROGENy model and HGNC symbol table named in the catalogue header (paths beside it)."""
    import yaml

    with open(catalogue, encoding="utf-8") as fh:
        header = yaml.safe_load(fh)
    folder = Path(catalogue).parent
    symbols = str(folder / header["symbols"]) if header.get("symbols") else None
    return str(folder / header["progeny_model"]), symbols
