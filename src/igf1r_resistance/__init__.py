"""Test the IGF1R chemoresistance mechanisms of Yuan et al. (Oncol Lett 2018) on expression data.

The library holds all logic of the Snakemake workflow: GEO acquisition, parsing,
preparation, gene-set scoring, differential expression, hypothesis tests,
meta-analysis and the HTML report. Heavy dependencies (scanpy, gseapy) are imported
inside the functions that need them so that each workflow step stays fast to start.
"""

__version__ = "0.1.0"
