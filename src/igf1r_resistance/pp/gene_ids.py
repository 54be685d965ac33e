"""Gene identifiers of users' data (symbols, Entrez, Ensembl) -> current HGNC symbols.

Local matrices, AnnData files and single-cell tables name genes in whatever their
pipeline used. Everything downstream works on current HGNC symbols, so identifiers are
mapped with the HGNC table (`workflow/resources/hgnc_symbols.tsv.gz`, through
`SymbolMapper`); identifiers without a symbol are dropped, counted and listed, never
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from ..errors import ConfigError
from .symbols import SymbolMapper

ID_TYPES = ("symbol", "entrez", "ensembl")
_ENTREZ = re.compile(r"^[0-9]+$")
_ENSEMBL = re.compile(r"^ENS[A-Z]*G[0-9]+(\.[0-9]+)?$")
#: at most this many unmapped identifiers are written to the log (all are kept in .uns)
LOG_UNMAPPED = 20


def detect_id_type(ids: Sequence[str]) -> str:
    """entrez when every identifier is a number, ensembl when every one is an Ensembl gene id, else symbol."""
    ids = [str(i).strip() for i in ids if str(i).strip()]
    if ids and all(_ENTREZ.match(i) for i in ids):
        return "entrez"
    if ids and all(_ENSEMBL.match(i) for i in ids):
        return "ensembl"
    return "symbol"


def map_to_symbols(ids: Sequence[str], id_type: str, mapper: SymbolMapper) -> tuple[list[str], dict]:
    """Current HGNC symbol per identifier ('' when there is none) and a record of the mapping.

    `id_type` is auto, symbol, entrez or ensembl. Symbols are updated to the current
    approved symbol (previous symbols and unique aliases); Entrez and Ensembl ids are
    looked up in HGNC's cross-references (Ensembl version suffixes like ``.12`` are
    ignored). The record holds ``id_type, n_ids, n_mapped, n_unmapped, unmapped`` (the
    list of identifiers without a symbol, in input order).
    """
    ids = [str(i).strip() for i in ids]
    detected = detect_id_type(ids) if id_type == "auto" else id_type
    if detected not in ID_TYPES:
        raise ConfigError(f"gene_ids must be auto, {', '.join(ID_TYPES)} (got {id_type!r})")
    if detected == "entrez":
        symbols = [mapper.entrez.get(i, "") for i in ids]
    elif detected == "ensembl":
        symbols = [mapper.ensembl.get(i.split(".")[0], "") for i in ids]
    else:
        symbols = [mapper.current(i) if i and i not in {"NA", "---", "-"} else "" for i in ids]
    unmapped = [i for i, s in zip(ids, symbols) if not s]
    record = {
        "id_type": detected,
        "id_type_declared": id_type,
        "n_ids": len(ids),
        "n_mapped": len(ids) - len(unmapped),
        "n_unmapped": len(unmapped),
        "unmapped": unmapped,
        "n_symbols_updated_to_current_hgnc": sum(1 for i, s in zip(ids, symbols) if s and s != i)
        if detected == "symbol" else 0,
        "source": "HGNC table (workflow/resources/hgnc_symbols.tsv.gz)",
    }
    return symbols, record


def annotation_for(ids: Sequence[str], id_type: str, mapper: SymbolMapper) -> tuple[pd.DataFrame, dict]:
    """A `probe, symbol` table (as `prepare.collapse_probes` takes) for identifiers, and the mapping record."""
    symbols, record = map_to_symbols(ids, id_type, mapper)
    table = pd.DataFrame({"probe": [str(i).strip() for i in ids], "symbol": symbols}, dtype=str)
    return table, record


def describe_unmapped(record: dict) -> str:
    """One log line: how many identifiers had no symbol and the first few of them."""
    shown = record["unmapped"][:LOG_UNMAPPED]
    more = f" and {record['n_unmapped'] - len(shown)} more" if record["n_unmapped"] > len(shown) else ""
    if not record["n_unmapped"]:
        return f"all {record['n_ids']} {record['id_type']} identifiers mapped to HGNC symbols"
    return (f"{record['n_unmapped']} of {record['n_ids']} {record['id_type']} identifiers have no HGNC symbol "
            f"and were dropped: {', '.join(shown)}{more}")
