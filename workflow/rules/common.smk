# Validation and input functions shared by every stage.

import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from igf1r_resistance.config import validate_config  # noqa: E402
from igf1r_resistance.errors import ConfigError  # noqa: E402

try:
    config = validate_config(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None

DATASETS = list(config["datasets"])


wildcard_constraints:
    ds="|".join(DATASETS),


def dataset_settings(wildcards):
    return config["datasets"][wildcards.ds]


def gene_set_files():
    return [config["gene_sets"]["catalogue"], *config["gene_sets"]["gmt"]]


def per_dataset(pattern):
    return expand(pattern, ds=DATASETS)


def all_outputs():
    files = []
    for name in [
        "expression.h5ad",
        "samples.tsv",
        "de.tsv",
        "scores.tsv",
        "gene_sets.gmt",
        "gsea.tsv",
        "hypotheses.tsv",
        "qc/pca.tsv",
        "qc/pca_variance.tsv",
        "qc/distributions.tsv",
        "qc/columns.tsv",
        "qc/correlation.tsv",
        "qc/outliers.tsv",
        "qc/set_heatmaps.tsv",
        "qc/gene_values.tsv",
        "qc/gsea_running.tsv",
    ]:
        files += per_dataset(f"results/{{ds}}/{name}")
    return files + [
        "results/summary/hypotheses.tsv",
        "results/summary/meta.tsv",
        "results/report/report.html",
    ]


def input_mb(*names):
    """Resource function: memory grows with the size of the named inputs."""

    def mem_mb(wildcards, input, attempt):
        files = []
        for n in names:
            files += [input[n]] if isinstance(input[n], str) else list(input[n])
        size = sum(Path(f).stat().st_size for f in files) / 1e6
        return int((1000 + 12 * size) * attempt)

    return mem_mb
