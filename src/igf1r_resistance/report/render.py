"""The one renderer: views in, one self-contained HTML page out (Jinja2 with autoescaping).

The CSS (static/report.css) and the table script (static/tables.js) are inlined at render
time; the page's Content-Security-Policy allows that script by its SHA-256 hash only, so no
other script can run and nothing is loaded from the network. Strings from GEO metadata and
config are untrusted: autoescaping makes them text (a sample title of
`<img src=x onerror=alert(1)>` shows as text).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from functools import lru_cache
from pathlib import Path

import jinja2
import pandas as pd
import yaml
from markupsafe import Markup, escape

from ..errors import InputFormatError
from ..io.files import read_tsv, write_text
from ..pl import plots as P
from ..pl.plots import fmt
from . import evidence as E
from . import figures as F
from . import views as V
from .sentences import first_screen, regulator_sentences
from .tables import (
    MODEL_TYPES,
    QC_NAMES,
    DatasetTables,
    ReportData,
    declared_hypotheses,
    hypothesis_info,
    isnan,
    load_report_data,
    model_ids,
    model_of,
    model_order,
    models_of,
    read_uns,
)

HERE = Path(__file__).resolve().parent


def _wrap_points(word: str) -> str:
    """One escaped word: <wbr> after '_', ';', ',' or '/'; pieces with a hyphen kept on one line
    (browsers would otherwise break after the hyphen, e.g. 'A2780-|cisplatin')."""
    pieces = re.split(r"(?<=[_;,/])(?=.)", word)
    return "<wbr>".join(f'<span class="nw">{p}</span>' if "-" in p.strip("-") else p for p in pieces)


def wbr(value: object) -> Markup:
    """Escaped text that wraps only between words, or inside a word after '_', ';', ',' or '/'."""
    if isnan(value):
        return Markup("")
    text = str(escape(value))
    return Markup(re.sub(r"[^\s<>]+", lambda m: _wrap_points(m.group(0)), text))


def count(value: object) -> str:
    """A count as an integer ('5', not '5.0')."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if isnan(value) else str(value)
    return str(int(x)) if x.is_integer() else fmt(x)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(wbr=wbr, fmt=lambda v, digits=3: fmt(v, digits), count=count,
                       text=lambda v: "" if isnan(v) else str(v))
    env.globals.update(anchor=V.anchor)
    return env


def static(name: str) -> str:
    return (HERE / "static" / name).read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def build_report(config: dict, datasets: list[str], data: ReportData) -> str:
    """The report as one HTML string.

    Parameters:
        config: the run's config; datasets: data-set ids (Data and QC sections);
        data: the tables (ReportData; its `models` hold the per-model tables).
    The models (verdict-matrix columns, evidence cards, genes sections) are those of the
    hypotheses table's `model` column (`tables.model_order`): resistance models first, then
    regulator comparisons grouped by comparison.
    """
    hinfo = hypothesis_info(data.catalogue, config, data.hypotheses)
    ids = [m for m in model_order(config, datasets, data.hypotheses) if m in data.models]
    unread = sorted(set(data.hypotheses["model"].astype(str)) - set(ids))
    if unread:
        raise InputFormatError(
            f"results/summary/hypotheses.tsv, field `model`: model(s) {', '.join(unread)} have no per-model tables "
            f"among the report's inputs (results/{{model}}/de.tsv, gsea.tsv, camera.tsv, controls.tsv for the models "
            f"{', '.join(data.models)} of the config's data sets {', '.join(datasets)}); a model id is `{{ds}}` or "
            "`{ds}/{contrast}` (config `contrasts:`)")
    models = models_of(config, ids)
    own = {d: model_of(d, config["datasets"].get(d, {}) or {}) for d in datasets}  # a data set's own heading
    primary = config["scoring"]["primary"]
    fdr = config["hypotheses"]["fdr"]
    script = static("tables.js")
    columns = V.matrix_columns(ids, models)
    context = {
        "title": config.get("report", {}).get("title", "IGF1R resistance report"),
        "css": Markup(static("report.css")), "script": Markup(script), "script_hash": script_hash(script),
        "config": config, "datasets": datasets, "model_ids": ids, "models": models, "primary": primary,
        "fdr": fdr, "display": F.DISPLAY,
        "low_quantile": config.get("de", {}).get("low_expression_quantile"),
        "has_percentile": bool(data.hypotheses["random_percentile"].notna().any()),
        "families": first_screen(hinfo, data.hypotheses, models, data.catalogue),
        "has_regulators": any(m.regulator for m in models.values()),
        "regulators": regulator_sentences(hinfo, data.hypotheses, models, data.models, fdr),
        "dataset_rows": V.dataset_rows(config, ids, data, models),
        "matrix": V.matrix_view(ids, data, hinfo, models), "legend": V.legend(),
        "column_groups": columns if len(columns) > 1 else [],
        "model_types": [(k, v) for k, v in MODEL_TYPES.items()],
        "data_views": [V.data_view(d, config["datasets"].get(d, {}) or {}, own[d], data.datasets[d],
                                   V.contrast_rows(d, [m for m in models.values() if m.dataset == d and m.contrast],
                                                   data.hypotheses))
                       for d in datasets],
        "qc_views": [V.qc_view(d, data.datasets[d], data.qc_settings, primary) for d in datasets],
        "mechanisms": E.mechanisms_view(config, ids, data, hinfo, models),
        "all_rows": E.hypotheses_table(data, models),
        "genes": [E.genes_view(m, data.models[m], data.catalogue, hinfo, config) | {"model": models[m]} for m in ids],
        "meta": E.meta_view(ids, data, hinfo), "m": E.methods_view(config, data),
    }
    return environment().get_template("report.html.j2").render(**context)


def section_run_costs(bench: pd.DataFrame) -> str:
    """Per-step run time and peak memory, as Snakemake's benchmark files recorded them."""
    return environment().get_template("run_costs.html.j2").render(m=E.run_costs_view(bench))


def forest_overview(models: list[str], data: ReportData, hinfo: dict[str, dict]) -> str:
    """All pooled effects in one standalone SVG (for `snakemake --report`); `models`: model ids."""
    return "".join(F.fig_forest(str(m["hypothesis"]), m, data.hypotheses, models,
                                str(hinfo.get(str(m["hypothesis"]), {}).get("test", "group")))
                   for _, m in data.meta.drop_duplicates("hypothesis").iterrows())


def run_report(inputs: dict, config: dict, datasets: list[str], out: str, log: logging.Logger,
               qc_settings: dict | None = None, forest_out: str | None = None,
               models: list[str] | None = None) -> None:
    """Read the tables the pipeline wrote (all declared as the rule's inputs) and write the report.

    `models`: the model ids of the per-model inputs, in their order (default: the config's,
    `tables.model_ids`)."""
    models = list(models) if models is not None else [m for m in model_ids(config) if m.split("/")[0] in datasets]
    data = load_report_data(inputs, datasets, qc_settings, models=models, config=config)
    write_text(build_report(config, datasets, data), out)
    log.info("report written: %s (%.2f MB)", out, Path(out).stat().st_size / 1e6)
    if forest_out:
        hinfo = hypothesis_info(data.catalogue, config, data.hypotheses)
        write_text(F._svg_document(forest_overview(models, data, hinfo)), forest_out)


FIGURES = {
    "distributions": lambda d, t, ctx: F.fig_distributions(d, t),
    "pca": lambda d, t, ctx: F.fig_pca(d, t),
    "correlation": lambda d, t, ctx: F.fig_correlation(d, t),
    "volcano": lambda d, t, ctx: F.fig_volcano(d, t, ctx["catalogue"], ctx["hinfo"], ctx["fdr"]),
}


def run_figures(inputs: dict, config: dict, dataset: str, outputs: dict[str, str], log: logging.Logger) -> None:
    """Standalone SVG figures of one data set for `snakemake --report` (same drawings as the HTML report)."""
    qc = {name: read_tsv(inputs[f"qc_{name}"]) for name in QC_NAMES}
    t = DatasetTables(uns=read_uns(inputs["adata"]), samples=read_tsv(inputs["samples"]), de=read_tsv(inputs["de"]),
                      gsea=pd.DataFrame(columns=["gene_set"]), scores=pd.DataFrame(), qc=qc)
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    hinfo = declared_hypotheses(catalogue, config)  # as the report: hypotheses.extra included
    ctx = {"catalogue": catalogue, "hinfo": hinfo, "fdr": config["hypotheses"]["fdr"]}
    for name, path in outputs.items():
        write_text(F._svg_document(FIGURES[name](dataset, t, ctx)), path)
        log.info("figure %s: %s", name, path)


__all__ = ["P", "build_report", "run_report", "run_figures", "section_run_costs", "forest_overview"]
