"""Users' own data sets: a genes x samples table with a sample sheet, or a bulk AnnData.

    datasets:
      my_cohort:
        type: matrix                # genes x samples table + sample sheet
        matrix: data/expr.tsv.gz    # first column gene ids (symbols, Entrez or Ensembl), TSV/CSV, gzip ok
        samples: data/samples.tsv   # columns sample, group (resistant|sensitive), any covariates
        log2: auto                  # as for GEO data sets
        values: auto                # or counts: edgeR TMM log-CPM and limma-trend
      my_h5ad:
        type: h5ad
        path: data/cohort.h5ad      # obs = samples, var = genes
        group_column: response      # obs column with resistant / sensitive

The sample sheet is checked against workflow/schemas/samples.schema.yaml; every sample of
the sheet must be a column of the matrix and every column a sample of the sheet.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputFormatError
from .gene_ids import annotation_for
from .prepare import (
    INTERMEDIATE,
    RESISTANT,
    SENSITIVE,
    PreparedDataset,
    apply_log2,
    assemble,
    collapse_probes,
    group_samples,
)

DEFAULT_GROUPS = {"by": "group", "resistant": "^resistant$", "sensitive": "^sensitive$"}


# --------------------------------------------------------------------------- reading


def _separator(path: str | Path) -> str:
    """Tab unless the first line has commas and no tab."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except (OSError, EOFError) as exc:
        raise InputFormatError(f"{path}: cannot read ({exc})") from exc
    return "," if "," in first and "\t" not in first else "\t"


def read_table(path: str | Path, **kwargs) -> pd.DataFrame:
    """A TSV or CSV (gzip ok; the separator is read from the first line)."""
    try:
        return pd.read_csv(path, sep=_separator(path), **kwargs)
    except (OSError, EOFError, gzip.BadGzipFile, pd.errors.ParserError, UnicodeDecodeError,
            pd.errors.EmptyDataError) as exc:
        raise InputFormatError(f"{path}: cannot read the table ({exc})") from exc


def numeric_frame(table: pd.DataFrame, where: str, what: str = "gene") -> pd.DataFrame:
    """All cells as floats (empty / NA as NaN); raise naming the first non-numeric cell."""
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = values.isna().to_numpy() & table.notna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputFormatError(f"{where}: non-numeric value {table.iat[r, c]!r} for {what} "
                               f"{table.index[r]!r}, column {table.columns[c]!r}")
    return values.astype(float)


def read_matrix(path: str | Path) -> pd.DataFrame:
    """A genes x samples table: first column gene ids, then one numeric column per sample."""
    table = read_table(path, index_col=0)
    if table.shape[1] == 0:
        raise InputFormatError(f"{path}: no sample columns (is the separator a tab or a comma?)")
    table.index = table.index.astype(str).str.strip()
    table.columns = table.columns.astype(str).str.strip()
    if table.columns.duplicated().any():
        raise InputFormatError(f"{path}: sample column {table.columns[table.columns.duplicated()][0]!r} appears twice")
    return numeric_frame(table, str(path))


def plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with categorical columns (as AnnData stores text) turned into plain object columns."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    return out


def read_sample_sheet(path: str | Path, schema_path: str | Path, needs_group: bool = True) -> pd.DataFrame:
    """The sample sheet (index = sample id, all columns as text), validated row by row.

    Raises InputFormatError listing every row that breaks `schema_path`
    (workflow/schemas/samples.schema.yaml), duplicated sample ids, and a missing `group`
    column when `needs_group` (no `groups` rule in config).
    """
    import yaml
    from jsonschema import Draft7Validator

    sheet = read_table(path, dtype=str, keep_default_na=False)
    sheet.columns = sheet.columns.astype(str).str.strip()
    with open(schema_path, encoding="utf-8") as fh:
        validator = Draft7Validator(yaml.safe_load(fh))
    problems = []
    if "sample" not in sheet.columns:
        raise InputFormatError(f"{path}: no 'sample' column; columns are {', '.join(sheet.columns)}")
    if needs_group and "group" not in sheet.columns:
        problems.append("no 'group' column (resistant / sensitive); add it, or derive the groups from another "
                        "column with a `groups` block in config.yaml")
    for i, row in enumerate(sheet.to_dict("records"), start=2):
        for err in validator.iter_errors({k: v.strip() for k, v in row.items()}):
            column = ".".join(map(str, err.absolute_path)) or "(row)"
            message = (f"{err.instance!r} is not one of {', '.join(repr(v) for v in err.validator_value)}"
                       if err.validator == "enum" else err.message)
            problems.append(f"line {i} (sample {row.get('sample', '?')!r}), column {column}: {message}")
    dups = sheet["sample"][sheet["sample"].duplicated()].unique()
    if len(dups):
        problems.append(f"sample id(s) {', '.join(map(repr, dups[:5]))} appear more than once")
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise InputFormatError(f"sample sheet {path}:\n    " + "\n    ".join(shown))
    sheet = sheet.apply(lambda col: col.str.strip())
    return sheet.set_index("sample")


def check_same_samples(matrix_samples, sheet_samples, dataset: str, matrix_path: str, sheet_path: str) -> None:
    """Every sheet sample is a matrix column and the reverse; else an error listing both differences."""
    in_matrix, in_sheet = list(map(str, matrix_samples)), list(map(str, sheet_samples))
    only_sheet = [s for s in in_sheet if s not in set(in_matrix)]
    only_matrix = [s for s in in_matrix if s not in set(in_sheet)]
    if only_sheet or only_matrix:
        def show(ids):
            return ", ".join(ids[:10]) + (f" ... ({len(ids)} in all)" if len(ids) > 10 else "") if ids else "none"

        raise InputFormatError(
            f"data set {dataset}: the samples of {sheet_path} and the columns of {matrix_path} differ.\n"
            f"    in the sheet but not in the matrix: {show(only_sheet)}\n"
            f"    in the matrix but not in the sheet: {show(only_matrix)}\n"
            "Every sample must be in both (mark samples to leave out with group 'excluded')."
        )


# --------------------------------------------------------------------------- scale + genes


def analysis_scale(raw: pd.DataFrame, settings: dict, groups: pd.Series, dataset: str) -> tuple[pd.DataFrame, dict]:
    """Values on the analysis scale and the record of how: GEO2R's log2 rule, or log-CPM for counts."""
    from .rnaseq import check_counts, log_cpm

    if settings.get("values", "auto") == "counts":
        if settings.get("log2") == "yes":
            raise InputFormatError(f"data set {dataset}: counts are transformed to log2-CPM; remove log2: yes")
        analysed = groups[groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
        counts = check_counts(raw[list(analysed.index)], f"data set {dataset}")
        try:
            return log_cpm(counts, analysed, min_count=float(settings.get("min_count", 10)))
        except InputFormatError as exc:
            raise InputFormatError(f"data set {dataset}: {exc}") from None
    values, decision = apply_log2(raw, settings.get("log2", "auto"))
    return values, {**decision.as_dict(), "scale": "log2" if decision.transformed else "as given (log scale)"}


def genes_from_ids(values: pd.DataFrame, id_type: str, mapper) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """Map row identifiers to HGNC symbols and keep, per symbol, the row with the highest mean.

    Returns genes x samples, the `gene, probe, ...` table (probe = the identifier kept), the
    collapsing record and the identifier-mapping record (with the unmapped identifiers).
    """
    n_dup = int(values.index.duplicated().sum())
    if n_dup:  # the same identifier on several rows: keep its row with the highest mean
        means = values.mean(axis=1).to_numpy()
        order = np.argsort(-np.nan_to_num(means, nan=-np.inf), kind="stable")
        values = values.iloc[order]
        values = values[~values.index.duplicated()]
    annotation, id_record = annotation_for(values.index, id_type, mapper)
    id_record["n_duplicate_id_rows_dropped"] = n_dup
    genes, table, record = collapse_probes(values, annotation)
    record["rule"] = ("gene ids mapped to current HGNC symbols; ids without a symbol dropped; the row with "
                      "the highest mean kept per symbol")
    return genes, table, record, id_record


# --------------------------------------------------------------------------- prepare


def prepare_matrix(dataset: str, settings: dict, matrix_path: str, samples_path: str, schema_path: str,
                   mapper, sources: dict | None = None) -> PreparedDataset:
    """The prepare step of a `type: matrix` data set."""
    rule = settings.get("groups") or DEFAULT_GROUPS
    try:
        sheet = read_sample_sheet(samples_path, schema_path, needs_group="groups" not in settings)
    except InputFormatError as exc:
        raise InputFormatError(f"data set {dataset}: {exc}") from None
    raw = read_matrix(matrix_path)
    check_same_samples(raw.columns, sheet.index, dataset, matrix_path, samples_path)
    return _prepare_table(dataset, settings, raw, sheet, rule, mapper,
                          {"matrix": matrix_path, "samples": samples_path, **(sources or {})})


def prepare_h5ad(dataset: str, settings: dict, path: str, mapper, sources: dict | None = None) -> PreparedDataset:
    """The prepare step of a bulk `type: h5ad` data set (obs = samples, var = genes)."""
    import anndata as ad

    try:
        a = ad.read_h5ad(path)
    except (OSError, KeyError, ValueError) as exc:
        raise InputFormatError(f"data set {dataset}: cannot read {path} as .h5ad ({exc})") from exc
    x = a.layers[settings["layer"]] if settings.get("layer") else a.X
    if settings.get("layer") and settings["layer"] not in a.layers:
        raise InputFormatError(f"data set {dataset}: {path} has no layer {settings['layer']!r}; "
                               f"layers: {', '.join(a.layers) or 'none'}")
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    raw = pd.DataFrame(np.asarray(x, dtype=float).T, index=a.var_names.astype(str), columns=a.obs_names.astype(str))
    obs = plain_columns(a.obs)
    obs.index = obs.index.astype(str)
    obs.index.name = "sample"
    rule = settings.get("groups") or {**DEFAULT_GROUPS, "by": settings.get("group_column", "group")}
    return _prepare_table(dataset, settings, raw, obs, rule, mapper, {"h5ad": path, **(sources or {})})


def _prepare_table(dataset: str, settings: dict, raw: pd.DataFrame, samples: pd.DataFrame, rule: dict, mapper,
                   sources: dict) -> PreparedDataset:
    grouping = group_samples(samples, rule, dataset)
    values, log2 = analysis_scale(raw, settings, grouping.groups, dataset)
    genes, probe_table, record, id_record = genes_from_ids(values, settings.get("gene_ids", "auto"), mapper)
    if record["n_genes"] == 0:
        raise InputFormatError(f"data set {dataset}: no gene identifier maps to an HGNC symbol "
                               f"(read as {id_record['id_type']}); set gene_ids to symbol, entrez or ensembl")
    data_type = "rnaseq" if log2.get("scale") == "log2-CPM" else "bulk"
    return assemble(dataset, settings, genes, samples, grouping, probe_table, data_type=data_type, log2=log2,
                    probe_collapse=record, sources=sources, extra_uns={"gene_ids": id_record})
