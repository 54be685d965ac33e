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


localrules:
    report,
    report_figures,


rule report:
    input:
        **{f"qc_{n}": per_dataset(f"results/{{ds}}/qc/{n}.tsv") for n in QC_TABLES},
        # builds the per-data-set figures of `snakemake --report` with the report
        # per model (MODELS order: ds, or ds/contrast for each contrast of a design)
        **{
            f"model_{name}": per_model(f"results/{{model}}/{name}.tsv")
            for name in ["de", "gsea", "camera", "controls", "controls_status"]
        },
        figures=per_dataset("results/report/figures/{ds}/volcano.svg"),
        adata=per_dataset("results/{ds}/expression.h5ad"),
        samples=per_dataset("results/{ds}/samples.tsv"),
        scores=per_dataset("results/{ds}/scores.tsv"),
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
            for model in MODELS
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
        models=MODELS,
        qc=QC_SETTINGS,
    script:
        "../../scripts/report.py"


rule report_figures:
    input:
        **{f"qc_{n}": f"results/{{ds}}/qc/{n}.tsv" for n in QC_TABLES},
        adata="results/{ds}/expression.h5ad",
        samples="results/{ds}/samples.tsv",
        de=first_model_file("de.tsv"),
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
        "../../scripts/report_figures.py"
