"""The absolute noise floor (igf1r_resistance.pp.noise) on small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.pp.noise import affx_floor, higher_floor, lower_mode_floor, measurable_genes
from igf1r_resistance.pp.prepare import default_noise_floor


def _probes(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=[f"s{j}" for j in range(len(next(iter(rows.values()))))]).T


def test_affx_floor_is_the_95th_percentile_of_the_trpn_controls_only():
    rows = {"AFFX-TrpnX-3_at": [0.0, 1.0, 2.0, 3.0], "AFFX-TrpnX-5_at": [4.0, 5.0, 6.0, 7.0],
            "AFFX-TrpnX-M_at": [8.0, 9.0, 10.0, 11.0],
            "AFFX-LysX-3_at": [12.0, 12.0, 12.0, 12.0],  # a poly-A spike: present when spiked, never used
            "AFFX-BioB-5_at": [10.0, 10.0, 10.0, 10.0], "200000_at": [20.0, 20.0, 20.0, 20.0]}
    floor = affx_floor(_probes(rows))
    assert floor["method"] == "affx_absent_controls"
    assert floor["value"] == pytest.approx(np.quantile(np.arange(12.0), 0.95))  # 10.45
    assert "12 values" in floor["detail"] and "AFFX-LysX" not in floor["detail"]
    # only the grouped samples count
    assert affx_floor(_probes(rows), samples=["s0", "s1"])["value"] == pytest.approx(
        np.quantile([0, 1, 4, 5, 8, 9], 0.95))


def test_affx_floor_needs_enough_control_values():
    assert affx_floor(_probes({"200000_at": [1.0, 2.0]})) is None  # no control probe (not Affymetrix)
    assert affx_floor(_probes({"AFFX-TrpnX-3_at": [1.0, 2.0, np.nan, np.nan, np.nan]})) is None  # 2 values


def test_lower_mode_finds_the_unexpressed_peak_of_a_bimodal_distribution():
    rng = np.random.default_rng(1)
    means = np.concatenate([rng.normal(3.0, 0.5, 6000), rng.normal(9.0, 1.0, 4000)])
    floor = lower_mode_floor(means)
    assert floor["method"] == "lower_mode" and floor["value"] == pytest.approx(3.0, abs=0.15)
    unimodal = lower_mode_floor(rng.normal(6.0, 1.0, 5000))
    assert unimodal["value"] == pytest.approx(6.0, abs=0.2)
    assert np.isnan(lower_mode_floor([1.0, 2.0, np.nan])["value"])  # too few genes


def test_higher_floor_keeps_the_stricter_estimate_and_both_in_the_detail():
    controls = {"value": 4.0, "method": "affx_absent_controls", "detail": "c"}
    lower = {"value": 4.9, "method": "lower_mode", "detail": "m"}
    assert higher_floor(controls, lower)["method"] == "lower_mode"
    assert "affx_absent_controls gives 4.00" in higher_floor(controls, lower)["detail"]
    assert higher_floor(controls, {**lower, "value": 2.0})["method"] == "affx_absent_controls"
    assert higher_floor(controls, {**lower, "value": float("nan")})["value"] == 4.0


def test_measurable_means_above_the_floor_in_at_least_one_group():
    expr = pd.DataFrame(
        {"r1": [1.0, 5.0, 1.0, 5.0, np.nan], "r2": [1.0, 5.0, 1.0, 5.0, np.nan], "s1": [1.0, 1.0, 5.0, 5.0, 9.0],
         "s2": [1.0, 1.0, 3.0, np.nan, 9.0], "x": [9.0, 9.0, 9.0, 9.0, 9.0]},
        index=["below_both", "up_only", "sens_only", "both", "sens_missing_res"])
    groups = pd.Series({"r1": "resistant", "r2": "resistant", "s1": "sensitive", "s2": "sensitive",
                        "x": "intermediate"})
    m = measurable_genes(expr, groups, 3.5)
    assert m.to_dict() == {"below_both": False, "up_only": True, "sens_only": True, "both": True,
                           "sens_missing_res": True}
    assert measurable_genes(expr, groups, 3.9)["sens_only"]  # sensitive mean (5 + 3) / 2 = 4 > 3.9
    assert not measurable_genes(expr, groups, 4.0)["sens_only"]  # not strictly above
    # the intermediate sample (9 everywhere) never counts: below_both stays below
    assert measurable_genes(expr, groups, float("nan")).all()  # not_applicable


def test_measurable_boundary_is_strictly_above():
    expr = pd.DataFrame({"r": [2.0], "s": [2.0]}, index=["g"])
    groups = pd.Series({"r": "resistant", "s": "sensitive"})
    assert not measurable_genes(expr, groups, 2.0)["g"]


def test_default_floor_by_kind_of_values():
    genes = pd.DataFrame(np.random.default_rng(0).normal(0, 1, (50, 4)))
    z = default_noise_floor(genes, "single_cell", {"scale": "zscore"})
    assert z["method"] == "not_applicable" and np.isnan(z["value"])
    assert default_noise_floor(genes, "bulk", {"scale": "zscore"})["method"] == "not_applicable"
    cpm = default_noise_floor(genes, "rnaseq", {"scale": "log2-CPM", "min_count": 10.0,
                                                "library_sizes": [1e6, 2e6, 3e6]})
    assert cpm["method"] == "filter_by_expr" and cpm["value"] == pytest.approx(np.log2(10 / 2e6 * 1e6))
    log2 = default_noise_floor(genes + 8, "microarray", {"scale": "log2"})
    assert log2["method"] == "lower_mode" and np.isfinite(log2["value"])
