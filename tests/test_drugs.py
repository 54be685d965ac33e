"""drug_class: inferred from `drug`, declared otherwise; selects the drug-specific hypotheses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from igf1r_resistance.errors import ConfigError
from igf1r_resistance.genesets.catalogue import applicable, load_catalogue
from igf1r_resistance.genesets.drugs import infer_drug_class
from igf1r_resistance.workflow.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


@pytest.mark.parametrize("drug, expected", [
    ("cisplatin", "platinum"), ("Carboplatin", "platinum"), ("methotrexate", "antimetabolite"),
    ("5-FU", "antimetabolite"), ("tamoxifen / estrogen (ER knockdown)", "endocrine"),
    ("BRAF inhibitor (PLX4720)", "targeted"), ("doxorubicin", "anthracycline"), ("Taxol", "taxane"),
    ("vincristine", "vinca_alkaloid"), ("SN-38", "topoisomerase_inhibitor"), ("", ""), ("compound X", ""),
    ("cisplatinum-like", ""),  # whole words only
])
def test_infer_drug_class(drug, expected):
    assert infer_drug_class(drug)[0] == expected


def test_several_classes_must_be_declared():
    with pytest.raises(ValueError, match="several classes"):
        infer_drug_class("cisplatin + paclitaxel")


def _config(**dataset) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"] = {"GSE15709": {"platform": "GPL570", "groups": {"by": "x", "resistant": "a", "sensitive": "b"},
                                       **dataset}}
    return config


def test_config_infers_declares_and_rejects():
    assert validate_config(_config(drug="cisplatin"), SCHEMA)["datasets"]["GSE15709"]["drug_class"] == "platinum"
    declared = validate_config(_config(drug="compound X", drug_class="taxane"), SCHEMA)
    assert declared["datasets"]["GSE15709"]["drug_class"] == "taxane"
    assert "drug_class" not in validate_config(_config(drug="compound X"), SCHEMA)["datasets"]["GSE15709"]
    with pytest.raises(ConfigError, match=r"datasets.GSE15709.drug_class: .*declare drug_class"):
        validate_config(_config(drug="cisplatin + paclitaxel"), SCHEMA)
    with pytest.raises(ConfigError, match="drug_class"):
        validate_config(_config(drug="x", drug_class="alkylating"), SCHEMA)
    # the validated config validates again (the demo's workflow re-reads it)
    validate_config(validate_config(_config(drug="cisplatin"), SCHEMA), SCHEMA)


def test_drug_specific_hypotheses_are_absent_elsewhere():
    _, _, hyps = load_catalogue(REPO / "workflow/resources/mechanisms.yaml")
    platinum = {h.id for h in applicable(hyps, "platinum")}
    antimetabolite = {h.id for h in applicable(hyps, "antimetabolite")}
    unknown = {h.id for h in applicable(hyps, "")}
    assert {"platinum_atp7a_up", "platinum_slc31a1_down", "platinum_gstp1_up"} <= platinum - antimetabolite
    assert {"antifolate_dhfr_up", "antifolate_slc19a1_down"} <= antimetabolite - platinum
    assert "mdr_abcb1_up" in {h.id for h in applicable(hyps, "taxane")} - platinum
    assert not any(h.drug_classes for h in applicable(hyps, "")) and "abc_up" in unknown


def test_drug_class_controls():
    from igf1r_resistance.genesets.catalogue import drug_class_controls

    _, _, hyps = load_catalogue(REPO / "workflow/resources/mechanisms.yaml")
    platinum = drug_class_controls(hyps, "platinum")
    assert platinum["SLC31A1"]["expected"] == "down" and platinum["ATP7A"]["expected"] == "up"
    assert "Ishida" in platinum["SLC31A1"]["source"]
    assert set(drug_class_controls(hyps, "antimetabolite")) == {"DHFR", "SLC19A1"}
    assert drug_class_controls(hyps, "") == {}
