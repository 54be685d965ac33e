# Per-sample gene-set scores. With scoring.chunks = N > 1 the work is scattered over N
# score_chunk jobs and gathered by rule score into the same scores.tsv, byte for byte.
# N comes from the config, so the DAG is known without reading data; chunk k scores the
# k-th contiguous block of samples for the sample-wise methods (singscore, raw ssGSEA) and
# the k-th block of gene sets for the cohort-wide ones (gsva, zscore, plage, score_genes),
# blocks [k n // N, (k + 1) n // N) (src/igf1r_resistance/workflow/chunks.py, docs/cluster.md).

from igf1r_resistance.workflow.chunks import score_inputs, score_mem_mb

SCORING_CHUNKS = config["scoring"]["chunks"]


rule score_chunk:
    input:
        adata="results/{ds}/expression.h5ad",
        gene_sets=gene_set_files(),
    output:
        chunk="results/{ds}/scores/chunk_{k}.tsv",
        gmt="results/{ds}/scores/chunk_{k}.gmt",
    log:
        "logs/score_chunk/{ds}_{k}.log",
    benchmark:
        "results/benchmarks/score_chunk/{ds}_{k}.tsv"
    wildcard_constraints:
        k=r"\d+",
    conda:
        "../../envs/pipeline.yaml"
    threads: 2
    resources:
        mem_mb=input_mb("adata"),
        runtime=30,
    params:
        scoring=config["scoring"],
        gene_sets=config["gene_sets"],
        extra=config["hypotheses"]["extra"],
    script:
        "../../scripts/score_chunk.py"


rule score:
    input:
        unpack(score_inputs(SCORING_CHUNKS, gene_set_files())),
    output:
        scores="results/{ds}/scores.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    log:
        "logs/score/{ds}.log",
    benchmark:
        "results/benchmarks/score/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 2
    resources:
        mem_mb=score_mem_mb(SCORING_CHUNKS, source_files),
        runtime=30,
    params:
        scoring=config["scoring"],
        gene_sets=config["gene_sets"],
        extra=config["hypotheses"]["extra"],
    script:
        "../../scripts/score.py"
