"""Snakemake adapter for the rules of workflow/rules/report.smk.

`report`: the self-contained HTML report and the forest overview SVG;
`report_figures`: standalone SVG figures of one data set for `snakemake --report`.
"""

from igf1r_resistance.report import run_figures, run_report
from igf1r_resistance.workflow.runner import run_step


def step(smk, log):
    if smk.rule == "report_figures":
        run_figures(dict(smk.input.items()), smk.params.config, smk.wildcards.ds, dict(smk.output.items()), log)
    else:
        run_report(dict(smk.input.items()), smk.params.config, smk.params.datasets, smk.output.html, log,
                   qc_settings=smk.params.qc, forest_out=smk.output.forest)


run_step(snakemake, step)  # noqa: F821
