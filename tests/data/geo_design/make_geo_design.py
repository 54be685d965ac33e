"""Make the small made-up GEO series GSE999002 (a design with 3 levels + batch), in GEO's
series-matrix format, for tests/test_workflow.py::test_geo_series_with_a_design.

12 samples of one made-up line on GPL570: subline parental, CisR (cisplatin-resistant), OlaR
(olaparib-resistant), 4 each, in two batches (characteristics 'batch: A' / 'batch: B', 2 of each
subline per batch) with a batch shift on every probe. Values are MAS5-like linear intensities
(the workflow's GEO2R rule takes log2). Probes: Jetset's probe of the catalogue's and PROGENy's
best-known genes (IGF2 has none) plus other Jetset probes (1,000 in all). Known answers: IGF1R, IGF1, IRS1 up 1.5
log2 in CisR vs parental; ABCB1 up 2 in OlaR vs parental; everything else null. Run from the
repo root:
    python tests/data/geo_design/make_geo_design.py
"""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path("tests/data/geo_design/series/GSE999nnn/GSE999002/matrix/GSE999002_series_matrix.txt.gz")
rng = np.random.default_rng(2)
jetset = pd.read_csv("workflow/resources/probes/jetset_GPL570.tsv.gz", sep="\t")
jetset = jetset[jetset["gene"].astype(str).str.fullmatch(r"[A-Z0-9]+")].drop_duplicates("gene")
known = ["IGF1R", "IGF1", "IRS1", "IRS2", "INSR", "AKT1", "PIK3CA", "MAPK1", "ABCB1", "ABCG2", "ABCC1",
         "BCL2", "BCL2L1", "MCL1", "XIAP", "BIRC5", "CDKN1A", "MDM2", "BAX", "DDB2", "TP53", "MYC", "CCND1", "EGFR",
         "ERBB2", "ESR1", "DHFR", "GAPDH", "ACTB"]
known = [g for g in known if g in set(jetset["gene"])]  # IGF2 has no Jetset probe
by_gene = jetset.set_index("gene")["probe"]
rest = jetset[~jetset["gene"].isin(known)].sample(1000 - len(known), random_state=2)
genes = known + list(rest["gene"])
probes = [by_gene[g] for g in genes]
sublines = np.repeat(["parental", "CisR", "OlaR"], 4)
batch = np.tile(["A", "A", "B", "B"], 3)
gsm = [f"GSM99902{i:02d}" for i in range(1, 13)]
base = rng.normal(7, 1.5, size=(len(genes), 1))
values = base + rng.normal(0, 0.3, size=(len(genes), 12)) + rng.normal(0, 0.5, size=(len(genes), 1)) * (batch == "B")
values[: len(known)] += 3.0  # the known genes well above the noise floor
row = {g: i for i, g in enumerate(genes)}
for gene in ("IGF1R", "IGF1", "IRS1"):
    values[row[gene], sublines == "CisR"] += 1.5
values[row["ABCB1"], sublines == "OlaR"] += 2.0
linear = np.round(2.0 ** values, 1)


def line(key: str, cells) -> str:
    return key + "\t" + "\t".join(f'"{c}"' for c in cells) + "\n"


titles = [f"OVCAR8 {s} replicate {i % 4 + 1}" for i, s in enumerate(sublines)]
text = "".join([
    '!Series_title\t"Made-up OVCAR8 sublines resistant to cisplatin or olaparib (test data)"\n',
    '!Series_geo_accession\t"GSE999002"\n',
    '!Series_status\t"Public on Jan 01 2026"\n',
    '!Series_summary\t"Made-up data for the workflow tests: three sublines in two batches."\n',
    '!Series_overall_design\t"Parental, CisR and OlaR OVCAR8, 4 replicates each, hybridised in batches A and B."\n',
    '!Series_type\t"Expression profiling by array"\n',
    '!Series_sample_id\t"' + " ".join(gsm) + ' "\n',
    '!Series_platform_id\t"GPL570"\n',
    '!Series_platform_taxid\t"9606"\n',
    '!Series_sample_taxid\t"9606"\n',
    "\n",
    line("!Sample_title", titles),
    line("!Sample_geo_accession", gsm),
    line("!Sample_status", ["Public on Jan 01 2026"] * 12),
    line("!Sample_type", ["RNA"] * 12),
    line("!Sample_channel_count", ["1"] * 12),
    line("!Sample_source_name_ch1", [f"OVCAR8 {s} cells" for s in sublines]),
    line("!Sample_organism_ch1", ["Homo sapiens"] * 12),
    line("!Sample_characteristics_ch1", ["cell line: OVCAR8"] * 12),
    line("!Sample_characteristics_ch1", [f"subline: {s}" for s in sublines]),
    line("!Sample_characteristics_ch1", [f"batch: {b}" for b in batch]),
    line("!Sample_molecule_ch1", ["total RNA"] * 12),
    line("!Sample_taxid_ch1", ["9606"] * 12),
    line("!Sample_description", [f"{s} batch {b}" for s, b in zip(sublines, batch)]),
    line("!Sample_data_processing", ["MAS 5.0 (made-up values)"] * 12),
    line("!Sample_platform_id", ["GPL570"] * 12),
    line("!Sample_data_row_count", [str(len(probes))] * 12),
    "!series_matrix_table_begin\n",
    line('"ID_REF"', gsm),
    *(f'"{p}"\t' + "\t".join(f"{v:g}" for v in linear[i]) + "\n" for i, p in enumerate(probes)),
    "!series_matrix_table_end\n",
])
OUT.parent.mkdir(parents=True, exist_ok=True)
with gzip.GzipFile(OUT, "wb", mtime=0, compresslevel=9) as fh:
    fh.write(text.encode())
