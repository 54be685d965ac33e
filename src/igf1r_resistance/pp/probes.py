"""One probe set per gene on Affymetrix arrays, chosen by design quality (Jetset).

The probe set that stands for a gene must not depend on the data set at hand: choosing
"the probe with the highest mean" picks 203627_at for IGF1R in one GPL570 series and
225330_at in the next, so the same gene is two different measurements across models.
Jetset scores every probe set of an array from its design alone - specificity (probes
matching only the target gene), coverage (probes matching every transcript of the gene)
and robustness to transcript degradation (distance from the 3' end) - and represents a
gene by the probe set with the highest overall score:

    robust  = (1 - 1/600) ** process
    overall = specificity * coverage * robust

(Li Q, Birkbak NJ, Gyorffy B, Szallasi Z, Eklund AC. Jetset: selecting the optimal
microarray probe set to represent a gene. BMC Bioinformatics 2011;12:474; CRAN package
jetset 3.4.0, R/jetset.R `jscores`/`jmap`). The package's scores are mapped here from
Entrez Gene ids to current HGNC symbols; the choice tables in
workflow/resources/probes/ are made by scripts/dev/make_jetset_tables.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: GEO platforms with Jetset scores, and the name of Jetset's score table
JETSET_PLATFORMS = {"GPL570": "hgu133plus2", "GPL96": "hgu133a", "GPL8300": "hgu95av2"}

#: probe_rule values (var["probe_rule"] of expression.h5ad, column `rule` of probes.tsv)
RULE_JETSET = "jetset"
RULE_HIGHEST_MEAN = "highest_mean"
RULE_MULTI_GENE = "multi_gene_probe"

CHOICE_COLUMNS = ["gene", "probe", "entrez_id", "overall"]


def jetset_overall(scores: pd.DataFrame, chip: str = "hgu133plus2") -> pd.Series:
    """Jetset's overall score per probe set: specificity x coverage x (1 - 1/600)^process.

    `scores`: Jetset's table (`probeset, specificity, coverage, process`, ...). The
    degradation base is 1/300 for the u133x3p chip, 1/600 otherwise (as `jscores`).
    Missing components give a missing score (the probe set never wins).
    """
    base = 1.0 / 300.0 if chip == "u133x3p" else 1.0 / 600.0
    robust = (1.0 - base) ** pd.to_numeric(scores["process"], errors="coerce")
    overall = (pd.to_numeric(scores["specificity"], errors="coerce")
               * pd.to_numeric(scores["coverage"], errors="coerce") * robust)
    return pd.Series(overall.to_numpy(), index=scores["probeset"].astype(str).to_numpy(), name="overall")


def jetset_choice(scores: pd.DataFrame, entrez_to_symbol: dict[str, str], chip: str = "hgu133plus2") -> pd.DataFrame:
    """One probe set per gene: the highest overall Jetset score (Li et al. 2011).

    Parameters
    ----------
    scores
        Jetset's score table of one chip (`probeset, nProbes, EntrezID, process,
        specificity, coverage`).
    entrez_to_symbol
        Entrez Gene id (as text) -> current HGNC symbol; probe sets of an Entrez id without
        a current symbol are left out.
    chip
        Jetset's chip name (for the degradation base).

    Returns
    -------
    DataFrame `gene, probe, entrez_id, overall`, one row per gene, sorted by gene. Ties
    keep the first probe set in the table's order, as `jmap` (which orders by -overall).
    A gene's best probe set is chosen even when its score is 0 (as `jmap`); probe sets
    without an Entrez id or with a missing score are left out.
    """
    overall = jetset_overall(scores, chip)
    table = pd.DataFrame({
        "probe": overall.index,
        "entrez_id": scores["EntrezID"].astype("string").str.replace(r"\.0$", "", regex=True).to_numpy(),
        "overall": overall.to_numpy(),
        "order": np.arange(len(overall)),
    })
    table = table[table["entrez_id"].notna() & table["overall"].notna()]
    table["gene"] = table["entrez_id"].map(lambda e: entrez_to_symbol.get(str(e), ""))
    table = table[table["gene"] != ""]
    # highest overall per gene; an Entrez id merged into another one's symbol competes with it
    table = table.sort_values(["gene", "overall", "order"], ascending=[True, False, True], kind="mergesort")
    chosen = table.drop_duplicates("gene", keep="first")
    return chosen[CHOICE_COLUMNS].reset_index(drop=True)


def read_jetset_choice(path: str | Path) -> pd.Series:
    """A choice table (workflow/resources/probes/jetset_<GPL>.tsv.gz) as gene -> probe."""
    table = pd.read_csv(path, sep="\t", dtype={"gene": str, "probe": str, "entrez_id": str})
    return pd.Series(table["probe"].to_numpy(), index=pd.Index(table["gene"].to_numpy(), name="gene"), name="probe")


def choice_file_for(platform: str, files: list[str] | None) -> str | None:
    """The Jetset choice table of `platform` among `files` (named jetset_<GPL>.tsv.gz), or None."""
    if not platform or platform not in JETSET_PLATFORMS:
        return None
    for f in files or []:
        if Path(f).name == f"jetset_{platform}.tsv.gz":
            return str(f)
    return None
