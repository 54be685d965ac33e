"""The report's one adapter to the pipeline's tables: read, then fill what an older or newer
table lacks with "not available", so the rest of the report never tests for a column.

The tables change shape while several stages evolve (contracts 1, 4, 5 and 6 of the project:
verdict words `changed`/`no_change`/`not_measurable`/`context`, `competitive_p`,
`random_percentile`, camera columns, `controls.tsv`, `uns["noise_floor"]`, meta-analysis
strata and prediction intervals). Everything the templates read passes through here; this
module computes no statistics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..io.files import read_tsv

NOT_AVAILABLE = "not available"
QC_NAMES = ["pca", "pca_variance", "distributions", "columns", "correlation", "outliers", "set_heatmaps",
            "gene_values", "gsea_running"]

# Verdict words (contract 1): css class, whether the word is directional (coloured), meaning.
VERDICT_SHORT = {"supported": "predicted direction", "contradicted": "opposite direction",
                 "changed": "two-sided change", "no_change": "equivalent within margin",
                 "inconclusive": "cannot tell", "not_measurable": "below noise floor",
                 "not_testable": "too few genes or samples", "context": "no verdict"}
VERDICTS = {
    "supported": ("v-supported", True, "the predicted direction, FDR below the threshold (and, for gene sets, "
                                       "beyond random sets where that test is available)"),
    "contradicted": ("v-contradicted", True, "the opposite of the predicted direction, FDR below the threshold"),
    "changed": ("v-changed", False, "a two-sided prediction: the score changed; never read as support of a "
                                    "direction and never pooled with a sign"),
    "no_change": ("v-no_change", False, "equivalence test (TOST): the effect lies inside the stated margin"),
    "inconclusive": ("v-inconclusive", False, "neither: the data cannot tell (few samples, small effect or "
                                              "methods disagreeing)"),
    "not_measurable": ("v-not_measurable", False, "the gene is below the noise floor of the platform"),
    "not_testable": ("v-not_testable", False, "too few of the set's genes measured, or a group with fewer "
                                              "than 3 samples"),
    "context": ("v-context", False, "a context row: described, carries no verdict"),
}
# New hypotheses.tsv columns (contract 1) and meta.tsv columns (contract 6) the report shows.
HYPOTHESIS_COLUMNS = ["model", "model_type", "drug", "drug_class", "role", "confirmatory", "self_contained_p",
                      "competitive_p", "random_percentile", "n_random_sets", "camera_p", "camera_direction",
                      "camera_p_estimated_cor", "equivalence_p", "margin"]
META_COLUMNS = ["stratum", "models", "pi_low", "pi_high", "descriptive_models", "vote_up", "vote_down", "fdr",
                "weights", "datasets", "q_p", "note"]
CONTROL_COLUMNS = ["gene", "expected", "source", "observed", "logFC", "ci_low", "ci_high", "adj_p_value",
                   "passed"]
# Model types (issue 17 item 2): the label of a verdict-matrix column and its css class.
MODEL_TYPES = {
    "chemotherapy": "chemotherapy", "endocrine": "endocrine", "targeted": "targeted",
    "regulator": "regulator comparison", "single_cell": "single cells, pseudo-replicated",
}


def isnan(v: object) -> bool:
    """True for None, NaN and pandas' missing values."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def num(v: object) -> float:
    """A value as float (NaN when it is not a number)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def truthy(v: object) -> bool:
    """A TSV boolean (True, 'true', 1) as bool; missing is False."""
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "yes"}
    return not isnan(v) and bool(v)


@dataclass
class DatasetTables:
    """Everything the report shows about one data set (tables the pipeline wrote)."""

    uns: dict
    samples: pd.DataFrame
    de: pd.DataFrame
    gsea: pd.DataFrame
    scores: pd.DataFrame
    qc: dict[str, pd.DataFrame]
    camera: pd.DataFrame | None = None  # absent in older runs
    controls: pd.DataFrame | None = None  # results/{ds}/controls.tsv (contract 5), absent in older runs

    @property
    def noise_floor(self) -> dict:
        """uns["noise_floor"] (contract 4): value, method, detail; {} when the run has none."""
        floor = self.uns.get("noise_floor")
        return dict(floor) if isinstance(floor, dict) else {}


@dataclass
class ReportData:
    datasets: dict[str, DatasetTables]
    hypotheses: pd.DataFrame
    meta: pd.DataFrame
    catalogue: dict
    qc_settings: dict = field(default_factory=dict)
    benchmarks: pd.DataFrame | None = None  # per-job run time and memory, for the methods section

    def __post_init__(self):
        self.hypotheses = normalise_hypotheses(self.hypotheses)
        self.meta = normalise_meta(self.meta)


def normalise_hypotheses(table: pd.DataFrame) -> pd.DataFrame:
    """hypotheses.tsv with every contract-1 column (absent ones missing) and `model` = data set."""
    table = table.copy()
    for col in HYPOTHESIS_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    table["model"] = table["model"].where(table["model"].notna(), table["dataset"])
    table["role"] = table["role"].where(table["role"].notna(), "primary")
    # older tables call a significant two-sided change "supported": it is no directional support
    if {"predicted", "verdict"} <= set(table.columns):
        two_sided = (table["predicted"].astype(str) == "changed") & (table["verdict"].astype(str) == "supported")
        table.loc[two_sided, "verdict"] = "changed"
    if "primary" not in table.columns:
        table["primary"] = True
    return table


def normalise_meta(table: pd.DataFrame) -> pd.DataFrame:
    """meta.tsv in either shape: `models` (;-joined, contract 6) or `datasets` (,-joined, older)."""
    table = table.copy()
    for col in META_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    older = table["models"].isna() & table["datasets"].notna()
    table["models"] = table["models"].astype(object)
    table.loc[older, "models"] = table.loc[older, "datasets"].astype(str).str.replace(",", ";")
    table["stratum"] = table["stratum"].where(table["stratum"].notna(), "all")
    if "predicted" in table.columns and "verdict" in table.columns:
        two_sided = (table["predicted"].astype(str) == "changed") & (table["verdict"].astype(str) == "supported")
        table.loc[two_sided, "verdict"] = "changed"
    return table


def overall_meta(meta: pd.DataFrame) -> pd.DataFrame:
    """One meta-analysis row per hypothesis: the stratum over all models (or the first stratum)."""
    if meta.empty:
        return meta
    order = meta["stratum"].astype(str).map(lambda s: 0 if s in {"all", "overall", "all models"} else 1)
    return meta.assign(_o=order).sort_values("_o", kind="stable").drop_duplicates("hypothesis").drop(columns="_o")


def controls_status(controls: pd.DataFrame | None) -> str:
    """A data set's controls (contract 5): passed / failed / none known / not available."""
    if controls is None:
        return NOT_AVAILABLE
    if controls.empty:
        return "none known"
    passed = controls["passed"].map(lambda v: None if isnan(v) else truthy(v))
    if (passed == False).any():  # noqa: E712 - a three-valued column
        return "failed"
    if (passed == True).any():  # noqa: E712
        return "passed"
    return "none known"


@dataclass(frozen=True)
class Model:
    """A data set as a model: short label for sentences, model-type label and css class."""

    dataset: str
    label: str
    model_type: str
    type_class: str
    drug: str
    description: str


def model_type_key(settings: dict) -> str:
    """The data set's model-type key (MODEL_TYPES) from its config.

    Single cells analysed cell by cell (no `replicate_column`) are their own kind: their tests
    are pseudo-replicated. Otherwise the free-text `model_type` decides.
    """
    if settings.get("type") == "single_cell" and not settings.get("replicate_column"):
        return "single_cell"
    text = str(settings.get("model_type") or "chemotherapy").lower()
    for key in ("endocrine", "targeted", "regulator", "chemo"):
        if key in text:
            return "chemotherapy" if key == "chemo" else key
    return "chemotherapy"


def model_of(dataset: str, settings: dict) -> Model:
    """The model a data set represents, e.g. label "A2780-cisplatin" from `model` and `drug`."""
    model = str(settings.get("model") or "").split()
    drug = str(settings.get("drug") or "").split()
    label = f"{model[0]}-{drug[0]}" if model and drug else (model[0] if model else str(dataset))
    key = model_type_key(settings)
    return Model(str(dataset), label, MODEL_TYPES[key], f"mt-{key}", str(settings.get("drug") or ""),
                 str(settings.get("model") or ""))


def models_of(config: dict, datasets: list[str]) -> dict[str, Model]:
    return {d: model_of(d, config["datasets"].get(d, {}) or {}) for d in datasets}


def hypothesis_info(catalogue: dict, config: dict, hyps: pd.DataFrame) -> dict[str, dict]:
    """id -> catalogue entry (statement, test, gene_set, with_set, gene, predicted, source), in table order."""
    info = {h["id"]: dict(h) for h in catalogue.get("hypotheses", [])}
    for h in config.get("hypotheses", {}).get("extra", []):
        info[h["id"]] = dict(h)
    out = {}
    for hid in hyps["hypothesis"].drop_duplicates():
        h = info.get(hid)
        if h is None:  # exploratory GMT set: tested as a group hypothesis named after the set
            sub = hyps[hyps["hypothesis"] == hid].iloc[0]
            h = {"id": hid, "statement": f"exploratory: gene set {hid}", "test": sub.get("test", "group"),
                 "gene_set": hid, "predicted": sub.get("predicted", "")}
        out[hid] = h
    return out


def primary_rows(hyps: pd.DataFrame) -> pd.DataFrame:
    """The row that carries each (data set, hypothesis) verdict: the primary method's."""
    prim = hyps[hyps["primary"].map(truthy)]
    return prim.drop_duplicates(["dataset", "hypothesis"])


# --------------------------------------------------------------------------- reading


def _jsonable(obj) -> dict:
    return json.loads(json.dumps(dict(obj), default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def read_uns(path: str | Path) -> dict:
    """The `.uns` of a prepared data set (log2 decision, probe collapsing, sources) as plain JSON types."""
    import h5py

    try:
        from anndata.io import read_elem
    except ImportError:  # anndata < 0.11
        from anndata.experimental import read_elem

    with h5py.File(path, "r") as fh:
        uns = read_elem(fh["uns"]) if "uns" in fh else {}
    return _jsonable(uns)


def _optional(inputs: dict, key: str, i: int) -> pd.DataFrame | None:
    paths = inputs.get(key)
    if not paths:
        return None
    return read_tsv(paths[i] if isinstance(paths, (list, tuple)) else paths)


def load_report_data(inputs: dict, datasets: list[str], qc_settings: dict | None = None) -> ReportData:
    """Read the tables named by the report rule's inputs (lists are in `datasets` order).

    Optional inputs: `camera` and `controls` (per data set) and `benchmarks` (any number of
    Snakemake benchmark files); absent ones show as "not available".
    """
    tables = {}
    for i, d in enumerate(datasets):
        qc = {name: read_tsv(inputs[f"qc_{name}"][i]) for name in QC_NAMES}
        tables[d] = DatasetTables(
            uns=read_uns(inputs["adata"][i]), samples=read_tsv(inputs["samples"][i]), de=read_tsv(inputs["de"][i]),
            gsea=read_tsv(inputs["gsea"][i]), scores=read_tsv(inputs["scores"][i]), qc=qc,
            camera=_optional(inputs, "camera", i), controls=_optional(inputs, "controls", i),
        )
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    data = ReportData(tables, read_tsv(inputs["hypotheses"]), read_tsv(inputs["meta"]), catalogue,
                      dict(qc_settings or {}))
    data.benchmarks = read_benchmarks(list(inputs.get("benchmarks") or []))
    return data


def read_benchmarks(files: str | Path | list) -> pd.DataFrame:
    """Snakemake's `benchmark:` tables (one per job) as rows `step, target, s, max_rss_mb`.

    `files` is the list of benchmark files (the report rule declares them as input) or a
    folder of `step/target.tsv` files.
    """
    if isinstance(files, (str, Path)):
        files = sorted(Path(files).glob("*/*.tsv"))
    rows = []
    for path in sorted(Path(p) for p in files):
        try:
            table = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
        if table.empty or "s" not in table.columns:
            continue
        last = table.iloc[-1]
        rows.append({"step": path.parent.name, "target": path.stem, "s": float(last["s"]),
                     "max_rss_mb": float(last.get("max_rss", float("nan")))})
    return pd.DataFrame(rows, columns=["step", "target", "s", "max_rss_mb"])


def is_integral(values: pd.Series) -> bool:
    """True when every non-missing value of a numeric column is a whole number (print without '.0')."""
    x = pd.to_numeric(values, errors="coerce").dropna()
    return len(x) > 0 and bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1) == 0))


def number(v: object) -> str:
    """An integer-valued number as an integer ('5', not '5.0'); other values unchanged as text."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return "" if isnan(v) else str(v)
