"""Combine one hypothesis across data sets: DerSimonian-Laird random-effects meta-analysis.

Group hypotheses are pooled on Hedges' g of the primary method (the unit-free effect
that makes scores from different platforms comparable); coupling hypotheses are pooled
on Fisher's z of Spearman's rho with variance 1/(n - 3), then back-transformed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import stats

META_COLUMNS = [
    "hypothesis", "method", "effect_measure", "k", "datasets", "estimate", "se", "ci_low",
    "ci_high", "p_value", "fdr", "tau2", "i2", "q", "q_p", "predicted", "observed", "verdict",
    "weights", "note",
]


def meta_analyse(hypotheses: pd.DataFrame, alpha: float = 0.05, min_datasets: int = 2) -> pd.DataFrame:
    """One row per hypothesis from the primary rows of every data set's table."""
    rows = []
    primary = hypotheses[hypotheses["primary"].astype(str).str.lower().isin(["true", "1"])]
    for hid, sub in primary.groupby("hypothesis", sort=False):
        predicted = sub["predicted"].iloc[0]
        method = sub["method"].iloc[0]
        ok = sub[sub["verdict"] != "not_testable"]
        coupling = (sub["test"] == "coupling").any()
        if coupling:
            n = ok["n_resistant"].astype(float) + ok["n_sensitive"].astype(float)
            ok = ok[(n > 3) & ok["effect"].abs().lt(1)]
            n = ok["n_resistant"].astype(float) + ok["n_sensitive"].astype(float)
            y = np.arctanh(ok["effect"].astype(float).to_numpy())
            v = 1.0 / (n.to_numpy() - 3)
            measure = "fisher_z"
        else:
            ok = ok[np.isfinite(ok["hedges_g"].astype(float)) & (ok["g_variance"].astype(float) > 0)]
            y = ok["hedges_g"].astype(float).to_numpy()
            v = ok["g_variance"].astype(float).to_numpy()
            measure = "hedges_g"
        base = {"hypothesis": hid, "method": method, "effect_measure": measure, "k": len(ok),
                "datasets": ",".join(ok["dataset"].astype(str)), "predicted": predicted}
        single_cell = sorted(set(ok.loc[ok.get("data_type", pd.Series("", index=ok.index)).astype(str)
                                        == "single_cell", "dataset"].astype(str)))
        sc_note = (f"includes single-cell data set(s) {', '.join(single_cell)} whose cells are the samples "
                   "(pseudo-replication: their variance is understated)") if single_cell else ""
        if len(ok) < min_datasets:
            rows.append({**base, "verdict": "not_testable", "observed": "none",
                         "note": f"{len(ok)} data set(s) testable, at least {min_datasets} needed"})
            continue
        res = stats.random_effects_dl(y, v)
        est, lo, hi = res.estimate, res.ci_low, res.ci_high
        if coupling:  # report on the correlation scale
            est, lo, hi = math.tanh(est), math.tanh(lo), math.tanh(hi)
            measure = "spearman_rho (pooled via Fisher z)"
        observed = "none" if est == 0 else (
            ("positive" if est > 0 else "negative") if coupling else ("up" if est > 0 else "down"))
        rows.append({**base, "effect_measure": measure, "estimate": est, "se": res.se, "ci_low": lo,
                     "ci_high": hi, "p_value": res.p_value, "tau2": res.tau2, "i2": res.i2,
                     "q": res.q, "q_p": res.q_p, "observed": observed,
                     "weights": ",".join(f"{w:.2f}" for w in np.asarray(res.weights)), "note": sc_note})
    table = pd.DataFrame(rows)
    for col in META_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    table["verdict"] = table["verdict"].astype(object)
    ok = table["verdict"].ne("not_testable") & table["p_value"].notna()
    if ok.any():
        table.loc[ok, "fdr"] = stats.bh_fdr(table.loc[ok, "p_value"].to_numpy(float))
        table.loc[ok, "verdict"] = [
            stats.verdict(e, f, p, alpha=alpha)
            for e, f, p in zip(table.loc[ok, "estimate"], table.loc[ok, "fdr"], table.loc[ok, "predicted"])
        ]
    table["note"] = table["note"].fillna("")
    return table[META_COLUMNS]
