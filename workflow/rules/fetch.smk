# Downloads stay on the submitting host: compute nodes often have no internet.
# Each rule serves only the data-set types that need it (see `datasets_of` in common.smk).


localrules:
    fetch_series,
    fetch_platform,
    fetch_counts,
    fetch_suppl,


rule fetch_series:
    output:
        "resources/geo/{ds}/series_matrix.txt.gz",
    log:
        "logs/fetch_series/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_series/{ds}.tsv"
    wildcard_constraints:
        ds=one_of(datasets_of("geo", "geo_rnaseq")),
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
    wildcard_constraints:
        ds=one_of(datasets_of("geo")),
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


# GEO's NCBI-computed raw counts and GeneID -> Symbol table (type: geo_rnaseq).
rule fetch_counts:
    output:
        counts="resources/geo/{ds}/raw_counts.tsv.gz",
        annotation="resources/geo/{ds}/gene_annotation.tsv.gz",
    log:
        "logs/fetch_counts/{ds}.log",
    benchmark:
        "results/benchmarks/fetch_counts/{ds}.tsv"
    wildcard_constraints:
        ds=one_of(datasets_of("geo_rnaseq")),
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        settings=dataset_settings,
        geo=config["geo"],
    script:
        "../../scripts/fetch_counts.py"


# A file of the series' supplementary folder (single_cell data sets with suppl_file).
rule fetch_suppl:
    output:
        "resources/geo/{ds}/suppl/{file}",
    log:
        "logs/fetch_suppl/{ds}/{file}.log",
    benchmark:
        "results/benchmarks/fetch_suppl/{ds}/{file}.tsv"
    wildcard_constraints:
        ds=one_of(datasets_of("single_cell")),
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        settings=dataset_settings,
        geo=config["geo"],
    script:
        "../../scripts/fetch_suppl.py"
