rule score:
    input:
        adata="results/{ds}/expression.h5ad",
        gene_sets=gene_set_files(),
    output:
        scores="results/{ds}/scores.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    params:
        scoring=config["scoring"],
        gene_sets=config["gene_sets"],
        extra=config["hypotheses"]["extra"],
    log:
        "logs/score/{ds}.log",
    benchmark:
        "results/benchmarks/score/{ds}.tsv"
    threads: 1
    resources:
        mem_mb=input_mb("adata"),
        runtime=30,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/score.py"
