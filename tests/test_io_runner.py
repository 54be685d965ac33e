"""Atomic writes and the Snakemake step runner's error handling."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from igf1r_resistance.errors import GroupingError
from igf1r_resistance.io.files import atomic_path, read_tsv, write_tsv
from igf1r_resistance.workflow.runner import run_step


def test_write_tsv_round_trip_no_index(tmp_path: Path):
    table = pd.DataFrame({"gene": ["A", "B"], "logFC": [1.23456789012, -0.5]})
    write_tsv(table, tmp_path / "t.tsv")
    text = (tmp_path / "t.tsv").read_text()
    assert text.splitlines()[0] == "gene\tlogFC" and "1.23456789" in text
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "t.tsv"), table)


def test_outputs_follow_the_umask(tmp_path: Path):
    import os

    old = os.umask(0o022)
    try:
        write_tsv(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    finally:
        os.umask(old)
    assert (tmp_path / "t.tsv").stat().st_mode & 0o777 == 0o644


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def _fake_snakemake(tmp_path: Path):
    return SimpleNamespace(log=[str(tmp_path / "step.log")], rule="prepare",
                           wildcards=SimpleNamespace(items=lambda: [("ds", "GSE1")]))


def test_a_killed_writes_temporary_is_removed_by_the_next_write(tmp_path: Path):
    # a SIGKILL during a write leaves mkstemp's file; the job's next write removes it,
    # and only it: other outputs' temporaries and look-alike names stay
    out = tmp_path / "de.tsv"
    stale = tmp_path / ".de.tsv.ab_cd123.tmp"
    others = [tmp_path / ".de.tsv2.abcd1234.tmp", tmp_path / ".de.tsv.x.abcd1234.tmp",
              tmp_path / ".de.tsv.abcd1234.part", tmp_path / ".gsea.tsv.abcd1234.tmp"]
    for p in [stale, *others]:
        p.write_text("half")
    write_tsv(pd.DataFrame({"a": [1]}), out)
    assert out.read_text() == "a\n1\n"
    assert not stale.exists()
    assert all(p.exists() for p in others)


def test_user_error_is_one_line_not_a_traceback(tmp_path: Path, capsys):
    def step(smk, log):
        raise GroupingError("data set GSE1: groups.resistant ('x') matches 0 sample(s)")

    with pytest.raises(SystemExit) as exit_info:
        run_step(_fake_snakemake(tmp_path), step)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "ERROR in rule prepare" in err and "groups.resistant" in err and "Traceback" not in err
    assert "groups.resistant" in (tmp_path / "step.log").read_text()


def test_bug_keeps_its_traceback_in_the_log(tmp_path: Path):
    def step(smk, log):
        raise KeyError("oops")

    with pytest.raises(KeyError):
        run_step(_fake_snakemake(tmp_path), step)
    assert "Traceback" in (tmp_path / "step.log").read_text()


def test_numba_threads_follow_the_rule_threads(tmp_path: Path, monkeypatch):
    """A 1-thread rule's GSVA kernel must not use every core beside other jobs."""
    import numba

    monkeypatch.setenv("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    seen = {}

    def step(smk, log):
        seen["env"] = os.environ["NUMBA_NUM_THREADS"]
        seen["numba"] = numba.get_num_threads()

    smk = _fake_snakemake(tmp_path)
    smk.threads = 1
    try:
        run_step(smk, step)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    # numba is running here: its pool is limited, the variable left alone (changing it after
    # numba started makes its next config reload, e.g. importing scanpy, fail)
    assert seen == {"env": str(numba.config.NUMBA_NUM_THREADS), "numba": 1}


def test_numba_threads_are_set_before_numba_starts():
    """In a job, the runner runs before numba is imported: the variable sets numba's pool."""
    import subprocess
    import sys

    code = ("import os, sys; from igf1r_resistance.workflow.runner import _limit_threads; "
            "assert 'numba' not in sys.modules; _limit_threads(1); import numba; "
            "print(os.environ['NUMBA_NUM_THREADS'], numba.config.NUMBA_NUM_THREADS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]


def test_library_module_log_lines_reach_the_rule_log(tmp_path: Path):
    """A line logged by a library module (not the step's own logger) lands in the rule's log."""
    import logging

    def step(smk, log):
        logging.getLogger("igf1r_resistance.tl.scoring").info("scoring: a library line")
        log.info("a step line")

    run_step(_fake_snakemake(tmp_path), step)
    text = (tmp_path / "step.log").read_text()
    assert "[igf1r_resistance.tl.scoring] scoring: a library line" in text
    assert "a step line" in text and "rule prepare finished" in text
