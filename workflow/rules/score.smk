# Per-sample gene-set scores. With scoring.chunks = N > 1 the work is scattered over N
# score_chunk jobs and gathered by rule score into the same scores.tsv, byte for byte.
# N comes from the config, so the DAG is known without reading data; chunk k scores the
# k-th contiguous block of samples for the sample-wise methods (singscore, raw ssGSEA) and
# the k-th block of gene sets for the cohort-wide ones (gsva, zscore, plage, score_genes),
# blocks [k n // N, (k + 1) n // N) (src/igf1r_resistance/workflow/chunks.py, docs/cluster.md).

from igf1r_resistance.workflow.chunks import score_inputs, score_mem_mb
from igf1r_resistance.genesets.universe import (
    catalogue_set_digest,
    catalogue_set_files,
    set_uses,
)

SCORING_CHUNKS = config["scoring"]["chunks"]
CATALOGUE = config["gene_sets"]["catalogue"]


# The gene sets as used for a data set: catalogue + GMT sets restricted to its universe
# (var complete and measurable), with status, sizes and the minimum-size decision
# (src/igf1r_resistance/genesets/universe.py). Every later step reads them from here. The
# catalogue is `ancient`: only what in it decides the sets (its digest) re-runs this job,
# so a statement edit re-runs the hypotheses, not the scoring.
rule gene_sets:
    input:
        adata="results/{ds}/expression.h5ad",
        catalogue=ancient(CATALOGUE),
        catalogue_files=catalogue_set_files(CATALOGUE),
        gmt=config["gene_sets"]["gmt"],
    output:
        table="results/{ds}/gene_sets.tsv",
        gmt="results/{ds}/gene_sets.gmt",
    log:
        "logs/gene_sets/{ds}.log",
    benchmark:
        "results/benchmarks/gene_sets/{ds}.tsv"
    localrule: True
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", floor_mb=500),
        runtime=5,
    params:
        catalogue_sets=catalogue_set_digest(CATALOGUE),
        set_uses=set_uses(config["hypotheses"]["extra"]),
        min_size=config["gene_sets"]["min_size"],
    script:
        "../../scripts/gene_sets.py"


rule score_chunk:
    input:
        adata="results/{ds}/expression.h5ad",
        gene_sets="results/{ds}/gene_sets.tsv",
    output:
        chunk="results/{ds}/scores/chunk_{k}.tsv",
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
    script:
        "../../scripts/score_chunk.py"


rule score:
    input:
        unpack(score_inputs(SCORING_CHUNKS)),
    output:
        scores="results/{ds}/scores.tsv",
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
    script:
        "../../scripts/score.py"
