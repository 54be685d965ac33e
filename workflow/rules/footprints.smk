# Pathway activity from response footprints (PROGENy, 14 pathways): decoupleR's ulm on
# limma's moderated t (score and competitive p) and on every sample's expression (Welch test
# of resistant vs sensitive scores); src/igf1r_resistance/tl/footprints.py.


rule footprints:
    input:
        de="results/{model}/de.tsv",
        adata=dataset_file("expression.h5ad"),
        model=workflow_file("workflow/resources/progeny_human_top500.tsv.gz"),
        symbols=workflow_file("workflow/resources/hgnc_symbols.tsv.gz"),
    output:
        "results/{model}/footprints.tsv",
    log:
        "logs/footprints/{model}.log",
    benchmark:
        "results/benchmarks/footprints/{model}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "de"),
        runtime=10,
    params:
        # only what the footprint tests use: an fdr or statement edit re-runs none of them
        hypotheses={
            k: config["hypotheses"][k] for k in ("max_exact", "permutations", "seed")
        },
        model=model_settings,
    script:
        "../../scripts/footprints.py"
