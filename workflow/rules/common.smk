# Validation and input functions shared by every stage.

import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from igf1r_resistance.workflow.config import dataset_type, validate_config  # noqa: E402
from igf1r_resistance.errors import ConfigError  # noqa: E402
from igf1r_resistance.workflow import resources  # noqa: E402
from igf1r_resistance.io.acquire import mirrored_sources  # noqa: E402
from igf1r_resistance.pp.probes import JETSET_PLATFORMS  # noqa: E402

try:
    config = validate_config(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None

DATASETS = list(config["datasets"])
SAMPLE_SCHEMA = str(Path(workflow.basedir) / "workflow/schemas/samples.schema.yaml")


def datasets_of(*types):
    """Data-set ids of the given types (geo, geo_rnaseq, matrix, h5ad, single_cell)."""
    return [d for d in DATASETS if dataset_type(d, config["datasets"][d]) in types]


def one_of(ids):
    """A wildcard constraint matching exactly these ids (a never-matching one for none)."""
    return "|".join(re.escape(i) for i in ids) or "(?!x)x"


wildcard_constraints:
    ds=one_of(DATASETS),


def dataset_settings(wildcards):
    return config["datasets"][wildcards.ds]


def prepare_inputs(wildcards):
    """The prepare step's inputs, by data-set type (named as steps.run_prepare expects)."""
    settings = config["datasets"][wildcards.ds]
    kind = dataset_type(wildcards.ds, settings)
    geo = f"resources/geo/{wildcards.ds}"
    inputs = {"hgnc": "workflow/resources/hgnc_symbols.tsv.gz"}
    if kind == "geo":
        inputs.update(
            series=f"{geo}/series_matrix.txt.gz",
            annotation=f"{geo}/platform_annotation.tsv.gz",
            # Jetset's probe choice per Affymetrix platform (prepare picks the series' one)
            jetset=[
                f"workflow/resources/probes/jetset_{p}.tsv.gz" for p in JETSET_PLATFORMS
            ],
        )
    elif kind == "geo_rnaseq":
        inputs.update(
            series=f"{geo}/series_matrix.txt.gz",
            counts=f"{geo}/raw_counts.tsv.gz",
            gene_annotation=f"{geo}/gene_annotation.tsv.gz",
        )
    elif kind == "matrix":
        inputs.update(matrix=settings["matrix"], samples=settings["samples"])
    elif settings.get("suppl_file"):
        inputs.update(data=f"{geo}/suppl/{settings['suppl_file']}")
    else:
        inputs.update(data=settings["path"])
    return inputs


def source_files(wildcards):
    """The data set's source files that exist now: prepare's data inputs, or, before the
    fetch ran (fresh clone, dry run), their copies in the local GEO mirrors. Memory
    estimates of jobs whose inputs are not written yet stand on these."""
    settings = config["datasets"][wildcards.ds]
    data = [
        f for k, f in prepare_inputs(wildcards).items() if k not in ("hgnc", "jetset")
    ]
    present = [f for f in data if Path(f).exists()]
    if present:
        return present
    kind = dataset_type(wildcards.ds, settings)
    return mirrored_sources(wildcards.ds, kind, settings, config["geo"])


def prepare_mem_mb(wildcards, input, attempt):
    """Memory of prepare: grows with the size of the data files (gzipped text 12x, else 3x)."""
    return resources.mem_mb(source_files(wildcards), attempt)


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
        "camera.tsv",
        "controls.tsv",
        "controls_status.tsv",
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
    files += expand("results/{ds}/cells.h5ad", ds=datasets_of("single_cell"))
    return files + [
        "results/summary/hypotheses.tsv",
        "results/summary/meta.tsv",
        "results/report/report.html",
    ]


def input_mb(*names, floor_mb=0, correlation=False):
    """Resource function: memory grows with the size of the named inputs
    (igf1r_resistance.workflow.resources.mem_mb), plus the samples x samples correlation matrix
    of the `adata` input when `correlation` is set (QC)."""

    def mem_mb(wildcards, input, attempt):
        files = []
        for n in names:
            files += [input[n]] if isinstance(input[n], str) else list(input[n])
        extra = resources.correlation_mb(input["adata"]) if correlation else 0.0
        # inputs not written yet (DAG time): estimated from the data set's sources
        stand_ins = source_files(wildcards) if "ds" in wildcards.keys() else []
        return resources.mem_mb(
            files, attempt, extra_mb=extra, floor_mb=floor_mb, stand_ins=stand_ins
        )

    return mem_mb
