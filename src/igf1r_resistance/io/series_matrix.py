"""Parse GEO series matrix files (`GSExxx_series_matrix.txt.gz`).

A series matrix has `!Series_*` header lines (one value, possibly repeated), `!Sample_*`
lines (one tab-separated, quoted value per sample, possibly repeated, e.g. several
`!Sample_characteristics_ch1` lines) and a data table between
`!series_matrix_table_begin` and `!series_matrix_table_end` (probes x samples).

GEOparse reads SOFT files only and silently returns no samples for a series matrix,
so this is a small dedicated reader.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFormatError

TABLE_BEGIN = "!series_matrix_table_begin"
TABLE_END = "!series_matrix_table_end"
MISSING_TOKENS = {"", "null", "NA", "NaN", "nan", "N/A", "--"}


@dataclass
class SeriesMatrix:
    """The content of one series matrix file."""

    series: dict[str, list[str]]  # !Series_ field -> values (repeated lines kept in order)
    samples: pd.DataFrame  # one row per sample (index GSM id), all !Sample_ fields
    expression: pd.DataFrame  # probes x samples, float, NaN for missing
    path: str = ""
    notes: list[str] = field(default_factory=list)
    #: the sample-table columns that came from `!Sample_characteristics_chN` "key: value" cells
    characteristics: list[str] = field(default_factory=list)

    @property
    def accession(self) -> str:
        return (self.series.get("geo_accession") or [""])[0]


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        token = token[1:-1]
    return token


def _split(line: str) -> list[str]:
    return [_unquote(t) for t in line.rstrip("\r\n").split("\t")]


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _characteristics_columns(
    values_per_line: list[list[str]], channel: str, notes: list[str]
) -> dict[str, list[str | None]]:
    """Turn `!Sample_characteristics_chN` lines into one column per key.

    Each cell reads "key: value". A line may mix keys across samples, so keys are taken
    per cell. A key repeated for one sample (two lines with the same key) is joined with
    "; ". Cells without "key:" go to `characteristics_{channel}` so nothing is lost.
    Keys of the second channel are suffixed " (ch2)" so they cannot shadow channel 1.
    """
    n = len(values_per_line[0]) if values_per_line else 0
    columns: dict[str, list[str | None]] = {}
    for values in values_per_line:
        for i, cell in enumerate(values):
            if cell in MISSING_TOKENS:
                continue
            key, sep, value = cell.partition(":")
            if sep and key.strip():
                name = key.strip() if channel == "ch1" else f"{key.strip()} ({channel})"
                value = value.strip()
            else:
                name = f"characteristics_{channel}"
                value = cell.strip()
            col = columns.setdefault(name, [None] * n)
            if col[i] is None:
                col[i] = value
            else:
                col[i] = f"{col[i]}; {value}"
                notes.append(f"characteristic '{name}' repeated for sample column {i + 1}")
    return columns


def read_series_matrix(path: str | Path) -> SeriesMatrix:
    """Read a GEO series matrix (gzip or plain text).

    Returns the series header fields, a sample table (index = GSM accession; every
    `!Sample_` field as a column without the prefix; each `characteristics_ch1`
    "key: value" pair as its own column named by the key, `_ch2` keys suffixed " (ch2)")
    and the expression table (probes x samples, `null` and empty cells as NaN).

    Raises InputFormatError naming the file and what is wrong (no table, truncated
    table, sample columns that do not match the header, non-numeric values).
    """
    path = Path(path)
    series, sample_fields, header, rows, saw_end = _read_sections(path)
    notes: list[str] = []
    samples, gsm, characteristics = _sample_table(path, sample_fields, notes)

    if header is None:
        expression = pd.DataFrame(index=pd.Index([], name="probe"), columns=gsm, dtype=float)
        notes.append("the data table is empty (RNA-seq series keep their data in supplementary files)")
    else:
        if not saw_end:
            raise InputFormatError(
                f"{path}: data table has no '{TABLE_END}' line; the file is truncated, "
                "delete it and download it again"
            )
        expression = _parse_table(path, header, rows, gsm)
    return SeriesMatrix(series=series, samples=samples, expression=expression, path=str(path), notes=notes,
                        characteristics=characteristics)


def _read_sections(path: Path) -> tuple[dict[str, list[str]], dict[str, list[list[str]]], list[str] | None,
                                      list[list[str]], bool]:
    """The file's `!Series_` fields (key -> lines), `!Sample_` fields (key -> lines of
    values), the data table's header and rows (split, blank lines skipped) and whether the
    table's end line was seen."""
    series: dict[str, list[str]] = {}
    sample_fields: dict[str, list[list[str]]] = {}
    header: list[str] | None = None
    rows: list[list[str]] = []
    in_table = False
    saw_end = False
    try:
        with _open_text(path) as fh:
            for line in fh:
                if in_table:
                    if line.startswith(TABLE_END):
                        saw_end = True
                        in_table = False
                        continue
                    if not line.strip():
                        continue
                    cells = _split(line)
                    if header is None:
                        header = cells
                    else:
                        rows.append(cells)
                    continue
                if line.startswith(TABLE_BEGIN):
                    in_table = True
                elif line.startswith("!Series_"):
                    parts = _split(line)
                    key = parts[0][len("!Series_") :]
                    series.setdefault(key, []).append("\t".join(parts[1:]))
                elif line.startswith("!Sample_"):
                    parts = _split(line)
                    key = parts[0][len("!Sample_") :]
                    sample_fields.setdefault(key, []).append(parts[1:])
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputFormatError(
            f"{path}: cannot read series matrix ({exc}); the file is corrupt or truncated, "
            "delete it and download it again"
        ) from exc
    return series, sample_fields, header, rows, saw_end


def _sample_table(path: Path, sample_fields: dict[str, list[list[str]]], notes: list[str]
                  ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The sample table (index: GSM accessions) from the `!Sample_` fields, the GSM
    accessions in file order and the characteristics keys; characteristics become one column
    per key (notes appended)."""
    if "geo_accession" not in sample_fields:
        raise InputFormatError(
            f"{path}: no '!Sample_geo_accession' line; this is not a GEO series matrix "
            "(a SOFT or MINiML file needs a different reader)"
        )
    gsm = sample_fields["geo_accession"][0]
    n = len(gsm)
    table: dict[str, list] = {}
    characteristics: list[str] = []
    for key, lines in sample_fields.items():
        for values in lines:
            if len(values) != n:
                raise InputFormatError(
                    f"{path}: field '!Sample_{key}' has {len(values)} values for {n} samples"
                )
        m = re.fullmatch(r"characteristics_(ch\d+)", key)
        if m:
            keys = _characteristics_columns(lines, m.group(1), notes)
            table.update(keys)
            characteristics += [k for k in keys if k not in characteristics]
            continue
        if len(lines) == 1:
            table[key] = [None if v in MISSING_TOKENS else v for v in lines[0]]
        else:  # repeated plain field (e.g. several !Sample_data_processing lines)
            table[key] = [
                "; ".join(v for v in vals if v not in MISSING_TOKENS) or None
                for vals in zip(*lines)
            ]
    samples = pd.DataFrame(table, index=pd.Index(gsm, name="sample"))
    # 'title' etc. exist in every real file; characteristic keys may shadow them: field wins
    samples = samples.loc[:, ~samples.columns.duplicated()]
    return samples, gsm, characteristics


def _parse_table(path: Path, header: list[str], rows: list[list[str]], gsm: list[str]) -> pd.DataFrame:
    columns = header[1:]
    unknown = [c for c in columns if c not in set(gsm)]
    if unknown:
        raise InputFormatError(
            f"{path}: data table columns {unknown[:5]} are not samples listed in "
            "'!Sample_geo_accession'"
        )
    width = len(header)
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        i = bad[0]
        raise InputFormatError(
            f"{path}: data row {i + 1} (probe '{rows[i][0]}') has {len(rows[i])} cells, "
            f"the header has {width}"
        )
    probes = [r[0] for r in rows]
    raw = np.array([r[1:] for r in rows], dtype=object).reshape(len(rows), width - 1)
    flat = pd.Series(raw.ravel())
    missing = flat.isin(MISSING_TOKENS)
    numbers = pd.to_numeric(flat.where(~missing), errors="coerce")
    bad_cells = numbers.isna() & ~missing
    if bad_cells.any():
        r, c = divmod(int(np.flatnonzero(bad_cells.to_numpy())[0]), width - 1)
        raise InputFormatError(
            f"{path}: non-numeric value {raw[r, c]!r} for probe '{probes[r]}', sample "
            f"'{columns[c]}'"
        )
    values = numbers.to_numpy(dtype=float).reshape(raw.shape)
    expression = pd.DataFrame(values, index=pd.Index(probes, name="probe"), columns=columns)
    if expression.index.duplicated().any():
        dup = expression.index[expression.index.duplicated()][0]
        raise InputFormatError(f"{path}: probe '{dup}' appears twice in the data table")
    return expression
