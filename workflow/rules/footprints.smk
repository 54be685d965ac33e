# Pathway activity from response footprints (PROGENy, 14 pathways): decoupleR's ulm on
# limma's moderated t (score and competitive p) and on every sample's expression (Welch test
# of resistant vs sensitive scores); src/igf1r_resistance/tl/footprints.py.


rule footprints:
    input:
        de="results/{ds}/de.tsv",
        adata="results/{ds}/expression.h5ad",
        model="workflow/resources/progeny_human_top500.tsv.gz",
        symbols="workflow/resources/hgnc_symbols.tsv.gz",
    output:
        "results/{ds}/footprints.tsv",
    log:
        "logs/footprints/{ds}.log",
    benchmark:
        "results/benchmarks/footprints/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "de"),
        runtime=10,
    params:
        hypotheses=config["hypotheses"],
    script:
        "../../scripts/footprints.py"
