"""Designs with several contrasts: config validation, model ids and the user errors of issue 15."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igf1r_resistance.errors import ConfigError, GroupingError
from igf1r_resistance.pp.designs import (
    check_design,
    contrast_groups,
    design_problems,
    design_samples,
    fitted_design,
    model_ids,
    model_spec,
)
from igf1r_resistance.tl.linear_model import DesignError, design_matrix, linear_model
from igf1r_resistance.workflow.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
SHEET = pd.DataFrame({
    "arm": list("CCCCRRRROOOO"), "batch": ["b1", "b1", "b2", "b2"] * 3,
    "cell_line": ["L1", "L2", "L3", "L4"] * 3, "age": ["1", "2", "3", "4"] * 3,
}, index=[f"s{i}" for i in range(12)])
DESIGN = {"factor": "arm", "covariates": ["batch"]}
CONTRASTS = {"R_vs_C": {"resistant": "R", "sensitive": "C", "drug": "cisplatin"},
             "O_vs_C": {"test": "O", "reference": "C", "comparison": "IGF1R_inhibition"}}


def _config(tmp_path: Path, sheet: pd.DataFrame = SHEET, design: dict = DESIGN, contrasts: dict = CONTRASTS,
            **extra) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    (tmp_path / "samples.tsv").write_text(sheet.rename_axis("sample").to_csv(sep="\t"))
    (tmp_path / "expr.tsv").write_text("gene\t" + "\t".join(sheet.index) + "\n")
    config["datasets"] = {"arms": {"type": "matrix", "matrix": str(tmp_path / "expr.tsv"),
                                   "samples": str(tmp_path / "samples.tsv"), "design": design,
                                   "contrasts": contrasts, **extra}}
    return config


@pytest.fixture(autouse=True)
def _repo(monkeypatch):
    monkeypatch.chdir(REPO)


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    return str(err.value)


def test_design_config_is_valid_and_gives_one_model_per_contrast(tmp_path):
    out = validate_config(_config(tmp_path), SCHEMA)
    datasets = out["datasets"]
    assert datasets["arms"]["design"]["covariates"] == ["batch"]
    assert model_ids(datasets) == ["arms/R_vs_C", "arms/O_vs_C"]
    spec = model_spec(datasets, "arms/R_vs_C")
    assert (spec["dataset"], spec["contrast"], spec["test"], spec["reference"]) == ("arms", "R_vs_C", "R", "C")
    assert spec["drug"] == "cisplatin" and spec["drug_class"] == "platinum"  # the contrast's own drug
    assert spec["comparison"] == "resistance"
    other = model_spec(datasets, "arms/O_vs_C")
    assert other["comparison"] == "IGF1R_inhibition" and other["drug"] == "" and other["drug_class"] == ""
    assert spec["model_type"] == "chemotherapy resistance"
    assert other["model_type"] == "IGF1R_inhibition"  # a regulator comparison is pooled apart
    plain = model_spec({"GSE1": {"drug": "x", "controls": {}}}, "GSE1")
    assert plain["contrast"] == "" and plain["design"] is None and model_ids({"GSE1": {}}) == ["GSE1"]


@pytest.mark.parametrize("edit, message", [
    # a covariate confounded with the factor: batch = arm
    (dict(sheet=SHEET.assign(batch=SHEET["arm"])),
     "datasets.arms.design.covariates: 'batch' is confounded with the terms before it"),
    # a contrast naming a level that does not exist
    (dict(contrasts={"X_vs_C": {"resistant": "X", "sensitive": "C"}}),
     "datasets.arms.contrasts.X_vs_C.resistant: 'X' is not a level of 'arm' (levels: C, O, R)"),
    (dict(contrasts={"R_vs_Z": {"test": "R", "reference": "Z"}}),
     "datasets.arms.contrasts.R_vs_Z.reference: 'Z' is not a level of 'arm'"),
    # a pair whose samples sit in one group
    (dict(sheet=SHEET.assign(cell_line=SHEET["arm"] + "x"), design={"factor": "arm", "pair_by": "cell_line"}),
     "datasets.arms.design.pair_by: pair(s) Cx, Ox, Rx of 'cell_line' have all their samples in one level"),
    # fewer than 2 residual df: 12 samples, 3 arms + 3 batch + 8 ... -> use 4 samples
    (dict(sheet=SHEET.iloc[[0, 1, 4, 5]].assign(batch=["b1", "b2", "b1", "b2"]),
          contrasts={"R_vs_C": {"resistant": "R", "sensitive": "C"}}),
     "datasets.arms.design: 4 samples for 3 coefficients leave 1 residual degree(s) of freedom; limma needs at least 2"),
    # a numeric covariate with missing values
    (dict(sheet=SHEET.assign(age=["1", "", "3", "4"] * 3), design={"factor": "arm", "covariates": ["age"]}),
     "datasets.arms.design.covariates: numeric covariate 'age' has missing values (sample(s) s1, s5, s9)"),
    (dict(design={"factor": "arm", "covariates": ["batchh"]}),
     "datasets.arms.design.covariates: 'batchh' is not a column of the sample sheet"),
    (dict(design={"factor": "group"}), "datasets.arms.design.factor: column name 'group' is reserved"),
    (dict(contrasts={"R_vs_R": {"resistant": "R", "sensitive": "R"}}),
     "datasets.arms.contrasts.R_vs_R: test and reference are the same level 'R'"),
    (dict(contrasts={"R": {"resistant": "R"}}), "datasets.arms.contrasts.R: needs sensitive (or reference): a level of 'arm'"),
    # response contrasts (a numeric response instead of levels; docs/panels.md)
    (dict(contrasts={"auc": {"response": "AUC", "higher_is": "resistant"}}),
     "datasets.arms.contrasts.auc.response: 'AUC' is not a column of the sample sheet"),
    (dict(contrasts={"auc": {"response": "age"}}), "datasets.arms.contrasts.auc.higher_is: needed with response"),
    (dict(contrasts={"auc": {"response": "age", "higher_is": "resistant", "resistant": "R"}}),
     "datasets.arms.contrasts.auc: a response contrast takes response and higher_is, not resistant"),
    (dict(sheet=SHEET.assign(auc=["0.5", "n/a", "0.7"] * 4), contrasts={"auc": {"response": "auc", "higher_is": "resistant"}}),
     "datasets.arms.contrasts.auc.response: response column 'auc' is not numeric (s1='n/a'"),
    (dict(sheet=SHEET.assign(auc=["0.5", "0.6"] + [""] * 10), design={"factor": "arm"},
          contrasts={"auc": {"response": "auc", "higher_is": "sensitive"}}),
     "datasets.arms.contrasts.auc.response: response column 'auc' has 2 values; an association needs at least 3 lines"),
    (dict(sheet=SHEET.assign(auc=SHEET["arm"].map({"C": "1", "R": "2", "O": "3"})),
          contrasts={"auc": {"response": "auc", "higher_is": "resistant"}}),
     "datasets.arms.contrasts.auc.response: 'auc' is confounded with the design's terms"),
    (dict(sheet=SHEET.assign(auc=["1", "2", "3", "5", "", "", "", "", "", "", "", ""]),
          contrasts={"auc": {"response": "auc", "higher_is": "resistant"}}),
     "datasets.arms.contrasts.auc.response: 4 lines with a value for 3 coefficients leave 1 residual degree(s)"),
    (dict(design={"covariates": ["batch"]}),  # no factor: response contrasts only
     "datasets.arms.contrasts.R_vs_C: a contrast of levels needs design.factor"),
    (dict(sheet=SHEET.assign(auc=["0.5", "0.7", "0.9"] * 4), design={"covariates": ["batch"]},
          contrasts={"auc": {"response": "auc", "higher_is": "resistant"}}), None),
    (dict(sheet=SHEET.assign(auc=[str(v) for v in range(12)]),  # level and response contrasts together
          contrasts={**CONTRASTS, "auc": {"response": "auc", "higher_is": "sensitive"}}), None),
    (dict(contrasts={"R_vs_C": {"resistant": "R", "sensitive": "C", "drugg": "x"}}),
     "datasets.arms.contrasts.R_vs_C: unknown key(s) 'drugg'"),
    (dict(groups={"by": "arm", "resistant": "R", "sensitive": "C"}),
     "datasets.arms: give groups (one two-group comparison) or design + contrasts, not both"),
    (dict(contrasts={"R_vs_C": {"resistant": "R", "sensitive": "C", "drug": "mystery pill"}}), None),
])
def test_design_errors_name_dataset_contrast_and_field(tmp_path, edit, message):
    config = _config(tmp_path, **edit)
    if message is None:  # valid: an unknown drug leaves the contrast without a class; a factor-less response design
        validate_config(config, SCHEMA)
        return
    assert message in _error(config)


def test_design_needs_contrasts_and_a_sample_sheet_type(tmp_path):
    config = _config(tmp_path)
    del config["datasets"]["arms"]["contrasts"]
    assert "datasets.arms: design needs contrasts" in _error(config)
    config = _config(tmp_path)
    config["datasets"]["arms"] = {"type": "single_cell", "path": str(tmp_path / "expr.tsv"), "values": "counts",
                                  "group_column": "g", "design": DESIGN, "contrasts": CONTRASTS}
    assert "datasets.arms: design/contrasts are supported for type matrix, geo, geo_rnaseq, h5ad" in _error(config)
    # h5ad: obs columns are the terms (checked by prepare); a group_column beside them is ambiguous
    config["datasets"]["arms"] = {"type": "h5ad", "path": str(tmp_path / "expr.tsv"), "design": DESIGN,
                                  "contrasts": CONTRASTS}
    validate_config(config, SCHEMA)
    config["datasets"]["arms"]["group_column"] = "g"
    assert "datasets.arms: give group_column (one two-group comparison) or design + contrasts" in _error(config)


def test_data_time_checks_raise_design_errors_naming_the_dataset():
    """Prepare and DE check the design again on the data (e.g. after samples were left out)."""
    with pytest.raises(DesignError) as err:
        check_design("arms", SHEET.assign(batch=SHEET["arm"]), DESIGN, CONTRASTS, where="expression.h5ad obs")
    assert isinstance(err.value, GroupingError)
    text = str(err.value)
    assert text.startswith("data set arms (expression.h5ad obs): the design cannot be fitted")
    assert "datasets.arms.design.covariates: 'batch' is confounded" in text


def test_design_samples_types_and_contrast_groups():
    sheet = SHEET.assign(arm=["C", "C", "", "C", "R", "R", "R", "R", "O", "O", "O", "O"])
    terms = design_samples(sheet, {"factor": "arm", "covariates": ["age", "batch"]})
    assert "s2" not in terms.index  # no factor value: not fitted
    assert terms["age"].dtype == float and terms["batch"].dtype == object
    groups = contrast_groups(terms, DESIGN, "R", "C")
    assert groups.value_counts().to_dict() == {"resistant": 4, "excluded": 4, "sensitive": 3}
    # age (1..4) is a combination of the intercept and the cell-line columns: the pair term is named
    problems = design_problems(SHEET, {"factor": "arm", "covariates": ["age"], "pair_by": "cell_line"}, CONTRASTS)
    assert len(problems) == 1 and problems[0].startswith(".design.pair_by: 'cell_line' is confounded with the terms "
                                                         "before it (design column 'cell_lineL4'")


def test_fitted_design_equals_the_library_design():
    rng = np.random.default_rng(1)
    x, weights = fitted_design("arms", SHEET, DESIGN, CONTRASTS)
    assert list(x.columns) == ["armC", "armO", "armR", "batchb2"]
    assert weights == {"R_vs_C": {"armR": 1.0, "armC": -1.0}, "O_vs_C": {"armO": 1.0, "armC": -1.0}}
    expr = pd.DataFrame(rng.normal(size=(50, 12)), columns=SHEET.index)
    tables = linear_model(expr, x, weights)
    direct = linear_model(expr, design_matrix(SHEET, "arm", ["batch"]), {"R_vs_C": {"armR": 1, "armC": -1}})
    pd.testing.assert_frame_equal(tables["R_vs_C"], direct["R_vs_C"])


def test_set_scores_are_fitted_on_the_design():
    """design_set_effects = linear_model of the sets x samples scores on the same design."""
    from igf1r_resistance.pp.designs import design_set_effects

    rng = np.random.default_rng(3)
    wide = pd.DataFrame(rng.normal(size=(6, 12)), index=[f"SET{i}" for i in range(6)], columns=SHEET.index)
    wide.loc["SET0", SHEET["arm"] == "R"] += 4.0
    scores = wide.stack().rename("score").reset_index().rename(columns={"level_0": "gene_set", "level_1": "sample"})
    scores["method"] = "zscore"
    spec = model_spec({"arms": {"design": DESIGN, "contrasts": CONTRASTS}}, "arms/R_vs_C")
    fit = design_set_effects(scores, SHEET, spec, ["zscore", "gsva"]).set_index("gene_set")
    want = linear_model(wide, design_matrix(SHEET, "arm", ["batch"]), {"c": {"armR": 1, "armC": -1}})["c"]
    want = want.set_index("gene")
    assert list(fit.index) == list(wide.index) and set(fit["method"]) == {"zscore"}  # no gsva scores: no rows
    for column in ["logFC", "CI.L", "CI.R", "t", "P.Value"]:
        np.testing.assert_allclose(fit[column], want[column], rtol=1e-12)
    assert fit.loc["SET0", "logFC"] > 3.0 and fit.loc["SET0", "P.Value"] < 0.01
