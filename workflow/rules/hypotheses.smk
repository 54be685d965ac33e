rule hypotheses:
    input:
        adata="results/{ds}/expression.h5ad",
        scores="results/{ds}/scores.tsv",
        gene_sets=gene_set_files(),
    output:
        "results/{ds}/hypotheses.tsv",
    log:
        "logs/hypotheses/{ds}.log",
    benchmark:
        "results/benchmarks/hypotheses/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "scores"),
        runtime=30,
    params:
        scoring=config["scoring"],
        gene_sets=config["gene_sets"],
        hypotheses=config["hypotheses"],
    script:
        "../../scripts/hypotheses.py"


rule meta:
    input:
        per_dataset("results/{ds}/hypotheses.tsv"),
    output:
        hypotheses="results/summary/hypotheses.tsv",
        meta="results/summary/meta.tsv",
    log:
        "logs/meta/meta.log",
    benchmark:
        "results/benchmarks/meta/meta.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        fdr=config["hypotheses"]["fdr"],
    script:
        "../../scripts/meta.py"
