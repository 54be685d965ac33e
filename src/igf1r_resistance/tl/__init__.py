"""Statistics: gene-set scoring, limma, camera/GSEA, hypotheses, meta-analysis, QC statistics."""
