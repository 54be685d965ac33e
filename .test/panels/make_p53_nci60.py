"""Make the demo data set P53_NCI60 (.test/panels/P53_NCI60/) from the GSEA "P53" example files.

    python .test/panels/make_p53_nci60.py /work/shared/data/panels/GSEA_P53_NCI60 [OUT_DIR]

Input: P53.txt.gz (GCT-like: NAME, DESCRIPTION, one column per NCI-60 line; 10,100 rows,
linear intensities) and P53.cls.gz (GSEA class file: MUT / WT per column, in order), from the
Broad Institute's GSEA example data (Subramanian et al. PNAS 2005;102:15545) as committed in
gseapy (zqfang/GSEApy tests/data, BSD-3-Clause). Output (what a `type: matrix` data set reads):

* ``expression.tsv.gz``: column ``gene`` (the NAME column, unchanged: multi-gene rows such as
  ``ABCB1 /// ABCB4`` are kept and handled by prepare as multi-gene probes, used only for genes
  without a single-gene row), then one column per line, values unchanged (linear; prepare takes
  log2 by GEO2R's rule). The DESCRIPTION column (all "na") is dropped.
* ``samples.tsv``: ``sample`` (the line name with every character outside ``[A-Za-z0-9._-]``
  made ``_``: sample ids have no spaces), ``title`` (the line name), ``TP53_status`` (mutant /
  wild_type from the class file), ``tissue`` (from ``nci60_tissues.tsv``).

Written with gzip mtime 0, so re-running gives the same bytes.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "P53_NCI60"
STATUS = {"MUT": "mutant", "WT": "wild_type"}


def main(source: Path, out: Path = OUT) -> None:
    expr = pd.read_csv(source / "P53.txt.gz", sep="\t", dtype={"NAME": str})
    with gzip.open(source / "P53.cls.gz", "rt") as fh:
        header, classes, labels = (fh.readline().split() for _ in range(3))
    lines = list(expr.columns[2:])
    if int(header[0]) != len(lines) or len(labels) != len(lines):
        raise SystemExit(f"class file has {header[0]} / {len(labels)} labels for {len(lines)} lines")
    tissues = pd.read_csv(HERE / "nci60_tissues.tsv", sep="\t", comment="#").set_index("line")["tissue"]
    missing = sorted(set(lines) - set(tissues.index))
    if missing:
        raise SystemExit(f"no tissue for {missing}")
    ids = [re.sub(r"[^A-Za-z0-9._-]", "_", line) for line in lines]
    if len(set(ids)) != len(ids):
        raise SystemExit("two lines map to one sample id")
    samples = pd.DataFrame({"sample": ids, "title": lines, "TP53_status": [STATUS[x] for x in labels],
                            "tissue": tissues.reindex(lines).to_numpy()})
    out.mkdir(exist_ok=True)
    samples.to_csv(out / "samples.tsv", sep="\t", index=False)
    matrix = expr.drop(columns="DESCRIPTION").rename(columns={"NAME": "gene", **dict(zip(lines, ids))})
    text = matrix.to_csv(sep="\t", index=False, lineterminator="\n")
    with open(out / "expression.tsv.gz", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        fh.write(text.encode())
    print(f"{len(matrix)} rows x {len(ids)} lines; {dict(samples['TP53_status'].value_counts())}; "
          f"{dict(samples['tissue'].value_counts())}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else OUT)
