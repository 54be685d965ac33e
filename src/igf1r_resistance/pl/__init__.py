"""Plots: tables in, SVG out."""
