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
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFormatError
from ..pp.designs import design_grouping, has_design
from ..pp.gene_ids import annotation_for
from ..pp.groups import INTERMEDIATE, RESISTANT, SENSITIVE, group_samples
from ..pp.log_scale import apply_log2
from ..pp.prepare import PreparedDataset, assemble, collapse_probes, take

DEFAULT_GROUPS = {"by": "group", "resistant": "^resistant$", "sensitive": "^sensitive$"}


# --------------------------------------------------------------------------- reading


def _first_line(path: str | Path) -> str:
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            return fh.readline()
    except (OSError, EOFError) as exc:
        raise InputFormatError(f"{path}: cannot read ({exc})") from exc


def _separator(path: str | Path) -> str:
    """Tab unless the first line has commas and no tab."""
    first = _first_line(path)
    return "," if "," in first and "\t" not in first else "\t"


def read_table(path: str | Path, **kwargs) -> pd.DataFrame:
    """A TSV or CSV (gzip ok; the separator is read from the first line)."""
    try:
        return pd.read_csv(path, sep=_separator(path), **kwargs)
    except (OSError, EOFError, gzip.BadGzipFile, pd.errors.ParserError, UnicodeDecodeError,
            pd.errors.EmptyDataError) as exc:
        raise InputFormatError(f"{path}: cannot read the table ({exc})") from exc


def numeric_values(table: pd.DataFrame, where: str, what: str = "gene") -> np.ndarray:
    """All cells as a float64 array (empty / NA as NaN); raise naming the first non-numeric
    cell (row by row). Only text columns go through `pd.to_numeric`."""
    text = [i for i, dt in enumerate(table.dtypes) if not pd.api.types.is_numeric_dtype(dt)]
    if not text:
        return table.to_numpy(dtype=float)
    sub = table.iloc[:, text]
    converted = sub.apply(pd.to_numeric, errors="coerce")
    bad = converted.isna().to_numpy() & sub.notna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputFormatError(f"{where}: non-numeric value {sub.iat[r, c]!r} for {what} "
                               f"{table.index[r]!r}, column {sub.columns[c]!r}")
    values = np.empty(table.shape)
    numeric = np.setdiff1d(np.arange(table.shape[1]), text)
    values[:, numeric] = table.iloc[:, numeric].to_numpy(dtype=float)
    values[:, text] = converted.to_numpy(dtype=float)
    return values


def numeric_frame(table: pd.DataFrame, where: str, what: str = "gene") -> pd.DataFrame:
    """All cells as floats (empty / NA as NaN); raise naming the first non-numeric cell."""
    return pd.DataFrame(numeric_values(table, where, what), index=table.index, columns=table.columns, copy=False)


_QUOTED = re.compile(rb'"[^"]*"')


def _scan_records(path: str | Path, sep: str) -> tuple[int, int | None, bool]:
    """One pass over the lines of a table, before it is parsed in chunks.

    Returns `(lines, bad, simple)`: the number of lines (at least the number of records),
    the number of data lines up to the first record with more fields than the table has
    columns (None when there is none; pandas rejects such a record when it parses a file
    whole, but may misread it when it opens a chunk), and whether every record is one
    line ending in LF (no CR-only line ends, no quoted field spanning lines), which the
    chunked reading relies on.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    sep_b = sep.encode()
    lines, header, expected, bad = 0, None, None, None
    with opener(path, "rb") as fh:
        for line in fh:
            lines += 1
            body = line.rstrip(b"\r\n")
            if b"\r" in body or line.count(b'"') % 2:
                return lines, None, False
            if b'"' in body:
                body = _QUOTED.sub(b"", body)
            fields = body.count(sep_b) + 1
            if header is None:
                header = fields
            elif line in (b"\n", b"\r\n"):
                continue  # blank lines are skipped
            else:
                if expected is None:  # a first record one field longer: its first field is the row name
                    expected = header + 1 if fields == header + 1 else header
                if bad is None and fields > expected:
                    bad = lines - 1
    return lines, bad, True


#: cells parsed per chunk of rows by read_matrix
MATRIX_CHUNK_CELLS = 2**24


def _checked_columns(columns: pd.Index, path: str | Path) -> pd.Index:
    columns = columns.astype(str).str.strip()
    if len(columns) == 0:
        raise InputFormatError(f"{path}: no sample columns (is the separator a tab or a comma?)")
    if columns.duplicated().any():
        raise InputFormatError(f"{path}: sample column {columns[columns.duplicated()][0]!r} appears twice")
    return columns


def _read_matrix_whole(path: str | Path) -> pd.DataFrame:
    """read_matrix by one pandas parse of the whole table (for tables the chunked reading
    does not handle: CR-only line ends, quoted fields spanning lines, no data rows)."""
    table = read_table(path, index_col=0, dtype={0: str})
    table.columns = _checked_columns(table.columns, path)
    table.index = table.index.astype(str).str.strip()
    return numeric_frame(table, str(path))


def read_matrix(path: str | Path) -> pd.DataFrame:
    """A genes x samples table: first column gene ids, then one numeric column per sample.

    The table is parsed in chunks of rows straight into one preallocated float64 array
    (samples x genes in memory, the layout of an AnnData X), so a large matrix is held
    once: 10,000 samples x 20,000 genes take 1.6 GB, not the 4-5 times that of parsing it
    whole and converting it. Gene ids are read as text. Errors are those of one parse of
    the whole table (pandas' message for a malformed record, the first non-numeric cell).
    """
    sep = _separator(path)
    n_fields = max(1, _first_line(path).count(sep) + 1)
    try:
        lines, bad, simple = _scan_records(path, sep)
        if not simple:
            return _read_matrix_whole(path)
        if bad is not None:  # pandas names the record as it does when it reads the file whole
            read_table(path, index_col=0, dtype={0: str}, nrows=bad)
            return _read_matrix_whole(path)
        ids: list[pd.Index] = []
        buffer, columns, filled = None, None, 0
        with pd.read_csv(path, sep=sep, index_col=0, dtype={0: str},
                         chunksize=max(1, MATRIX_CHUNK_CELLS // n_fields)) as reader:
            for chunk in reader:
                if columns is None:
                    columns = _checked_columns(chunk.columns, path)
                    buffer = np.empty((len(columns), max(lines, 1)))
                chunk.index = chunk.index.astype(str).str.strip()
                chunk.columns = columns
                values = numeric_values(chunk, str(path))
                rows = values.shape[0]
                if filled + rows > buffer.shape[1]:  # not expected: every record is a line
                    grown = np.empty((buffer.shape[0], 2 * (filled + rows)))
                    grown[:, :filled] = buffer[:, :filled]
                    buffer = grown
                buffer[:, filled:filled + rows] = values.T
                filled += rows
                ids.append(chunk.index)
    except (OSError, EOFError, gzip.BadGzipFile, pd.errors.ParserError, UnicodeDecodeError,
            pd.errors.EmptyDataError) as exc:
        raise InputFormatError(f"{path}: cannot read the table ({exc})") from exc
    if columns is None:  # a header and no records
        return _read_matrix_whole(path)
    index = ids[0].append(ids[1:]) if len(ids) > 1 else ids[0]
    return pd.DataFrame(buffer[:, :filled].T, index=index, columns=columns, copy=False)


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


def analysis_scale(raw: pd.DataFrame, settings: dict, groups: pd.Series, dataset: str,
                   inplace: bool = False) -> tuple[pd.DataFrame, dict]:
    """Values on the analysis scale and the record of how: GEO2R's log2 rule, or log-CPM for counts.

    `inplace=True`: a log2 transform overwrites `raw`'s values (no copy of a large matrix).
    """
    from ..pp.rnaseq import check_counts, log_cpm

    if settings.get("values", "auto") == "counts":
        if settings.get("log2") == "yes":
            raise InputFormatError(f"data set {dataset}: counts are transformed to log2-CPM; remove log2: yes")
        analysed = groups[groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
        counts = check_counts(raw[list(analysed.index)], f"data set {dataset}")
        try:
            return log_cpm(counts, analysed, min_count=float(settings.get("min_count", 10)))
        except InputFormatError as exc:
            raise InputFormatError(f"data set {dataset}: {exc}") from None
    values, decision = apply_log2(raw, settings.get("log2", "auto"), inplace=inplace)
    return values, {**decision.as_dict(), "scale": "log2" if decision.transformed else "as given (log scale)"}


def genes_from_ids(values: pd.DataFrame, id_type: str, mapper,
                   inplace: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """Map row identifiers to HGNC symbols and keep, per symbol, the row with the highest mean.

    Returns genes x samples, the `gene, probe, ...` table (probe = the identifier kept), the
    collapsing record and the identifier-mapping record (with the unmapped identifiers).
    `inplace=True`: the result is built in `values`' memory (`values` is overwritten).
    """
    n_dup = int(values.index.duplicated().sum())
    if n_dup:  # the same identifier on several rows: keep its row with the highest mean
        means = values.mean(axis=1).to_numpy()
        order = np.argsort(-np.nan_to_num(means, nan=-np.inf), kind="stable")
        keep = order[~values.index[order].duplicated()]
        values = take(values, keep, inplace=inplace)
    annotation, id_record = annotation_for(values.index, id_type, mapper)
    id_record["n_duplicate_id_rows_dropped"] = n_dup
    genes, table, record = collapse_probes(values, annotation, inplace=inplace)
    record["rule"] = ("gene ids mapped to current HGNC symbols; ids without a symbol dropped; the row with "
                      "the highest mean kept per symbol")
    return genes, table, record, id_record


# --------------------------------------------------------------------------- prepare


def prepare_matrix(dataset: str, settings: dict, matrix_path: str, samples_path: str, schema_path: str,
                   mapper, sources: dict | None = None) -> PreparedDataset:
    """The prepare step of a `type: matrix` data set."""
    rule = settings.get("groups") or DEFAULT_GROUPS
    try:
        sheet = read_sample_sheet(samples_path, schema_path,
                                  needs_group="groups" not in settings and not has_design(settings))
    except InputFormatError as exc:
        raise InputFormatError(f"data set {dataset}: {exc}") from None
    raw = read_matrix(matrix_path)
    check_same_samples(raw.columns, sheet.index, dataset, matrix_path, samples_path)
    return _prepare_table(dataset, settings, raw, sheet, rule, mapper,
                          {"matrix": matrix_path, "samples": samples_path, **(sources or {})}, own=True)


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
    raw = pd.DataFrame(np.asarray(x, dtype=float).T, index=a.var_names.astype(str), columns=a.obs_names.astype(str), copy=False)
    obs = plain_columns(a.obs)
    obs.index = obs.index.astype(str)
    obs.index.name = "sample"
    rule = settings.get("groups") or {**DEFAULT_GROUPS, "by": settings.get("group_column", "group")}
    del a, x
    return _prepare_table(dataset, settings, raw, obs, rule, mapper, {"h5ad": path, **(sources or {})}, own=True)


def _prepare_table(dataset: str, settings: dict, raw: pd.DataFrame, samples: pd.DataFrame, rule: dict, mapper,
                   sources: dict, own: bool = False) -> PreparedDataset:
    """`own=True`: `raw` was read for this call alone, so its memory may be reused for the
    analysis matrix (one copy of the matrix in memory, not three)."""
    if has_design(settings):
        grouping = design_grouping(dataset, samples, settings["design"], settings["contrasts"],
                                   where=str(sources.get("samples", "")))
    else:
        grouping = group_samples(samples, rule, dataset)
    values, log2 = analysis_scale(raw, settings, grouping.groups, dataset, inplace=own)
    del raw
    genes, probe_table, record, id_record = genes_from_ids(values, settings.get("gene_ids", "auto"), mapper,
                                                           inplace=own)
    del values
    if record["n_genes"] == 0:
        raise InputFormatError(f"data set {dataset}: no gene identifier maps to an HGNC symbol "
                               f"(read as {id_record['id_type']}); set gene_ids to symbol, entrez or ensembl")
    data_type = "rnaseq" if log2.get("scale") == "log2-CPM" else "bulk"
    return assemble(dataset, settings, genes, samples, grouping, probe_table, data_type=data_type, log2=log2,
                    probe_collapse=record, sources=sources, extra_uns={"gene_ids": id_record}, own_matrix=own)
