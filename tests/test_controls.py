"""Positive controls per data set (igf1r_resistance.tl.controls) on hand-made limma tables."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igf1r_resistance.errors import ConfigError
from igf1r_resistance.tl.controls import FLAG_DISAGREE, FLAG_SWAPPED, evaluate_controls
from igf1r_resistance.workflow.config import validate_config
from igf1r_resistance.workflow.steps import run_controls

REPO = Path(__file__).resolve().parents[1]


def _de(rows):
    """rows: gene -> (logFC, adj.P.Val, measurable); CI = logFC +- 0.5."""
    return pd.DataFrame([{"gene": g, "logFC": fc, "CI.L": fc - 0.5, "CI.R": fc + 0.5, "AveExpr": 8.0, "t": 3.0,
                          "P.Value": p / 10, "adj.P.Val": p, "B": 0.0, "measurable": m}
                         for g, (fc, p, m) in rows.items()])


DE = _de({"DHFR": (2.9, 0.006, True), "ESR1": (-7.8, 1e-12, True), "MYC": (0.3, 0.6, True),
          "ABCB1": (3.0, 0.001, False), "TOP2A": (-1.5, 0.01, True)})


def _c(**genes):
    return {g: {"expected": e, "source": f"paper on {g}"} for g, e in genes.items()}


def test_controls_pass_in_the_expected_direction():
    table, status = evaluate_controls(DE, _c(DHFR="up", ESR1="down"), 0.05, "GSE1")
    assert list(table.columns) == ["gene", "expected", "source", "observed", "logFC", "ci_low", "ci_high",
                                   "adj_p_value", "passed", "measurable"]
    assert table["observed"].tolist() == ["up", "down"] and table["passed"].tolist() == [True, True]
    assert table.loc[0, "ci_low"] == pytest.approx(2.4) and table.loc[0, "source"] == "paper on DHFR"
    assert (status["status"], status["flag"], status["n_passed"]) == ("passed", "", 2)


def test_all_controls_opposite_flag_swapped_labels():
    table, status = evaluate_controls(DE, _c(DHFR="down", ESR1="up"), 0.05, "GSE1")
    assert table["passed"].tolist() == [False, False]
    assert status["status"] == "failed" and status["flag"] == FLAG_SWAPPED
    assert "swapped" in status["message"] and "DHFR, ESR1" in status["message"]


def test_some_opposite_some_passed_is_a_disagreement():
    _, status = evaluate_controls(DE, _c(DHFR="up", TOP2A="up"), 0.05)
    assert status["status"] == "failed" and status["flag"] == FLAG_DISAGREE


def test_not_significant_not_measured_or_at_the_floor_is_na_and_inconclusive():
    table, status = evaluate_controls(DE, _c(DHFR="up", MYC="up", NOTAGENE="down", ABCB1="up"), 0.05)
    t = table.set_index("gene")
    assert t.loc["MYC", "observed"] == "no_significant_change" and pd.isna(t.loc["MYC", "passed"])
    assert t.loc["NOTAGENE", "observed"] == "not_measured" and np.isnan(t.loc["NOTAGENE", "logFC"])
    assert t.loc["ABCB1", "observed"] == "not_measurable" and pd.isna(t.loc["ABCB1", "passed"])
    assert (status["status"], status["n_passed"], status["n_na"]) == ("inconclusive", 1, 3)


def test_fdr_threshold_is_the_hypotheses_one():
    _, strict = evaluate_controls(DE, _c(DHFR="up"), 0.005)
    assert strict["status"] == "inconclusive"  # adj.P.Val 0.006 is not < 0.005


def test_no_controls_is_none_known(tmp_path):
    table, status = evaluate_controls(DE, {}, 0.05, "GSE2")
    assert table.empty and status["status"] == "none_known"
    de = tmp_path / "de.tsv"
    DE.to_csv(de, sep="\t", index=False)
    run_controls("GSE2", str(de), {}, 0.05, str(tmp_path / "c.tsv"), str(tmp_path / "s.tsv"), logging.getLogger("t"))
    assert pd.read_csv(tmp_path / "c.tsv", sep="\t").empty
    assert pd.read_csv(tmp_path / "s.tsv", sep="\t").loc[0, "status"] == "none_known"


def test_run_controls_writes_both_tables_and_warns_on_swapped_labels(tmp_path, caplog):
    de = tmp_path / "de.tsv"
    DE.to_csv(de, sep="\t", index=False)
    with caplog.at_level(logging.WARNING):
        run_controls("GSE3", str(de), _c(ESR1="up"), 0.05, str(tmp_path / "c.tsv"), str(tmp_path / "s.tsv"),
                     logging.getLogger("test.controls"))
    assert "labels_probably_swapped" in caplog.text
    status = pd.read_csv(tmp_path / "s.tsv", sep="\t", keep_default_na=False)
    assert status.loc[0, "flag"] == FLAG_SWAPPED and status.loc[0, "dataset"] == "GSE3"
    assert pd.read_csv(tmp_path / "c.tsv", sep="\t").loc[0, "passed"] == False  # noqa: E712


@pytest.mark.parametrize(("controls", "message"), [
    ({"DHFR": {"expected": "higher", "source": "x"}}, "datasets.GSE11440.controls.DHFR.expected"),
    ({"DHFR": {"expected": "up"}}, "'source' is required"),
    ({"DHFR": {"expected": "up", "source": "x", "pmid": 1}}, "unknown key(s) 'pmid'"),
    ({"bad gene": {"expected": "up", "source": "x"}}, "does not match"),
])
def test_config_controls_are_validated(controls, message):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"]["GSE11440"]["controls"] = controls
    with pytest.raises(ConfigError) as err:
        validate_config(config, REPO / "workflow/schemas/config.schema.yaml")
    assert message in str(err.value)


def test_demo_config_declares_the_documented_controls():
    config = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()),
                             REPO / "workflow/schemas/config.schema.yaml")
    ds = config["datasets"]
    assert ds["GSE11440"]["controls"]["DHFR"]["expected"] == "up"
    assert ds["GSE27473"]["controls"]["ESR1"]["expected"] == "down"
    assert ds["GSE15709"]["controls"] == {} and ds["GSE108383"]["controls"] == {}
