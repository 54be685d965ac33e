"""The demo on a real SLURM cluster through snakemake's slurm executor plugin.

Runs only where `sinfo` answers with a usable node (CI brings one up on localhost with
.ci/slurm_up.sh); elsewhere the test is skipped with the reason. The same demo runs once
with the local default profile (the session's `demo_run`) and once with
`--profile profiles/slurm` in a fresh copy of the workflow; the tables must be identical,
and SLURM itself must have run every non-local job.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import copy_workflow, run_tables, snakemake

pytestmark = pytest.mark.workflow

SLURM_TIMEOUT = 600  # s; the run takes ~3 min on 2 cores: a hang fails instead of stalling
USABLE_STATES = ("idle", "mix", "alloc", "comp")  # sinfo %t; may end in * or ~ etc.


def _slurm_unavailable() -> str | None:
    """Why the cluster cannot run the test, or None when it can."""
    for tool in ("sinfo", "squeue", "sbatch"):
        if shutil.which(tool) is None:
            return f"no SLURM here: `{tool}` is not on PATH (CI runs .ci/slurm_up.sh)"
    try:
        out = subprocess.run(
            ["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "`sinfo` did not answer within 20 s (slurmctld down?)"
    if out.returncode != 0:
        return f"`sinfo` failed (slurmctld down?): {out.stderr.strip()[:300]}"
    states = out.stdout.split()
    if not any(s.rstrip("*~#!%$@^-").startswith(USABLE_STATES) for s in states):
        return f"`sinfo` answers but no node takes jobs (states: {states or 'none'})"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed"
    return None


_REASON = _slurm_unavailable()
if _REASON:
    pytestmark = [pytestmark, pytest.mark.skip(reason=_REASON)]


def _jobs_by_kind(log: str) -> tuple[dict[int, str], dict[int, str]]:
    """Snakemake job id -> rule, for jobs run by SLURM ("rule") and locally ("localrule")."""
    remote, local = {}, {}
    for kind, rule, jobid in re.findall(
        r"^(localrule|rule) (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", log, flags=re.M
    ):
        (local if kind == "localrule" else remote)[int(jobid)] = rule
    return remote, local


def _cancel(run_id: str | None) -> None:
    if run_id:
        subprocess.run(["scancel", "--name", run_id], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory) -> tuple[Path, str]:
    """The demo run through SLURM with profiles/slurm; returns (workdir, snakemake log)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm"))
    try:
        result = snakemake(workdir, "--profile", "profiles/slurm", timeout=SLURM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        partial = exc.stderr or b""
        partial = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        run_id = re.search(r"SLURM run ID: (\S+)", partial)
        _cancel(run_id and run_id.group(1))
        pytest.fail(
            f"the SLURM run did not finish in {SLURM_TIMEOUT} s (hung on job status? see "
            f"slurm-status-command in profiles/slurm/config.yaml):\n{partial[-4000:]}"
        )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"snakemake --profile profiles/slurm failed:\n{log[-6000:]}")
    return workdir, log


def test_slurm_run_gives_the_same_tables_as_the_local_run(demo_run: Path, slurm_run):
    workdir, _ = slurm_run
    local, slurm = run_tables(demo_run), run_tables(workdir)
    assert len(local) >= 20, sorted(local)  # 6 per data set + the 2 summaries
    assert sorted(slurm) == sorted(local)
    differ = [name for name in local if local[name] != slurm[name]]
    assert not differ, f"tables that differ between the local and the SLURM run: {differ}"
    assert (workdir / "results/report/report.html").stat().st_size > 10_000


def test_every_non_local_job_was_a_slurm_job(slurm_run):
    _, log = slurm_run
    assert "Using profiles profiles/slurm" in log
    remote, local = _jobs_by_kind(log)
    submitted = {
        int(job): int(slurm_id)
        for job, slurm_id in re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log)
    }
    assert remote, "no job ran as a (non-local) rule"
    assert set(submitted) == set(remote), (
        f"jobs without a SLURM job id: {sorted(set(remote) - set(submitted))}; "
        f"SLURM ids for unknown jobs: {sorted(set(submitted) - set(remote))}"
    )
    assert len(set(submitted.values())) == len(submitted)  # one sbatch job each
    # downloads and the report stay on the submit host (compute nodes may lack internet)
    assert {"fetch_series", "fetch_platform", "report"} <= set(local.values())
    assert not {"fetch_series", "fetch_platform", "report"} & set(remote.values())
    assert {"prepare", "score", "de", "gsea", "hypotheses", "meta"} <= set(remote.values())


def test_slurm_saw_the_jobs_complete(slurm_run):
    """Ask SLURM itself (no sacct without accounting: squeue keeps finished jobs for
    MinJobAge seconds) about the jobs of this run, found by the run's job name."""
    _, log = slurm_run
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    ids = {int(i) for i in re.findall(r"has been submitted with SLURM jobid (\d+)", log)}
    out = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--name", run_id, "--format=%i|%T"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    states = {int(i): s for i, s in (line.split("|") for line in out.split())}
    assert states, f"squeue no longer lists any job named {run_id} (MinJobAge too low?)"
    assert set(states) <= ids, f"jobs of this run that snakemake did not log: {states}"
    assert set(states.values()) == {"COMPLETED"}, states
    # the last job (meta) finished seconds ago: it must still be listed
    assert max(ids) in states, (max(ids), states)
