"""A Snakemake user's first commands on a fresh clone (issue 18).

Before anything has run: `snakemake -n`, `snakemake --dag`, `snakemake --rulegraph` and
`snakemake -n --profile profiles/slurm` exit 0 and plan the jobs `make demo` runs, with a
memory estimate for every job (resource functions must not fail on inputs that do not
exist yet). Then a run killed with SIGKILL halfway, `snakemake --unlock` and the same
command again end with the tables of an undisturbed run and nothing half-written in results/.

The expected jobs are derived from config.yaml (data-set types, scoring.chunks,
hypotheses.permutation_chunks), the way the rules derive them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from igf1r_resistance.pp.designs import model_ids
from igf1r_resistance.workflow.config import dataset_type

from conftest import copy_workflow, h5ad_contents, results_files, run_tables, snakemake

pytestmark = pytest.mark.workflow

# per data-set type: the jobs that bring its data into results/{ds}/expression.h5ad
ACQUIRE = {
    "geo": ["fetch_series", "fetch_platform", "prepare"],
    "geo_rnaseq": ["fetch_series", "fetch_counts", "prepare"],
    "matrix": ["prepare"],
    "h5ad": ["prepare"],
    "single_cell": ["prepare_single_cell"],
}
PER_DATASET = ["gene_sets", "score", "qc", "report_figures"]
# per model: the data set itself, or each contrast of a data set with a design
PER_MODEL = ["de", "gsea", "controls", "footprints", "hypotheses"]
ONCE = ["meta", "report", "all"]


def expected_jobs(config: dict) -> Counter:
    """Jobs of a run from nothing, by rule, as the rules derive them from `config`."""
    jobs = Counter(ONCE)
    for ds, settings in config["datasets"].items():
        kind = dataset_type(ds, settings)
        jobs.update(ACQUIRE[kind])
        if kind == "single_cell" and settings.get("suppl_file"):
            jobs["fetch_suppl"] += 1
        jobs.update(PER_DATASET)
        n_models = len(model_ids({ds: settings}))
        jobs.update({rule: n_models for rule in PER_MODEL})
        if config["scoring"].get("chunks", 1) > 1:
            jobs["score_chunk"] += config["scoring"]["chunks"]
        if config["hypotheses"].get("permutation_chunks", 1) > 1:
            jobs["permutation_chunk"] += n_models * config["hypotheses"]["permutation_chunks"]
    return jobs


def job_table(stdout: str) -> Counter:
    """The `Job stats` table Snakemake prints (rule -> count), checked against its total."""
    match = re.search(r"^Job stats:\njob\s+count\n-+\s+-+\n((?:\S+\s+\d+\n)+)", stdout, re.M)
    assert match, f"no job table in:\n{stdout[-3000:]}"
    rows = dict(line.split() for line in match.group(1).splitlines())
    total = int(rows.pop("total"))
    table = Counter({rule: int(n) for rule, n in rows.items()})
    assert sum(table.values()) == total
    return table


def planned_jobs(stdout: str) -> list[dict]:
    """Each job block of a dry run: rule, wildcards and resources as printed."""
    jobs = []
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", stdout, re.M):
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.M))
        jobs.append({"rule": rule, "wildcards": fields.get("wildcards", ""),
                     "resources": dict(re.findall(r"(\w+)=([^,\s]+)", fields.get("resources", "")))})
    return jobs


def load_config(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "config.yaml").read_text())


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    workdir = copy_workflow(tmp_path / "clone")
    assert not (workdir / "results").exists() and not (workdir / "resources").exists()
    return workdir


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert "Exception" not in result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("profile", [None, "profiles/slurm"])
def test_dry_run_plans_every_demo_job_with_a_memory_estimate(fresh_clone: Path, profile):
    args = ["-n"] + (["--profile", profile] if profile else [])
    out = _ok(snakemake(fresh_clone, *args, timeout=300))
    assert job_table(out) == expected_jobs(load_config(fresh_clone))
    jobs = planned_jobs(out)
    assert Counter(j["rule"] for j in jobs) == expected_jobs(load_config(fresh_clone))
    # every job asks for a number of MB (an estimate before its inputs exist), never <TBD>
    for job in jobs:
        if job["rule"] != "all":
            assert job["resources"]["mem_mb"].isdigit(), job
    # jobs downstream of prepare ask at least what prepare asks (the data set's sources)
    prepare = {j["wildcards"]: int(j["resources"]["mem_mb"]) for j in jobs
               if j["rule"] in ("prepare", "prepare_single_cell")}
    assert len(prepare) == len(load_config(fresh_clone)["datasets"])
    assert max(prepare.values()) > 1000  # the demo series are found in the local mirror
    for job in jobs:
        if job["rule"] in ("de", "qc", "score", "hypotheses"):
            # wildcards ds=X, or model=X / model=X/contrast: the prepare job of data set X
            ds = "ds=" + job["wildcards"].split("=", 1)[1].split("/")[0]
            assert int(job["resources"]["mem_mb"]) >= prepare[ds], job


def test_dry_run_plans_the_scattered_jobs_of_the_config(fresh_clone: Path):
    config = load_config(fresh_clone)
    config["scoring"]["chunks"] = 3
    config["hypotheses"]["permutation_chunks"] = 2
    (fresh_clone / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    out = _ok(snakemake(fresh_clone, "-n", timeout=300))
    expected = expected_jobs(config)
    assert expected["score_chunk"] == 3 * len(config["datasets"])
    assert job_table(out) == expected


def test_dag_and_rulegraph_draw_the_demo_jobs(fresh_clone: Path):
    expected = expected_jobs(load_config(fresh_clone))
    dag = _ok(snakemake(fresh_clone, "--dag", timeout=300))
    nodes = re.findall(r'^\s*\d+\[label = "(\w+)(?:\\n[^"]*)?"', dag, re.M)
    assert Counter(nodes) == expected
    assert dag.lstrip().startswith("digraph") and dag.count("->") >= len(nodes) - 1
    rulegraph = _ok(snakemake(fresh_clone, "--rulegraph", timeout=300))
    rules = re.findall(r'^\s*\d+\[label = "(\w+)"', rulegraph, re.M)
    assert sorted(rules) == sorted(expected)
    assert not (fresh_clone / "results").exists()  # drawing runs nothing


# --------------------------------------------------------------------------- kill and resume


def _kill_halfway(workdir: Path, min_finished: int, timeout: float = 900) -> str:
    """Start the demo run; once `min_finished` jobs finished and others are running, SIGKILL
    the whole process group (snakemake and its jobs), at a moment a job is writing an output
    when one is seen within 20 s. Returns the run's log."""
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": str(bindir) + os.pathsep + os.environ.get("PATH", "")}
    log_path = workdir / "killed_run.log"
    with open(log_path, "w") as log:
        run = subprocess.Popen([str(bindir / "snakemake"), "--cores", "2"], cwd=workdir, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        start = time.monotonic()
        while True:
            assert run.poll() is None, "the run ended before it could be killed:\n" + log_path.read_text()[-3000:]
            assert time.monotonic() - start < timeout, "no job finished in time"
            finished = len(re.findall(r"^Finished jobid", log_path.read_text(), re.M))
            running = list((workdir / ".snakemake/incomplete").glob("*"))
            if finished >= min_finished and running:
                break
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list((workdir / "results").rglob(".*.tmp")):
            time.sleep(0.02)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    return log_path.read_text()


def test_a_killed_run_resumes_to_the_tables_of_an_undisturbed_run(tmp_path: Path, demo_run: Path):
    workdir = copy_workflow(tmp_path / "wf")
    expected = expected_jobs(load_config(workdir))
    # a third of the jobs done, the next ones running
    log = _kill_halfway(workdir, min_finished=sum(expected.values()) // 3)
    finished = len(re.findall(r"^Finished jobid", log, re.M))
    assert 0 < finished < sum(expected.values()) - 1
    assert list((workdir / ".snakemake/incomplete").iterdir())  # cut off while running
    assert list((workdir / ".snakemake/locks").iterdir())  # and still locked

    _ok(snakemake(workdir, "--unlock", timeout=120))
    rerun = snakemake(workdir, "--cores", "2")
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-6000:]
    redone = job_table(rerun.stdout + rerun.stderr)  # a real run logs to stderr
    assert 0 < sum(redone.values()) < sum(expected.values())  # finished jobs were kept

    # nothing half-written or temporary: the same files as the undisturbed run
    assert results_files(workdir) == results_files(demo_run)
    assert not list(workdir.joinpath("results").rglob(".*"))
    assert not list((workdir / ".snakemake/incomplete").iterdir())
    resumed, undisturbed = run_tables(workdir), run_tables(demo_run)
    assert resumed.keys() == undisturbed.keys() and len(resumed) > 50
    assert [name for name in resumed if resumed[name] != undisturbed[name]] == []
    for h5ad in sorted((demo_run / "results").rglob("*.h5ad")):
        relative = h5ad.relative_to(demo_run)
        assert h5ad_contents(workdir / relative) == h5ad_contents(h5ad), relative
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout
