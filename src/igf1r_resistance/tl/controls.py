"""Positive controls per data set: changes that must be there if the groups are right.

A data set's config may list genes whose change between resistant and sensitive cells is
known independently of the hypotheses under test (`controls: {DHFR: {expected: up,
source: "..."}}`): the amplified DHFR of methotrexate-selected cells, the silenced ESR1 of a
knockdown. Each is read from limma's table (de.tsv): a control **passes** when it is
significant (adj.P.Val < the hypotheses' FDR) in the expected direction, **fails** when it
is significant in the opposite direction, and is NA otherwise (not significant, not
measured, or at the noise floor). The data set's status:

- `none_known`: no control is configured (nothing is known to check);
- `failed`: at least one control is significant in the opposite direction; when no
  control passed, the groups are probably swapped (flag `labels_probably_swapped`),
  otherwise the controls disagree (flag `controls_disagree`);
- `passed`: every control passed;
- `inconclusive`: none failed, but not every one passed.

The null of each control's test is limma's (no difference of means, moderated t, BH over
all genes of the data set); a control is not a hypothesis and never enters the hypotheses'
FDR family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["gene", "expected", "source", "observed", "logFC", "ci_low", "ci_high", "adj_p_value", "passed",
           "measurable"]
STATUS_COLUMNS = ["dataset", "status", "n_controls", "n_passed", "n_failed", "n_na", "flag", "message"]

FLAG_SWAPPED = "labels_probably_swapped"
FLAG_DISAGREE = "controls_disagree"


def evaluate_controls(de: pd.DataFrame, controls: dict, fdr: float, dataset: str = "") -> tuple[pd.DataFrame,
                                                                                                  dict]:
    """Per control gene its observed change and verdict, and the data set's status.

    Parameters
    ----------
    de
        limma's table (de.tsv): `gene, logFC, CI.L, CI.R, adj.P.Val` and optionally
        `measurable` (prepare's noise floor; a control at the floor is NA).
    controls
        gene -> {expected: up | down, source: text}, from the data set's config.
    fdr
        significance threshold on adj.P.Val (the config's `hypotheses.fdr`).
    dataset
        data-set id, for the status row and messages.

    Returns
    -------
    (table, status): table with `COLUMNS`, one row per control in config order
    (`observed` = up | down | no_significant_change | not_measured | not_measurable;
    `passed` = True | False | NA); status = dict with `STATUS_COLUMNS`.
    """
    by_gene = de.assign(gene=de["gene"].astype(str)).drop_duplicates("gene").set_index("gene")
    rows = []
    for gene, spec in (controls or {}).items():
        expected = str(spec["expected"])
        row = {"gene": str(gene), "expected": expected, "source": str(spec.get("source", "")),
               "observed": "not_measured", "logFC": np.nan, "ci_low": np.nan, "ci_high": np.nan,
               "adj_p_value": np.nan, "passed": pd.NA, "measurable": pd.NA}
        if str(gene) in by_gene.index:
            r = by_gene.loc[str(gene)]
            measurable = bool(r["measurable"]) if "measurable" in r.index and pd.notna(r["measurable"]) else True
            row.update(logFC=float(r["logFC"]), ci_low=float(r.get("CI.L", np.nan)),
                       ci_high=float(r.get("CI.R", np.nan)), adj_p_value=float(r["adj.P.Val"]),
                       measurable=measurable)
            significant = np.isfinite(row["adj_p_value"]) and row["adj_p_value"] < fdr
            if not measurable:
                row["observed"] = "not_measurable"
            elif not significant:
                row["observed"] = "no_significant_change"
            else:
                row["observed"] = "up" if row["logFC"] > 0 else "down"
                row["passed"] = row["observed"] == expected
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, dataset_status(table, dataset)


def dataset_status(table: pd.DataFrame, dataset: str = "") -> dict:
    """The data set's control status (passed / failed / inconclusive / none_known) and flag."""
    passed = table["passed"]
    n_pass = int((passed == True).sum())  # noqa: E712 - nullable booleans
    n_fail = int((passed == False).sum())  # noqa: E712
    n_na = int(passed.isna().sum())
    flag = ""
    if table.empty:
        status, message = "none_known", "no control with a known expected change is configured for this data set"
    elif n_fail:
        status = "failed"
        failed = ", ".join(table.loc[passed == False, "gene"])  # noqa: E712
        if n_pass == 0:
            flag = FLAG_SWAPPED
            message = (f"control(s) {failed} changed significantly opposite to the expected direction and none "
                       "passed: the resistant and sensitive labels are probably swapped")
        else:
            flag = FLAG_DISAGREE
            message = f"control(s) {failed} changed opposite to the expected direction while others passed"
    elif n_na == 0:
        status, message = "passed", "every control changed significantly in the expected direction"
    else:
        status = "inconclusive"
        message = (f"{n_na} of {len(table)} control(s) not significant, not measured or at the noise floor; "
                   "none opposite")
    return {"dataset": dataset, "status": status, "n_controls": int(len(table)), "n_passed": n_pass,
            "n_failed": n_fail, "n_na": n_na, "flag": flag, "message": message}
