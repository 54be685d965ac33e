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
    log:
        "logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=config,
        datasets=DATASETS,
    script:
        "../../scripts/report.py"
