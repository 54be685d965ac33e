"""Meta-analysis step: pooling each hypothesis across models within strata (meta.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.tl import meta_stats, stats
from igf1r_resistance.tl.meta import META_COLUMNS, meta_analyse, model_metadata

CONTRACT = ["hypothesis", "stratum", "k", "models", "method", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
            "tau2", "i2", "p_value", "verdict"]


def rows(hid, gs, vs, test="group", predicted="up", verdict="inconclusive", datasets=None, n=5):
    datasets = datasets or [f"D{i}" for i in range(len(gs))]
    return pd.DataFrame({
        "dataset": datasets, "hypothesis": hid, "method": "singscore",
        "effect": gs, "hedges_g": gs, "g_variance": vs, "primary": True, "test": test, "predicted": predicted,
        "verdict": verdict, "n_resistant": n, "n_sensitive": n,
    })


def chemo(*names):
    return {d: {"model_type": "chemotherapy resistance", "drug_class": None, "data_type": "geo",
                "replicate_column": None} for d in names}


def test_contract_columns_and_reml_hksj_pooling():
    table = pd.concat([rows("h1", [1.0, 1.5, 2.0], [0.3, 0.4, 0.5]), rows("h2", [0.1, -0.1, 0.0], [0.4, 0.4, 0.4])])
    meta = meta_analyse(table, chemo("D0", "D1", "D2"))
    assert list(meta.columns) == META_COLUMNS and META_COLUMNS[:len(CONTRACT)] == CONTRACT
    h1 = meta.set_index("hypothesis").loc["h1"]
    ref = meta_stats.rma(np.array([1.0, 1.5, 2.0]), np.array([0.3, 0.4, 0.5]), method="REML", test="knha")
    for col in ["estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "p_value", "i2_ci_high", "q"]:
        assert h1[col] == pytest.approx(getattr(ref, col)), col
    assert h1["k"] == 3 and h1["models"] == "D0;D1;D2" and h1["method"] == "REML-HKSJ"
    assert h1["stratum"] == "chemotherapy resistance" and h1["headline"]
    assert (h1["vote_up"], h1["vote_down"]) == (3, 0) and "vote count" in h1["note"]
    assert h1["loo_min"] == pytest.approx(min(f.estimate for f in meta_stats.leave_one_out([1.0, 1.5, 2.0],
                                                                                             [0.3, 0.4, 0.5])))
    # BH over the two headline rows
    p = meta.set_index("hypothesis")["p_value"].to_numpy(float)
    assert meta.set_index("hypothesis")["fdr"].to_numpy(float) == pytest.approx(stats.bh_fdr(p))


def test_method_options_reach_the_estimator():
    table = rows("h1", [1.0, -0.5, 2.0, 0.3], [0.3, 0.4, 0.5, 0.2])
    meta = meta_analyse(table, chemo("D0", "D1", "D2", "D3"), settings={"tau2_method": "DL", "test": "z"})
    ref = meta_stats.rma(table["hedges_g"], table["g_variance"], method="DL", test="z")
    assert meta["method"].iloc[0] == "DL-Wald" and meta["ci_low"].iloc[0] == pytest.approx(ref.ci_low)


def test_strata_are_pooled_apart_with_headline_first_and_own_fdr_family():
    table = rows("h1", [1.0, 1.4, 0.2, -0.3, 0.9], [0.3, 0.3, 0.4, 0.4, 0.5], datasets=["E1", "C1", "E2", "C2", "C3"])
    models = {**chemo("C1", "C2", "C3"),
              "E1": {"model_type": "endocrine resistance", "data_type": "geo"},
              "E2": {"model_type": "endocrine resistance", "data_type": "geo"}}
    meta = meta_analyse(table, models)
    assert meta["stratum"].tolist() == ["chemotherapy resistance", "endocrine resistance"]
    chemo_row, endo_row = meta.iloc[0], meta.iloc[1]
    assert chemo_row["models"] == "C1;C2;C3" and endo_row["models"] == "E1;E2"
    assert chemo_row["headline"] and not endo_row["headline"]
    assert "headline" in chemo_row["fdr_family"] and "secondary" in endo_row["fdr_family"]
    # each stratum is its own BH family: one test per family, so FDR = p
    assert chemo_row["fdr"] == pytest.approx(chemo_row["p_value"]) and endo_row["fdr"] == pytest.approx(endo_row["p_value"])
    ref = meta_stats.rma(np.array([1.4, -0.3, 0.9]), np.array([0.3, 0.4, 0.5]))
    assert chemo_row["estimate"] == pytest.approx(ref.estimate)


def test_drug_class_substrata_when_a_type_has_several_classes():
    table = rows("h1", [1.0, 1.2, 0.4, 0.5], [0.3] * 4, datasets=["P1", "P2", "T1", "T2"])
    models = chemo("P1", "P2", "T1", "T2")
    for d in ("P1", "P2"):
        models[d]["drug_class"] = "platinum"
    for d in ("T1", "T2"):
        models[d]["drug_class"] = "taxane"
    meta = meta_analyse(table, models)
    assert meta["stratum"].tolist() == ["chemotherapy resistance", "chemotherapy resistance / platinum",
                                        "chemotherapy resistance / taxane"]
    assert meta.set_index("stratum").loc["chemotherapy resistance / taxane", "models"] == "T1;T2"


def test_columns_of_hypotheses_tsv_win_over_config():
    table = rows("h1", [1.0, 1.2, 0.4], [0.3] * 3, datasets=["A", "B", "C"])
    table["model_type"] = ["endocrine resistance", "", np.nan]  # empty = use the config
    meta = meta_analyse(table, chemo("A", "B", "C"))
    assert dict(zip(meta["stratum"], meta["models"])) == {"chemotherapy resistance": "B;C", "endocrine resistance": "A"}


def test_single_cells_without_replicates_are_descriptive_never_pooled():
    table = rows("h1", [1.0, 1.2, 8.0], [0.3, 0.3, 0.01], datasets=["A", "B", "SC"])
    models = chemo("A", "B")
    models["SC"] = {"model_type": "chemotherapy resistance", "data_type": "single_cell", "replicate_column": None}
    row = meta_analyse(table, models).iloc[0]
    assert row["k"] == 2 and row["models"] == "A;B" and row["descriptive_models"] == "SC"
    assert "pseudo-replicates" in row["note"]
    assert row["estimate"] == pytest.approx(meta_stats.rma(np.array([1.0, 1.2]), np.array([0.3, 0.3])).estimate)


def test_single_cells_with_two_replicates_per_group_are_pooled():
    table = rows("h1", [1.0, 1.2, 0.8], [0.3, 0.3, 0.6], datasets=["A", "B", "SC"])
    table.loc[2, ["n_resistant", "n_sensitive"]] = [3, 2]
    models = chemo("A", "B")
    models["SC"] = {"model_type": "chemotherapy resistance", "data_type": "single_cell", "replicate_column": "mouse"}
    assert meta_analyse(table, models).iloc[0]["models"] == "A;B;SC"
    table.loc[2, "n_sensitive"] = 1  # one replicate in a group: pseudo-replicated again
    assert meta_analyse(table, models).iloc[0]["descriptive_models"] == "SC"


def test_data_type_column_marks_single_cells_without_config():
    table = rows("h1", [1.0, 1.2, 8.0], [0.3, 0.3, 0.01], datasets=["A", "B", "SC"])
    table["data_type"] = ["microarray", "microarray", "single_cell"]
    assert meta_analyse(table).iloc[0]["descriptive_models"] == "SC"


def test_two_sided_hypotheses_are_not_pooled_with_a_sign():
    table = rows("insr_changed", [-2.3, 0.4, 7.1], [0.9, 0.7, 4.5], predicted="changed")
    row = meta_analyse(table, chemo("D0", "D1", "D2")).iloc[0]
    assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"]) and np.isnan(row["p_value"])
    assert row["verdict"] == "inconclusive" and "two-sided" in row["note"]
    assert "heterogeneity only" in row["method"]
    ref = meta_stats.rma(np.array([-2.3, 0.4, 7.1]), np.array([0.9, 0.7, 4.5]))
    assert row["tau2"] == pytest.approx(ref.tau2) and row["i2"] == pytest.approx(ref.i2)
    assert (row["vote_up"], row["vote_down"]) == (2, 1)


def test_one_model_is_not_enough():
    row = meta_analyse(rows("h1", [1.0], [0.3]), chemo("D0")).iloc[0]
    assert row["verdict"] == "not_testable" and "at least 2" in row["note"] and row["k"] == 1


def test_not_testable_rows_are_left_out():
    table = rows("h1", [1.0, 1.2, np.nan], [0.3, 0.3, np.nan])
    table.loc[2, "verdict"] = "not_testable"
    row = meta_analyse(table, chemo("D0", "D1", "D2")).iloc[0]
    assert row["k"] == 2 and row["models"] == "D0;D1"


def test_couplings_pool_fisher_z_with_bonett_wright_variance():
    table = rows("c1", [0.8, 0.7, 0.9], [np.nan] * 3, test="coupling", predicted="positive", n=10)
    row = meta_analyse(table, chemo("D0", "D1", "D2")).iloc[0]
    z = np.arctanh([0.8, 0.7, 0.9])
    v = [stats.spearman_z_variance(r, 20) for r in (0.8, 0.7, 0.9)]
    ref = meta_stats.rma(z, np.array(v))
    assert row["estimate"] == pytest.approx(np.tanh(ref.estimate))
    assert row["pi_high"] == pytest.approx(np.tanh(ref.pi_high))
    assert row["observed"] == "positive"


def test_model_metadata_reads_the_config():
    md = model_metadata({"GSE1": {"model_type": "endocrine resistance", "drug_class": "endocrine"},
                         "sc": {"type": "single_cell", "replicate_column": "mouse"}, "GSE2": {}})
    assert md["GSE1"] == {"model_type": "endocrine resistance", "drug_class": "endocrine", "data_type": "geo",
                          "replicate_column": None}
    assert md["sc"]["data_type"] == "single_cell" and md["sc"]["replicate_column"] == "mouse"
    assert md["GSE2"]["model_type"] == "chemotherapy resistance"


def test_report_draws_one_forest_per_stratum_with_the_prediction_interval():
    """The report's meta section renders the new meta.tsv: unique anchors, stratum models only, PI line."""
    from types import SimpleNamespace

    from igf1r_resistance.report.evidence import meta_view

    table = rows("h1", [1.0, 1.4, 0.2, -0.3, 0.9], [0.3, 0.3, 0.4, 0.4, 0.5], datasets=["E1", "C1", "E2", "C2", "C3"])
    table["g_ci_low"], table["g_ci_high"] = table["hedges_g"] - 1, table["hedges_g"] + 1
    models = {**chemo("C1", "C2", "C3"), "E1": {"model_type": "endocrine resistance"},
              "E2": {"model_type": "endocrine resistance"}}
    meta = meta_analyse(table, models)
    datasets = ["C1", "C2", "C3", "E1", "E2"]
    view = meta_view(datasets, SimpleNamespace(meta=meta, hypotheses=table), {"h1": {"test": "group"}})
    forests = {f["anchor"]: f for f in view["forests"]}
    assert set(forests) == {"meta-h1", "meta-h1-endocrine_resistance"}
    svgs = {a: str(f["fig"]["svg"]) if isinstance(f["fig"], dict) else str(f["fig"]) for a, f in forests.items()}
    assert all(svg.count("<title>95% prediction interval") == 1 for svg in svgs.values())
    assert all(f["pi"].startswith("95% prediction interval") for f in forests.values())
    assert ">C1<" in svgs["meta-h1"] and ">E1<" not in svgs["meta-h1"]
    assert ">E1<" in svgs["meta-h1-endocrine_resistance"]


def test_a_tau2_that_cannot_be_estimated_is_not_testable_with_a_note():
    table = rows("h1", [-60.0, 60.0, 0.0], [0.4, 0.4, 0.4])  # Q(tau^2 = 100) > k - 1: Paule-Mandel has no root
    row = meta_analyse(table, chemo("D0", "D1", "D2"), settings={"tau2_method": "PM"}).iloc[0]
    assert row["verdict"] == "not_testable" and "Paule-Mandel" in row["note"] and np.isnan(row["estimate"])


def test_no_primary_rows_give_an_empty_table_with_the_contract_columns():
    table = rows("h1", [1.0, 1.2], [0.3, 0.3])
    table["primary"] = False
    meta = meta_analyse(table, chemo("D0", "D1"))
    assert meta.empty and list(meta.columns) == META_COLUMNS
