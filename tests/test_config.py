"""Config validation: schema defaults and messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from igf1r_resistance.errors import ConfigError
from igf1r_resistance.workflow.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


@pytest.fixture
def config(monkeypatch):
    monkeypatch.chdir(REPO)
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_are_filled(config):
    del config["scoring"]
    out = validate_config(config, SCHEMA)
    assert out["scoring"]["primary"] == "singscore"
    assert out["geo"]["local_mirrors"] == [".test/geo"]
    assert out["datasets"]["GSE15709"]["log2"] == "auto"


def test_every_schema_field_is_described():
    schema = yaml.safe_load(SCHEMA.read_text())

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            assert "description" in sub or sub.get("type") == "object" and "properties" in sub, f"{path}.{name}"
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + ".*")

    walk(schema, "config")


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["datasets"]["GSE15709"].update(drugg="x"), "datasets.GSE15709: unknown key(s) 'drugg'"),
    (lambda c: c.update(scorin={}), "(top level): unknown key(s) 'scorin'"),
    (lambda c: c["datasets"]["GSE15709"].update(log2="maybe"), "datasets.GSE15709.log2: 'maybe' is not one of"),
    (lambda c: c["datasets"]["GSE15709"]["groups"].pop("by"), "datasets.GSE15709.groups: 'by' is required"),
    (lambda c: c["datasets"].update({"my data": c["datasets"]["GSE15709"]}), "datasets: 'my data' does not match '^[A-Za-z0-9_.-]+$'"),
    (lambda c: c["scoring"].update(methods=["gsva"]), "scoring.primary: 'singscore' must be one of"),
    (lambda c: c["gene_sets"].update(gmt=["missing.gmt"]), "gene_sets.gmt: file 'missing.gmt' does not exist"),
    (lambda c: c["scoring"].update(methods=["magic"]), "scoring.methods.0: 'magic' is not one of"),
])
def test_errors_name_the_key(config, edit, message):
    edit(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    assert message in str(err.value)


@pytest.mark.parametrize("key, shown", [(2024, "2024"), (None, "None"), (True, "True")])
def test_dataset_id_read_by_yaml_as_non_text_is_named(config, key, shown):
    """`2024:`, `null:` or `yes:` as a data-set id: say so and say to quote it, no traceback."""
    config["datasets"] = {key: {"type": "matrix", "matrix": "x.tsv", "samples": "s.tsv"}}
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    text = str(err.value)
    assert f"data-set id {shown}" in text and "quote it" in text


def test_paths_resolve_in_the_working_directory_first_then_in_the_workflow_folder(tmp_path, monkeypatch):
    from igf1r_resistance.workflow.config import resolve_path

    workflow_dir, user = tmp_path / "workflow", tmp_path / "user"
    (workflow_dir / "workflow/resources").mkdir(parents=True)
    (workflow_dir / "workflow/resources/mechanisms.yaml").write_text("x")
    (user / "data").mkdir(parents=True)
    (user / "data/mine.gmt").write_text("x")
    monkeypatch.chdir(user)
    # only in the workflow's folder (a default of a module run): that file
    assert resolve_path("workflow/resources/mechanisms.yaml", workflow_dir) == str(
        workflow_dir / "workflow/resources/mechanisms.yaml")
    # named by the user and present in their folder: kept as written
    assert resolve_path("data/mine.gmt", workflow_dir) == "data/mine.gmt"
    # nowhere, absolute, or a URL: unchanged (later checks name the missing file)
    assert resolve_path("data/missing.gmt", workflow_dir) == "data/missing.gmt"
    assert resolve_path("/abs/x.gmt", workflow_dir) == "/abs/x.gmt"
    assert resolve_path("https://example.org/x.tsv", workflow_dir) == "https://example.org/x.tsv"


def test_recorded_paths_leave_out_the_workflow_folder():
    from igf1r_resistance.workflow.config import shown_paths

    record = {"hgnc": "/opt/wf/workflow/resources/hgnc_symbols.tsv.gz", "n": 3,
              "notes": ["Jetset choice for GPL570: /opt/wf/workflow/resources/probes/jetset_GPL570.tsv.gz"],
              "mine": "/home/me/data/expr.tsv"}
    assert shown_paths(record, "/opt/wf") == {
        "hgnc": "workflow/resources/hgnc_symbols.tsv.gz", "n": 3,
        "notes": ["Jetset choice for GPL570: workflow/resources/probes/jetset_GPL570.tsv.gz"],
        "mine": "/home/me/data/expr.tsv"}


def test_the_library_goes_first_on_pythonpath_once(monkeypatch):
    import os

    from igf1r_resistance.workflow.config import library_on_pythonpath

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/other", "/wf/src"]))
    library_on_pythonpath("/wf/src")
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/wf/src", "/other"])
    monkeypatch.delenv("PYTHONPATH")
    library_on_pythonpath("/wf/src")
    assert os.environ["PYTHONPATH"] == "/wf/src"
