"""Make the small GEO-shaped RNA-seq series used by the tests (tests/data/geo_rnaseq/).

    .venv/bin/python tests/reference/make_geo_rnaseq_fixture.py
    Rscript tests/reference/make_edger_fixtures.R      # edgeR reference numbers for it

GSE999001 is not a real accession. Files follow GEO's formats exactly:
  series/GSE999nnn/GSE999001/matrix/GSE999001_series_matrix.txt.gz
      sample metadata; its data table is empty (header line only), as for RNA-seq series
  series/GSE999nnn/GSE999001/rnaseq_counts/GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz
      `GeneID\tGSM...`, integer counts (GEO serves it from
      /geo/download/?type=rnaseq_counts&acc=GSE999001&format=file&file=<name>)
  series/GSE999nnn/GSE999001/rnaseq_counts/Human.GRCh38.p13.annot.tsv.gz
      `GeneID\tSymbol\tDescription\tSynonyms\tGeneType\tEnsemblGeneID\tStatus\t...`
Counts: negative binomial, 3 carboplatin-resistant vs 3 parental samples, the IGF1R axis
and PI3K/AKT genes 2-3 fold up in resistant samples, a few genes at zero and low counts
(removed by filterByExpr), unequal library sizes (so TMM matters). Also writes
tests/data/reference/edger_random_counts.tsv.gz (zeros, ties) for the TMM edge cases.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from igf1r_resistance.genesets import catalogue as gs

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/geo_rnaseq/series/GSE999nnn/GSE999001"
REF = ROOT / "tests/data/reference"
GSM = [f"GSM99900{i:02d}" for i in range(1, 7)]
GROUP = ["parental", "parental", "parental", "resistant", "resistant", "resistant"]
ANNOT_COLUMNS = ["GeneID", "Symbol", "Description", "Synonyms", "GeneType", "EnsemblGeneID", "Status",
                 "ChrAcc", "ChrStart", "ChrStop", "Orientation", "Length", "GOFunctionID", "GOProcessID",
                 "GOComponentID", "GOFunction", "GOProcess", "GOComponent"]


def genes(rng: np.random.Generator) -> pd.DataFrame:
    hgnc = pd.read_csv(ROOT / "workflow/resources/hgnc_symbols.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    hgnc = hgnc[hgnc["entrez_id"] != ""]
    _, sets, _ = gs.collect(ROOT / "workflow/resources/mechanisms.yaml", [], [])
    wanted = sorted({g for s in sets for g in s.genes})
    chosen = hgnc[hgnc["symbol"].isin(wanted)]
    others = hgnc[~hgnc["symbol"].isin(wanted)].sample(n=300 - len(chosen), random_state=7)
    table = pd.concat([chosen, others]).sort_values("entrez_id", key=lambda s: s.astype(int))
    return table[["entrez_id", "symbol", "ensembl_gene_id"]].reset_index(drop=True)


def counts(rng: np.random.Generator, table: pd.DataFrame) -> pd.DataFrame:
    _, sets, _ = gs.collect(ROOT / "workflow/resources/mechanisms.yaml", [], [])
    up = {g for s in sets if s.name in ("IGF1R_AXIS", "PI3K_AKT_MEMBERS") for g in s.up}
    base = np.exp(rng.normal(5.5, 1.6, len(table)))
    wanted = {g for s in sets for g in s.genes}
    spare = np.flatnonzero(~table["symbol"].isin(wanted).to_numpy())
    base[spare[:6]] = 0.0       # never detected
    base[spare[6:14]] = 0.4     # a handful of reads: filtered out
    lib = np.array([0.8, 1.0, 1.3, 0.9, 1.2, 1.1])
    fold = np.where(table["symbol"].isin(up), 2.5, 1.0)
    mu = base[:, None] * lib[None, :] * np.where(np.array(GROUP) == "resistant", fold[:, None], 1.0)
    size = 10.0  # NB dispersion 0.1
    values = rng.negative_binomial(size, size / (size + mu))
    return pd.DataFrame(values, index=table["entrez_id"], columns=GSM)


def series_matrix(path: Path) -> None:
    q = lambda values: "\t".join(f'"{v}"' for v in values)  # noqa: E731
    lines = [
        '!Series_title\t"Carboplatin-resistant OVCAR8 cells (test fixture, not a real series)"',
        '!Series_geo_accession\t"GSE999001"',
        '!Series_platform_id\t"GPL24676"',
        '!Series_sample_id\t"' + " ".join(GSM) + ' "',
        "",
        "!Sample_title\t" + q([f"OVCAR8 {g} rep{i % 3 + 1}" for i, g in enumerate(GROUP)]),
        "!Sample_geo_accession\t" + q(GSM),
        "!Sample_status\t" + q(["Public on Jan 01 2024"] * 6),
        "!Sample_source_name_ch1\t" + q(["OVCAR8 cells"] * 6),
        "!Sample_organism_ch1\t" + q(["Homo sapiens"] * 6),
        "!Sample_characteristics_ch1\t" + q(["cell line: OVCAR8"] * 6),
        "!Sample_characteristics_ch1\t" + q([f"treatment: {'carboplatin-resistant' if g == 'resistant' else 'parental'}"
                                             for g in GROUP]),
        "!Sample_characteristics_ch1\t" + q([f"carboplatin ic50 (um): {v}" for v in [2.1, 1.8, 2.5, 14.0, 11.2, 16.9]]),
        "!Sample_molecule_ch1\t" + q(["total RNA"] * 6),
        "!Sample_platform_id\t" + q(["GPL24676"] * 6),
        "!Sample_library_strategy\t" + q(["RNA-Seq"] * 6),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + q(GSM),
        "!series_matrix_table_end",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write("\n".join(lines).encode())


def write_tsv_gz(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(table.to_csv(sep="\t", index=False).encode())


def main() -> None:
    rng = np.random.default_rng(2024)
    table = genes(rng)
    c = counts(rng, table)
    series_matrix(OUT / "matrix/GSE999001_series_matrix.txt.gz")
    out = c.reset_index().rename(columns={"entrez_id": "GeneID"})
    write_tsv_gz(out, OUT / "rnaseq_counts/GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz")
    annot = pd.DataFrame({col: "" for col in ANNOT_COLUMNS}, index=range(len(table)))
    annot["GeneID"] = table["entrez_id"].to_numpy()
    annot["Symbol"] = table["symbol"].to_numpy()
    annot["Description"] = "test fixture gene " + table["symbol"].to_numpy()
    annot["GeneType"] = "protein-coding"
    annot["EnsemblGeneID"] = table["ensembl_gene_id"].to_numpy()
    annot["Status"] = "live"
    write_tsv_gz(annot, OUT / "rnaseq_counts/Human.GRCh38.p13.annot.tsv.gz")
    pd.DataFrame({"sample": GSM, "group": ["sensitive"] * 3 + ["resistant"] * 3}).to_csv(
        REF / "edger_geo_rnaseq_groups.tsv", sep="\t", index=False)

    # TMM / cpm edge cases: zeros in the reference, ties, very unequal libraries, an all-zero gene
    r = np.random.default_rng(11)
    mu = np.exp(r.normal(3, 2, 200))[:, None] * np.array([0.3, 1, 1, 2.5, 0.7, 1.4, 5, 1])[None, :]
    rand = r.poisson(mu)
    rand[:20, 1] = 0
    rand[20:30] = 5
    rand[30] = 0
    frame = pd.DataFrame(rand, index=[f"g{i}" for i in range(200)], columns=[f"s{j}" for j in range(8)])
    write_tsv_gz(frame.reset_index().rename(columns={"index": "gene"}), REF / "edger_random_counts.tsv.gz")


if __name__ == "__main__":
    main()
