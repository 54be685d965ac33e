"""Preprocessing: log2 rule, probe -> gene, symbols, noise floor, RNA-seq counts, single cell.

Public functions on AnnData: ``ir.pp.log2``, ``ir.pp.noise_floor``.
"""

from ._api import log2, noise_floor

__all__ = ["log2", "noise_floor"]
