"""Mechanism catalogue, GMT files and hypothesis collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from igf1r_resistance.errors import ConfigError, InputFormatError
from igf1r_resistance.genesets.catalogue import (
    GeneSet,
    collect,
    format_gmt,
    gmt_prediction,
    load_catalogue,
    read_gmt,
    restrict,
)

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "workflow/resources/mechanisms.yaml"
HALLMARK = REPO / "tests/data/h.all.v7.0.symbols.gmt"


def test_catalogue_covers_mechanisms_md():
    header, sets, hyps = load_catalogue(CATALOGUE)
    assert header["version"]
    ids = {h.id for h in hyps}
    for hid in ["igf1r_axis_up", "pi3k_akt_up", "mapk_up", "proliferation_up", "antiapoptosis_up", "abc_up",
                "matrisome_up", "adhesome_up", "igfbp3_down", "igfbp7_down", "wt1_down", "p53_activity_down",
                "mir143_targets_up", "igf1r_abc_coupled", "igf1r_ecm_coupled"]:
        assert hid in ids
    for h in hyps:
        assert h.source, f"hypothesis {h.id} has no source"
    by_name = {s.name: s for s in sets}
    for s in sets:
        assert s.source, f"set {s.name} has no source"
    assert set(by_name["IGF1R_AXIS"].up) == {"IGF1R", "IGF1", "IGF2", "IRS1", "IRS2"}
    assert {"ABCB1", "ABCC1", "ABCG2"} <= set(by_name["DRUG_EFFLUX"].up)
    assert len(by_name["DRUG_EFFLUX"].up) == 12  # drug pumps of HGNC group 417 (issue 14)
    assert "BAX" in by_name["ANTI_APOPTOSIS"].down


def test_catalogue_symbols_are_current_hgnc():
    from igf1r_resistance.pp.symbols import SymbolMapper

    mapper = SymbolMapper.from_file(REPO / "workflow/resources/hgnc_symbols.tsv.gz")
    _, sets, _ = load_catalogue(CATALOGUE)
    for s in sets:
        for g in s.genes:
            if s.origin == "msigdb":  # mapped on load; what is left has no HGNC record (e.g. AC129492.1)
                assert mapper.current(g) == g, f"{s.name}: {g} was not brought up to date"
            else:
                assert g in mapper.approved, f"{s.name}: {g} is not an approved HGNC symbol"


def test_read_gmt_and_round_trip(tmp_path):
    sets = read_gmt(HALLMARK)
    assert len(sets) == 50 and all(len(s.up) >= 5 for s in sets)
    path = tmp_path / "x.gmt"
    path.write_text(format_gmt(sets[:3]))
    again = read_gmt(path)
    assert [s.up for s in again] == [s.up for s in sets[:3]]


def test_format_gmt_splits_up_down():
    text = format_gmt([GeneSet("A", ("x", "y"), ("z",), "src")])
    assert text.splitlines() == ["A_UP\tsrc\tx\ty", "A_DN\tsrc\tz"]


def test_bad_gmt(tmp_path):
    path = tmp_path / "bad.gmt"
    path.write_text("ONLYNAME\n")
    with pytest.raises(InputFormatError, match="line 1"):
        read_gmt(path)
    path.write_text("")
    with pytest.raises(InputFormatError, match="empty"):
        read_gmt(path)


@pytest.mark.parametrize("name, predicted", [("X_UP", "up"), ("X_DN", "down"), ("X_DOWN", "down"),
                                             ("HALLMARK_HYPOXIA", "changed")])
def test_gmt_prediction(name, predicted):
    assert gmt_prediction(name) == predicted


def test_collect_adds_exploratory_and_user_hypotheses():
    extra = [{"id": "emt_up", "test": "group", "gene_set": "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION",
              "predicted": "up"}]
    _, sets, hyps = collect(CATALOGUE, [str(HALLMARK)], extra)
    ids = {h.id: h for h in hyps}
    assert ids["HALLMARK_HYPOXIA"].exploratory and ids["HALLMARK_HYPOXIA"].predicted == "changed"
    assert ids["emt_up"].gene_set == "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION"


def test_collect_rejects_unknown_set_and_bad_prediction():
    with pytest.raises(ConfigError, match="neither in the catalogue nor in gene_sets.gmt"):
        collect(CATALOGUE, [], [{"id": "x", "test": "group", "gene_set": "NOPE", "predicted": "up"}])
    with pytest.raises(ConfigError, match="predicted must be one of"):
        collect(CATALOGUE, [], [{"id": "x", "test": "coupling", "gene_set": "MATRISOME", "with_set": "MAPK_MEMBERS",
                                 "predicted": "up"}])
    with pytest.raises(ConfigError, match="already used"):
        collect(CATALOGUE, [], [{"id": "abc_up", "test": "gene", "gene": "ABCB1", "predicted": "up"}])


def test_restrict_keeps_order():
    s = GeneSet("S", ("a", "b", "c"), ("d", "e"))
    r = restrict(s, {"c", "a", "e"})
    assert r.up == ("a", "c") and r.down == ("e",)


def test_applies_to_defaults_to_resistance_and_selects_regulator_hypotheses():
    """Issue 15 contract 3: a hypothesis applies to the comparisons of its `applies_to`
    (default [resistance]); elsewhere it is absent."""
    from igf1r_resistance.genesets.catalogue import RESISTANCE, applicable

    header, _, hyps = load_catalogue(CATALOGUE)
    assert {"resistance", "TP53_status", "WT1_knockdown", "IGF1R_inhibition"} <= set(header["comparisons"])
    by = {h.id: h for h in hyps}
    assert by["igf1r_gene_up"].applies_to == (RESISTANCE,)
    resistance = {h.id for h in applicable(hyps, "")}
    tp53 = {h.id for h in applicable(hyps, "", "TP53_status")}
    assert "igf1r_gene_up" in resistance and "tp53mut_igf1r_up" not in resistance
    assert tp53 == {"tp53mut_igf1r_up", "tp53mut_igfbp3_down", "tp53mut_igf1r_axis_up", "tp53mut_p53_targets_down"}
    assert by["tp53mut_igf1r_up"].gene == "IGF1R" and by["tp53mut_igf1r_up"].predicted == "up"
    assert by["tp53mut_igf1r_up"].role == "primary"
    assert {h.id for h in applicable(hyps, "", "WT1_knockdown")} == {"wt1kd_igf1r_up"}
    igf1ri = {h.id: h for h in applicable(hyps, "", "IGF1R_inhibition")}
    assert igf1ri["igf1ri_abc_down"].gene_set == "DRUG_EFFLUX" and igf1ri["igf1ri_abc_down"].predicted == "down"
    assert igf1ri["igf1ri_matrisome_down"].gene_set == "MATRISOME"
    # drug-class hypotheses are resistance claims: never in a regulator comparison
    assert not [h for h in applicable(hyps, "platinum", "TP53_status") if h.drug_classes]
    assert {h.id for h in applicable(hyps, "", "no_such_comparison")} == set()


@pytest.mark.parametrize("applies_to, message", [
    ("TP53_status", "non-empty list"), ([], "non-empty list"), (["TP53 status"], "non-empty list"),
    (["TP53_stat"], "not one of the catalogue's comparisons"),
])
def test_applies_to_is_validated(applies_to, message):
    spec = {"id": "x", "test": "gene", "gene": "IGF1R", "predicted": "up", "applies_to": applies_to}
    with pytest.raises(ConfigError, match=message):
        collect(CATALOGUE, [], [spec])


def test_user_hypothesis_can_apply_to_a_regulator_comparison():
    spec = {"id": "mdm2_down", "test": "gene", "gene": "MDM2", "predicted": "down", "applies_to": ["TP53_status"]}
    _, _, hyps = collect(CATALOGUE, [], [spec])
    assert {h.id: h for h in hyps}["mdm2_down"].applies_to == ("TP53_status",)


def test_catalogue_with_an_undeclared_comparison_is_an_error(tmp_path):
    import yaml

    data = yaml.safe_load(CATALOGUE.read_text())
    data["hypotheses"][0]["applies_to"] = ["TP53_staus"]
    for key in ("msigdb_gmt", "hgnc_groups", "progeny_model", "symbols"):
        data[key] = str(CATALOGUE.parent / data[key])
    path = tmp_path / "mechanisms.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="TP53_staus"):
        load_catalogue(path)
