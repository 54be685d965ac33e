"""Drug classes: which drug-specific hypotheses of the catalogue apply to a data set.

A data set's `drug_class` (config) selects the catalogue hypotheses with `drug_classes`
(genesets.applicable). When it is not declared it is inferred from the free-text `drug` by the
table below: every known drug name found in the text (whole words, case-insensitive) must
belong to one class. A text naming drugs of several classes must declare the class; a text
naming no known drug leaves the class unknown (no drug-specific hypothesis is tested).
"""

from __future__ import annotations

import re

from .catalogue import DRUG_CLASSES

#: drug name (lower case) -> class; sources: WHO ATC classification (L01, L02) and the
#: mechanism each class shares (Galluzzi 2012; Zhao & Goldman 2003; Szakacs 2006).
DRUG_CLASS_OF = {
    # platinum compounds (ATC L01XA)
    "cisplatin": "platinum", "carboplatin": "platinum", "oxaliplatin": "platinum", "nedaplatin": "platinum",
    # antimetabolites (L01B): antifolates, pyrimidine and purine analogues
    "methotrexate": "antimetabolite", "pemetrexed": "antimetabolite", "raltitrexed": "antimetabolite",
    "pralatrexate": "antimetabolite", "fluorouracil": "antimetabolite", "5-fluorouracil": "antimetabolite",
    "5-fu": "antimetabolite", "capecitabine": "antimetabolite", "gemcitabine": "antimetabolite",
    "cytarabine": "antimetabolite", "ara-c": "antimetabolite", "mercaptopurine": "antimetabolite",
    # anthracyclines (L01DB)
    "doxorubicin": "anthracycline", "adriamycin": "anthracycline", "epirubicin": "anthracycline",
    "daunorubicin": "anthracycline", "idarubicin": "anthracycline",
    # taxanes (L01CD)
    "paclitaxel": "taxane", "taxol": "taxane", "docetaxel": "taxane", "cabazitaxel": "taxane",
    # vinca alkaloids (L01CA)
    "vincristine": "vinca_alkaloid", "vinblastine": "vinca_alkaloid", "vinorelbine": "vinca_alkaloid",
    # topoisomerase inhibitors (L01CB podophyllotoxins, L01CE camptothecins, mitoxantrone)
    "etoposide": "topoisomerase_inhibitor", "teniposide": "topoisomerase_inhibitor",
    "topotecan": "topoisomerase_inhibitor", "irinotecan": "topoisomerase_inhibitor",
    "sn-38": "topoisomerase_inhibitor", "camptothecin": "topoisomerase_inhibitor",
    "mitoxantrone": "topoisomerase_inhibitor",
    # targeted (kinase inhibitors and antibodies, L01E/L01F)
    "gefitinib": "targeted", "erlotinib": "targeted", "osimertinib": "targeted", "lapatinib": "targeted",
    "vemurafenib": "targeted", "dabrafenib": "targeted", "plx4720": "targeted", "plx4032": "targeted",
    "trametinib": "targeted", "imatinib": "targeted", "sorafenib": "targeted", "sunitinib": "targeted",
    "trastuzumab": "targeted", "cetuximab": "targeted", "braf inhibitor": "targeted",
    "egfr inhibitor": "targeted", "mek inhibitor": "targeted",
    # endocrine therapy (L02)
    "tamoxifen": "endocrine", "4-hydroxytamoxifen": "endocrine", "fulvestrant": "endocrine",
    "letrozole": "endocrine", "anastrozole": "endocrine", "exemestane": "endocrine",
    "enzalutamide": "endocrine", "bicalutamide": "endocrine",
}
assert set(DRUG_CLASS_OF.values()) <= set(DRUG_CLASSES)


def infer_drug_class(drug: str) -> tuple[str, list[str]]:
    """(class, drug names found) for a free-text `drug`; class "" when none is known.

    Raises ValueError when the names found belong to several classes.
    """
    text = str(drug or "").lower()
    found = [name for name in DRUG_CLASS_OF
             if re.search(r"(?<![a-z0-9-])" + re.escape(name) + r"(?![a-z0-9])", text)]
    classes = sorted({DRUG_CLASS_OF[n] for n in found})
    if len(classes) > 1:
        raise ValueError(f"drug {drug!r} names drugs of several classes ({', '.join(classes)}): declare drug_class")
    return (classes[0] if classes else ""), found
