# Validation and input functions shared by every stage.

import re
import sys
from os.path import relpath
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The workflow's own folder (this repository). workflow.basedir is the folder of the main
# Snakefile, which is the user's when this workflow runs as a Snakemake module.
RULES_DIR = workflow.current_basedir.get_path_or_uri(secret_free=True)
WORKFLOW_DIR = Path(RULES_DIR).parents[1]
sys.path.insert(0, str(WORKFLOW_DIR / "src"))

from igf1r_resistance.workflow.config import (  # noqa: E402
    dataset_type,
    library_on_pythonpath,
    resolve_path,
    validate_config,
)
from igf1r_resistance.pp.designs import (
    dataset_of,
    first_model,
    model_ids,
    model_spec,
)  # noqa: E402
from igf1r_resistance.errors import ConfigError  # noqa: E402
from igf1r_resistance.workflow import resources  # noqa: E402
from igf1r_resistance.io.acquire import mirrored_sources  # noqa: E402
from igf1r_resistance.pp.probes import JETSET_PLATFORMS  # noqa: E402

# Jobs (scripts, also in conda envs and on SLURM, where each job parses this file again)
# import the library from the workflow's own src/, the version its rules were written for,
# whether or not it is installed; a module user needs no separate install.
library_on_pythonpath(WORKFLOW_DIR / "src")

try:
    config = validate_config(
        config,
        WORKFLOW_DIR / "workflow/schemas/config.schema.yaml",
        workflow_dir=WORKFLOW_DIR,
    )
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None

DATASETS = list(config["datasets"])
# Models: a plain `groups:` data set is one model (id = ds, results/{ds}/); a data set with a
# design has one per contrast (id = ds/contrast, results/{ds}/{contrast}/). Per-model rules
# use the {model} wildcard, per-data-set rules (prepare, score, qc) {ds}.
MODELS = model_ids(config["datasets"])
SAMPLE_SCHEMA = resolve_path("workflow/schemas/samples.schema.yaml", WORKFLOW_DIR)
# the workflow's folder as params see it: relative to the working directory, so a copy of
# a finished run in another folder does not re-run prepare for a changed absolute path
WORKFLOW_DIR_PARAM = relpath(WORKFLOW_DIR)


def workflow_file(path):
    """A file shipped with the workflow (resources, schemas), found from any folder."""
    return resolve_path(path, WORKFLOW_DIR)


def datasets_of(*types):
    """Data-set ids of the given types (geo, geo_rnaseq, matrix, h5ad, single_cell)."""
    return [d for d in DATASETS if dataset_type(d, config["datasets"][d]) in types]


def one_of(ids):
    """A wildcard constraint matching exactly these ids (a never-matching one for none)."""
    return "|".join(re.escape(i) for i in ids) or "(?!x)x"


wildcard_constraints:
    ds=one_of(DATASETS),
    model=one_of(MODELS),


def dataset_settings(wildcards):
    return config["datasets"][wildcards.ds]


def ds_of(wildcards):
    """The data-set id of a job's wildcards ({ds}, or {model} = ds or ds/contrast)."""
    return wildcards.ds if "ds" in wildcards.keys() else dataset_of(wildcards.model)


def model_settings(wildcards):
    """designs.model_spec of the job's model: ids, levels, design, drug, controls, ..."""
    return model_spec(config["datasets"], wildcards.model)


def dataset_file(name):
    """Input function: results/{ds}/NAME of the model's data set."""
    return lambda wildcards: f"results/{dataset_of(wildcards.model)}/{name}"


def first_model_file(name):
    """Input function of a per-data-set rule: results/{model}/NAME of its first model."""
    return (
        lambda wildcards: f"results/{first_model(config['datasets'], wildcards.ds)}/{name}"
    )


def prepare_inputs(wildcards):
    """The prepare step's inputs, by data-set type (named as steps.run_prepare expects)."""
    ds = ds_of(wildcards)
    settings = config["datasets"][ds]
    kind = dataset_type(ds, settings)
    geo = f"resources/geo/{ds}"
    inputs = {"hgnc": workflow_file("workflow/resources/hgnc_symbols.tsv.gz")}
    if kind == "geo":
        inputs.update(
            series=f"{geo}/series_matrix.txt.gz",
            annotation=f"{geo}/platform_annotation.tsv.gz",
            # Jetset's probe choice per Affymetrix platform (prepare picks the series' one)
            jetset=[
                workflow_file(f"workflow/resources/probes/jetset_{p}.tsv.gz")
                for p in JETSET_PLATFORMS
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
    ds = ds_of(wildcards)
    settings = config["datasets"][ds]
    data = [
        f for k, f in prepare_inputs(wildcards).items() if k not in ("hgnc", "jetset")
    ]
    present = [f for f in data if Path(f).exists()]
    if present:
        return present
    kind = dataset_type(ds, settings)
    return mirrored_sources(ds, kind, settings, config["geo"])


def prepare_mem_mb(wildcards, input, attempt):
    """Memory of prepare: grows with the size of the data files (gzipped text 12x, else 3x)."""
    return resources.mem_mb(source_files(wildcards), attempt)


def gene_set_files():
    return [config["gene_sets"]["catalogue"], *config["gene_sets"]["gmt"]]


def per_dataset(pattern):
    return expand(pattern, ds=DATASETS)


def per_model(pattern):
    return expand(pattern, model=MODELS)


def all_outputs():
    files = []
    for name in [
        "de.tsv",
        "gsea.tsv",
        "camera.tsv",
        "controls.tsv",
        "controls_status.tsv",
        "hypotheses.tsv",
    ]:
        files += per_model(f"results/{{model}}/{name}")
    for name in [
        "expression.h5ad",
        "samples.tsv",
        "scores.tsv",
        "gene_sets.tsv",
        "gene_sets.gmt",
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
        keys = wildcards.keys()
        stand_ins = source_files(wildcards) if "ds" in keys or "model" in keys else []
        return resources.mem_mb(
            files, attempt, extra_mb=extra, floor_mb=floor_mb, stand_ins=stand_ins
        )

    return mem_mb
