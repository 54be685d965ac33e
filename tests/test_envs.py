"""envs/pipeline.yaml (conda, for `--sdm conda`) pins what pyproject.toml pins.

Rules of the comparison, so the two files cannot drift apart unnoticed:
- Every runtime dependency in `[project].dependencies` is in the env file under the same
  name with the same version range (compared as parsed PEP 440 specifier sets, so order
  and spacing do not matter), and the env file has no package pyproject lacks.
- Names are compared after PEP 503 normalisation (case, `-`/`_`/`.`); on conda-forge every
  dependency of this project has its PyPI name, so no other mapping is needed.
- Exceptions, both ways: `snakemake` and `snakemake-executor-plugin-slurm` are only needed
  by the process that drives the workflow, never inside a job's environment, so they are
  allowed but not required in the env file. `python` comes from `requires-python`, and
  `pip` would be conda's tooling, not a dependency (the env has none: jobs import this
  project through PYTHONPATH, see test_env_has_no_path_install_and_uses_conda_forge).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
ENV_FILE = REPO / "envs" / "pipeline.yaml"
DRIVER_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}
CONDA_TOOLING = {"pip"}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _parse(spec: str, where: str) -> tuple[str, SpecifierSet]:
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:  # e.g. conda's `numpy=1.26` or a build string
        pytest.fail(f"{where}: {spec!r} is not a `name>=x,<y` range: {exc}")
    assert not req.extras and req.marker is None and req.url is None, (
        f"{where}: {spec!r}: extras, markers and URLs have no conda equivalent"
    )
    return canonicalize_name(req.name), req.specifier


def _project_deps() -> dict[str, SpecifierSet]:
    deps = {}
    for spec in _pyproject()["project"]["dependencies"]:
        name, specifier = _parse(spec, "pyproject.toml")
        deps[name] = specifier
    return deps


def _env() -> dict:
    return yaml.safe_load(ENV_FILE.read_text())


def _env_deps() -> tuple[dict[str, SpecifierSet], list]:
    deps: dict[str, SpecifierSet] = {}
    pip_section: list = []
    for entry in _env()["dependencies"]:
        if isinstance(entry, dict):
            assert set(entry) == {"pip"}, f"{ENV_FILE.name}: unexpected entry {entry}"
            pip_section = entry["pip"]
            continue
        name, specifier = _parse(str(entry), ENV_FILE.name)
        assert name not in deps, f"{ENV_FILE.name}: {name} listed twice"
        deps[name] = specifier
    return deps, pip_section


def test_env_file_lists_every_runtime_dependency_with_the_same_range():
    project = _project_deps()
    env, _ = _env_deps()
    required = {n: s for n, s in project.items() if n not in DRIVER_ONLY}
    missing = sorted(set(required) - set(env))
    assert not missing, f"in pyproject.toml but not in {ENV_FILE.name}: {missing}"
    differ = {n: (str(required[n]), str(env[n])) for n in required if required[n] != env[n]}
    assert not differ, f"version ranges differ (pyproject, env file): {differ}"


def test_env_file_has_nothing_pyproject_lacks():
    project = _project_deps()
    env, _ = _env_deps()
    extra = sorted(set(env) - set(project) - {"python"} - CONDA_TOOLING)
    assert not extra, f"in {ENV_FILE.name} but not in pyproject.toml: {extra}"
    for name in DRIVER_ONLY & set(env):  # allowed, but then with the same range
        assert env[name] == project[name], (name, str(project[name]), str(env[name]))


def test_env_python_matches_requires_python():
    env, _ = _env_deps()
    assert "python" in env, f"{ENV_FILE.name} must pin python"
    assert env["python"] == SpecifierSet(_pyproject()["project"]["requires-python"])


def test_env_has_no_path_install_and_uses_conda_forge():
    # A `pip install -e ../..` resolves against the folder Snakemake runs in, which is the
    # user's (not this repository) when the workflow is a Snakemake module; jobs import the
    # library through PYTHONPATH set in workflow/rules/common.smk instead.
    _, pip_section = _env_deps()
    assert pip_section == [], pip_section
    assert _env()["channels"][0] == "conda-forge"
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert 'library_on_pythonpath(WORKFLOW_DIR / "src")' in common
