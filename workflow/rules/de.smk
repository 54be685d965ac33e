# Per model ({model} = ds, or ds/contrast of a data set with a design): limma's table, its
# positive controls and the competitive gene-set tests. A contrast's de.tsv comes from the
# fit of its data set's whole design (src/igf1r_resistance/pp/designs.py, linear_model.py).


rule de:
    input:
        adata=dataset_file("expression.h5ad"),
    output:
        "results/{model}/de.tsv",
    log:
        "logs/de/{model}.log",
    benchmark:
        "results/benchmarks/de/{model}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata"),
        runtime=20,
    params:
        de=config["de"],
        model=model_settings,
    script:
        "../../scripts/de.py"


# Positive controls of the model (config `controls:`, a contrast's own or its data set's)
# read from limma's table: a light table step; a model whose controls come out opposite is
# flagged.
rule controls:
    input:
        de="results/{model}/de.tsv",
    output:
        table="results/{model}/controls.tsv",
        status="results/{model}/controls_status.tsv",
    log:
        "logs/controls/{model}.log",
    benchmark:
        "results/benchmarks/controls/{model}.tsv"
    localrule: True
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("de", floor_mb=500),
        runtime=5,
    params:
        model=model_settings,
        fdr=config["hypotheses"]["fdr"],
    script:
        "../../scripts/controls.py"


# Competitive gene-set tests of every catalogue and GMT set as used (gene_sets.tsv): preranked
# GSEA on the moderated t (gsea.tsv) and limma's camera on the expression matrix (camera.tsv).
rule gsea:
    input:
        de="results/{model}/de.tsv",
        adata=dataset_file("expression.h5ad"),
        gene_sets=dataset_file("gene_sets.tsv"),
    output:
        gsea="results/{model}/gsea.tsv",
        camera="results/{model}/camera.tsv",
    log:
        "logs/gsea/{model}.log",
    benchmark:
        "results/benchmarks/gsea/{model}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("adata", "de", floor_mb=2000),
        runtime=30,
    params:
        gsea=config["gsea"],
        model=model_settings,
    script:
        "../../scripts/gsea.py"
