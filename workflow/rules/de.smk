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


# Positive controls of the data set (config `controls:`) read from limma's table: a
# light table step; a data set whose controls come out opposite is flagged.
rule controls:
    input:
        de="results/{ds}/de.tsv",
    output:
        table="results/{ds}/controls.tsv",
        status="results/{ds}/controls_status.tsv",
    log:
        "logs/controls/{ds}.log",
    benchmark:
        "results/benchmarks/controls/{ds}.tsv"
    localrule: True
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("de", floor_mb=500),
        runtime=5,
    params:
        controls=lambda wildcards: config["datasets"][wildcards.ds]["controls"],
        fdr=config["hypotheses"]["fdr"],
    script:
        "../../scripts/controls.py"


# Competitive gene-set tests of every catalogue and GMT set as used (gene_sets.tsv): preranked
# GSEA on the moderated t (gsea.tsv) and limma's camera on the expression matrix (camera.tsv).
rule gsea:
    input:
        de="results/{ds}/de.tsv",
        adata="results/{ds}/expression.h5ad",
        gene_sets="results/{ds}/gene_sets.tsv",
    output:
        gsea="results/{ds}/gsea.tsv",
        camera="results/{ds}/camera.tsv",
    log:
        "logs/gsea/{ds}.log",
    benchmark:
        "results/benchmarks/gsea/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "de", floor_mb=2000),
        runtime=30,
    params:
        gsea=config["gsea"],
    script:
        "../../scripts/gsea.py"
