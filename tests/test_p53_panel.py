"""The demo panel P53_NCI60 (.test/panels/, the GSEA "P53" NCI-60 data set): files as the
`matrix` type reads them, tissue from the line names, and limma through the design
``~ 0 + TP53_status + tissue`` equal to R limma 3.54 (tests/reference/make_p53_nci60_fixture.R)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.io.local_data import read_matrix
from igf1r_resistance.tl.linear_model import design_matrix, linear_model

REPO = Path(__file__).resolve().parents[1]
PANEL = REPO / ".test" / "panels" / "P53_NCI60"
SHARED = Path("/work/shared/data/panels/GSEA_P53_NCI60")
CONTROLS = ["CDKN1A", "MDM2", "BAX", "DDB2"]


def _inputs_module():
    spec = importlib.util.spec_from_file_location("make_p53_nci60_inputs",
                                                  REPO / "tests/reference/make_p53_nci60_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def samples() -> pd.DataFrame:
    return pd.read_csv(PANEL / "samples.tsv", sep="\t", dtype=str)


@pytest.fixture(scope="module")
def prepared():
    return _inputs_module().prepared_log2()


def test_panel_files(samples):
    assert list(samples.columns) == ["sample", "title", "TP53_status", "tissue"]
    assert samples["TP53_status"].value_counts().to_dict() == {"mutant": 33, "wild_type": 17}
    assert set(samples["tissue"]) == {"leukaemia", "melanoma", "lung", "colon", "CNS", "ovarian", "renal",
                                      "prostate", "breast"}
    assert not samples["sample"].str.contains(r"\s").any()
    wild_type = {"A498", "A549/ATCC", "ACHN", "CAKI-1", "HCT-116", "LOX IMVI", "MALME-3M", "MCF7", "MOLT-4",
                 "NCI-H460", "OVCAR-4", "SF-539", "SK-MEL-5", "SR", "UACC-257", "UACC-62", "UO-31"}
    assert set(samples.loc[samples["TP53_status"] == "wild_type", "title"]) == wild_type  # the data's README
    by = dict(zip(samples["title"], samples["tissue"]))
    assert (by["MCF7"], by["HCT-116"], by["SR"], by["U251"], by["PC-3"], by["786-0"]) == \
        ("breast", "colon", "leukaemia", "CNS", "prostate", "renal")
    matrix = read_matrix(PANEL / "expression.tsv.gz")
    assert list(matrix.columns) == list(samples["sample"]) and matrix.shape == (10100, 50)
    assert matrix.index.str.contains(" /// ").sum() == 126  # multi-gene rows kept for prepare


@pytest.mark.skipif(not SHARED.is_dir(), reason="the GSEA P53 files are not on this machine")
def test_maker_reproduces_the_committed_files(tmp_path):
    """Re-running .test/panels/make_p53_nci60.py gives the committed bytes."""
    subprocess.run([sys.executable, str(REPO / ".test/panels/make_p53_nci60.py"), str(SHARED), str(tmp_path)],
                   check=True, capture_output=True)
    for name in ("samples.tsv", "expression.tsv.gz"):
        assert (tmp_path / name).read_bytes() == (PANEL / name).read_bytes(), name


def test_limma_through_the_tissue_design_equals_r(prepared, samples):
    values, var = prepared
    sheet = samples.set_index("sample")
    design = design_matrix(sheet, "TP53_status", ["tissue"])
    got = linear_model(values, design, {"mutant_vs_wild_type": {"TP53_statusmutant": 1, "TP53_statuswild_type": -1}})
    got = got["mutant_vs_wild_type"].set_index("gene")
    expected = pd.read_csv(REPO / "tests/data/reference/p53_nci60_limma.tsv", sep="\t")
    expected = expected[~expected["gene"].str.startswith(".")].set_index("gene")
    assert len(expected) >= 110
    cols = ["logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
    np.testing.assert_allclose(got.loc[expected.index, cols].to_numpy(float), expected[cols].to_numpy(float),
                               rtol=1e-6, atol=1e-9)
    # the data set's own positive control: canonical p53 targets are lower in mutant lines
    controls = got.loc[CONTROLS]
    assert (controls["logFC"] < 0).all() and (controls["P.Value"] < 0.005).all()
    # IGF1R sits below the panel's noise floor and is not higher in mutant lines
    assert not var.loc["IGF1R", "measurable"] and got.loc["IGF1R", "P.Value"] > 0.05


def test_config_block_follows_contract_3(samples):
    """The demo config's P53_NCI60 block."""
    import yaml

    block = yaml.safe_load((REPO / "config.yaml").read_text())["datasets"]["P53_NCI60"]
    assert block["type"] == "matrix"
    assert (REPO / block["matrix"]).is_file() and (REPO / block["samples"]).is_file()
    assert block["design"] == {"factor": "TP53_status", "covariates": ["tissue"]}
    assert block["contrasts"] == {"mutant_vs_wild_type": {"comparison": "TP53_status", "test": "mutant",
                                                          "reference": "wild_type"}}
    assert set(samples["TP53_status"]) == {"mutant", "wild_type"}
    assert list(block["controls"]) == CONTROLS
    assert all(c["expected"] == "down" and "Fischer" in c["source"] for c in block["controls"].values())
