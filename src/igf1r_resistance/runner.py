"""Run a library step from a Snakemake `script:` with logging and clean error messages.

A user mistake (PipelineError) becomes one readable line in the rule's log and on
stderr, not a Python traceback; any other exception keeps its traceback (a bug).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from .errors import PipelineError


def run_step(snakemake, step: Callable[[object, logging.Logger], None]) -> None:
    """Call `step(snakemake, logger)` with the rule's log file as the logger's target."""
    log_path = snakemake.log[0] if len(snakemake.log) else None
    logger = logging.getLogger(f"igf1r_resistance.{snakemake.rule}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
    if log_path:
        handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        handler.setFormatter(fmt)
        logger.addHandler(handler)
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
