"""Atomic writers: a failed step never leaves a half-written output behind."""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


def remove_stale_temporaries(path: str | Path, suffix: str = ".tmp") -> list[Path]:
    """Delete temporary files of earlier writes of `path` that never finished.

    A write killed outright (SIGKILL, power cut) cannot run its clean-up, so its temporary
    ``.<name>.<8 random chars><suffix>`` (tempfile.mkstemp's pattern, as made by
    :func:`atomic_path`) stays beside `path`. Only one job writes a given output (Snakemake
    runs one job per output file), so when that job writes `path` again any such file is a
    leftover of an interrupted attempt, not a write in progress.

    Returns the files removed.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    stale = [p for p in path.parent.glob(f".{path.name}.*{suffix}") if pattern.fullmatch(p.name)]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; rename it to `path` only on success.

    Temporary files left beside `path` by an earlier, killed write are removed first
    (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates files readable by the owner only; outputs follow the umask instead
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tsv(table: pd.DataFrame, path: str | Path) -> None:
    """Tab-separated, header row, '.' decimal, no index column, full float precision."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.10g",
                     compression="gzip" if str(path).endswith(".gz") else None)


def read_tsv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=True, na_values=[""])


def write_h5ad(adata, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp)


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
