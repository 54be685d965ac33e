"""Plots: tables in, SVG out.

Public functions on AnnData: ``ir.pl.volcano``, ``ir.pl.scores``.
"""

from ._api import scores, volcano

__all__ = ["scores", "volcano"]
