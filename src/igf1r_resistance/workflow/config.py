"""Validate the workflow config against its JSON-Schema, with messages a user can act on.

jsonschema's own messages name a JSON path; users think in YAML keys, so every error is
rewritten as "config.yaml, <dotted key>: <what is wrong>". Defaults from the schema are
filled in, so every later step sees the complete config.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

from ..errors import ConfigError
from ..pp.designs import contrast_problems, design_problems, has_design

GEO_ID = re.compile(r"^GSE[0-9]+$")
GEO_TYPES = ("geo", "geo_rnaseq")
LOCAL_TYPES = ("matrix", "h5ad", "single_cell")
_COMMON_KEYS = {"type", "drug", "drug_class", "model", "model_type", "note", "groups", "log2", "controls",
                "design", "contrasts"}
#: types a design can use: the terms are sample-sheet columns (matrix), characteristics keys or
#: sample fields of the series matrix (geo, geo_rnaseq; checked by prepare once it is read), or
#: obs columns (h5ad; checked by prepare)
DESIGN_TYPES = ("matrix", "geo", "geo_rnaseq", "h5ad")
#: keys each data-set type accepts (besides the common ones); others are errors
TYPE_KEYS = {
    "geo": {"platform"},
    "geo_rnaseq": {"platform", "counts_file", "annotation_file", "min_count"},
    "matrix": {"matrix", "samples", "values", "gene_ids", "min_count"},
    "h5ad": {"path", "layer", "group_column", "values", "gene_ids", "min_count"},
    "single_cell": {"path", "suppl_file", "layer", "group_column", "replicate_column", "obs_columns",
                    "values", "gene_ids"},
}
#: `values` each type accepts (single_cell has no default: it must be declared)
TYPE_VALUES = {
    "matrix": ("auto", "counts"),
    "h5ad": ("auto", "counts"),
    "single_cell": ("counts", "normalised", "log_normalised", "zscore"),
}


def _extend_with_defaults(validator_class):
    from jsonschema import validators

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _where(error) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def _message(error) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key(s) {', '.join(map(repr, extra))}{hint}"
    if error.validator == "propertyNames":
        return f"{error.instance!r} is not an allowed name ({error.message})"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required here")
    return error.message


def validate_config(
    config: dict, schema_path: str | Path, config_name: str = "config.yaml", workflow_dir: str | Path | None = None
) -> dict:
    """Return a validated copy of `config` with schema defaults filled in.

    With `workflow_dir` (the workflow's own folder), relative file paths of the config are
    resolved as `resolve_path` says, so the workflow also runs as a Snakemake module from
    another folder. Raises ConfigError listing every problem, each with its dotted key.
    """
    from jsonschema import Draft7Validator

    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    config = copy.deepcopy(config)
    unquoted = [name for name in (config.get("datasets") or {}) if not isinstance(name, str)]
    if unquoted:
        # YAML reads `2024:`, `null:`, `yes:` as a number, None or a boolean, not as a name
        lines = [
            f"  {config_name}, datasets: data-set id {name!r} was read by YAML as "
            f"{type(name).__name__}, not text; quote it (e.g. \"{name}\":)"
            for name in unquoted
        ]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    for name, settings in (config.get("datasets") or {}).items():
        if isinstance(settings, dict) and "type" not in settings and GEO_ID.match(str(name)):
            settings["type"] = "geo"  # GEO accessions default to a series-matrix data set
    validator = _extend_with_defaults(Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  {config_name}, {_where(e)}: {_message(e)}" for e in errors]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    if workflow_dir is not None:
        _resolve_config_paths(config, Path(workflow_dir))
    problems = []
    scoring = config["scoring"]
    if scoring["primary"] not in scoring["methods"]:
        problems.append(
            f"  {config_name}, scoring.primary: {scoring['primary']!r} must be one of scoring.methods "
            f"({', '.join(scoring['methods'])})"
        )
    for path in config["gene_sets"]["gmt"]:
        if not Path(path).is_file():
            problems.append(f"  {config_name}, gene_sets.gmt: file {path!r} does not exist")
    if not Path(config["gene_sets"]["catalogue"]).is_file():
        problems.append(
            f"  {config_name}, gene_sets.catalogue: file {config['gene_sets']['catalogue']!r} does not exist"
        )
    ids = [h["id"] for h in config["hypotheses"]["extra"]]
    if len(ids) != len(set(ids)):
        problems.append(f"  {config_name}, hypotheses.extra: hypothesis ids must be unique")
    sample_schema = Path(schema_path).parent / "samples.schema.yaml"
    for name, settings in config["datasets"].items():
        problems += [f"  {config_name}, datasets.{name}{p}" for p in dataset_problems(name, settings, sample_schema)]
        problems += [f"  {config_name}, datasets.{name}{p}" for p in _resolve_drug_class(settings)]
        for contrast, entry in (settings.get("contrasts") or {}).items():
            if entry.get("drug"):  # a contrast's own drug gives its own class
                problems += [f"  {config_name}, datasets.{name}.contrasts.{contrast}{p}"
                             for p in _resolve_drug_class(entry)]
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))
    return config


def resolve_path(path: str, workflow_dir: str | Path) -> str:
    """A relative path as the user's working directory has it, else in the workflow's folder.

    A path that exists relative to the working directory is kept as written (a normal run
    in the repository, or a file the user's config names); one that exists only relative to
    `workflow_dir` (the catalogue, HGNC table or demo mirror of a workflow used as a
    Snakemake module from another folder) becomes that absolute path. Absolute paths, URLs
    and paths found in neither place are returned unchanged (later checks name them).
    """
    if "://" in path or Path(path).is_absolute() or Path(path).exists():
        return path
    in_workflow = Path(workflow_dir) / path
    return str(in_workflow) if in_workflow.exists() else path


def library_on_pythonpath(src_dir: str | Path) -> None:
    """Put `src_dir` first on PYTHONPATH, so the jobs Snakemake starts (scripts, also in conda
    environments and on SLURM) import this library from the workflow's own folder."""
    import os

    parts = [str(src_dir)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(src_dir)]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)


def shown_paths(value, workflow_dir: str | Path):
    """`value` (text, or lists and dicts of it) with the workflow's folder left out of paths.

    The inverse of `resolve_path` for what outputs record (sources, probe choices): a file of
    the workflow is recorded relative to its folder, so a run as a Snakemake module from
    another folder writes the same text as a run in the repository.
    """
    prefix = str(Path(workflow_dir).resolve()).rstrip("/") + "/"
    if isinstance(value, str):
        return value.replace(prefix, "")
    if isinstance(value, dict):
        return {k: shown_paths(v, workflow_dir) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(shown_paths(v, workflow_dir) for v in value)
    return value


def _resolve_config_paths(config: dict, workflow_dir: Path) -> None:
    """Apply `resolve_path` to every file or folder path of the config (in place)."""
    gene_sets = config["gene_sets"]
    gene_sets["catalogue"] = resolve_path(gene_sets["catalogue"], workflow_dir)
    gene_sets["gmt"] = [resolve_path(p, workflow_dir) for p in gene_sets["gmt"]]
    config["geo"]["local_mirrors"] = [resolve_path(p, workflow_dir) for p in config["geo"]["local_mirrors"]]
    annotation = config.get("platform_annotation") or {}
    for platform, path in annotation.items():
        annotation[platform] = resolve_path(str(path), workflow_dir)
    for settings in config["datasets"].values():
        for key in ("matrix", "samples", "path"):
            if isinstance(settings.get(key), str):
                settings[key] = resolve_path(settings[key], workflow_dir)


def dataset_type(name: str, settings: dict) -> str:
    """The data-set type: the declared one, else geo for a GSE accession."""
    return settings.get("type") or ("geo" if GEO_ID.match(str(name)) else "")


def dataset_problems(name: str, settings: dict, sample_schema: str | Path | None = None) -> list[str]:
    """What is wrong with one data-set entry beyond its JSON-Schema (each as ': message' or '.key: message').

    Checks the combination of keys with the type, the id, the group rule, that local files
    exist, and validates a matrix data set's sample sheet against `sample_schema`.
    """
    kind = dataset_type(name, settings)
    if not kind:
        return [": a local data set needs a type (matrix, h5ad or single_cell); only GEO series accessions "
                "(GSE...) default to type geo"]
    out = []
    if kind in GEO_TYPES and not GEO_ID.match(name):
        out.append(f": type {kind} needs a GEO series accession (GSE...) as the data set id, not {name!r}")
    allowed = _COMMON_KEYS | TYPE_KEYS[kind]
    wrong = sorted(set(settings) - allowed)
    if wrong:
        out.append(f": key(s) {', '.join(map(repr, wrong))} do not apply to type {kind}; "
                   f"allowed keys: {', '.join(sorted(allowed))}")
    if kind in TYPE_VALUES:
        values = settings.get("values")
        if values is None and kind == "single_cell":
            out.append(".values: single_cell data must declare what the values are: "
                       + ", ".join(TYPE_VALUES[kind]))
        elif values is not None and values not in TYPE_VALUES[kind]:
            out.append(f".values: {values!r} does not apply to type {kind}; use one of {', '.join(TYPE_VALUES[kind])}")
        if kind == "single_cell" and settings.get("log2") == "yes":
            out.append(".log2: single-cell preprocessing follows `values` (counts: normalise_total + log1p; "
                       "z-scores and log-normalised values are used as they are); set log2 to no or leave it out")
        if kind != "single_cell" and values == "counts" and settings.get("log2") == "yes":
            out.append(".log2: counts are transformed to log2-CPM; set log2 to no or leave it out")
    if kind == "single_cell":
        if bool(settings.get("path")) == bool(settings.get("suppl_file")):
            out.append(": single_cell needs exactly one of path (a local file) or suppl_file "
                       "(a file of the GEO series' suppl folder)")
        if settings.get("suppl_file") and not GEO_ID.match(name):
            out.append(".suppl_file: needs a GEO series accession (GSE...) as the data set id")
    if kind in ("h5ad", "single_cell"):
        if "groups" not in settings and "group_column" not in settings and not has_design(settings):
            out.append(": give groups (by, resistant, sensitive) or group_column" +
                       (" (or design + contrasts)" if kind == "h5ad" else ""))
        if "groups" in settings and "group_column" in settings:
            out.append(": give groups or group_column, not both")
    out += _group_problems(settings.get("groups"))
    out += _design_keys_problems(kind, settings)
    for key in ("matrix", "samples", "path"):
        if kind in LOCAL_TYPES and settings.get(key) and not Path(settings[key]).is_file():
            out.append(f".{key}: file {settings[key]!r} does not exist")
    if kind == "matrix" and sample_schema is not None and settings.get("samples") and Path(settings["samples"]).is_file():
        from ..errors import InputFormatError
        from ..io.local_data import read_sample_sheet

        try:
            sheet = read_sample_sheet(settings["samples"], sample_schema,
                                      needs_group="groups" not in settings and not has_design(settings))
        except InputFormatError as exc:
            out.append(f".samples: {exc}")
        else:
            if has_design(settings) and settings.get("design") and not out:
                # the design is checked on the sample sheet now, before any job runs
                out += design_problems(sheet, settings["design"], settings["contrasts"])
    elif kind in DESIGN_TYPES and has_design(settings) and settings.get("design") and not out:
        # a series or h5ad is read by prepare (which checks the terms and levels on it); what the
        # contrasts say alone is checked now
        out += contrast_problems(settings["design"], settings["contrasts"])
    return out


def _design_keys_problems(kind: str, settings: dict) -> list[str]:
    """`design` and `contrasts` come together, not with `groups`, on a type that has a sample sheet."""
    if "design" not in settings and "contrasts" not in settings:
        return []
    out = []
    if kind not in DESIGN_TYPES:
        out.append(f": design/contrasts are supported for type {', '.join(DESIGN_TYPES)} (samples with the "
                   f"design's columns), not {kind}")
    if "groups" in settings or "group_column" in settings:
        key = "groups" if "groups" in settings else "group_column"
        out.append(f": give {key} (one two-group comparison) or design + contrasts, not both")
    for key, other in (("design", "contrasts"), ("contrasts", "design")):
        if key in settings and other not in settings:
            out.append(f": {key} needs {other}")
    return out


def _resolve_drug_class(settings: dict) -> list[str]:
    """Fill `drug_class` from `drug` when not declared (drugs.infer_drug_class); problems, if any."""
    from ..genesets.drugs import infer_drug_class

    if settings.get("drug_class"):
        return []
    try:
        drug_class, _ = infer_drug_class(settings.get("drug", ""))
    except ValueError as exc:
        return [f".drug_class: {exc}"]
    if drug_class:  # unknown stays absent (the schema's enum has no empty class)
        settings["drug_class"] = drug_class
    return []


def _group_problems(groups: dict | None) -> list[str]:
    if not groups:
        return []
    if groups.get("numeric"):
        out = []
        regex = [k for k in ("resistant", "sensitive") if k in groups]
        if regex:
            out.append(f".groups: numeric groups take resistant_fraction / sensitive_fraction, not {', '.join(regex)}")
        missing = [k for k in ("resistant_fraction", "sensitive_fraction") if k not in groups]
        if missing:
            out.append(f".groups: numeric groups need {' and '.join(missing)}")
        elif groups["resistant_fraction"] + groups["sensitive_fraction"] > 1:
            out.append(".groups: resistant_fraction + sensitive_fraction must be at most 1 (got "
                       f"{groups['resistant_fraction']} + {groups['sensitive_fraction']})")
        return out
    extra = [k for k in ("resistant_fraction", "sensitive_fraction", "higher_is") if k in groups]
    if extra:
        return [f".groups: {', '.join(extra)} need numeric: true"]
    missing = [k for k in ("resistant", "sensitive") if k not in groups]
    if missing:
        return [f".groups: {' and '.join(repr(m) for m in missing)} required here (regexes), or set numeric: true"]
    return []
