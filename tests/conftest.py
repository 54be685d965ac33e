"""Shared fixtures: a copy of the workflow in a temporary folder, and one real demo run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_PARTS = ["Snakefile", "config.yaml", "workflow", "scripts", ".test", "profiles", "envs"]


def copy_workflow(dest: Path) -> Path:
    """Copy what a user clones (workflow, demo data, profiles) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / part)
    return dest


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real snakemake CLI of this environment in `workdir`."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(
        [str(Path(bindir) / "snakemake"), *args], cwd=workdir, env=env, capture_output=True,
        text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo workflow run once per test session; returns its working directory."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    result = snakemake(workdir, "--cores", "2")
    if result.returncode != 0:
        pytest.fail(f"demo run failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return workdir
