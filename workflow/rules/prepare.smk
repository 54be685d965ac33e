rule prepare:
    input:
        series="resources/geo/{ds}/series_matrix.txt.gz",
        annotation="resources/geo/{ds}/platform_annotation.tsv.gz",
        hgnc="workflow/resources/hgnc_symbols.tsv.gz",
    output:
        adata="results/{ds}/expression.h5ad",
        samples="results/{ds}/samples.tsv",
        probes="results/{ds}/probes.tsv",
    log:
        "logs/prepare/{ds}.log",
    benchmark:
        "results/benchmarks/prepare/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("series"),
        runtime=20,
    params:
        settings=dataset_settings,
    script:
        "../../scripts/prepare.py"
