"""Gene sets for the camera reference fixtures (R limma ``camera``).

Run from the repository root::

    .venv/bin/python tests/reference/make_camera_inputs.py
    Rscript tests/reference/make_camera_fixtures.R

The first command writes ``tests/data/reference/camera_<case>_sets.gmt`` for the limma
input matrices already committed (``limma_<case>_expr.tsv.gz`` + ``_groups.tsv``, made by
``make_limma_inputs.py``); the second runs R limma's ``camera`` on them.

Each GMT holds, for the genes measured in every used sample of that case:

* random sets of 1, 2, 3, 5, 10, 20, 50 and 200 genes (seeded);
* ``top_up_15`` / ``top_down_15``: the 15 genes with the largest / smallest Welch-like
  t (so camera has something to find in both directions);
* ``correlated_25``: the 25 genes whose residuals correlate most with one gene's
  (a positive inter-gene correlation for ``inter.gene.cor = NA`` to estimate);
* ``mixed_40``: 20 top-up genes and 20 random ones;
* ``with_unknown_and_duplicates``: 8 random genes, two of them twice, plus three
  identifiers that are not in the matrix (camera ignores them);
* ``mostly_missing_genes``: 2 measured genes plus 5 identifiers not in the matrix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "data" / "reference"
CASES = ["gse15709", "gse11440", "logcpm", "outliers"]


def used_matrix(case: str) -> tuple[pd.DataFrame, np.ndarray]:
    expr = pd.read_csv(REF / f"limma_{case}_expr.tsv.gz", sep="\t", index_col=0)
    groups = pd.read_csv(REF / f"limma_{case}_groups.tsv", sep="\t", index_col=0)["group"]
    labels = groups.reindex(expr.columns)
    use = labels.isin(["resistant", "sensitive"]).to_numpy()
    x = expr.loc[:, use]
    x = x[x.notna().all(axis=1)]
    return x, (labels[use] == "resistant").to_numpy()


def sets_for(case: str, seed: int) -> dict[str, list[str]]:
    x, is_res = used_matrix(case)
    rng = np.random.default_rng(seed)
    genes = x.index.to_numpy()
    v = x.to_numpy()
    r, s = v[:, is_res], v[:, ~is_res]
    t = (r.mean(1) - s.mean(1)) / np.sqrt(r.var(1, ddof=1) / r.shape[1] + s.var(1, ddof=1) / s.shape[1] + 1e-6)
    order = np.argsort(-t, kind="stable")
    resid = np.hstack([r - r.mean(1, keepdims=True), s - s.mean(1, keepdims=True)])
    norm = np.linalg.norm(resid, axis=1)
    ok = norm > 0
    seed_gene = int(np.flatnonzero(ok)[0])
    cor = np.where(ok, resid @ resid[seed_gene] / np.where(ok, norm, 1) / norm[seed_gene], -2)
    sets: dict[str, list[str]] = {}
    for k in (1, 2, 3, 5, 10, 20, 50, 200):
        sets[f"random_{k}"] = list(rng.choice(genes, k, replace=False))
    sets["top_up_15"] = list(genes[order[:15]])
    sets["top_down_15"] = list(genes[order[-15:]])
    sets["correlated_25"] = list(genes[np.argsort(-cor, kind="stable")[:25]])
    sets["mixed_40"] = list(genes[order[:20]]) + list(rng.choice(genes[order[20:]], 20, replace=False))
    base = list(rng.choice(genes, 8, replace=False))
    sets["with_unknown_and_duplicates"] = base + base[:2] + ["NOT_A_GENE_1", "NOT_A_GENE_2", "NOT_A_GENE_3"]
    sets["mostly_missing_genes"] = list(rng.choice(genes, 2, replace=False)) + [f"MISSING_{i}" for i in range(5)]
    return sets


def main() -> None:
    for i, case in enumerate(CASES):
        sets = sets_for(case, seed=20240 + i)
        lines = ["\t".join([name, "camera fixture", *map(str, genes)]) for name, genes in sets.items()]
        path = REF / f"camera_{case}_sets.gmt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({len(sets)} sets)")


if __name__ == "__main__":
    main()
