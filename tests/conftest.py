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


# Timings differ between any two runs; every other table is compared byte for byte.
VOLATILE = ("benchmarks",)


def results_files(workdir: Path) -> list[str]:
    """Every file under results/, relative to it."""
    root = workdir / "results"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def run_tables(workdir: Path) -> dict[str, bytes]:
    """Every table of a run (results/**/*.tsv but the benchmark timings), as bytes."""
    root = workdir / "results"
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.tsv"))
        if p.relative_to(root).parts[0] not in VOLATILE
    }


def h5ad_contents(path: Path) -> dict:
    """Every array and attribute of an .h5ad, by HDF5 path (the file's bytes hold a
    creation-order layout that may differ while the contents are the same)."""
    import h5py
    import numpy as np

    contents = {}

    def visit(name, obj):
        attrs = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
        value = obj[()] if isinstance(obj, h5py.Dataset) else None
        if isinstance(value, np.ndarray):
            value = value.tobytes() if value.dtype.kind != "O" else value.tolist()
        elif isinstance(value, np.generic) and value.dtype.kind in "fc":
            value = np.asarray(value).tobytes()  # a NaN scalar (e.g. a noise floor not applicable) equals itself
        contents[name] = (attrs, value)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return contents
