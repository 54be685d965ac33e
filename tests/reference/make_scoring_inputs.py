"""Build the small input matrices and GMT files for the gene-set scoring fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/make_scoring_inputs.py
    Rscript tests/reference/make_scoring_fixtures.R

The first command writes ``tests/data/reference/scoring_<case>_expr.tsv`` (genes x
samples, first column ``gene``) and ``scoring_<case>_sets.gmt``; the second runs R GSVA
1.46 on them and writes ``scoring_<case>_<method>.tsv``. Values are written in Python's
shortest round-trip form (``repr``), so Python reads back the very same doubles.

Cases
-----
random
    300 genes x 8 samples of N(0, 1) values (seed 20240607, no ties); set ``SHIFTED`` is
    moved up by 1.5 in samples S1-S4 so that scores differ between samples.
gse27473
    First 2,000 probes of GSE27473 (GPL570, MCF7 vs ER-silenced MCF7, 3 vs 3, already
    log2). The values have six significant digits, so a few probes tie within a sample
    (exercises the tie handling of ssGSEA and GSVA).
ties
    200 genes x 6 samples of N(5, 1) rounded to one decimal (many ties within every
    sample) plus one constant gene, which R GSVA drops for gsva/zscore/plage but keeps
    for ssGSEA.

Every case has 6 gene sets of 5-40 genes.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "reference"
SERIES = (
    ROOT
    / ".test"
    / "geo"
    / "series"
    / "GSE27nnn"
    / "GSE27473"
    / "matrix"
    / "GSE27473_series_matrix.txt.gz"
)
SIZES = (5, 8, 15, 20, 30, 40)


def read_series_matrix(path: Path, n_rows: int) -> pd.DataFrame:
    """Read the first ``n_rows`` data rows of a GEO series matrix (ID_REF x GSM)."""
    rows: list[list[str]] = []
    header: list[str] | None = None
    inside = False
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("!series_matrix_table_begin"):
                inside = True
                continue
            if line.startswith("!series_matrix_table_end"):
                break
            if not inside:
                continue
            fields = [f.strip().strip('"') for f in line.rstrip("\n").split("\t")]
            if header is None:
                header = fields
                continue
            rows.append(fields)
            if len(rows) == n_rows:
                break
    assert header is not None and header[0] == "ID_REF"
    df = pd.DataFrame(rows, columns=header).set_index("ID_REF")
    df.index.name = "gene"
    return df.astype(float)


def write_case(name: str, expr: pd.DataFrame, sets: dict[str, list[str]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expr.index.name = "gene"
    expr.to_csv(OUT / f"scoring_{name}_expr.tsv", sep="\t")
    with open(OUT / f"scoring_{name}_sets.gmt", "w") as fh:
        fh.writelines(
            "\t".join([set_name, f"{name} fixture set", *genes]) + "\n"
            for set_name, genes in sets.items()
        )


def random_sets(rng: np.random.Generator, genes: pd.Index, prefix: str) -> dict[str, list[str]]:
    return {f"{prefix}_{size}": list(rng.choice(genes, size=size, replace=False)) for size in SIZES}


def case_random() -> None:
    rng = np.random.default_rng(20240607)
    genes = pd.Index([f"G{i:03d}" for i in range(1, 301)])
    samples = [f"S{j}" for j in range(1, 9)]
    x = rng.standard_normal((len(genes), len(samples)))
    sets = random_sets(rng, genes, "RANDOM")
    shifted = list(
        rng.choice(genes.difference([g for s in sets.values() for g in s]), 25, replace=False)
    )
    del sets["RANDOM_30"]
    sets["SHIFTED"] = shifted
    expr = pd.DataFrame(x, index=genes, columns=samples)
    expr.loc[shifted, samples[:4]] += 1.5
    for col in expr:
        assert not expr[col].duplicated().any()
    write_case("random", expr, sets)


def case_gse27473() -> None:
    expr = read_series_matrix(SERIES, 2000)
    rng = np.random.default_rng(27473)
    sets = random_sets(rng, expr.index, "PROBES")
    # probes up in the ER-silenced samples (last three columns): a strong, real signal
    diff = expr.iloc[:, 3:].mean(axis=1) - expr.iloc[:, :3].mean(axis=1)
    del sets["PROBES_40"]
    sets["UP_IN_SIER"] = list(diff.sort_values(ascending=False).index[:40])
    write_case("gse27473", expr, sets)


def case_ties() -> None:
    rng = np.random.default_rng(6)
    genes = pd.Index([f"T{i:03d}" for i in range(1, 201)])
    samples = [f"S{j}" for j in range(1, 7)]
    x = np.round(rng.normal(5.0, 1.0, (len(genes), len(samples))), 1)
    expr = pd.DataFrame(x, index=genes, columns=samples)
    expr.loc["T007"] = 5.0  # constant gene
    sets = random_sets(rng, genes, "TIES")
    if "T007" not in sets["TIES_20"]:
        sets["TIES_20"] = ["T007", *sets["TIES_20"][1:]]
    write_case("ties", expr, sets)


def main() -> None:
    case_random()
    case_gse27473()
    case_ties()


if __name__ == "__main__":
    main()
