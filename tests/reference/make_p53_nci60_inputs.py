"""Write the log2 matrix of the demo panel P53_NCI60 as the pipeline's prepare step makes it,
for tests/reference/make_p53_nci60_fixture.R (usage there). Not needed at run time."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import anndata as ad
import pandas as pd

from igf1r_resistance.workflow.steps import run_prepare

REPO = Path(__file__).resolve().parents[2]
PANEL = REPO / ".test" / "panels" / "P53_NCI60"
#: prepare needs groups today; the TP53 status stands in for them (the log2 matrix does not depend on it)
SETTINGS = {"type": "matrix", "matrix": str(PANEL / "expression.tsv.gz"), "samples": str(PANEL / "samples.tsv"),
            "log2": "auto", "groups": {"by": "TP53_status", "resistant": "^mutant$", "sensitive": "^wild_type$"}}


def prepared_log2() -> pd.DataFrame:
    """Genes x lines log2 expression of P53_NCI60 after prepare, and `var` (probe, measurable)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = {k: str(Path(tmp) / f"{k}.x") for k in ("adata", "samples", "probes")}
        out["adata"] = str(Path(tmp) / "expression.h5ad")
        run_prepare("P53_NCI60", SETTINGS, {"matrix": SETTINGS["matrix"], "samples": SETTINGS["samples"],
                                            "hgnc": str(REPO / "workflow/resources/hgnc_symbols.tsv.gz")},
                    out, logging.getLogger("make_p53_nci60_inputs"))
        adata = ad.read_h5ad(out["adata"])
    return pd.DataFrame(adata.X.T, index=adata.var_names, columns=adata.obs_names), adata.var.copy()


if __name__ == "__main__":
    values, _ = prepared_log2()
    values.to_csv(sys.argv[1], sep="\t", float_format="%.17g", index_label="gene")
