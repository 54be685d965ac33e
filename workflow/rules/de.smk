rule de:
    input:
        adata="results/{ds}/expression.h5ad",
    output:
        "results/{ds}/de.tsv",
    params:
        de=config["de"],
    log:
        "logs/de/{ds}.log",
    benchmark:
        "results/benchmarks/de/{ds}.tsv"
    threads: 1
    resources:
        mem_mb=input_mb("adata"),
        runtime=20,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/de.py"


rule gsea:
    input:
        de="results/{ds}/de.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    output:
        "results/{ds}/gsea.tsv",
    params:
        gsea=config["gsea"],
        min_size=config["gene_sets"]["min_size"],
    log:
        "logs/gsea/{ds}.log",
    benchmark:
        "results/benchmarks/gsea/{ds}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/gsea.py"
