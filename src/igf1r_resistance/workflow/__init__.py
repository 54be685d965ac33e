"""Snakemake adapters: steps, runner, config validation, resources, chunks."""
