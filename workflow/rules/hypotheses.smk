# Hypothesis tests per model ({model} = ds, or ds/contrast of a data set with a design). With hypotheses.permutation_chunks = N > 1 the
# label-permutation tests are scattered over N permutation_chunk jobs, each counting a
# contiguous share of every test's relabellings (results/{model}/permutations/chunk_{k}.tsv);
# rule hypotheses adds the counts up into the same hypotheses.tsv, byte for byte, as one job
# (src/igf1r_resistance/tl/stats.py permutation_counts, docs/cluster.md).

from igf1r_resistance.workflow.chunks import permutation_chunk_files
from igf1r_resistance.tl.meta import model_metadata

PERMUTATION_CHUNKS = config["hypotheses"]["permutation_chunks"]


rule permutation_chunk:
    input:
        adata=dataset_file("expression.h5ad"),
        scores=dataset_file("scores.tsv"),
        gene_sets=dataset_file("gene_sets.tsv"),
        # the hypotheses (catalogue, GMT sets as exploratory hypotheses)
        definitions=gene_set_files(),
    output:
        "results/{model}/permutations/chunk_{k}.tsv",
    log:
        "logs/permutation_chunk/{model}_{k}.log",
    benchmark:
        "results/benchmarks/permutation_chunk/{model}_{k}.tsv"
    wildcard_constraints:
        k=r"\d+",
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
        model=model_settings,
    script:
        "../../scripts/permutation_chunk.py"


rule hypotheses:
    input:
        adata=dataset_file("expression.h5ad"),
        scores=dataset_file("scores.tsv"),
        gene_sets=dataset_file("gene_sets.tsv"),
        # the hypotheses (catalogue, GMT sets as exploratory hypotheses)
        definitions=gene_set_files(),
        permutations=permutation_chunk_files(PERMUTATION_CHUNKS),
        de="results/{model}/de.tsv",
        camera="results/{model}/camera.tsv",
        footprints="results/{model}/footprints.tsv",
    output:
        "results/{model}/hypotheses.tsv",
    log:
        "logs/hypotheses/{model}.log",
    benchmark:
        "results/benchmarks/hypotheses/{model}.tsv"
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
        model=model_settings,
    script:
        "../../scripts/hypotheses.py"


rule meta:
    input:
        per_model("results/{model}/hypotheses.tsv"),
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
        # per model: model_type, drug_class, data type, replicate_column (from the config)
        models=model_metadata(config["datasets"]),
        settings=config["meta"],
    script:
        "../../scripts/meta.py"
