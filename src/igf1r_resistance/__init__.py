"""Test the IGF1R chemoresistance mechanisms of Yuan et al. (Oncol Lett 2018) on expression data.

The library holds all logic of the Snakemake workflow: GEO acquisition, parsing,
preparation, gene-set scoring, differential expression, hypothesis tests,
meta-analysis and the HTML report. Heavy dependencies (scanpy, gseapy) are imported
inside the functions that need them so that each workflow step stays fast to start.

From Python (scverse conventions, ``obs`` = samples, ``var`` = genes)::

    import anndata as ad
    import igf1r_resistance as ir

    adata = ad.read_h5ad("results/GSE15709/expression.h5ad")
    ir.tl.limma(adata, groupby="group")          # adata.varm["limma"]
    ir.tl.score(adata, sets, method="singscore")  # adata.obsm["score_singscore"]
"""

from . import pl, pp, tl

__version__ = "0.1.0"
__all__ = ["pl", "pp", "tl"]
