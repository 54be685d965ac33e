rule de:
    input:
        adata="results/{ds}/expression.h5ad",
    output:
        "results/{ds}/de.tsv",
    log:
        "logs/de/{ds}.log",
    benchmark:
        "results/benchmarks/de/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata"),
        runtime=20,
    params:
        de=config["de"],
    script:
        "../../scripts/de.py"


rule gsea:
    input:
        de="results/{ds}/de.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    output:
        "results/{ds}/gsea.tsv",
    log:
        "logs/gsea/{ds}.log",
    benchmark:
        "results/benchmarks/gsea/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        gsea=config["gsea"],
        min_size=config["gene_sets"]["min_size"],
    script:
        "../../scripts/gsea.py"
