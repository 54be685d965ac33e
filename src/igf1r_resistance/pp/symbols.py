"""Map gene identifiers (outdated symbols, aliases, Entrez, Ensembl) to current HGNC symbols.

Platform annotations are often years old (GPL570 still says MIR143HG for CARMN), while
the mechanism catalogue uses current symbols. Look-up order, among approved HGNC
records only: approved symbol, then previous symbols, then aliases. An exact approved
match always wins, and a previous symbol or alias shared by several genes is ambiguous
and left unchanged rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class SymbolMapper:
    """Current HGNC symbol for an identifier; built once from the HGNC table."""

    def __init__(self, table: pd.DataFrame):
        self.approved = set(table["symbol"])
        self.previous = _unique_lookup(table, "prev_symbols", self.approved)
        self.alias = _unique_lookup(table, "alias_symbols", self.approved)
        self.entrez = {str(e): s for e, s in zip(table["entrez_id"], table["symbol"]) if str(e)}
        self.ensembl = {str(e): s for e, s in zip(table["ensembl_gene_id"], table["symbol"]) if str(e)}

    @classmethod
    def from_file(cls, path: str | Path) -> SymbolMapper:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        return cls(table)

    def current(self, symbol: str) -> str:
        """The approved symbol for `symbol`, or `symbol` itself when unknown or ambiguous."""
        if symbol in self.approved:
            return symbol
        return self.previous.get(symbol) or self.alias.get(symbol) or symbol


def _unique_lookup(table: pd.DataFrame, column: str, approved: set[str]) -> dict[str, str]:
    pairs = [
        (old.strip(), sym)
        for sym, olds in zip(table["symbol"], table[column])
        for old in olds.split("|")
        if old.strip() and old.strip() not in approved
    ]
    frame = pd.DataFrame(pairs, columns=["old", "symbol"]).drop_duplicates()
    counts = frame["old"].value_counts()
    unique = frame[frame["old"].map(counts) == 1]
    return dict(zip(unique["old"], unique["symbol"]))
