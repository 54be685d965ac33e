"""Style gates the README promises: snakefmt, snakemake --lint and ruff pass on the repository."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_workflow, snakemake

BIN = Path(sys.executable).parent


def _run(*cmd: str, cwd: Path = REPO):
    import subprocess

    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_snakefmt_check():
    result = _run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint(tmp_path: Path):
    workdir = copy_workflow(tmp_path / "wf")
    result = snakemake(workdir, "--lint", "--cores", "1")
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "Congratulations" in out, out


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="ruff is not installed")
def test_ruff():
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "scripts", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr
