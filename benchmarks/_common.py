"""Shared helpers of the benchmarks: the machine, the demo data, the pipeline's scoring + verdicts.

Not part of the library: the benchmarks import it as a sibling module.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from igf1r_resistance.genesets import catalogue as gs
from igf1r_resistance.genesets.universe import GeneSetsUsed, sets_as_used
from igf1r_resistance.tl._hypotheses import HypothesisSettings, evaluate
from igf1r_resistance.tl.scoring import score_gene_sets
from igf1r_resistance.workflow.steps import scorable_genes

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "workflow" / "resources" / "mechanisms.yaml"
CACHE = REPO / "benchmarks" / ".cache"


def machine() -> dict[str, str]:
    """nproc, CPU model (/proc/cpuinfo), RAM (/proc/meminfo), Python, OS."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "os": f"{platform.system()} {platform.release()}",
    }


def machine_line() -> str:
    m = machine()
    return (f"{m['nproc']} cores ({m['cpu']}), {m['ram']} RAM, Python {m['python']}, "
            f"numpy {m['numpy']}, {m['os']}")


def load_config() -> dict:
    with open(REPO / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def demo_expression(dataset: str = "GSE15709", cache: Path = CACHE) -> tuple[pd.DataFrame, pd.Series]:
    """The demo data set prepared by the pipeline's own fetch + prepare code (offline, from
    .test/geo), cached in `cache` (benchmarks/.cache); returns (genes measured in every
    grouped sample x grouped samples, log2; groups)."""
    from igf1r_resistance.io.acquire import fetch_platform_annotation, fetch_series, fetch_suppl
    from igf1r_resistance.workflow.steps import load_expression, run_prepare

    config = load_config()
    settings = config["datasets"][dataset]
    out = Path(cache) / dataset
    adata = out / "expression.h5ad"
    if not adata.exists() and settings.get("type") == "single_cell":  # the single-cell demo (GSE108383)
        out.mkdir(parents=True, exist_ok=True)
        log = logging.getLogger("benchmarks.prepare")
        geo = {**config["geo"], "local_mirrors": [str(REPO / ".test" / "geo")], "offline": True,
               "cache_dir": str(out / "cache")}
        data = out / settings["suppl_file"]
        fetch_suppl(dataset, settings, geo, data, log)
        inputs = {"data": str(data), "hgnc": str(REPO / "workflow" / "resources" / "hgnc_symbols.tsv.gz")}
        outputs = {"adata": str(adata), "samples": str(out / "samples.tsv"), "probes": str(out / "probes.tsv"),
                   "cells": str(out / "cells.tsv")}
        run_prepare(dataset, settings, inputs, outputs, log,
                    sample_schema=str(REPO / "workflow" / "schemas" / "samples.schema.yaml"))
    if not adata.exists():
        out.mkdir(parents=True, exist_ok=True)
        log = logging.getLogger("benchmarks.prepare")
        geo = {**config["geo"], "local_mirrors": [str(REPO / ".test" / "geo")], "offline": True,
               "cache_dir": str(out / "cache")}
        series = out / "series_matrix.txt.gz"
        annotation = out / "platform_annotation.tsv.gz"
        fetch_series(dataset, settings, geo, series, log)
        fetch_platform_annotation(dataset, settings, series, geo, {}, annotation, log)
        inputs = {"series": str(series), "annotation": str(annotation),
                  "hgnc": str(REPO / "workflow" / "resources" / "hgnc_symbols.tsv.gz"),
                  "jetset": [str(p) for p in sorted((REPO / "workflow" / "resources" / "probes").glob("jetset_*"))]}
        outputs = {"adata": str(adata), "samples": str(out / "samples.tsv"), "probes": str(out / "probes.tsv")}
        run_prepare(dataset, settings, inputs, outputs, log,
                    sample_schema=str(REPO / "workflow" / "schemas" / "samples.schema.yaml"))
    _, expr, groups = load_expression(adata)
    groups = groups[groups.isin(["resistant", "sensitive"])]
    return scorable_genes(expr[groups.index]), groups


class Pipeline:
    """The score + hypotheses steps of the workflow on an in-memory matrix.

    Same calls as `steps.run_scoring` and `steps.run_hypotheses` (catalogue sets and
    hypotheses, per-set minimum sizes, `score_gene_sets`, `hypotheses.evaluate` with the
    config's verdict settings), plus optional extra sets/hypotheses (planted signals).
    """

    def __init__(self, config: dict | None = None, methods: list[str] | None = None,
                 n_permutations: int | None = None, gmt: list[str] = (), random_sets: int | None = None):
        config = config or load_config()
        self.scoring = config["scoring"]
        self.methods = list(methods or self.scoring["methods"])
        hyp = config["hypotheses"]
        self.min_size = config["gene_sets"]["min_size"]
        _, self.sets, self.hyps = gs.collect(CATALOGUE, list(gmt), [])
        self.settings = HypothesisSettings(
            methods=tuple(self.methods), primary=self.scoring["primary"], min_size=self.min_size,
            alpha=hyp["fdr"], p_value=hyp["p_value"], max_exact=hyp["max_exact"],
            n_permutations=n_permutations or hyp["permutations"], seed=hyp["seed"],
            n_random_sets=random_sets or hyp.get("random_sets", 2000),
            expression_bins=hyp.get("expression_bins", 10), gene_margin=hyp.get("gene_margin", 0.5),
            set_margin=hyp.get("set_margin", 0.5),
        )

    def run(self, expr: pd.DataFrame, groups: pd.Series, extra_sets: list[gs.GeneSet] = (),
            extra_hyps: list[gs.Hypothesis] = ()) -> pd.DataFrame:
        """hypotheses.tsv of the workflow for `expr` (gene rows from limma's moderated t, as
        rule hypotheses reads them from de.tsv)."""
        from igf1r_resistance.tl._limma import moderated_t

        sets = self.sets + list(extra_sets)
        hyps = self.hyps + list(extra_hyps)
        complete = scorable_genes(expr)
        # the workflow's one rule for the sets as used (rule gene_sets), every gene measurable
        every = pd.Series(True, index=complete.index.astype(str))
        used = GeneSetsUsed.from_table(sets_as_used(sets, hyps, every, every, self.min_size))
        scores = score_gene_sets(complete, used.sets(), self.methods, min_size=1, seed=self.scoring["seed"])
        de = moderated_t(expr, groups)
        return evaluate("BENCH", scores, expr, groups, used.used, used, hyps, self.settings, de=de)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
