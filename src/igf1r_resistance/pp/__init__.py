"""Preprocessing: log2 rule, probe -> gene, symbols, noise floor, RNA-seq counts, single cell."""
