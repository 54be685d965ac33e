"""The report on both table shapes: today's tables and the contract tables other stages are
moving to (new verdict words, competitive and camera columns, controls.tsv, noise floor,
meta-analysis strata with prediction intervals). The first screen's sentences are checked
word for word on hand-made rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_report import parse, synthetic_report

from igf1r_resistance import report as rep
from igf1r_resistance.report import sentences as S
from igf1r_resistance.report.tables import Model, controls_status, model_of

MODELS = {
    "GSE15709": Model("GSE15709", "A2780-cisplatin", "chemotherapy", "mt-chemotherapy", "cisplatin", ""),
    "GSE11440": Model("GSE11440", "HT29-methotrexate", "chemotherapy", "mt-chemotherapy", "methotrexate", ""),
    "GSE27473": Model("GSE27473", "MCF7-tamoxifen", "endocrine", "mt-endocrine", "tamoxifen", ""),
    "GSE108383": Model("GSE108383", "A375-BRAF", "single cells, pseudo-replicated", "mt-single_cell", "", ""),
}


def gene_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d, "hypothesis": "igf1r_gene_up", "method": "expression", "primary": True,
                          "effect": e, "ci_low": lo, "ci_high": hi, "verdict": v} for d, e, lo, hi, v in rows])


def test_gene_sentence_names_models_with_numbers():
    h = {"id": "igf1r_gene_up", "test": "gene", "gene": "IGF1R", "predicted": "up"}
    rows = gene_rows([("GSE15709", -1.0, -1.3, -0.7, "contradicted"), ("GSE11440", -0.12, -0.3, 0.06, "inconclusive"),
                      ("GSE27473", -0.84, -1.1, -0.58, "inconclusive"), ("GSE108383", np.nan, np.nan, np.nan,
                                                                          "not_testable")])
    text = S.bottom_line(h, rows, MODELS)
    assert text == (
        "IGF1R mRNA is not higher in any model: lower in A2780-cisplatin (-1.00 log2, 95% CI -1.30 to -0.70, "
        "0.50-fold) and MCF7-tamoxifen (-0.84 log2, 95% CI -1.10 to -0.58, 0.56-fold); no clear change in "
        "HT29-methotrexate (-0.12 log2, 95% CI -0.30 to +0.06, 0.92-fold; the CI rules out a rise above 1.2-fold); "
        "not testable in A375-BRAF.")


def test_set_sentence_gives_standardised_effect_and_random_percentile():
    h = {"id": "ecm_up", "test": "group", "gene_set": "ECM", "predicted": "up"}
    rows = pd.DataFrame([
        {"dataset": "GSE15709", "hypothesis": "ecm_up", "primary": True, "effect": 0.2, "ci_low": 0.1, "ci_high": 0.3,
         "hedges_g": 2.5, "g_ci_low": 1.0, "g_ci_high": 4.0, "verdict": "supported", "random_percentile": 97.0},
        {"dataset": "GSE11440", "hypothesis": "ecm_up", "primary": True, "effect": -0.1, "ci_low": -0.3,
         "ci_high": 0.1, "hedges_g": -0.4, "g_ci_low": -1.6, "g_ci_high": 0.8, "verdict": "inconclusive",
         "random_percentile": np.nan},
    ])
    text = S.bottom_line(h, rows, {d: MODELS[d] for d in ["GSE15709", "GSE11440"]})
    assert text == (
        "The ECM set is higher in 1 of 2 tested models: higher in A2780-cisplatin (g +2.50, 95% CI +1.00 to +4.00, "
        "random-set percentile 97); no clear change in HT29-methotrexate (g -0.40, 95% CI -1.60 to +0.80, "
        "random-set percentile not available).")


def test_two_sided_prediction_is_never_support():
    h = {"id": "insr_changed", "test": "gene", "gene": "INSR", "predicted": "changed"}
    rows = gene_rows([("GSE15709", 1.5, 1.0, 2.0, "changed"), ("GSE11440", 0.1, -0.2, 0.4, "inconclusive")])
    text = S.bottom_line(h, rows, {d: MODELS[d] for d in ["GSE15709", "GSE11440"]})
    assert text.startswith("INSR mRNA is changed in 1 of 2 tested models: higher in A2780-cisplatin (+1.50 log2")
    assert "supported" not in text and "no clear change in HT29-methotrexate" in text


def test_model_types_from_config():
    assert model_of("GSE1", {"model": "A2780 ovarian", "drug": "cisplatin", "model_type": "chemotherapy resistance"}) \
        == Model("GSE1", "A2780-cisplatin", "chemotherapy", "mt-chemotherapy", "cisplatin", "A2780 ovarian")
    assert model_of("x", {"model_type": "endocrine resistance"}).model_type == "endocrine"
    assert model_of("x", {"model_type": "targeted-therapy resistance"}).model_type == "targeted"
    assert model_of("x", {"model_type": "regulator comparison"}).model_type == "regulator comparison"
    cells = model_of("x", {"type": "single_cell", "model_type": "targeted-therapy resistance"})
    assert cells.model_type == "single cells, pseudo-replicated" and cells.type_class == "mt-single_cell"
    pseudobulk = model_of("x", {"type": "single_cell", "replicate_column": "s", "model_type": "targeted"})
    assert pseudobulk.model_type == "targeted"


def test_controls_status():
    assert controls_status(None) == "not available"
    assert controls_status(pd.DataFrame(columns=["gene", "passed"])) == "none known"
    # the pipeline's rule (controls.dataset_status): passed only when every control passed
    assert controls_status(pd.DataFrame({"gene": ["A", "B"], "passed": [True, np.nan]})) == "inconclusive"
    assert controls_status(pd.DataFrame({"gene": ["A", "B"], "passed": [True, "True"]})) == "passed"
    assert controls_status(pd.DataFrame({"gene": ["A", "B"], "passed": [np.nan, np.nan]})) == "inconclusive"
    assert controls_status(pd.DataFrame({"gene": ["A", "B"], "passed": ["true", "false"]})) == "failed"


def contract_report() -> tuple[dict, list[str], rep.ReportData]:
    """The synthetic report with the tables in their contract shape (contracts 1, 4, 5, 6)."""
    config, datasets, data = synthetic_report(seed=3)
    hyps = data.hypotheses.copy()
    hyps["model"] = hyps["dataset"]
    hyps["n_resistant"] = hyps["n_resistant"].astype(float)  # as read from a TSV with missing values
    hyps["n_sensitive"] = hyps["n_sensitive"].astype(float)
    hyps["model_type"] = "chemotherapy"
    hyps["role"] = np.where(hyps["hypothesis"] == "proliferation_up", "context", "primary")
    hyps["competitive_p"] = 0.003
    hyps["random_percentile"] = 87.0
    hyps["n_random_sets"] = 1000
    hyps["camera_p"] = 0.0021
    hyps["camera_direction"] = "up"
    hyps["camera_p_estimated_cor"] = 0.03
    hyps["equivalence_p"] = 0.01
    hyps["margin"] = 0.5
    words = {"insr_changed": "changed", "abcg2_up": "not_measurable", "mapk_up": "no_change",
             "proliferation_up": "context", "abc_up": "not_testable"}
    for hid, word in words.items():
        hyps.loc[hyps["hypothesis"] == hid, "verdict"] = word
    data.hypotheses = rep.tables.normalise_hypotheses(hyps)
    for d, t in data.datasets.items():
        t.uns["noise_floor"] = {"value": 3.25, "method": "negative-control probes", "detail": "AFFX probes"}
        t.controls = pd.DataFrame({"gene": ["DHFR"], "expected": ["up"], "source": ["PMID 1"], "observed": ["up"],
                                   "logFC": [2.28], "ci_low": [1.9], "ci_high": [2.6], "adj_p_value": [1e-4],
                                   "passed": [d == "GSE1"]})
        t.camera = None
    meta = data.meta.drop(columns=["datasets", "weights", "fdr"])
    meta["models"] = ";".join(datasets)
    meta["stratum"] = "all"
    meta["pi_low"], meta["pi_high"] = -0.9, 1.4
    strata = meta.assign(stratum="chemotherapy", estimate=9.99)
    data.meta = rep.tables.normalise_meta(pd.concat([meta, strata], ignore_index=True))
    return config, datasets, data


@pytest.fixture(scope="module")
def contract_page() -> str:
    return rep.build_report(*contract_report())


def test_contract_tables_render_new_words_controls_floor_and_strata(contract_page: str):
    page = contract_page
    matrix = page[page.index('id="verdict-matrix"'):]
    matrix = matrix[: matrix.index("</table>")]
    for word in ["changed", "no_change", "not_measurable", "context", "not_testable"]:
        assert f'class="verdict v-{word}"' in matrix, word
    # the first screen: controls per data set, sentences with the random-set percentile
    summary = page[page.index('id="summary"'):page.index('id="data"')]
    words = re.sub(r"<[^>]+>", "", summary)  # text without tags (<wbr>, spans keeping hyphenated words whole)
    assert "passed" in words and "failed" in words and "DHFR up: failed" in words
    assert "random-set percentile 87" in words
    assert 'data-hypothesis="proliferation_up"' not in summary  # context rows carry no sentence
    assert "3.25 log2 (negative-control probes)" in page
    assert "95% prediction interval -0.9 to 1.4" in page
    assert "9.99" not in matrix  # the matrix pools over all models, not a stratum
    assert "percentile 87 of 1000 sets; competitive p 0.003" in page
    assert "up, p 0.0021 (estimated correlation: p 0.03)" in page  # camera from the hypotheses row


def test_todays_tables_say_not_available():
    config, datasets, data = synthetic_report(seed=4)
    page = rep.build_report(config, datasets, data)
    summary = page[page.index('id="summary"'):page.index('id="data"')]
    assert "The random-set percentile is not available in this run" in summary
    assert "percentile not available" not in summary  # said once, not per model
    assert re.search(r'<td class="controls">not available', summary)
    assert "GSE1: not available" in page  # noise floor per data set in Methods


def test_integers_print_as_integers(contract_page: str):
    text = "".join(parse(contract_page).text)
    assert not re.search(r"n = \d+\.0\b", contract_page)  # SVG hover texts included
    assert not re.search(r"\b(3|6)\.0 (resistant|sensitive)", text)


def test_two_sided_support_in_older_tables_shows_as_changed():
    """Today's hypotheses module calls a significant two-sided change 'supported'; the report never
    colours it as directional support."""
    old = pd.DataFrame({"dataset": ["A", "A"], "hypothesis": ["insr_changed", "abc_up"], "predicted": ["changed", "up"],
                        "verdict": ["supported", "supported"], "primary": [True, True]})
    table = rep.tables.normalise_hypotheses(old)
    assert list(table["verdict"]) == ["changed", "supported"]
    assert list(table["model"]) == ["A", "A"] and list(table["role"]) == ["primary", "primary"]
    assert table["random_percentile"].isna().all()


def test_footprint_sentence_names_the_pathway_and_skips_models_it_does_not_apply_to():
    from igf1r_resistance.report.sentences import bottom_line

    h = {"id": "pi3k_akt_up", "test": "footprint", "readout": "progeny:PI3K", "predicted": "up"}
    rows = pd.DataFrame({"dataset": ["A"], "verdict": ["supported"], "effect": [8.5], "hedges_g": [2.8],
                         "g_ci_low": [1.0], "g_ci_high": [4.6], "ci_low": [np.nan], "ci_high": [np.nan]})
    models = {"A": rep.tables.Model("A", "A2780-cisplatin", "chemotherapy", "mt-chemotherapy", "", ""),
              "B": rep.tables.Model("B", "HT29-methotrexate", "chemotherapy", "mt-chemotherapy", "", "")}
    text = bottom_line(h, rows, models)
    assert text.startswith("PROGENy PI3K pathway activity is higher in 1 of 1 tested models")
    assert "footprint score +8.50 on the contrast" in text and "HT29" not in text
