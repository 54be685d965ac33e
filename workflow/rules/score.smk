rule score:
    input:
        adata="results/{ds}/expression.h5ad",
        gene_sets=gene_set_files(),
    output:
        scores="results/{ds}/scores.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    log:
        "logs/score/{ds}.log",
    benchmark:
        "results/benchmarks/score/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata"),
        runtime=30,
    params:
        scoring=config["scoring"],
        gene_sets=config["gene_sets"],
        extra=config["hypotheses"]["extra"],
    script:
        "../../scripts/score.py"
