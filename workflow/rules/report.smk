from igf1r_resistance.report.tables import model_ids

# Steps run once per data set whatever its type and chunking; their benchmark files feed the
# report's run-cost table (fetch and chunk steps differ per data set and are not listed).
REPORT_BENCHMARK_STEPS = [
    "prepare",
    "score",
    "qc",
    "report_figures",
]
# Steps run once per model (results/benchmarks/{step}/{model}.tsv; model = {ds} or
# {ds}/{contrast}, issue 15).
REPORT_MODEL_BENCHMARK_STEPS = [
    "de",
    "gsea",
    "hypotheses",
]
# Models in config order: a data set with a plain `groups:` block is one model, a data set
# with `contrasts:` one per contrast; per-model tables live in results/{model}/.
REPORT_MODELS = model_ids(config)


localrules:
    report,
    report_figures,


rule report:
    input:
        **{f"qc_{n}": per_dataset(f"results/{{ds}}/qc/{n}.tsv") for n in QC_TABLES},
        # builds the per-data-set figures of `snakemake --report` with the report
        figures=per_dataset("results/report/figures/{ds}/volcano.svg"),
        adata=per_dataset("results/{ds}/expression.h5ad"),
        samples=per_dataset("results/{ds}/samples.tsv"),
        scores=per_dataset("results/{ds}/scores.tsv"),
        # per model, in REPORT_MODELS order (params.models)
        model_de=expand("results/{model}/de.tsv", model=REPORT_MODELS),
        model_gsea=expand("results/{model}/gsea.tsv", model=REPORT_MODELS),
        model_camera=expand("results/{model}/camera.tsv", model=REPORT_MODELS),
        model_controls=expand("results/{model}/controls.tsv", model=REPORT_MODELS),
        hypotheses="results/summary/hypotheses.tsv",
        meta="results/summary/meta.tsv",
        catalogue=config["gene_sets"]["catalogue"],
        # the run-cost table reads exactly these benchmark files
        benchmarks=[
            f"results/benchmarks/{step}/{ds}.tsv"
            for step in REPORT_BENCHMARK_STEPS
            for ds in DATASETS
        ]
        + [
            f"results/benchmarks/{step}/{model}.tsv"
            for step in REPORT_MODEL_BENCHMARK_STEPS
            for model in REPORT_MODELS
        ]
        + ["results/benchmarks/meta/meta.tsv"],
    output:
        html=report(
            "results/report/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        forest=report(
            "results/report/figures/forest.svg",
            caption="../report/forest.rst",
            category="Across data sets",
        ),
    log:
        "logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("scores", "model_de", "qc_set_heatmaps"),
        runtime=20,
    params:
        config=config,
        datasets=DATASETS,
        models=REPORT_MODELS,
        qc=QC_SETTINGS,
    script:
        "../../scripts/report.py"


rule report_figures:
    input:
        **{f"qc_{n}": f"results/{{ds}}/qc/{n}.tsv" for n in QC_TABLES},
        adata="results/{ds}/expression.h5ad",
        samples="results/{ds}/samples.tsv",
        # the data set's first model (its first contrast when it has a design)
        de=lambda w: next(
            f"results/{m}/de.tsv"
            for m in REPORT_MODELS
            if m == w.ds or m.startswith(f"{w.ds}/")
        ),
        catalogue=config["gene_sets"]["catalogue"],
    output:
        distributions=report(
            "results/report/figures/{ds}/distributions.svg",
            caption="../report/distributions.rst",
            category="{ds}",
            subcategory="Quality control",
        ),
        pca=report(
            "results/report/figures/{ds}/pca.svg",
            caption="../report/pca.rst",
            category="{ds}",
            subcategory="Quality control",
        ),
        correlation=report(
            "results/report/figures/{ds}/correlation.svg",
            caption="../report/correlation.rst",
            category="{ds}",
            subcategory="Quality control",
        ),
        volcano=report(
            "results/report/figures/{ds}/volcano.svg",
            caption="../report/volcano.rst",
            category="{ds}",
            subcategory="Differential expression",
        ),
    log:
        "logs/report_figures/{ds}.log",
    benchmark:
        "results/benchmarks/report_figures/{ds}.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=input_mb("de"),
        runtime=10,
    params:
        config=config,
        qc=QC_SETTINGS,
    script:
        "../../scripts/report.py"
