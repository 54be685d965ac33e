"""What each section of the report shows, as plain values for the templates.

Functions here select and order rows, format numbers (integers as integers) and call the
figure functions; they write no HTML. Figures arrive as `Markup` (SVG that `plots` has
escaped); every other value is escaped by the template engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from ..pl.plots import fmt
from . import figures as F
from .tables import (
    NOT_AVAILABLE,
    VERDICT_SHORT,
    VERDICTS,
    DatasetTables,
    Model,
    ReportData,
    controls_status,
    is_integral,
    isnan,
    overall_meta,
    primary_rows,
    truthy,
)

KEY_GENES = ["IGF1R", "IGF1", "IGF2", "INSR", "ABCB1", "ABCC1", "ABCG2"]
GEO_URL = "https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc="


def anchor(*parts: object) -> str:
    """A safe HTML id from any text (non-alphanumerics become '_')."""
    return "-".join("".join(ch if ch.isalnum() else "_" for ch in str(p)) for p in parts)


def verdict_class(verdict: object) -> str:
    return VERDICTS.get(str(verdict), (f"v-{anchor(verdict)}", False, ""))[0]


def geo_url(d: str) -> str:
    """The GEO page of a GSE accession, '' for other data-set ids."""
    return GEO_URL + d if re.fullmatch(r"GSE[0-9]+", str(d)) else ""


@dataclass
class Table:
    """A table for the `table` macro: header, rows of (text, css class), and a note when cut."""

    columns: list[str]
    rows: list[list[tuple[str, str]]]
    row_classes: list[str] = field(default_factory=list)
    more: str = ""
    sortable: bool = False


def table_view(frame: pd.DataFrame, numeric: set[str] | None = None, verdict_col: str | None = "verdict",
               max_rows: int | None = None, row_class: pd.Series | None = None, sortable: bool = False) -> Table:
    """A DataFrame as a Table: numbers shortened (whole-number columns as integers), verdicts styled."""
    numeric = numeric if numeric is not None else {c for c in frame.columns
                                                   if pd.api.types.is_numeric_dtype(frame[c])
                                                   and not pd.api.types.is_bool_dtype(frame[c])}
    integral = {c for c in numeric if is_integral(frame[c])}
    rows = frame if max_rows is None else frame.head(max_rows)
    out = []
    for _, r in rows.iterrows():
        cells = []
        for c in frame.columns:
            v = r[c]
            if c == verdict_col:
                cells.append(("" if isnan(v) else str(v), f"verdict {verdict_class(v)}"))
            elif c in numeric:
                text = "" if isnan(v) else (str(int(float(v))) if c in integral else fmt(v))
                cells.append((text, "num"))
            else:
                cells.append(("" if isnan(v) else str(v), ""))
        out.append(cells)
    classes = [] if row_class is None else [str(x or "") for x in row_class.iloc[: len(rows)]]
    more = (f"First {max_rows} of {len(frame)} rows; the full table is in the results folder."
            if max_rows is not None and len(frame) > max_rows else "")
    return Table([str(c) for c in frame.columns], out, classes, more, sortable)


def figure(svg: str, fig_id: str = "") -> dict:
    return {"svg": Markup(svg), "id": fig_id}


# --------------------------------------------------------------------------- 1. first screen


def dataset_rows(config: dict, model_ids: list[str], data: ReportData, models: dict[str, Model]) -> list[dict]:
    """One row per model: data set, contrast, type, group sizes, QC outliers and the controls' status.
    A plain data set's group sizes come from its prepared data; a contrast's from its hypotheses rows."""
    rows = []
    for m in model_ids:
        model = models[m]
        t = data.models[m]
        dsu = t.uns.get("dataset", {})
        flagged = t.qc["outliers"].loc[t.qc["outliers"]["outlier"].map(truthy), "sample"].astype(str).tolist()
        n_test, n_ref, n_excluded = dsu.get("n_resistant"), dsu.get("n_sensitive"), dsu.get("n_excluded")
        if model.contrast:
            sizes = data.hypotheses.loc[data.hypotheses["model"] == m, ["n_resistant", "n_sensitive"]].dropna()
            n_test, n_ref = (sizes.iloc[0, 0], sizes.iloc[0, 1]) if len(sizes) else (None, None)
            n_excluded = None
        rows.append({"id": model.dataset, "url": geo_url(model.dataset), "anchor": anchor("data", model.dataset),
                     "model": model, "contrast": model.contrast,
                     "n_resistant": _count(n_test), "n_sensitive": _count(n_ref),
                     "n_excluded": _count(n_excluded) if not model.contrast else "",
                     "outliers": ", ".join(flagged) or "none",
                     "controls": controls_status(t.controls), "controls_detail": controls_detail(t.controls)})
    return rows


def _count(v: object) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return NOT_AVAILABLE if isnan(v) else str(v)
    return str(int(x)) if x.is_integer() else fmt(x)


def controls_detail(controls: pd.DataFrame | None) -> str:
    """'MKI67 up: passed; ...' for the first screen."""
    if controls is None or controls.empty:
        return ""
    words = []
    for _, r in controls.iterrows():
        # no pass/fail: say why (controls.py's `observed`: no_significant_change, not_measurable, not_measured)
        why = "not measured" if isnan(r.get("observed")) or str(r.get("observed")) in ("up", "down") \
            else str(r["observed"]).replace("_", " ")
        passed = why if isnan(r.get("passed")) else ("passed" if truthy(r["passed"]) else "failed")
        words.append(f"{r.get('gene')} {r.get('expected')}: {passed}")
    return "; ".join(words)


def matrix_columns(model_ids: list[str], models: dict[str, Model]) -> list[dict]:
    """Column groups of the verdict matrix: one per comparison (resistance first, as ordered by
    `model_order`), each with its models; a header row names them when there are several."""
    groups: list[dict] = []
    for m in model_ids:
        model = models[m]
        if not groups or groups[-1]["comparison"] != model.comparison:
            name = ("resistant vs sensitive" if not model.regulator else
                    f"{model.comparison}: {model.test_group} vs {model.reference_group}")
            groups.append({"comparison": model.comparison, "name": name, "models": []})
        groups[-1]["models"].append(m)
    return groups


def matrix_view(model_ids: list[str], data: ReportData, hinfo: dict[str, dict],
                models: dict[str, Model]) -> list[dict]:
    """The verdict matrix: one row per hypothesis, one cell per model, then the pooled verdict."""
    prim = primary_rows(data.hypotheses).set_index(["hypothesis", "model"])
    meta = overall_meta(data.meta).set_index("hypothesis") if len(data.meta) else pd.DataFrame()
    rows = []
    for hid, h in hinfo.items():
        cells = []
        for d in model_ids:
            if (hid, d) not in prim.index:
                cells.append(None)
                continue
            r = prim.loc[(hid, d)]
            hover = (f"{models[d].label}, {hid}: {r['verdict']}; effect {fmt(r['effect'])} (95% CI "
                     f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}), FDR {fmt(r['fdr'])}, methods agreeing "
                     f"{'' if isnan(r.get('methods_agreeing')) else r['methods_agreeing']}")
            cells.append({"verdict": str(r["verdict"]), "cls": verdict_class(r["verdict"]),
                          "type_class": models[d].type_class, "href": "#" + anchor("res", d, hid), "hover": hover,
                          "agreeing": "" if isnan(r.get("methods_agreeing")) else str(r["methods_agreeing"])})
        pooled = None
        if hid in meta.index:
            m = meta.loc[hid]
            pooled = {"verdict": str(m["verdict"]), "cls": verdict_class(m["verdict"]), "href": "#" + anchor("meta", hid),
                      "hover": f"pooled {m.get('effect_measure', '')} {fmt(m['estimate'])} (95% CI {fmt(m['ci_low'])} "
                               f"to {fmt(m['ci_high'])}), I2 {fmt(m.get('i2'))}%"}
        rows.append({"id": hid, "href": "#" + anchor("hyp", hid), "statement": h.get("statement", ""),
                     "cells": cells, "pooled": pooled})
    return rows


def legend() -> list[dict]:
    return [{"word": w, "cls": cls, "directional": d, "meaning": m, "short": VERDICT_SHORT.get(w, "")}
            for w, (cls, d, m) in VERDICTS.items()]


# --------------------------------------------------------------------------- 2. data


def contrast_rows(d: str, models: list[Model], hyps: pd.DataFrame) -> list[dict]:
    """The contrasts of a data set with a design: comparison, levels, group sizes, drug."""
    out = []
    for m in models:
        sizes = hyps.loc[hyps["model"] == m.key, ["n_resistant", "n_sensitive"]].dropna()
        out.append({"model": m, "anchor": anchor("genes", m.key),
                    "n_test": _count(sizes.iloc[0, 0]) if len(sizes) else NOT_AVAILABLE,
                    "n_reference": _count(sizes.iloc[0, 1]) if len(sizes) else NOT_AVAILABLE})
    return out


def data_view(d: str, settings: dict, model: Model, t: DatasetTables, contrasts: list[dict] | None = None) -> dict:
    """The Data section of one data set; `contrasts`: its contrasts (contrast_rows), [] for a plain data set."""
    uns, samples = t.uns, t.samples
    ds = uns.get("dataset", {})
    log2 = uns.get("log2", {})
    regex = {"resistant": ds.get("group_resistant_regex"), "sensitive": ds.get("group_sensitive_regex")}
    table = samples.copy()
    design = settings.get("design") or {}
    if "group" not in table.columns:  # a data set with a design: samples carry the factor's levels
        factor = design.get("factor")
        table["group"] = table[factor].astype(str) if factor in table.columns else NOT_AVAILABLE
    if not contrasts:
        table["matched regex"] = table["group"].map(lambda g: regex.get(g, "neither regex"))
    cols = [c for c in ["sample", "group", *design.get("covariates", []), design.get("pair_by"), "group_field",
                        "group_value", "matched regex", "title", "source_name_ch1"]
            if c and c in table.columns]
    cols = list(dict.fromkeys(cols))
    kept = table[table["group"] != "excluded"][cols]
    excluded = table[table["group"] == "excluded"][cols]
    floor = t.noise_floor
    return {
        "id": d, "url": geo_url(d), "anchor": anchor("data", d), "settings": settings, "model": model,
        "contrasts": contrasts or [], "design": design,
        "ds": {k: _count(v) if k.startswith("n_") else v for k, v in ds.items()},
        "log2": log2, "probes": {k: _count(v) if k.startswith("n_") else v
                                 for k, v in (uns.get("probe_collapse") or {}).items()},
        "sources": uns.get("sources", {}), "gene_ids": uns.get("gene_ids") or {},
        "de_reason": (uns.get("de") or {}).get("reason"),
        "quantiles": ", ".join(f"{k.replace('quantile_', '')} = {fmt(v, 4)}" for k, v in log2.items()
                               if k.startswith("quantile_")),
        "noise_floor": (f"{fmt(floor.get('value'))} log2 ({floor.get('method', '')})" if floor else NOT_AVAILABLE),
        "noise_detail": floor.get("detail", "") if floor else "",
        "kept": table_view(kept, numeric=set(), verdict_col=None, sortable=True),
        "n_kept": len(kept), "open": len(kept) <= F.DISPLAY["sample_table_open_max"],
        "excluded": table_view(excluded, numeric=set(), verdict_col=None) if len(excluded) else None,
        "n_excluded": len(excluded),
    }


# --------------------------------------------------------------------------- 3. QC


def qc_view(d: str, t: DatasetTables, qc_settings: dict, primary_method: str) -> dict:
    outl = t.qc["outliers"].copy()
    cols = t.qc["columns"]
    var = t.qc["pca_variance"]
    single_cell = str(t.uns.get("dataset", {}).get("data_type", "")) == "single_cell"
    return {
        "id": d, "anchor": anchor("qc", d), "flagged": ", ".join(outl.loc[outl["outlier"].map(truthy), "sample"]
                                                                  .astype(str)),
        "binned": bool((cols["n_samples"] > 1).any()), "n": int(cols["n_samples"].sum()), "n_columns": len(cols),
        "n_components": len(var), "cumulative": float(var["variance_explained"].sum()) if len(var) else float("nan"),
        "value_label": F.value_label(t), "settings": qc_settings, "primary": primary_method,
        "dist": figure(F.fig_distributions(d, t), anchor("fig", "dist", d)),
        "pca": figure(F.fig_pca(d, t), anchor("fig", "pca", d)),
        "pca23": figure(F.fig_pca(d, t, "PC2", "PC3"), anchor("fig", "pca23", d)) if "PC3" in t.qc["pca"] else None,
        "pca_scores": (figure(F.fig_pca_by_scores(d, t, primary_method), anchor("fig", "pca_scores", d))
                       if single_cell else None),
        "corr": figure(F.fig_correlation(d, t), anchor("fig", "corr", d)),
        "outliers": table_view(outl, verdict_col=None,
                               row_class=outl["outlier"].map(lambda v: "flag" if truthy(v) else "")),
    }
