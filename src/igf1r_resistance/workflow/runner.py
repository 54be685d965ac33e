"""Run a library step from a Snakemake `script:` with logging and clean error messages.

A user mistake (PipelineError) becomes one readable line in the rule's log and on
stderr, not a Python traceback; any other exception keeps its traceback (a bug).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

from ..errors import PipelineError


def run_step(snakemake, step: Callable[[object, logging.Logger], None]) -> None:
    """Call `step(snakemake, logger)` with the rule's log file as the logger's target."""
    log_path = snakemake.log[0] if len(snakemake.log) else None
    # The handler sits on the package logger, so the library's module loggers
    # (igf1r_resistance.tl.scoring, .qc, ...) reach the rule's log as well as the step's own.
    package = logging.getLogger("igf1r_resistance")
    package.setLevel(logging.INFO)
    package.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
    if log_path:
        handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        handler.setFormatter(fmt)
        package.addHandler(handler)
    logger = logging.getLogger(f"igf1r_resistance.rule.{snakemake.rule}")
    _limit_threads(int(getattr(snakemake, "threads", 1) or 1))
    wildcards = dict(snakemake.wildcards.items()) if hasattr(snakemake.wildcards, "items") else {}
    logger.info("rule %s started %s", snakemake.rule, wildcards)
    start = time.perf_counter()
    try:
        step(snakemake, logger)
    except PipelineError as exc:
        logger.error("%s", exc)
        print(f"ERROR in rule {snakemake.rule} {wildcards}: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        logger.exception("unexpected error (a bug: please report it with this log)")
        raise
    logger.info("rule %s finished in %.1f s", snakemake.rule, time.perf_counter() - start)


def _limit_threads(threads: int) -> None:
    """Keep numba's parallel kernels (GSVA) within the rule's `threads`.

    numba starts one thread per core by default, so two jobs that Snakemake runs side by
    side would each use every core. Read when numba is first imported; set afterwards too.
    """
    if "numba" in sys.modules:
        # numba already started: changing the variable now would make its next config reload
        # (e.g. importing scanpy) fail; limit the running pool instead
        import numba

        numba.set_num_threads(min(max(1, threads), numba.config.NUMBA_NUM_THREADS))
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(max(1, threads))
