"""The workflow used as a Snakemake module from another folder (issue 12, item 4).

A user's own folder holds only a Snakefile with a `module` declaration and their
config.yaml (here the demo's, unchanged: its paths name the workflow's own files, which the
user's folder does not have). Every default resource path (catalogue, HGNC table, Jetset
tables, PROGENy model, schemas, demo GEO mirror) must resolve against the workflow's folder,
jobs must import the library from it, and every table must equal a normal run's byte for
byte (h5ad contents equal).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, copy_workflow, h5ad_contents, results_files, run_tables, snakemake

pytestmark = pytest.mark.workflow

USER_SNAKEFILE = """\
configfile: "config.yaml"


module igf1r:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from igf1r as igf1r_*
"""


@pytest.fixture(scope="module")
def module_run(tmp_path_factory) -> Path:
    workflow = copy_workflow(tmp_path_factory.mktemp("workflow"))
    user = tmp_path_factory.mktemp("user")
    shutil.copy2(REPO / "config.yaml", user / "config.yaml")
    (user / "Snakefile").write_text(USER_SNAKEFILE.format(snakefile=workflow / "Snakefile"))
    result = snakemake(user, "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert not (user / "workflow").exists() and not (user / ".test").exists()
    return user


def test_module_run_writes_the_tables_of_a_normal_run(module_run: Path, demo_run: Path):
    assert results_files(module_run) == results_files(demo_run)
    as_module, normal = run_tables(module_run), run_tables(demo_run)
    assert len(normal) > 50
    assert [name for name in normal if as_module[name] != normal[name]] == []
    for h5ad in sorted((demo_run / "results").rglob("*.h5ad")):
        relative = h5ad.relative_to(demo_run)
        assert h5ad_contents(module_run / relative) == h5ad_contents(h5ad), relative


def test_module_rules_carry_the_prefix_and_log_library_lines(module_run: Path):
    logs = "".join(p.read_text() for p in sorted((module_run / "logs/score").glob("*.log")))
    assert "rule igf1r_score started" in logs
    assert "[igf1r_resistance.tl.scoring] scoring:" in logs
