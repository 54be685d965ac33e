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

from ..errors import InputFormatError
from ..io.files import read_tsv
from ..pp import designs
from ..tl.controls import dataset_status

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
HYPOTHESIS_COLUMNS = ["model", "contrast", "comparison", "model_type", "drug", "drug_class", "role", "confirmatory", "self_contained_p",
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


RESISTANCE = "resistance"  # the comparison of resistant with sensitive samples (contract 1 of issue 15)


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
    """The tables of a run. `datasets`: per data set (expression, samples, scores, QC; keyed by
    data-set id); `models`: per model (keyed by model id `{ds}` or `{ds}/{contrast}`, contract 2 of
    issue 15), the data set's tables with the model's own de, gsea, camera and controls. A run of
    plain data sets has one model per data set, and `models` defaults to `datasets`."""

    datasets: dict[str, DatasetTables]
    hypotheses: pd.DataFrame
    meta: pd.DataFrame
    catalogue: dict
    qc_settings: dict = field(default_factory=dict)
    benchmarks: pd.DataFrame | None = None  # per-job run time and memory, for the methods section
    models: dict[str, DatasetTables] = field(default_factory=dict)

    def __post_init__(self):
        self.hypotheses = normalise_hypotheses(self.hypotheses)
        self.meta = normalise_meta(self.meta)
        if not self.models:
            self.models = dict(self.datasets)


def normalise_hypotheses(table: pd.DataFrame) -> pd.DataFrame:
    """hypotheses.tsv with every contract-1 column (absent ones missing) and `model` = data set."""
    table = table.copy()
    for col in HYPOTHESIS_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    table["model"] = table["model"].where(table["model"].notna() & (table["model"].astype(str) != ""),
                                          table["dataset"]).astype(str)
    # contract 2: `contrast` is empty for a plain data set, `comparison` is resistance unless stated
    table["contrast"] = table["contrast"].where(table["contrast"].notna(), "").astype(str)
    table["comparison"] = table["comparison"].where(table["comparison"].notna() & (table["comparison"] != ""),
                                                    RESISTANCE).astype(str)
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


def control_passed(controls: pd.DataFrame) -> pd.Series:
    """controls.tsv's `passed` as True / False / NA (a TSV gives 'True', 'false', 1 or an empty field)."""
    return controls["passed"].map(lambda v: pd.NA if isnan(v) else truthy(v)).astype("boolean")


def controls_status(controls: pd.DataFrame | None) -> str:
    """A model's controls (contract 5): passed / failed / inconclusive / none known, by the
    pipeline's one rule (`controls.dataset_status`); not available when the run wrote none."""
    if controls is None:
        return NOT_AVAILABLE
    if controls.empty:
        return "none known"
    status = dataset_status(controls.assign(passed=control_passed(controls)))["status"]
    return str(status).replace("_", " ")


@dataclass(frozen=True)
class Model:
    """A model (a plain data set, or one contrast of a data set with a design): short label for
    sentences, model-type label and css class, and for a contrast its comparison and the two
    levels it compares (`test` vs `reference`; resistant vs sensitive for resistance models)."""

    dataset: str
    label: str
    model_type: str
    type_class: str
    drug: str
    description: str
    id: str = ""  # model id (contract 2): `{ds}` or `{ds}/{contrast}`; "" means the data set
    contrast: str = ""
    comparison: str = RESISTANCE
    test: str = "resistant"
    reference: str = "sensitive"

    @property
    def key(self) -> str:
        """The model id the tables use (`model` column, results/{model}/)."""
        return self.id or self.dataset

    @property
    def regulator(self) -> bool:
        """A regulator comparison (e.g. TP53_status): its hypotheses are regulation claims."""
        return self.comparison != RESISTANCE

    @property
    def test_group(self) -> str:
        """The test level in words, e.g. 'TP53-mutant' for comparison TP53_status, level mutant."""
        return group_words(self.comparison, self.test)

    @property
    def reference_group(self) -> str:
        return group_words(self.comparison, self.reference)


def group_words(comparison: str, level: str) -> str:
    """A level of a comparison in words: 'TP53-mutant', 'TP53-wild type' (TP53_status), 'resistant'."""
    words = str(level).replace("_", " ")
    if comparison == RESISTANCE:
        return words
    stem = str(comparison)
    for suffix in ("_status", "_state", "_group"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            return f"{stem}-{words}"
    return f"{words} ({stem.replace('_', ' ')})"


def model_type_key(settings: dict) -> str:
    """The model-type key (MODEL_TYPES) from the data set's (or contrast's) config.

    Single cells analysed cell by cell (no `replicate_column`) are their own kind: their tests
    are pseudo-replicated. A contrast whose comparison is not resistance is a regulator
    comparison. Otherwise the free-text `model_type` decides.
    """
    if settings.get("type") == "single_cell" and not settings.get("replicate_column"):
        return "single_cell"
    if str(settings.get("comparison") or RESISTANCE) != RESISTANCE:
        return "regulator"
    text = str(settings.get("model_type") or "chemotherapy").lower()
    for key in ("endocrine", "targeted", "regulator", "chemo"):
        if key in text:
            return "chemotherapy" if key == "chemo" else key
    return "chemotherapy"


def model_ids(config: dict) -> list[str]:
    """Model ids in config order (contract 2 of issue 15): designs.model_ids of the config."""
    return designs.model_ids(config.get("datasets") or {})


def split_model(model: str, config: dict) -> tuple[str, str]:
    """(data set, contrast) of a model id; the contrast is '' for a plain data set."""
    ds, contrast, _ = model_settings(config, model)
    return ds, contrast


def model_settings(config: dict, model: str) -> tuple[str, str, dict]:
    """The data set, contrast and settings of a model: the data set's settings overridden by
    the contrast's as designs.model_spec resolves them (drug, drug_class, model, model_type,
    note, controls, comparison, test and reference levels)."""
    datasets = config.get("datasets") or {}
    if designs.dataset_of(str(model)) not in datasets:  # a table's model the config does not name
        return str(model), "", {}
    spec = designs.model_spec(datasets, str(model))
    settings = dict(datasets.get(spec["dataset"]) or {})
    if spec["contrast"]:
        settings.update({k: v for k, v in spec.items() if v not in (None, "") and k not in ("id", "dataset")})
        settings["test"] = spec["test"] or "resistant"
        settings["reference"] = spec["reference"] or "sensitive"
    return spec["dataset"], spec["contrast"], settings


def model_of(dataset: str, settings: dict, contrast: str = "") -> Model:
    """The model a data set (or one of its contrasts) represents, e.g. label "A2780-cisplatin"
    from `model` and `drug`; a contrast without its own model and drug is labelled by data set
    and contrast ("P53_NCI60 mutant_vs_wild_type")."""
    model = str(settings.get("model") or "").split()
    drug = str(settings.get("drug") or "").split()
    label = f"{model[0]}-{drug[0]}" if model and drug else (model[0] if model else str(dataset))
    key = model_type_key(settings)
    if not contrast:
        return Model(str(dataset), label, MODEL_TYPES[key], f"mt-{key}", str(settings.get("drug") or ""),
                     str(settings.get("model") or ""))
    if not (model and drug):
        label = f"{dataset} {contrast}"
    return Model(str(dataset), label, MODEL_TYPES[key], f"mt-{key}", str(settings.get("drug") or ""),
                 str(settings.get("model") or ""), id=f"{dataset}/{contrast}", contrast=str(contrast),
                 comparison=str(settings.get("comparison") or RESISTANCE),
                 test=str(settings.get("test", "resistant")), reference=str(settings.get("reference", "sensitive")))


def models_of(config: dict, ids: list[str]) -> dict[str, Model]:
    """Model id -> Model for every id (plain data sets and contrasts)."""
    out = {}
    for m in ids:
        ds, contrast, settings = model_settings(config, m)
        out[str(m)] = model_of(ds, settings, contrast)
    return out


def model_order(config: dict, datasets: list[str], hyps: pd.DataFrame) -> list[str]:
    """The models the report shows: those of the hypotheses table's `model` column (with the
    config's models, so a model without rows still gets its sections), resistance models first,
    then regulator comparisons grouped by comparison; config order within each group."""
    config_ids = [m for m in model_ids(config) if split_model(m, config)[0] in set(datasets)]
    in_table = [str(m) for m in hyps["model"].drop_duplicates()] if "model" in hyps.columns else []
    ids = list(dict.fromkeys(config_ids + in_table))
    comparison = {m: str(model_settings(config, m)[2].get("comparison") or RESISTANCE) for m in ids}
    if "comparison" in hyps.columns:  # the table's word wins (the config may spell a default)
        comparison.update({str(m): str(c) for m, c in zip(hyps["model"], hyps["comparison"])})
    groups = list(dict.fromkeys([RESISTANCE] + [comparison[m] for m in ids]))
    return [m for g in groups for m in ids if comparison[m] == g]


def declared_hypotheses(catalogue: dict, config: dict) -> dict[str, dict]:
    """id -> entry of every hypothesis the run declares: the catalogue's, then `hypotheses.extra`."""
    info = {h["id"]: dict(h) for h in catalogue.get("hypotheses", [])}
    for h in config.get("hypotheses", {}).get("extra", []):
        info[h["id"]] = dict(h)
    return info


def hypothesis_info(catalogue: dict, config: dict, hyps: pd.DataFrame) -> dict[str, dict]:
    """id -> catalogue entry (statement, test, gene_set, with_set, gene, predicted, source), in table order."""
    info = declared_hypotheses(catalogue, config)
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
    """The row that carries each (model, hypothesis) verdict: the primary method's."""
    prim = hyps[hyps["primary"].map(truthy)]
    return prim.drop_duplicates(["model", "hypothesis"])


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


# QC tables whose `group` column names the samples' groups (relabelled per contrast).
GROUPED_QC = ("pca", "distributions", "columns", "correlation", "gene_values", "outliers")


def for_model(t: DatasetTables, model: Model, factor: str | None = None, de: pd.DataFrame | None = None,
              gsea: pd.DataFrame | None = None, camera: pd.DataFrame | None = None,
              controls: pd.DataFrame | None = None) -> DatasetTables:
    """One model's view of its data set's tables: the model's de, gsea, camera and controls, QC
    rows of the model (tables with a `model` column are filtered to it), and for a contrast the
    samples' groups as the contrast's roles: its test level "resistant", its reference level
    "sensitive" (the figures colour and order by these roles), other levels "excluded". The
    levels are read from samples.tsv's design-factor column (prepare writes the design columns;
    its `group` holds the first contrast's roles), else from `group` when that holds levels.

    Parameters:
        t: the data set's tables; model: the model; factor: the design factor (config
        `design.factor`).
    Returns:
        DatasetTables of the model (the data set's own when the model is a plain data set).
    """
    if not model.contrast:
        return DatasetTables(t.uns, t.samples, t.de if de is None else de, t.gsea if gsea is None else gsea, t.scores,
                             t.qc, t.camera if camera is None else camera, t.controls if controls is None else controls)
    roles = {model.test: "resistant", model.reference: "sensitive"}
    samples = t.samples
    column = factor if factor and factor in samples.columns else ("group" if "group" in samples.columns else None)
    role: dict[str, str] = {}
    if column is not None and samples[column].astype(str).isin(list(roles)).any():
        role = dict(zip(samples["sample"].astype(str),
                        samples[column].astype(str).map(lambda v: roles.get(v, "excluded"))))
        samples = samples.assign(group=samples["sample"].astype(str).map(role))

    def own(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        if "model" in frame.columns:
            frame = frame[frame["model"].astype(str) == model.key]
        if not role or name not in GROUPED_QC or "group" not in frame.columns:
            return frame
        key = "sample" if "sample" in frame.columns else ("column" if "column" in frame.columns else None)
        if key is None:
            return frame
        # sample-level rows take the contrast's role; bins of many samples keep theirs
        return frame.assign(group=frame[key].astype(str).map(role).fillna(frame["group"]))

    qc = {name: own(frame, name) for name, frame in t.qc.items()}
    empty = pd.DataFrame(columns=["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val"])
    return DatasetTables(t.uns, samples, empty if de is None else de,
                         pd.DataFrame(columns=["gene_set"]) if gsea is None else gsea, t.scores, qc, camera, controls)


def _model_key(inputs: dict, name: str) -> str:
    """The input key of a per-model table: `model_{name}` when the rule declares both shapes (then
    `{name}` is per data set), else `{name}`."""
    return f"model_{name}" if inputs.get(f"model_{name}") else name


def _model_input(inputs: dict, name: str) -> list:
    return inputs[_model_key(inputs, name)]


def load_report_data(inputs: dict, datasets: list[str], qc_settings: dict | None = None,
                     models: list[str] | None = None, config: dict | None = None) -> ReportData:
    """Read the tables named by the report rule's inputs.

    Per-data-set inputs (`adata`, `samples`, `scores`, `qc_*`) are lists in `datasets` order;
    per-model inputs (`model_de`, `model_gsea`, `model_camera`, `model_controls`, or without the
    `model_` prefix: results/{model}/...) are lists in `models` order (model ids, contract 2 of issue 15; default: one model per data set).
    Optional inputs: `camera` and `controls` and `benchmarks` (any number of Snakemake
    benchmark files); absent ones show as "not available".
    """
    models = list(models) if models is not None else list(datasets)
    config = config or {"datasets": {}}
    tables = {}
    for i, d in enumerate(datasets):
        qc = {name: read_tsv(inputs[f"qc_{name}"][i]) for name in QC_NAMES}
        tables[d] = DatasetTables(uns=read_uns(inputs["adata"][i]), samples=read_tsv(inputs["samples"][i]),
                                  de=pd.DataFrame(), gsea=pd.DataFrame(columns=["gene_set"]),
                                  scores=read_tsv(inputs["scores"][i]), qc=qc)
    per_model = {}
    described = models_of(config, models)
    for i, m in enumerate(models):
        ds, _, settings = model_settings(config, m)
        if ds not in tables:
            raise InputFormatError(f"report inputs, model {m}: its data set {ds} is not among the report's data "
                                   f"sets ({', '.join(datasets)}); check the config's `datasets` and `contrasts`")
        per_model[m] = for_model(tables[ds], described[m], (settings.get("design") or {}).get("factor"),
                                 de=read_tsv(_model_input(inputs, "de")[i]), gsea=read_tsv(_model_input(inputs, "gsea")[i]),
                                 camera=_optional(inputs, _model_key(inputs, "camera"), i),
                                 controls=_optional(inputs, _model_key(inputs, "controls"), i))
    for d in list(tables):  # a plain data set's own tables are its model's
        if d in per_model:
            tables[d] = per_model[d]
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    data = ReportData(tables, read_tsv(inputs["hypotheses"]), read_tsv(inputs["meta"]), catalogue,
                      dict(qc_settings or {}), models=per_model)
    data.benchmarks = read_benchmarks(list(inputs.get("benchmarks") or []))
    return data


def read_benchmarks(files: str | Path | list) -> pd.DataFrame:
    """Snakemake's `benchmark:` tables (one per job) as rows `step, target, s, max_rss_mb`.

    `files` is the list of benchmark files (the report rule declares them as input) or a
    folder of `step/target.tsv` files; a per-model step's target is a model id and may hold a
    '/' (`de/P53_NCI60/mutant_vs_wild_type.tsv`).
    """
    if isinstance(files, (str, Path)):
        root = Path(files)
        files = [(p, p.relative_to(root).with_suffix("").parts) for p in sorted(root.glob("**/*.tsv"))]
    else:
        files = [(Path(p), _bench_names(Path(p))) for p in files]
    rows = []
    for path, names in sorted(files):
        if len(names) < 2:
            continue
        try:
            table = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
        if table.empty or "s" not in table.columns:
            continue
        last = table.iloc[-1]
        rows.append({"step": names[0], "target": "/".join(names[1:]), "s": float(last["s"]),
                     "max_rss_mb": float(last.get("max_rss", float("nan")))})
    return pd.DataFrame(rows, columns=["step", "target", "s", "max_rss_mb"])


def _bench_names(path: Path) -> tuple[str, ...]:
    """(step, target parts) of results/benchmarks/{step}/{target}.tsv."""
    parts = path.with_suffix("").parts
    if "benchmarks" in parts[:-2]:
        i = len(parts) - 1 - parts[::-1].index("benchmarks")
        return parts[i + 1:]
    return parts[-2:]


def is_integral(values: pd.Series) -> bool:
    """True when every non-missing value of a numeric column is a whole number (print without '.0')."""
    x = pd.to_numeric(values, errors="coerce").dropna()
    return len(x) > 0 and bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1) == 0))


def number(v: object) -> str:
    """An integer-valued number as an integer ('5', not '5.0'); other values unchanged as text."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return "" if isnan(v) else str(v)
