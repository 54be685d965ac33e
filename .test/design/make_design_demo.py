"""Make the small made-up `design_demo` matrix data set (a design with 3 levels + batch).

12 samples: arm C (parental), R (cisplatin-resistant), O (olaparib-resistant), 4 each, in two
batches (b1, b2; 2 of each arm per batch) with a batch shift on every gene. Genes: the catalogue's
and PROGENy's best-known genes plus random HGNC symbols (1,500 in all). Known answers: IGF1R, IGF1,
IRS1 up 1.5 log2 in R vs C; ABCB1 up 2 in O vs C; everything else null. Run from the repo root:
    python .test/design/make_design_demo.py
"""

import gzip

import numpy as np
import pandas as pd

rng = np.random.default_rng(15)
symbols = pd.read_csv("workflow/resources/hgnc_symbols.tsv.gz", sep="\t", usecols=["symbol"])["symbol"]
known = ["IGF1R", "IGF1", "IGF2", "IRS1", "IRS2", "INSR", "AKT1", "PIK3CA", "MAPK1", "ABCB1", "ABCG2", "ABCC1",
         "BCL2", "BCL2L1", "MCL1", "XIAP", "BIRC5", "CDKN1A", "MDM2", "BAX", "DDB2", "TP53", "MYC", "CCND1", "EGFR",
         "ERBB2", "ESR1", "DHFR", "GAPDH", "ACTB"]
rest = sorted(set(symbols.sample(6000, random_state=15)) - set(known))
genes = known + [g for g in rest if g.isalnum()][: 1500 - len(known)]
arms = np.repeat(["C", "R", "O"], 4)
batch = np.tile(["b1", "b1", "b2", "b2"], 3)
samples = [f"{a}{i + 1}" for a in "CRO" for i in range(4)]
base = rng.normal(8, 1.5, size=(len(genes), 1))
noise = rng.normal(0, 0.3, size=(len(genes), len(samples)))
shift = rng.normal(0, 0.5, size=(len(genes), 1)) * (batch == "b2")
values = base + noise + shift
index = {g: i for i, g in enumerate(genes)}
values[: len(known)] += 2.0  # the known genes well above the noise floor
for gene in ("IGF1R", "IGF1", "IRS1"):
    values[index[gene], arms == "R"] += 1.5
values[index["ABCB1"], arms == "O"] += 2.0
matrix = pd.DataFrame(np.round(values, 4), index=pd.Index(genes, name="gene"), columns=samples)
with gzip.GzipFile(".test/design/expression.tsv.gz", "wb", mtime=0, compresslevel=9) as fh:
    fh.write(matrix.to_csv(sep="\t").encode())
pd.DataFrame({"sample": samples, "arm": arms, "batch": batch}).to_csv(".test/design/samples.tsv", sep="\t",
                                                                       index=False)
