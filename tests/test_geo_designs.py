"""Designs and contrasts on GEO series (type geo, geo_rnaseq) and h5ad data sets: terms name
characteristics keys or sample fields (as groups.by does) or obs columns; levels are the field's
values, stripped, case kept (issue 15; docs/designs.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igf1r_resistance.errors import ConfigError, PipelineError
from igf1r_resistance.io.series_matrix import read_series_matrix
from igf1r_resistance.pp.designs import check_design, design_samples, series_design_sheet
from igf1r_resistance.pp.symbols import SymbolMapper
from igf1r_resistance.tl.linear_model import DesignError
from igf1r_resistance.workflow.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
SERIES = REPO / "tests/data/geo_design/series/GSE999nnn/GSE999002/matrix/GSE999002_series_matrix.txt.gz"
RNASEQ = REPO / "tests/data/geo_rnaseq/series/GSE999nnn/GSE999001"
DESIGN = {"factor": "subline", "covariates": ["batch"]}
CONTRASTS = {"CisR_vs_parental": {"resistant": "CisR", "sensitive": "parental"},
             "OlaR_vs_parental": {"test": "OlaR", "reference": "parental"}}

# a series matrix as GEO writes it (quoted cells, characteristics as "key: value", repeated lines)
TINY = """!Series_title\t"tiny design series"
!Series_geo_accession\t"GSE1"
!Sample_title\t"L1 parental"\t"L1 CisR"\t"L2 parental"\t"L2 CisR"\t"L3 parental"\t"L3 CisR"
!Sample_geo_accession\t"GSM1"\t"GSM2"\t"GSM3"\t"GSM4"\t"GSM5"\t"GSM6"
!Sample_source_name_ch1\t"cells P"\t"cells R"\t"cells P"\t"cells R"\t"cells P"\t"cells R"
!Sample_characteristics_ch1\t"cell line: L1"\t"cell line: L1"\t"cell line: L2"\t"cell line: L2"\t"cell line: L3"\t"cell line: L3"
!Sample_characteristics_ch1\t"Subline: parental"\t"Subline:  CisR "\t"Subline: parental"\t"Subline: CisR"\t"Subline: parental"\t"Subline: CisR"
!Sample_characteristics_ch1\t"age: 50"\t"age: 50"\t"age: NA"\t"age: 61"\t"age: 70"\t"age: 70"
!Sample_platform_id\t"GPL570"\t"GPL570"\t"GPL570"\t"GPL570"\t"GPL570"\t"GPL570"
!series_matrix_table_begin
"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"\t"GSM4"\t"GSM5"\t"GSM6"
"p1"\t1\t2\t3\t4\t5\t6
!series_matrix_table_end
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "GSE1_series_matrix.txt"
    path.write_text(TINY)
    return read_series_matrix(path)


@pytest.fixture(scope="module")
def mapper() -> SymbolMapper:
    return SymbolMapper.from_file(REPO / "workflow/resources/hgnc_symbols.tsv.gz")


def test_series_matrix_records_its_characteristics_keys(tiny):
    assert tiny.characteristics == ["cell line", "Subline", "age"]


def test_terms_name_keys_or_fields_and_levels_are_stripped_with_case_kept(tiny):
    # a key in another case (as groups.by), a short field name, and pairs from a key with a space
    design = {"factor": "subline", "pair_by": "cell line"}
    sheet = series_design_sheet("GSE1", tiny.samples, design, tiny.characteristics)
    assert sheet["subline"].tolist() == ["parental", "CisR"] * 3  # ' CisR ' stripped
    assert sheet["cell line"].tolist() == ["L1", "L1", "L2", "L2", "L3", "L3"]
    check_design("GSE1", sheet, design, {"R_vs_P": {"resistant": "CisR", "sensitive": "parental"}})
    by_source = series_design_sheet("GSE1", tiny.samples, {"factor": "source_name"}, tiny.characteristics)
    assert by_source["source_name"].tolist() == ["cells P", "cells R"] * 3
    by_title = series_design_sheet("GSE1", tiny.samples, {"factor": "title"}, tiny.characteristics)
    assert by_title["title"].tolist() == tiny.samples["title"].tolist()  # title may be a term


def test_a_key_named_like_a_reserved_column_is_reachable_in_another_case(tiny):
    samples = tiny.samples.rename(columns={"Subline": "group"})  # GEO series often say "group: ..."
    with pytest.raises(DesignError, match=r"datasets.GSE1.design.factor: 'group' is reserved by the workflow .* "
                                          r"write 'Group' instead"):
        series_design_sheet("GSE1", samples, {"factor": "group"}, ["cell line", "group", "age"])
    sheet = series_design_sheet("GSE1", samples, {"factor": "Group"}, ["cell line", "group", "age"])
    check_design("GSE1", sheet, {"factor": "Group"}, {"R_vs_P": {"resistant": "CisR", "sensitive": "parental"}})
    assert sheet["Group"].tolist() == ["parental", "CisR"] * 3


def test_missing_tokens_are_missing_values(tiny):
    sheet = series_design_sheet("GSE1", tiny.samples, {"factor": "Subline", "covariates": ["age"]},
                                tiny.characteristics)
    assert sheet.loc["GSM3", "age"] != sheet.loc["GSM3", "age"]  # 'NA' -> missing, not a level 'NA'
    terms = design_samples(sheet, {"factor": "Subline", "covariates": ["age"]})
    assert terms["age"].dtype == float  # the other values read as numbers: a numeric covariate
    with pytest.raises(DesignError) as err:
        check_design("GSE1", sheet, {"factor": "Subline", "covariates": ["age"]},
                     {"R_vs_P": {"resistant": "CisR", "sensitive": "parental"}})
    assert "datasets.GSE1.design.covariates: numeric covariate 'age' has missing values (sample(s) GSM3)" in str(
        err.value)


def test_a_key_not_in_the_series_lists_the_keys_there(tiny):
    with pytest.raises(DesignError) as err:
        series_design_sheet("GSE1", tiny.samples, {"factor": "subline", "covariates": ["batch"]},
                            tiny.characteristics, where="GSE1_series_matrix.txt")
    text = str(err.value)
    assert text.startswith("data set GSE1 (GSE1_series_matrix.txt): the design cannot be fitted")
    assert ("datasets.GSE1.design.covariates: 'batch' is neither a characteristics key nor a sample field of the "
            "series matrix; characteristics keys there: 'cell line', 'Subline', 'age'") in text
    assert "sample fields: title, source_name, geo_accession" in text
    assert isinstance(err.value, PipelineError)  # a user error: a clean message, no traceback


def test_a_level_that_matches_no_sample_lists_the_values(tiny):
    sheet = series_design_sheet("GSE1", tiny.samples, {"factor": "subline"}, tiny.characteristics)
    with pytest.raises(DesignError) as err:
        check_design("GSE1", sheet, {"factor": "subline"}, {"R_vs_P": {"resistant": "cisr", "sensitive": "parental"}})
    assert ("datasets.GSE1.contrasts.R_vs_P.resistant: 'cisr' is not a level of 'subline' (levels: CisR, parental); "
            "levels keep their case: did you mean 'CisR'?") in str(err.value)


def _annotation() -> pd.DataFrame:
    table = pd.read_csv(REPO / ".test/geo/platforms/GPLnnn/GPL570/soft/GPL570_probe2symbol_idmap2.tsv.gz", sep="\t")
    return table.set_axis(["probe", "symbol"], axis=1)


def test_prepare_geo_series_with_a_design(tmp_path):
    from igf1r_resistance.pp.prepare import prepare_dataset

    # GSM9990212 (OlaR) has GEO's missing token as its subline: left out of the fit, listed as excluded
    text = gzip.open(SERIES, "rt").read()
    cells = text.split("\n")
    row = next(i for i, line in enumerate(cells) if line.startswith('!Sample_characteristics_ch1\t"subline'))
    cells[row] = cells[row][: cells[row].rindex('"subline: OlaR"')] + '"subline: NA"'
    path = tmp_path / "GSE999002_series_matrix.txt"
    path.write_text("\n".join(cells))
    settings = {"type": "geo", "platform": "GPL570", "design": DESIGN, "contrasts": CONTRASTS}
    p = prepare_dataset(str(path), _annotation(), "GSE999002", settings)
    a = p.adata
    assert a.n_obs == 11 and "GSM9990212" not in a.obs_names
    assert a.obs["subline"].value_counts().to_dict() == {"parental": 4, "CisR": 4, "OlaR": 3}
    assert a.obs["batch"].tolist() == ["A", "A", "B", "B"] * 2 + ["A", "A", "B"]
    # group = the first contrast's resistant / sensitive, the other fitted level intermediate
    assert a.obs["group"].astype(str).tolist() == ["sensitive"] * 4 + ["resistant"] * 4 + ["intermediate"] * 3
    info = a.uns["dataset"]
    assert info["group_rule"] == "design" and info["design_factor"] == "subline" and info["design_covariates"] == "batch"
    assert info["n_excluded"] == 1 and bool(a.uns["log2"]["transformed"])
    table = p.samples.set_index("sample")
    assert table.loc["GSM9990212", "group"] == "excluded" and table.loc["GSM9990201", "subline"] == "parental"


def test_prepare_geo_series_design_errors_name_dataset_contrast_and_field():
    from igf1r_resistance.pp.prepare import prepare_dataset

    settings = {"type": "geo", "platform": "GPL570", "design": {"factor": "resistance"}, "contrasts": CONTRASTS}
    with pytest.raises(DesignError, match=r"datasets.GSE999002.design.factor: 'resistance' is neither a "
                                          r"characteristics key .* keys there: 'cell line', 'subline', 'batch'"):
        prepare_dataset(str(SERIES), _annotation(), "GSE999002", settings)
    settings = {"type": "geo", "design": DESIGN, "contrasts": {"X": {"resistant": "CisR", "sensitive": "Parental"}}}
    with pytest.raises(DesignError, match=r"datasets.GSE999002.contrasts.X.sensitive: 'Parental' is not a level of "
                                          r"'subline' \(levels: CisR, OlaR, parental\)"):
        prepare_dataset(str(SERIES), _annotation(), "GSE999002", settings)


def test_geo_rnaseq_with_a_design_equals_its_groups(mapper):
    """A two-level design on geo_rnaseq prepares the same log-CPM matrix as the groups rule."""
    from igf1r_resistance.pp.rnaseq import prepare_geo_rnaseq

    files = (str(RNASEQ / "matrix/GSE999001_series_matrix.txt.gz"),
             str(RNASEQ / "rnaseq_counts/GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz"),
             str(RNASEQ / "rnaseq_counts/Human.GRCh38.p13.annot.tsv.gz"))
    plain = prepare_geo_rnaseq("GSE999001", {"type": "geo_rnaseq", "groups": {
        "by": "treatment", "resistant": "resistant", "sensitive": "^parental$"}}, *files, mapper).adata
    design = prepare_geo_rnaseq("GSE999001", {"type": "geo_rnaseq", "design": {"factor": "treatment"}, "contrasts": {
        "R_vs_P": {"resistant": "carboplatin-resistant", "sensitive": "parental"}}}, *files, mapper).adata
    assert design.uns["dataset"]["group_rule"] == "design" and design.uns["de"]["method"] == "limma-trend"
    assert design.obs["treatment"].tolist() == ["parental"] * 3 + ["carboplatin-resistant"] * 3
    assert list(design.var_names) == list(plain.var_names)
    np.testing.assert_array_equal(design.X, plain.X)


def test_h5ad_with_a_design_uses_obs_columns(tmp_path, mapper):
    import anndata as ad

    from igf1r_resistance.io.local_data import prepare_h5ad

    rng = np.random.default_rng(3)
    obs = pd.DataFrame({"arm": list("CCCRRROOO"), "batch": ["b1", "b2", "b1"] * 3}, index=[f"s{i}" for i in range(9)])
    a = ad.AnnData(X=rng.normal(8, 1, (9, 3)), obs=obs, var=pd.DataFrame(index=["IGF1R", "AKT1", "ABCB1"]))
    a.write_h5ad(tmp_path / "arms.h5ad")
    settings = {"type": "h5ad", "design": {"factor": "arm", "covariates": ["batch"]},
                "contrasts": {"R_vs_C": {"resistant": "R", "sensitive": "C"}}}
    p = prepare_h5ad("arms", settings, str(tmp_path / "arms.h5ad"), mapper)
    assert p.adata.n_obs == 9 and p.adata.obs["arm"].tolist() == list("CCCRRROOO")
    assert p.adata.uns["dataset"]["group_rule"] == "design"
    settings["contrasts"]["R_vs_C"]["resistant"] = "X"
    with pytest.raises(DesignError, match="datasets.arms.contrasts.R_vs_C.resistant: 'X' is not a level of 'arm'"):
        prepare_h5ad("arms", settings, str(tmp_path / "arms.h5ad"), mapper)


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(autouse=True)
def _repo(monkeypatch):
    monkeypatch.chdir(REPO)


def test_config_accepts_a_design_on_geo_types_and_needs_groups_or_contrasts(config):
    config["datasets"] = {"GSE999002": {"platform": "GPL570", "design": DESIGN, "contrasts": CONTRASTS},
                          "GSE999001": {"type": "geo_rnaseq", "design": {"factor": "treatment"},
                                        "contrasts": {"R_vs_P": {"test": "carboplatin-resistant",
                                                                 "reference": "parental"}}}}
    out = validate_config(config, SCHEMA)
    assert out["datasets"]["GSE999002"]["type"] == "geo"  # a GSE id defaults to type geo
    config["datasets"] = {"GSE999002": {"platform": "GPL570"}}
    with pytest.raises(ConfigError, match=r"datasets.GSE999002: 'groups' is required here"):
        validate_config(config, SCHEMA)
    config["datasets"] = {"GSE999002": {"design": DESIGN}}
    with pytest.raises(ConfigError, match=r"datasets.GSE999002: design needs contrasts"):
        validate_config(config, SCHEMA)


def test_what_the_contrasts_say_alone_is_checked_when_the_config_is_read(config):
    config["datasets"] = {"GSE999002": {"platform": "GPL570", "design": DESIGN, "contrasts": {
        "same": {"resistant": "CisR", "sensitive": "CisR"},
        "both": {"resistant": "CisR", "test": "OlaR", "sensitive": "parental"},
        "auc": {"response": "AUC"}}}}
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    text = str(err.value)
    assert "datasets.GSE999002.contrasts.same: test and reference are the same level 'CisR'" in text
    assert "datasets.GSE999002.contrasts.both: give resistant or test, not both" in text
    # a response contrast needs higher_is: said before any job (the column is checked by prepare)
    assert "datasets.GSE999002.contrasts.auc.higher_is: needed with response" in text
