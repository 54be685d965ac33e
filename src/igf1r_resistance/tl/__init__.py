"""Statistics: gene-set scoring, limma, camera/GSEA, hypotheses, meta-analysis, QC statistics.

Public functions on AnnData (``ir.tl.score``, ``ir.tl.limma``, ``ir.tl.camera``,
``ir.tl.gsea``, ``ir.tl.hypotheses``) wrap the array kernels of the submodules.
"""

from ._api import camera, gsea, hypotheses, limma, score

__all__ = ["camera", "gsea", "hypotheses", "limma", "score"]
