"""Copy the sources the mechanism catalogue cites into workflow/resources (run by hand).

Reads workflow/resources/mechanisms.yaml, finds every HGNC gene group and every MSigDB set it
cites (structured `citations`, set-level `msigdb:` and free-text mentions in `source`
strings; see genesets.catalogue_citations) and writes, next to the catalogue:

- hgnc_gene_groups.tsv: group_id, name, abbreviation, members (approved symbols of the group
  and its subgroups, `|`-joined), from HGNC's gene_groups.tsv.gz and hgnc_nomenclature.tsv.gz
  (CC0; membership 2021-11, names 2024-01).
- msigdb_v7.0_catalogue.gmt: the cited MSigDB v7.0 sets, whole lines copied verbatim from the
  v7.0 GMT files (CC BY 4.0; licence in msigdb_v7.0_catalogue.LICENSE.txt).

A cited group or set that does not exist in the source files is an error here, so the shipped
subset can never silently lack a citation. Usage (from the repository root):

    .venv/bin/python workflow/resources/make_catalogue_sources.py [--data /work/shared/data]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from igf1r_resistance.genesets.catalogue import catalogue_citations  # noqa: E402

RESOURCES = ROOT / "workflow" / "resources"
V7_FILES = ["h.all.v7.0.symbols.gmt", "c2.cgp.v7.0.symbols.gmt", "c2.cp.reactome.v7.0.symbols.gmt",
            "c2.cp.pid.v7.0.symbols.gmt", "c3.mir.v7.0.symbols.gmt", "c6.all.v7.0.symbols.gmt",
            "igf1r_related.msigdb_v7.0.symbols.gmt"]


def hgnc_subset(data: Path, ids: set[int]) -> pd.DataFrame:
    groups = pd.read_csv(data / "hgnc" / "gene_groups.tsv.gz", sep="\t", dtype=str)
    nom = pd.read_csv(data / "hgnc" / "hgnc_nomenclature.tsv.gz", sep="\t", dtype=str,
                      usecols=["symbol", "status", "gene_group_all_ids"])
    nom = nom[nom["status"] == "Approved"]
    member_ids = nom["gene_group_all_ids"].fillna("").str.split("|")
    rows = []
    for gid in sorted(ids):
        hit = groups[groups["group_id"] == str(gid)]
        if hit.empty:
            raise SystemExit(f"HGNC gene group {gid} does not exist in gene_groups.tsv.gz")
        members = sorted(nom["symbol"][member_ids.apply(lambda ids_, g=str(gid): g in ids_)])
        rows.append({"group_id": gid, "name": hit["name"].iloc[0],
                     "abbreviation": hit["abbreviation"].fillna("").iloc[0], "members": "|".join(members)})
    return pd.DataFrame(rows)


def msigdb_lines(data: Path, names: set[str]) -> list[str]:
    found: dict[str, str] = {}
    for fname in V7_FILES:
        with open(data / "genesets" / fname, encoding="utf-8") as fh:
            for line in fh:
                name = line.split("\t", 1)[0]
                if name in names and name not in found:
                    found[name] = line.rstrip("\r\n")
    missing = sorted(names - set(found))
    if missing:
        raise SystemExit(f"MSigDB v7.0 sets not found: {', '.join(missing)}")
    return [found[n] for n in sorted(found)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data", type=Path)
    args = parser.parse_args()
    cites = catalogue_citations(RESOURCES / "mechanisms.yaml", known_msigdb=None)
    hgnc = hgnc_subset(args.data, {c.hgnc for c in cites if c.hgnc is not None})
    hgnc.to_csv(RESOURCES / "hgnc_gene_groups.tsv", sep="\t", index=False)
    # free-text mentions are candidates: keep those that are MSigDB v7.0 sets
    all_names = set()
    for fname in V7_FILES:
        with open(args.data / "genesets" / fname, encoding="utf-8") as fh:
            all_names.update(line.split("\t", 1)[0] for line in fh)
    wanted = {c.msigdb for c in cites if c.msigdb and (c.structured or c.msigdb in all_names)}
    lines = msigdb_lines(args.data, wanted)
    (RESOURCES / "msigdb_v7.0_catalogue.gmt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copyfile(args.data / "genesets" / "MSigDB_license_from_ssGSEA2.0.txt",
                    RESOURCES / "msigdb_v7.0_catalogue.LICENSE.txt")
    print(f"{len(hgnc)} HGNC groups, {len(lines)} MSigDB sets written to {RESOURCES}")


if __name__ == "__main__":
    main()
