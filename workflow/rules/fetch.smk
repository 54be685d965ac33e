# Downloads stay on the submitting host: compute nodes often have no internet.


localrules:
    fetch_series,
    fetch_platform,


rule fetch_series:
    output:
        "resources/geo/{ds}/series_matrix.txt.gz",
    log:
        "logs/fetch_series/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_series/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        settings=dataset_settings,
        geo=config["geo"],
    script:
        "../../scripts/fetch_series.py"


rule fetch_platform:
    input:
        series="resources/geo/{ds}/series_matrix.txt.gz",
    output:
        "resources/geo/{ds}/platform_annotation.tsv.gz",
    log:
        "logs/fetch_platform/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_platform/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        settings=dataset_settings,
        geo=config["geo"],
        overrides=config["platform_annotation"],
    script:
        "../../scripts/fetch_platform.py"
