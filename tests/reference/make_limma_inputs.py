"""Build the small input matrices for the limma reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/make_limma_inputs.py
    Rscript tests/reference/make_limma_fixtures.R

The first command writes ``tests/data/reference/limma_<case>_expr.tsv.gz`` and
``limma_<case>_groups.tsv``; the second runs R limma on them and writes
``limma_<case>_<variant>.tsv.gz``. Values are written with 17 significant digits so R and
Python read bit-identical doubles.

Cases
-----
gse15709
    First 1,500 probes of GSE15709 (GPL570, MAS5), log2, values <= 0 set to NaN, plus
    deliberately injected NaNs: a probe missing the whole sensitive group, a probe with
    only 3 observations, probes with one observation per group (df.residual 0; one of
    them with an AveExpr below the range of all others), an all-NaN probe and scattered
    single NaNs. Samples are shuffled and the groups file lists an extra sample.
gse11440
    First 1,500 probes of GSE11440 (3 vs 3, contains zeros -> NaN after log2).
logcpm
    Simulated negative-binomial counts turned into log-CPM (as edgeR ``cpm(log=TRUE)``
    with prior count 0.5), 1,200 genes x 8 samples, 5% of genes differentially
    expressed; strong mean-variance trend, used for ``trend=TRUE``.
infdf
    300 genes whose residual variances are all identical, so fitFDist finds no excess
    dispersion and ``df.prior`` is infinite (exercises limma's ``Infdf`` branch of B).
outliers
    1,000 genes, 3 vs 4 samples, variances from the Smyth (2004) model plus 6%
    hypervariable genes, some genes with one sample missing and one constant gene; the
    robust fit has to search df2 with ``uniroot`` (Phipson et al. 2016).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "reference"
GEO = ROOT / ".test" / "geo" / "series"
N_PROBES = 1500


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
            if len(rows) >= n_rows:
                break
    assert header is not None
    df = pd.DataFrame(rows, columns=header).set_index("ID_REF")
    return df.apply(pd.to_numeric, errors="coerce")


def log2_positive(df: pd.DataFrame) -> pd.DataFrame:
    """log2 with values <= 0 (and missing) set to NaN."""
    values = df.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(values > 0, np.log2(values), np.nan)
    return pd.DataFrame(out, index=df.index, columns=df.columns)


def write_case(name: str, expr: pd.DataFrame, groups: pd.Series) -> None:
    """Write expression (17 significant digits, 'NA' for missing) and groups."""
    OUT.mkdir(parents=True, exist_ok=True)
    expr.index.name = "gene"
    with gzip.GzipFile(OUT / f"limma_{name}_expr.tsv.gz", "wb", mtime=0) as gz:
        gz.write(expr.to_csv(sep="\t", float_format="%.17g", na_rep="NA").encode())
    groups.rename("group").rename_axis("sample").to_csv(OUT / f"limma_{name}_groups.tsv", sep="\t")


def case_gse15709() -> None:
    path = GEO / "GSE15nnn/GSE15709/matrix/GSE15709-GPL570_series_matrix.txt.gz"
    expr = log2_positive(read_series_matrix(path, N_PROBES))
    sens = [f"GSM38572{i}" for i in range(1, 6)]
    res = [f"GSM3857{i}" for i in range(26, 31)]
    expr = expr[sens + res]
    idx = expr.index
    # Deliberate missing-value patterns (row positions are fixed for reproducibility).
    expr.loc[idx[10], sens] = np.nan  # whole sensitive group missing
    expr.loc[idx[20], sens[:3] + res[:4]] = np.nan  # only 3 observations (2 + 1)
    expr.loc[idx[30], sens[1:] + res[1:]] = np.nan  # 1 + 1 observations: df.residual 0
    expr.loc[idx[40], :] = np.nan  # nothing observed
    expr.loc[idx[50], res[0]] = np.nan
    expr.loc[idx[60], [sens[2], res[3]]] = np.nan
    expr.loc[idx[70], res[:4]] = np.nan  # 5 + 1 observations
    # df.residual 0 with AveExpr below every other gene: limma-trend extrapolates the
    # spline linearly beyond the boundary knot for it
    expr.loc[idx[80], :] = np.nan
    expr.loc[idx[80], [sens[0], res[0]]] = [-2.0, -1.5]
    rng = np.random.default_rng(15709)
    for pos in rng.choice(np.arange(100, N_PROBES), size=40, replace=False):
        expr.iloc[pos, rng.integers(0, expr.shape[1])] = np.nan
    # Shuffle sample order and add an unused sample to check order-insensitivity.
    expr = expr[
        [res[2], sens[0], res[0], sens[3], res[4], sens[1], res[1], sens[4], res[3], sens[2]]
    ]
    groups = pd.Series({**dict.fromkeys(sens, "sensitive"), **dict.fromkeys(res, "resistant")})
    groups["GSM000001"] = "resistant"  # not in the matrix: must be ignored
    write_case("gse15709", expr, groups)


def case_gse11440() -> None:
    path = GEO / "GSE11nnn/GSE11440/matrix/GSE11440_series_matrix.txt.gz"
    expr = log2_positive(read_series_matrix(path, N_PROBES))
    sens = ["GSM288491", "GSM288497", "GSM288499"]
    res = ["GSM288501", "GSM288502", "GSM288536"]
    groups = pd.Series({**dict.fromkeys(sens, "sensitive"), **dict.fromkeys(res, "resistant")})
    write_case("gse11440", expr[sens + res], groups)


def case_logcpm() -> None:
    rng = np.random.default_rng(2004)
    n_genes, n_per = 1200, 4
    base = np.exp(rng.normal(3.0, 2.0, n_genes))  # mean counts, wide dynamic range
    disp = 0.05 + 0.3 / np.sqrt(base)  # biological CV^2 decreasing with abundance
    lfc = np.zeros(n_genes)
    de = rng.choice(n_genes, size=n_genes // 20, replace=False)
    lfc[de] = rng.choice([-1.0, 1.0], size=de.size) * rng.uniform(1.0, 3.0, de.size)
    lib = rng.uniform(0.6, 1.4, 2 * n_per)
    grp = np.array(["sensitive"] * n_per + ["resistant"] * n_per)
    mu = base[:, None] * lib[None, :] * np.where(grp == "resistant", 2.0 ** lfc[:, None], 1.0)
    size = 1.0 / disp[:, None]
    counts = rng.negative_binomial(size, size / (size + mu))
    libsize = counts.sum(axis=0)
    logcpm = np.log2((counts + 0.5) / (libsize + 1.0) * 1e6)
    samples = [f"S{i + 1}" for i in range(2 * n_per)]
    expr = pd.DataFrame(logcpm, index=[f"G{i + 1:04d}" for i in range(n_genes)], columns=samples)
    write_case("logcpm", expr, pd.Series(grp, index=samples))


def case_infdf() -> None:
    rng = np.random.default_rng(7)
    n_genes = 300
    pattern = np.array([1.0, -1.0, 0.5, -0.5, 0.0, 0.7, -0.7, 0.0])  # zero mean per group
    pattern[:4] -= pattern[:4].mean()
    pattern[4:] -= pattern[4:].mean()
    mean = rng.normal(8.0, 1.5, n_genes)
    diff = rng.normal(0.0, 0.6, n_genes)
    grp = np.array(["sensitive"] * 4 + ["resistant"] * 4)
    values = mean[:, None] + np.where(grp == "resistant", diff[:, None], 0.0) + pattern[None, :]
    # per-gene sign flips keep the residual variance identical
    values[::3] = mean[::3, None] + np.where(grp == "resistant", diff[::3, None], 0.0) - pattern
    samples = [f"A{i + 1}" for i in range(8)]
    expr = pd.DataFrame(values, index=[f"g{i + 1:03d}" for i in range(n_genes)], columns=samples)
    write_case("infdf", expr, pd.Series(grp, index=samples))


def case_outliers() -> None:
    rng = np.random.default_rng(2016)
    n_genes, d0, s0 = 1000, 8.0, 0.2
    sigma2 = s0 * d0 / rng.chisquare(d0, n_genes)
    hyper = rng.choice(n_genes, size=60, replace=False)
    sigma2[hyper] *= rng.uniform(10.0, 50.0, hyper.size)  # hypervariable genes
    grp = np.array(["sensitive"] * 3 + ["resistant"] * 4)
    values = (
        rng.normal(7.0, 2.0, n_genes)[:, None]
        + rng.normal(0.0, 1.0, (n_genes, grp.size)) * np.sqrt(sigma2)[:, None]
    )
    de = rng.choice(n_genes, size=30, replace=False)
    values[np.ix_(de, np.flatnonzero(grp == "resistant"))] += rng.choice([-2.0, 2.0], (30, 1))
    values[5:25, 0] = np.nan  # df.residual 4 instead of 5
    values[25, :] = 6.5  # zero variance
    samples = [f"R{i + 1}" for i in range(grp.size)]
    expr = pd.DataFrame(values, index=[f"o{i + 1:04d}" for i in range(n_genes)], columns=samples)
    write_case("outliers", expr, pd.Series(grp, index=samples))


def main() -> None:
    case_gse15709()
    case_gse11440()
    case_logcpm()
    case_infdf()
    case_outliers()


if __name__ == "__main__":
    main()
