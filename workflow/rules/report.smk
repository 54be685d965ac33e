localrules:
    report,


rule report:
    input:
        adata=per_dataset("results/{ds}/expression.h5ad"),
        samples=per_dataset("results/{ds}/samples.tsv"),
        de=per_dataset("results/{ds}/de.tsv"),
        gsea=per_dataset("results/{ds}/gsea.tsv"),
        scores=per_dataset("results/{ds}/scores.tsv"),
        hypotheses="results/summary/hypotheses.tsv",
        meta="results/summary/meta.tsv",
        catalogue=config["gene_sets"]["catalogue"],
    output:
        report(
            "results/report/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
    params:
        config=config,
        datasets=DATASETS,
    log:
        "logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/report.py"
