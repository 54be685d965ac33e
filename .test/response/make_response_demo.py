"""Make the small made-up `response_demo` panel (a drug-response contrast, issue 15 item 4).

48 cell lines in 4 tissues (12 each). The cisplatin AUC has a tissue shift (tissue D most
resistant, A least) plus a within-tissue part; one line has no AUC. Genes: the catalogue's and
PROGENy's best-known genes plus random HGNC symbols (1,500 in all). Known answers:
- planted: IGF1R_AXIS (IGF1R, IGF1, IGF2, IRS1, IRS2), ABCB1 and ABCG2 rise 0.8 log2 per AUC
  unit within tissues (so the set `igf1r_axis_up` and the genes are associated with
  resistance once tissue is adjusted for);
- decoy: ABCC1 and MAPK_MEMBERS follow the tissue only (1.2 log2 per unit of the tissue's AUC
  shift): strongly correlated with the AUC across lines, not within tissues.
`act_area` = 8 - AUC is the same response where higher means more sensitive (CCLE's activity
area style), for a contrast with `higher_is: sensitive`. Run from the repo root:
    python .test/response/make_response_demo.py
"""

import gzip

import numpy as np
import pandas as pd

rng = np.random.default_rng(154)
symbols = pd.read_csv("workflow/resources/hgnc_symbols.tsv.gz", sep="\t", usecols=["symbol"])["symbol"]
axis = ["IGF1R", "IGF1", "IGF2", "IRS1", "IRS2"]
mapk = ["GRB2", "SHC1", "SOS1", "HRAS", "KRAS", "NRAS", "RAF1", "BRAF", "MAP2K1", "MAP2K2", "MAPK1", "MAPK3"]
known = axis + mapk + ["ABCB1", "ABCG2", "ABCC1", "INSR", "AKT1", "PIK3CA", "BCL2", "BCL2L1", "MCL1", "XIAP",
                       "BIRC5", "CDKN1A", "MDM2", "BAX", "DDB2", "TP53", "MYC", "CCND1", "EGFR", "GAPDH", "ACTB"]
rest = sorted(set(symbols.sample(6000, random_state=154)) - set(known))
genes = known + [g for g in rest if g.isalnum()][: 1500 - len(known)]
tissues = np.repeat(["A", "B", "C", "D"], 12)
lines = [f"{t}{i + 1:02d}" for t in "ABCD" for i in range(12)]
shift = {"A": 3.0, "B": 4.0, "C": 5.0, "D": 6.0}
tissue_auc = np.array([shift[t] for t in tissues])
within = rng.normal(0, 0.7, size=len(lines))
auc = tissue_auc + within
values = rng.normal(8, 1.5, size=(len(genes), 1)) + rng.normal(0, 0.3, size=(len(genes), len(lines)))
values += rng.normal(0, 0.4, size=(len(genes), 4))[:, np.searchsorted(list("ABCD"), tissues)]  # tissue noise
index = {g: i for i, g in enumerate(genes)}
values[: len(known)] += 2.0  # the known genes well above the noise floor
for gene in [*axis, "ABCB1", "ABCG2"]:
    values[index[gene]] += 0.8 * within
for gene in ["ABCC1", *mapk]:
    values[index[gene]] += 1.2 * (tissue_auc - tissue_auc.mean())
matrix = pd.DataFrame(np.round(values, 4), index=pd.Index(genes, name="gene"), columns=lines)
with gzip.GzipFile(".test/response/expression.tsv.gz", "wb", mtime=0, compresslevel=9) as fh:
    fh.write(matrix.to_csv(sep="\t").encode())
sheet = pd.DataFrame({"sample": lines, "tissue": tissues, "auc_cisplatin": np.round(auc, 4),
                      "act_area_cisplatin": np.round(8.0 - auc, 4)})
sheet.loc[sheet["sample"] == "B07", ["auc_cisplatin", "act_area_cisplatin"]] = np.nan  # a line without a response
sheet.to_csv(".test/response/samples.tsv", sep="\t", index=False)
