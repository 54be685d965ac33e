"""Meta-analysis step: pooling each hypothesis across data sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.meta import META_COLUMNS, meta_analyse
from igf1r_resistance.stats import random_effects_dl


def rows(hid, gs, vs, test="group", predicted="up", verdict="inconclusive"):
    return pd.DataFrame({
        "dataset": [f"D{i}" for i in range(len(gs))], "hypothesis": hid, "method": "singscore",
        "effect": gs, "hedges_g": gs, "g_variance": vs, "primary": True, "test": test, "predicted": predicted,
        "verdict": verdict, "n_resistant": 5, "n_sensitive": 5,
    })


def test_pools_hedges_g_with_dl():
    table = pd.concat([rows("h1", [1.0, 1.5, 2.0], [0.3, 0.4, 0.5]), rows("h2", [0.1, -0.1, 0.0], [0.4, 0.4, 0.4])])
    meta = meta_analyse(table)
    assert list(meta.columns) == META_COLUMNS
    h1 = meta.set_index("hypothesis").loc["h1"]
    ref = random_effects_dl(np.array([1.0, 1.5, 2.0]), np.array([0.3, 0.4, 0.5]))
    assert h1["estimate"] == pytest.approx(ref.estimate) and h1["k"] == 3
    assert h1["verdict"] == "supported"
    assert meta.set_index("hypothesis").loc["h2", "verdict"] == "inconclusive"


def test_one_dataset_is_not_enough():
    meta = meta_analyse(rows("h1", [1.0], [0.3]))
    assert meta["verdict"].iloc[0] == "not_testable" and "at least 2" in meta["note"].iloc[0]


def test_not_testable_rows_are_left_out():
    table = rows("h1", [1.0, 1.2, np.nan], [0.3, 0.3, np.nan])
    table.loc[2, "verdict"] = "not_testable"
    meta = meta_analyse(table)
    assert meta["k"].iloc[0] == 2 and meta["datasets"].iloc[0] == "D0,D1"


def test_couplings_pool_on_fisher_z():
    table = rows("c1", [0.8, 0.7, 0.9], [np.nan] * 3, test="coupling", predicted="positive")
    table["n_resistant"], table["n_sensitive"] = 10, 10
    meta = meta_analyse(table).iloc[0]
    z = np.arctanh([0.8, 0.7, 0.9])
    ref = random_effects_dl(z, np.full(3, 1 / 17))
    assert meta["estimate"] == pytest.approx(np.tanh(ref.estimate))
    assert meta["observed"] == "positive" and meta["verdict"] == "supported"
