"""Make workflow/resources/probes/jetset_<GPL>.tsv.gz: Jetset's probe-set choice per gene.

Run once (from the repository root) when the Jetset scores or the HGNC table change:

    .venv/bin/python scripts/dev/make_jetset_tables.py /work/shared/data/probes

Reads jetset_scores_<chip>.tsv.gz (CRAN jetset 3.4.0's scores, Artistic-2.0) for each platform
of igf1r_resistance.pp.probes.JETSET_PLATFORMS, maps Entrez ids to current HGNC symbols with
workflow/resources/hgnc_symbols.tsv.gz and writes one row per gene (gene, probe, entrez_id,
overall). Li et al. 2011, BMC Bioinformatics 12:474.
"""

import sys
from pathlib import Path

import pandas as pd

from igf1r_resistance.io.files import write_tsv
from igf1r_resistance.pp.probes import JETSET_PLATFORMS, jetset_choice

ROOT = Path(__file__).resolve().parents[2]


def main(scores_dir: str) -> None:
    hgnc = pd.read_csv(ROOT / "workflow/resources/hgnc_symbols.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    entrez = {e: s for e, s in zip(hgnc["entrez_id"], hgnc["symbol"]) if e}
    for platform, chip in JETSET_PLATFORMS.items():
        scores = pd.read_csv(Path(scores_dir) / f"jetset_scores_{chip}.tsv.gz", sep="\t", dtype={"EntrezID": str})
        table = jetset_choice(scores, entrez, chip)
        table["overall"] = table["overall"].round(4)  # the record only: chosen at full precision
        out = ROOT / f"workflow/resources/probes/jetset_{platform}.tsv.gz"
        write_tsv(table, out)
        print(f"{platform} ({chip}): {len(scores)} probe sets, {len(table)} genes -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/probes")
