# Every data-set type ends here as the same outputs (expression.h5ad, samples.tsv,
# probes.tsv), so the later stages do not depend on where the data came from.
# Inputs by type: prepare_inputs() in common.smk.


rule prepare:
    input:
        unpack(prepare_inputs),
    output:
        adata="results/{ds}/expression.h5ad",
        samples="results/{ds}/samples.tsv",
        probes="results/{ds}/probes.tsv",
    log:
        "logs/prepare/{ds}.log",
    benchmark:
        "results/benchmarks/prepare/{ds}.tsv"
    wildcard_constraints:
        ds=one_of(datasets_of("geo", "geo_rnaseq", "matrix", "h5ad")),
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=prepare_mem_mb,
        runtime=20,
    params:
        settings=dataset_settings,
        sample_schema=SAMPLE_SCHEMA,
        # paths of the workflow's own files are recorded relative to it
        workflow_dir=WORKFLOW_DIR_PARAM,
    script:
        "../../scripts/prepare.py"


# Single cells: the per-cell matrix is kept as cells.h5ad; expression.h5ad holds the
# samples of the analysis (replicate pseudobulks, or the cells themselves).
rule prepare_single_cell:
    input:
        unpack(prepare_inputs),
    output:
        adata="results/{ds}/expression.h5ad",
        samples="results/{ds}/samples.tsv",
        probes="results/{ds}/probes.tsv",
        cells="results/{ds}/cells.h5ad",
    log:
        "logs/prepare/{ds}.log",
    benchmark:
        "results/benchmarks/prepare/{ds}.tsv"
    wildcard_constraints:
        ds=one_of(datasets_of("single_cell")),
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=prepare_mem_mb,
        runtime=30,
    params:
        settings=dataset_settings,
        sample_schema=SAMPLE_SCHEMA,
        workflow_dir=WORKFLOW_DIR_PARAM,
    script:
        "../../scripts/prepare.py"
