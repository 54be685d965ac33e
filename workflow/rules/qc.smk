# QC and plot-ready tables per data set: PCA, distributions, sample correlations,
# outliers, gene-set heatmaps and GSEA running sums. The report draws them.

# QC parameters (defaults; a `qc:` block in config.yaml overrides them once the schema
# carries it). igf1r_resistance.tl.qc.QC_DEFAULTS documents each one.
QC_SETTINGS = {
    "pca_top_genes": 500,
    "pca_components": 5,
    "max_heatmap_columns": 80,
    "outlier_coef": 1.5,
    "outlier_min_iqr_correlation": 0.01,
    "outlier_min_iqr_ks": 0.02,
    **config.get("qc", {}),
}

# The tables rule qc writes per data set (results/{ds}/qc/<name>.tsv); the report reads them all.
QC_TABLES = [
    "pca",
    "pca_variance",
    "distributions",
    "columns",
    "correlation",
    "outliers",
    "set_heatmaps",
    "gene_values",
    "gsea_running",
]


rule qc:
    input:
        adata="results/{ds}/expression.h5ad",
        # QC draws the data set's first model (its first contrast, or the data set itself)
        de=first_model_file("de.tsv"),
        gene_sets="results/{ds}/gene_sets.tsv",
        # the hypotheses (which genes get per-sample values)
        definitions=gene_set_files(),
    output:
        pca="results/{ds}/qc/pca.tsv",
        pca_variance="results/{ds}/qc/pca_variance.tsv",
        distributions="results/{ds}/qc/distributions.tsv",
        columns="results/{ds}/qc/columns.tsv",
        correlation="results/{ds}/qc/correlation.tsv",
        outliers="results/{ds}/qc/outliers.tsv",
        set_heatmaps="results/{ds}/qc/set_heatmaps.tsv",
        gene_values="results/{ds}/qc/gene_values.tsv",
        gsea_running="results/{ds}/qc/gsea_running.tsv",
    log:
        "logs/qc/{ds}.log",
    benchmark:
        "results/benchmarks/qc/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "de", correlation=True),
        runtime=20,
    params:
        qc=QC_SETTINGS,
        gene_sets=config["gene_sets"],
        extra=config["hypotheses"]["extra"],
    script:
        "../../scripts/qc.py"
