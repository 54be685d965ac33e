"""GEO file layout, acquisition (local mirrors first, then download) and platform annotation.

GEO's layout under https://ftp.ncbi.nlm.nih.gov/geo:
  series/GSE15nnn/GSE15709/matrix/GSE15709_series_matrix.txt.gz
  series/GSE15nnn/GSE15709/matrix/GSE15709-GPL570_series_matrix.txt.gz  (SuperSeries or
                                                                          multi-platform)
  platforms/GPLnnn/GPL570/annot/GPL570.annot.gz
  platforms/GPLnnn/GPL570/soft/GPL570_family.soft.gz
  series/GSE108nnn/GSE108383/suppl/<file>                               (supplementary files)
The demo mirror (.test/geo) adds soft/GPL570_probe2symbol_idmap2.tsv.gz (not GEO-native).

GEO's NCBI-computed RNA-seq counts are not in that tree: GEO serves them from its download
endpoint https://www.ncbi.nlm.nih.gov/geo/download/?type=rnaseq_counts&acc=GSE...&format=file&file=...
(the counts table GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz and the gene table
Human.GRCh38.p13.annot.tsv.gz). Local mirrors keep them, by our convention, under
  series/GSE164nnn/GSE164073/rnaseq_counts/<file>
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from ..errors import AnnotationError, ConfigError, DownloadError, InputFormatError, NotFoundError
from .download import fetch_url, list_directory, local_path

DEFAULT_BASE_URL = "https://ftp.ncbi.nlm.nih.gov/geo"
DEFAULT_DOWNLOAD_URL = "https://www.ncbi.nlm.nih.gov/geo/download/"
_ACCESSION = re.compile(r"(GSE|GPL|GSM|GDS)(\d+)")
_MATRIX = re.compile(r"series/GSE\d*nnn/(GSE\d+)/matrix/(\1)(?:-(GPL\d+))?_series_matrix\.txt\.gz")
_DECLARED = re.compile(
    r"[!^](?:Annotation_platform|PLATFORM|Platform_geo_accession)\s*=\s*(GPL\d+)\s*$"
)
SYMBOL_COLUMNS = ("gene symbol", "gene_symbol", "symbol")  # matched case-insensitively
NONE_VALUES = {"", "---", "--", "-", "NA", "N/A", "null"}


def nnn_folder(accession: str) -> str:
    """GEO's range folder: the last three digits become 'nnn' (GSE15709 -> GSE15nnn)."""
    match = _ACCESSION.fullmatch(accession)
    if not match:
        raise ConfigError(f"{accession!r} is not a GEO accession like GSE15709 or GPL570")
    prefix, digits = match.groups()
    return f"{prefix}{digits[:-3]}nnn"


def series_matrix_candidates(gse: str, platform: str | None) -> list[str]:
    """Relative paths of a series matrix to try, best first."""
    folder = f"series/{nnn_folder(gse)}/{gse}/matrix"
    plain = f"{folder}/{gse}_series_matrix.txt.gz"
    if platform:
        nnn_folder(platform)  # validates the accession
        return [f"{folder}/{gse}-{platform}_series_matrix.txt.gz", plain]
    return [plain]


def suppl_path(gse: str, name: str) -> str:
    """Relative path of a file in a series' supplementary folder."""
    return f"series/{nnn_folder(gse)}/{gse}/suppl/{name}"


def rnaseq_counts_path(gse: str, name: str) -> str:
    """Where a local mirror keeps GEO's NCBI-computed counts files of a series (our convention)."""
    return f"series/{nnn_folder(gse)}/{gse}/rnaseq_counts/{name}"


def rnaseq_counts_url(download_url: str, gse: str, name: str) -> str:
    """GEO's download-endpoint URL of an NCBI-computed counts file (or its gene table) of a series."""
    from urllib.parse import quote

    nnn_folder(gse)  # validates the accession
    return f"{download_url.rstrip('?')}?type=rnaseq_counts&acc={gse}&format=file&file={quote(name)}"


def platform_annotation_candidates(gpl: str) -> list[str]:
    """Relative paths of a platform's probe-to-symbol annotation to try, best first."""
    folder = f"platforms/{nnn_folder(gpl)}/{gpl}"
    return [
        f"{folder}/annot/{gpl}.annot.gz",
        f"{folder}/soft/{gpl}_family.soft.gz",
        f"{folder}/soft/{gpl}_probe2symbol_idmap2.tsv.gz",
    ]


def locate_or_fetch(
    relative_candidates: list[str],
    *,
    local_mirrors: Iterable[Path],
    base_url: str | None,
    dest: Path,
    cache_dir: Path | None = None,
    offline: bool = False,
    log: Callable[[str], None] = print,
    what: str = "",
    timeout: tuple[float, float] = (10, 60),
    retries: int = 4,
    backoff: float = 1.0,
) -> tuple[Path, str]:
    """Copy the first candidate found in a local mirror, else download the first one found.

    Returns (dest, source) where source is the local path or URL used. A 404 (or a cache
    miss in offline mode) moves on to the next candidate; other download faults propagate.
    Raises NotFoundError listing every location tried (DownloadError in offline mode),
    or ConfigError when the series matrix exists only per platform and no (or a wrong)
    platform was asked for.
    """
    mirrors = [Path(m) for m in local_mirrors]
    what = what or Path(relative_candidates[0]).name
    tried: list[str] = []
    for rel in relative_candidates:
        for mirror in mirrors:
            src = mirror / rel
            if src.is_file():
                fetch_url(str(src), dest, log=log, what=what)
                return dest, str(src)
            tried.append(str(src))
    if base_url:
        for rel in relative_candidates:
            url = f"{base_url.rstrip('/')}/{rel}"
            try:
                fetch_url(
                    url,
                    dest,
                    cache_dir=cache_dir,
                    offline=offline,
                    timeout=timeout,
                    retries=retries,
                    backoff=backoff,
                    log=log,
                    what=what,
                )
                return dest, url
            except NotFoundError:
                tried.append(url)
            except DownloadError:
                if not offline or local_path(url) is not None:
                    raise
                tried.append(f"{url} (offline: not in cache {cache_dir})")

    found = _platform_matrices(relative_candidates, mirrors, base_url, offline, timeout)
    if found:
        chosen = _choose_platform(relative_candidates, found, what, tried)
        log(f"{what}: the only series matrix is the per-platform file {chosen}")
        return locate_or_fetch(
            [chosen],
            local_mirrors=mirrors,
            base_url=base_url,
            dest=dest,
            cache_dir=cache_dir,
            offline=offline,
            log=log,
            what=what,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
    listing = "\n  ".join(tried) or "(no local mirror and no base URL given)"
    error = DownloadError if offline else NotFoundError
    raise error(f"{what} was not found; tried:\n  {listing}")


def _platform_matrices(
    candidates: list[str],
    mirrors: list[Path],
    base_url: str | None,
    offline: bool,
    timeout: tuple[float, float],
) -> dict[str, str]:
    """{platform: relative path} of per-platform series matrices next to the candidates."""
    found: dict[str, str] = {}
    matches = [m for rel in candidates if (m := _MATRIX.fullmatch(rel))]
    folders = {m.string.rsplit("/", 1)[0]: m.group(1) for m in matches}
    for folder, gse in folders.items():
        places = [str(mirror / folder) for mirror in mirrors]
        if base_url and not offline:
            places.append(f"{base_url.rstrip('/')}/{folder}")
        for place in places:
            for name in list_directory(place, timeout=timeout):
                m = re.fullmatch(rf"{gse}-(GPL\d+)_series_matrix\.txt\.gz", name)
                if m:
                    found.setdefault(m.group(1), f"{folder}/{name}")
    return found


def _choose_platform(
    candidates: list[str], found: dict[str, str], what: str, tried: list[str]
) -> str:
    """The single per-platform matrix to use, or raise ConfigError naming the platforms."""
    asked = {m.group(3) for rel in candidates if (m := _MATRIX.fullmatch(rel)) and m.group(3)}
    gse = next(m.group(1) for rel in candidates if (m := _MATRIX.fullmatch(rel)))
    platforms = ", ".join(sorted(found))
    if asked:
        raise ConfigError(
            f"{what}: {gse} has no series matrix for {', '.join(sorted(asked))}; "
            f"its matrix folder holds one per platform: {platforms}. "
            f"Set the platform of {gse} to one of them. Tried:\n  " + "\n  ".join(tried)
        )
    if len(found) > 1:
        raise ConfigError(
            f"{what}: {gse} is a multi-platform series with one series matrix "
            f"per platform ({platforms}); set the platform of {gse} in the "
            f"config to one of them."
        )
    return next(iter(found.values()))


# --- platform annotation -----------------------------------------------------------------


def read_platform_annotation(path: Path, gpl: str) -> pd.DataFrame:
    """Probe-to-symbol table with columns ['probe', 'symbol'] from a platform file.

    Reads GEO .annot(.gz) files, full SOFT family files (the platform table between
    !platform_table_begin and !platform_table_end, symbol from 'Gene Symbol' or
    'gene_assignment') and plain TSVs with an 'ID' and a 'Gene Symbol'/'symbol' column.
    Several symbols are joined with ' /// '; a probe without a symbol has ''.
    """
    path = Path(path)
    declared, header, rows = _read_table(path)
    if declared and declared != gpl:
        raise AnnotationError(
            f"{path} is the annotation of {declared}, not of {gpl}; "
            f"point the annotation of {gpl} to its own file."
        )
    columns = {name.strip().lower(): i for i, name in reversed(list(enumerate(header)))}
    if "id" not in columns:
        raise AnnotationError(
            f"{path} (platform {gpl}) has no 'ID' column; columns are: {', '.join(header)}"
        )
    id_col = columns["id"]
    symbol_col = next((columns[c] for c in SYMBOL_COLUMNS if c in columns), None)
    if symbol_col is not None:
        parse = _split_symbols
    elif "gene_assignment" in columns:
        symbol_col, parse = columns["gene_assignment"], _gene_assignment_symbols
    else:
        raise AnnotationError(
            f"{path} (platform {gpl}) has no gene symbol column (looked for "
            f"'Gene symbol', 'Gene Symbol', 'symbol' or 'gene_assignment'); "
            f"columns are: {', '.join(header)}"
        )
    probes, symbols = [], []
    for fields in rows:
        probe = fields[id_col].strip() if id_col < len(fields) else ""
        if not probe:
            continue
        probes.append(probe)
        symbols.append(parse(fields[symbol_col]) if symbol_col < len(fields) else "")
    if not probes:
        raise AnnotationError(f"{path} (platform {gpl}) has an empty probe table")
    return pd.DataFrame({"probe": probes, "symbol": symbols}, dtype=str)


def _read_table(path: Path) -> tuple[str | None, list[str], list[list[str]]]:
    """(declared platform, header, rows) of the first table in a GEO-style text file."""
    declared: str | None = None
    lines = _lines(path)
    in_table = False
    header: list[str] | None = None
    rows: list[list[str]] = []
    for line in lines:
        if header is None:
            m = _DECLARED.match(line)
            if m:
                declared = declared or m.group(1)
            if line.startswith("!platform_table_begin"):
                in_table = True
            elif line.strip() and (in_table or not line.startswith(("!", "#", "^"))):
                header = [_unquote(f) for f in line.split("\t")]
            continue
        if in_table and line.startswith("!platform_table_end"):
            return declared, header, rows
        if line.strip():
            rows.append([_unquote(f) for f in line.split("\t")])
    if header is None:
        raise AnnotationError(f"{path} holds no probe table (no header line found)")
    if in_table:
        raise InputFormatError(
            f"{path} is truncated: the platform table has no "
            f"'!platform_table_end' line (read {len(rows)} rows)"
        )
    return declared, header, rows


def _lines(path: Path) -> Iterator[str]:
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            for line in handle:
                yield line.rstrip("\r\n")
    except (OSError, EOFError) as exc:
        raise InputFormatError(
            f"{path} could not be read as {'gzip' if gzipped else 'text'}: {exc}"
        ) from exc


def _unquote(field: str) -> str:
    field = field.strip()
    return field[1:-1] if len(field) >= 2 and field[0] == field[-1] == '"' else field


def _split_symbols(value: str) -> str:
    return _join(part for part in value.split("///"))


def _gene_assignment_symbols(value: str) -> str:
    """'NM_1 // OR4F17 // title // 19p13.3 // 81099 /// ...' -> 'OR4F17 /// ...'."""
    symbols = []
    for entry in value.split("///"):
        fields = entry.split("//")
        if len(fields) >= 2:
            symbols.append(fields[1])
    return _join(symbols)


def _join(symbols: Iterable[str]) -> str:
    unique = dict.fromkeys(s.strip() for s in symbols if s.strip() not in NONE_VALUES)
    return " /// ".join(unique)
