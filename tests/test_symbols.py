"""HGNC symbol mapping: approved first, then unique previous symbols, then unique aliases."""

from pathlib import Path

import pandas as pd

from igf1r_resistance.pp.symbols import SymbolMapper

REPO = Path(__file__).resolve().parents[1]


def test_real_table_updates_outdated_platform_symbols():
    m = SymbolMapper.from_file(REPO / "workflow/resources/hgnc_symbols.tsv.gz")
    assert m.current("MIR143HG") == "CARMN"
    assert m.current("H2AFX") == "H2AX"
    assert m.current("GNB2L1") == "RACK1"
    assert m.current("IGF1R") == "IGF1R"
    assert m.current("NOT_A_GENE") == "NOT_A_GENE"


def test_approved_wins_and_ambiguous_is_left_alone():
    table = pd.DataFrame({
        "symbol": ["AAA", "BBB", "CCC"],
        "prev_symbols": ["BBB", "OLD", "OLD"],      # BBB is someone's current symbol; OLD is ambiguous
        "alias_symbols": ["", "ALI", ""],
        "entrez_id": ["1", "2", "3"], "ensembl_gene_id": ["E1", "E2", "E3"],
    })
    m = SymbolMapper(table)
    assert m.current("BBB") == "BBB"
    assert m.current("OLD") == "OLD"
    assert m.current("ALI") == "BBB"
