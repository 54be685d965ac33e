"""Specificity of the verdicts (issue 13 item 2): random gene sets are rarely decided.

Library-level on the demo's own prepared data (the pipeline's fetch + prepare code, offline,
then the score + hypotheses code of the workflow: benchmarks/_common.Pipeline): 300 random
gene sets of 5-48 genes, given as a user GMT with names ending in `_UP`, get a decided
verdict (supported or contradicted) in at most 5% of cases in every demo data set. Before
the competitive requirement, 13-71% of such sets were called (issue 13).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def calibration():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("calibration", BENCH / "calibration.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["calibration"] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("calibration", None)
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("dataset", ["GSE15709", "GSE11440", "GSE27473", "GSE108383"])
def test_random_sets_are_decided_at_most_5_percent(calibration, dataset, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "demo_cache"
    out = calibration.random_set_null(dataset, n_sets=300, seed=13, cache=cache)
    assert out["random sets"] >= 250  # nearly all testable (GSE108383's panel loses a few)
    assert out["decided share"] <= 0.05, out
    # the competitive requirement is what does it where most random sets move
    if dataset in ("GSE27473", "GSE108383"):
        assert out["self-contained alone (old rule)"] > 0.2, out
