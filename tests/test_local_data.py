"""Local data sets (type matrix / h5ad), sample sheets, numeric groups and the dataset config shapes."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igf1r_resistance.errors import ConfigError, GroupingError, InputFormatError
from igf1r_resistance.io.local_data import (
    prepare_h5ad,
    prepare_matrix,
    read_matrix,
    read_sample_sheet,
)
from igf1r_resistance.pp.groups import assign_numeric_groups, group_samples, parse_numbers
from igf1r_resistance.pp.symbols import SymbolMapper
from igf1r_resistance.workflow.config import validate_config
from igf1r_resistance.workflow.steps import de_options

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
SAMPLE_SCHEMA = REPO / "workflow/schemas/samples.schema.yaml"
COUNTS = REPO / "tests/data/geo_rnaseq/series/GSE999nnn/GSE999001/rnaseq_counts"


@pytest.fixture(scope="module")
def mapper() -> SymbolMapper:
    return SymbolMapper.from_file(REPO / "workflow/resources/hgnc_symbols.tsv.gz")


GENES = ["IGF1R", "AKT1", "MIR143HG", "ABCB1", "NOT_A_GENE", "IGF1R"]  # MIR143HG is CARMN today; IGF1R twice


def write_matrix(tmp_path: Path, sep: str = "\t", gz: bool = True, samples=("S1", "S2", "S3", "S4")) -> Path:
    rng = np.random.default_rng(0)
    values = rng.uniform(50, 5000, (len(GENES), len(samples)))
    values[0] *= 0.5  # the first IGF1R row has the lower mean: the second is kept
    table = pd.DataFrame(values, index=pd.Index(GENES, name="gene"), columns=list(samples))
    path = tmp_path / ("expr.csv" if sep == "," else "expr.tsv")
    text = table.to_csv(sep=sep)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_sheet(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "samples.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


SHEET = [
    {"sample": "S1", "group": "resistant", "ic50": "12.5", "cell_line": "A"},
    {"sample": "S2", "group": "resistant", "ic50": "8", "cell_line": "B"},
    {"sample": "S3", "group": "sensitive", "ic50": "0.4", "cell_line": "C"},
    {"sample": "S4", "group": "sensitive", "ic50": "1.1", "cell_line": "D"},
]


# --------------------------------------------------------------------------- matrix


@pytest.mark.parametrize("sep, gz", [("\t", True), (",", False), (",", True)])
def test_matrix_data_set_end_to_end_in_the_library(tmp_path, mapper, sep, gz):
    matrix = write_matrix(tmp_path, sep, gz)
    sheet = write_sheet(tmp_path, SHEET)
    p = prepare_matrix("my_cohort", {"type": "matrix", "log2": "auto"}, str(matrix), str(sheet), SAMPLE_SCHEMA, mapper)
    a = p.adata
    assert list(a.obs["group"]) == ["resistant", "resistant", "sensitive", "sensitive"]
    assert set(a.var_names) == {"IGF1R", "AKT1", "CARMN", "ABCB1", "NOT_A_GENE"}  # symbol updated, unknown kept
    assert a.uns["log2"]["transformed"] is True  # linear values: GEO2R's rule logs them
    assert a.uns["dataset"]["data_type"] == "bulk" and a.uns["dataset"]["type"] == "matrix"
    assert a.uns["gene_ids"]["id_type"] == "symbol" and a.uns["gene_ids"]["n_duplicate_id_rows_dropped"] == 1
    raw = read_matrix(matrix)
    assert a[:, "IGF1R"].X.ravel() == pytest.approx(np.log2(raw.iloc[5].to_numpy()))  # the higher-mean row
    assert de_options(a) == {"trend": False}
    assert list(p.samples.columns[:3]) == ["sample", "group", "title"] and "ic50" in p.samples.columns


def test_sheet_and_matrix_differences_are_listed(tmp_path, mapper):
    matrix = write_matrix(tmp_path, samples=("S1", "S2", "S3", "S9"))
    sheet = write_sheet(tmp_path, SHEET)
    with pytest.raises(InputFormatError) as err:
        prepare_matrix("my_cohort", {"type": "matrix"}, str(matrix), str(sheet), SAMPLE_SCHEMA, mapper)
    text = str(err.value)
    assert "data set my_cohort" in text
    assert "in the sheet but not in the matrix: S4" in text and "in the matrix but not in the sheet: S9" in text


@pytest.mark.parametrize("rows, needs_group, message", [
    ([{**SHEET[0], "group": "resistent"}] + SHEET[1:], True, "line 2 (sample 'S1'), column group: 'resistent' is not one of"),
    (SHEET + [SHEET[0]], True, "'S1' appear more than once"),
    ([{k: v for k, v in r.items() if k != "group"} for r in SHEET], True, "no 'group' column"),
    ([{**SHEET[0], "sample": "S 1"}] + SHEET[1:], True, "column sample"),
])
def test_sample_sheet_is_validated_against_its_schema(tmp_path, rows, needs_group, message):
    with pytest.raises(InputFormatError, match="sample sheet") as err:
        read_sample_sheet(write_sheet(tmp_path, rows), SAMPLE_SCHEMA, needs_group)
    assert message in str(err.value)


def test_sheet_without_group_column_is_fine_with_a_groups_rule(tmp_path, mapper):
    rows = [{k: v for k, v in r.items() if k != "group"} for r in SHEET]
    sheet = write_sheet(tmp_path, rows)
    matrix = write_matrix(tmp_path)
    settings = {"type": "matrix", "groups": {"by": "cell_line", "resistant": "^[AB]$", "sensitive": "^[CD]$"}}
    p = prepare_matrix("x", settings, str(matrix), str(sheet), SAMPLE_SCHEMA, mapper)
    assert p.adata.uns["dataset"]["group_field"] == "cell_line"
    assert list(p.adata.obs["group"]) == ["resistant", "resistant", "sensitive", "sensitive"]


def test_counts_matrix_uses_log_cpm_and_limma_trend(tmp_path, mapper):
    counts = pd.read_csv(COUNTS / "GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz", sep="\t")
    counts.to_csv(tmp_path / "counts.tsv", sep="\t", index=False)  # GeneID = Entrez ids
    rows = [{"sample": s, "group": "sensitive" if i < 3 else "resistant"} for i, s in enumerate(counts.columns[1:])]
    p = prepare_matrix("counts_cohort", {"type": "matrix", "values": "counts"}, str(tmp_path / "counts.tsv"),
                       str(write_sheet(tmp_path, rows)), SAMPLE_SCHEMA, mapper)
    a = p.adata
    assert a.uns["gene_ids"]["id_type"] == "entrez"
    assert a.uns["log2"]["scale"] == "log2-CPM" and a.uns["dataset"]["data_type"] == "rnaseq"
    assert a.uns["de"]["method"] == "limma-trend" and de_options(a) == {"trend": True}
    ref = pd.read_csv(REPO / "tests/data/reference/edger_geo_rnaseq_logcpm.tsv.gz", sep="\t", dtype={"GeneID": str})
    igf1r = ref.set_index("GeneID").loc["3480", list(a.obs_names)].to_numpy(float)
    np.testing.assert_allclose(a[:, "IGF1R"].X.ravel(), igf1r, atol=1e-10)  # edgeR's log-CPM


def test_h5ad_data_set_with_group_column(tmp_path, mapper):
    import anndata as ad

    rng = np.random.default_rng(1)
    x = rng.normal(8, 1, (5, 3))
    obs = pd.DataFrame({"response": ["resistant", "resistant", "sensitive", "sensitive", "unknown"]},
                       index=[f"s{i}" for i in range(5)])
    a = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=["ENSG00000140443", "ENSG00000142208.17", "ENSG99999999999"]))
    a.write_h5ad(tmp_path / "bulk.h5ad")
    p = prepare_h5ad("bulk", {"type": "h5ad", "group_column": "response", "log2": "auto"}, str(tmp_path / "bulk.h5ad"),
                     mapper)
    assert list(p.adata.var_names) == ["AKT1", "IGF1R"]  # Ensembl (version suffix ignored) -> symbols
    assert p.adata.uns["gene_ids"]["unmapped"] == ["ENSG99999999999"]
    assert p.adata.n_obs == 4 and p.adata.uns["dataset"]["n_excluded"] == 1
    assert p.adata.uns["log2"]["transformed"] is False


ODD_TABLES = {
    "plain": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\nABCB1\t1\t1\t2\t2\nTP53\t0\t1\t2\t3\n",
    "non_numeric": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\tx7\t8\nABCB1\t1\t1\t2\tNAx\n",
    "too_many_fields": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\t9\nABCB1\t1\t1\t2\t2\n",
    "too_many_last": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\nABCB1\t1\t1\t2\t2\t\n",
    "too_few_fields": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\nABCB1\t1\t1\t2\t2\n",
    "empty": "",
    "header_only": "gene\tA\tB\tC\tD\n",
    "one_column": "gene\nIGF1R\nAKT1\n",
    "duplicated_column": "gene\tA\tB\t B\tC\nIGF1R\t1\t2\t2\t3\nAKT1\t5\t6\t6\t7\n",
    "blank_lines": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\n\nAKT1\t5\t6\t7\t8\n\n",
    "quoted": '"gene"\t"A"\t"B"\t"C"\t"D"\n"IGF1R"\t1\t2\t3\t4\n"AK\tT1"\t5\t6\t7\t8\n',
    "multiline_quote": 'gene\tA\tB\tC\tD\n"IGF\n1R"\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\n',
    "crlf": "gene\tA\tB\tC\tD\r\nIGF1R\t1\t2\t3\t4\r\nAKT1\t5\t6\t7\t8\r\n",
    "cr_only": "gene\tA\tB\tC\tD\rIGF1R\t1\t2\t3\t4\rAKT1\t5\t6\t7\t8\r",
    "no_final_newline": "gene\tA\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8",
    "row_names_header": "A\tB\tC\tD\nIGF1R\t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\nABCB1\t1\t1\t2\t2\n",
    "entrez_ids_with_a_gap": "GeneID\tA\tB\tC\tD\n3480\t1\t2\t3\t4\n\t5\t6\t7\t8\n207\t1\t1\t2\t2\n",
    "spaces": "gene\t A\tB \tC\tD\n IGF1R \t1\t2\t3\t4\nAKT1\t5\t6\t7\t8\n",
    "inf_and_na": "gene\tA\tB\tC\tD\nIGF1R\tinf\tNA\t\t4\nAKT1\t5\t-inf\t7\tnan\n",
    "csv": "gene,A,B,C,D\nIGF1R,1,2,3,4\nAKT1,5,6,7,8,9\n",
}


@pytest.mark.parametrize("name", sorted(ODD_TABLES))
@pytest.mark.parametrize("gz", [False, True])
def test_chunked_matrix_reading_equals_one_parse(tmp_path, monkeypatch, name, gz):
    """read_matrix parses in chunks of rows; values and errors are those of one parse of the
    whole table (pandas' own message for a malformed record, wherever the chunks start)."""
    from igf1r_resistance.io import local_data

    data = ODD_TABLES[name].encode()
    path = tmp_path / ("m.tsv.gz" if gz else "m.tsv")
    path.write_bytes(gzip.compress(data) if gz else data)

    def outcome(fn):
        try:
            return fn(path)
        except InputFormatError as exc:
            return str(exc)

    whole = outcome(local_data._read_matrix_whole)
    for cells in (1, 5, 7, 10**6):
        monkeypatch.setattr(local_data, "MATRIX_CHUNK_CELLS", cells)
        chunked = outcome(local_data.read_matrix)
        if isinstance(whole, str):
            assert chunked == whole
        else:
            pd.testing.assert_frame_equal(chunked, whole)


def test_truncated_gzip_matrix_is_named(tmp_path):
    data = gzip.compress(ODD_TABLES["plain"].encode() * 50)
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFormatError, match=r"m\.tsv\.gz: cannot read the table \(Compressed file ended"):
        read_matrix(path)


# --------------------------------------------------------------------------- numeric groups


PANEL = pd.DataFrame({"ic50": ["0.1 uM", "0.5", "1", "2", "3", "5", "8", "13", "21", "n/a"]},
                     index=[f"L{i}" for i in range(10)])


def test_parse_numbers_takes_the_first_number():
    assert parse_numbers(pd.Series(["3.2 uM", "1e-3 M", "none", None, 7])).tolist()[:2] == [3.2, 0.001]
    assert np.isnan(parse_numbers(pd.Series(["none"]))[0])


def test_numeric_groups_top_and_bottom_fractions():
    rule = {"by": "ic50", "numeric": True, "resistant_fraction": 0.33, "sensitive_fraction": 0.33}
    groups, response, record = assign_numeric_groups(PANEL, rule, "panel")
    # 9 lines with a number: round(0.33 * 9) = 3 per end
    assert groups.tolist() == ["sensitive"] * 3 + ["intermediate"] * 3 + ["resistant"] * 3 + ["excluded"]
    assert response["L8"] == 21 and np.isnan(response["L9"])
    assert record["resistant_cutoff"] == 8 and record["sensitive_cutoff"] == 1 and record["n_intermediate"] == 3
    flipped, _, _ = assign_numeric_groups(PANEL, {**rule, "higher_is": "sensitive"}, "panel")
    assert flipped.tolist()[:3] == ["resistant"] * 3 and flipped.tolist()[6:9] == ["sensitive"] * 3


def test_numeric_groups_ties_and_errors():
    tied = pd.DataFrame({"auc": ["1", "2", "2", "2", "3", "4"]}, index=list("abcdef"))
    rule = {"by": "auc", "numeric": True, "resistant_fraction": 0.34, "sensitive_fraction": 0.34}
    groups, _, _ = assign_numeric_groups(tied, rule, "t")  # k = 2: ties with the 2nd value join its group
    assert groups.tolist() == ["sensitive"] * 4 + ["resistant"] * 2
    with pytest.raises(GroupingError, match="overlap"):
        assign_numeric_groups(tied, {**rule, "resistant_fraction": 0.5, "sensitive_fraction": 0.5}, "t")
    with pytest.raises(GroupingError, match="at least 2 are needed"):
        assign_numeric_groups(tied, {**rule, "resistant_fraction": 0.1}, "t")
    with pytest.raises(GroupingError, match="holds no number"):
        assign_numeric_groups(pd.DataFrame({"auc": ["x", "y"]}, index=["a", "b"]), rule, "t")


def test_numeric_groups_keep_intermediate_samples_with_their_response(tmp_path, mapper):
    rows = [{"sample": f"L{i}", "ic50": v} for i, v in enumerate(["0.1", "0.5", "1", "2", "3", "5", "8", "13", "21"])]
    sheet = write_sheet(tmp_path, rows)
    rng = np.random.default_rng(3)
    pd.DataFrame(rng.normal(8, 1, (3, 9)), index=["IGF1R", "AKT1", "MTOR"],
                 columns=[r["sample"] for r in rows]).to_csv(tmp_path / "m.tsv", sep="\t")
    settings = {"type": "matrix", "groups": {"by": "ic50", "numeric": True, "resistant_fraction": 0.33,
                                             "sensitive_fraction": 0.33}}
    p = prepare_matrix("panel", settings, str(tmp_path / "m.tsv"), str(sheet), SAMPLE_SCHEMA, mapper)
    a = p.adata
    assert a.n_obs == 9 and (a.obs["group"] == "intermediate").sum() == 3
    assert a.obs["response"].tolist() == [0.1, 0.5, 1, 2, 3, 5, 8, 13, 21]
    assert a.uns["dataset"]["group_rule"] == "numeric" and a.uns["response"]["field"] == "ic50"
    assert "ic50 >= 8" in a.uns["dataset"]["group_resistant_regex"]
    assert "response" in p.samples.columns


# --------------------------------------------------------------------------- config shapes


@pytest.fixture
def config(monkeypatch):
    monkeypatch.chdir(REPO)
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_config_accepts_every_type(config, tmp_path):
    matrix, sheet = write_matrix(tmp_path), write_sheet(tmp_path, SHEET)
    config["datasets"].update({
        "my_cohort": {"type": "matrix", "matrix": str(matrix), "samples": str(sheet), "log2": "auto"},
        "panel.v2": {"type": "matrix", "matrix": str(matrix), "samples": str(sheet), "values": "counts",
                     "groups": {"by": "ic50", "numeric": True, "resistant_fraction": 0.25, "sensitive_fraction": 0.25}},
        "GSE999001": {"type": "geo_rnaseq", "groups": {"by": "treatment", "resistant": "resistant",
                                                       "sensitive": "parental"}},
        "bulk_h5ad": {"type": "h5ad", "path": str(matrix), "group_column": "response"},
    })
    out = validate_config(config, SCHEMA)
    assert out["datasets"]["GSE15709"]["type"] == "geo"  # GSE ids default to geo
    assert out["datasets"]["GSE108383"]["type"] == "single_cell"


@pytest.mark.parametrize("name, entry, message", [
    ("my_cohort", {"matrix": "x", "samples": "y"}, "datasets.my_cohort: a local data set needs a type"),
    ("my_cohort", {"type": "geo", "groups": {"by": "a", "resistant": "r", "sensitive": "s"}},
     "type geo needs a GEO series accession"),
    ("my_cohort", {"type": "matrix", "samples": "y"}, "datasets.my_cohort: 'matrix' is required here"),
    ("my_cohort", {"type": "matrix", "matrix": "nope.tsv", "samples": "nope.tsv"}, ".matrix: file 'nope.tsv' does not exist"),
    ("GSE1", {"groups": {"by": "a", "resistant": "r", "sensitive": "s"}, "matrix": "x"}, "do not apply to type geo"),
    ("GSE1", {"groups": {"by": "a", "numeric": True, "resistant_fraction": 0.6, "sensitive_fraction": 0.6}},
     "must be at most 1"),
    ("GSE1", {"groups": {"by": "a", "numeric": True, "resistant": "x"}}, "numeric groups take"),
    ("GSE1", {"groups": {"by": "a", "resistant": "x"}}, "'sensitive' required here"),
    ("sc", {"type": "single_cell", "path": "x.h5ad", "group_column": "g"}, "datasets.sc: 'values' is required here"),
    ("sc", {"type": "single_cell", "path": "x.h5ad", "values": "zscore", "log2": "yes", "group_column": "g"},
     "single-cell preprocessing follows `values`"),
    ("sc", {"type": "single_cell", "suppl_file": "x.tsv", "values": "zscore", "group_column": "g"},
     "suppl_file: needs a GEO series accession"),
    ("my data", {"type": "matrix"}, "datasets: 'my data' does not match"),
])
def test_dataset_config_errors_name_the_key(config, name, entry, message):
    config["datasets"][name] = entry
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    assert message in str(err.value)


def test_bad_sample_sheet_fails_at_config_time(config, tmp_path):
    sheet = write_sheet(tmp_path, [{**SHEET[0], "group": "maybe"}] + SHEET[1:])
    config["datasets"]["mine"] = {"type": "matrix", "matrix": str(write_matrix(tmp_path)), "samples": str(sheet)}
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    assert "datasets.mine.samples: sample sheet" in str(err.value)
    assert "line 2 (sample 'S1'), column group: 'maybe' is not one of" in str(err.value)


def test_group_samples_dispatches_on_the_rule():
    g = group_samples(PANEL, {"by": "ic50", "resistant": "^(13|21)$", "sensitive": r"^0\.[15]"}, "d")
    assert g.response is None and g.record["group_rule"] == "regex"
    g = group_samples(PANEL, {"by": "ic50", "numeric": True, "resistant_fraction": 0.3, "sensitive_fraction": 0.3}, "d")
    assert g.response is not None and g.record["group_rule"] == "numeric"
