# Downloads stay on the submitting host: compute nodes often have no internet.


localrules:
    fetch_series,
    fetch_platform,


rule fetch_series:
    output:
        "resources/geo/{ds}/series_matrix.txt.gz",
    params:
        settings=dataset_settings,
        geo=config["geo"],
    log:
        "logs/fetch_series/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_series/{ds}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/fetch_series.py"


rule fetch_platform:
    input:
        series="resources/geo/{ds}/series_matrix.txt.gz",
    output:
        "resources/geo/{ds}/platform_annotation.tsv.gz",
    params:
        settings=dataset_settings,
        geo=config["geo"],
        overrides=config["platform_annotation"],
    log:
        "logs/fetch_platform/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_platform/{ds}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/fetch_platform.py"
