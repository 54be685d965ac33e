# IGF1R-driven chemoresistance signatures: entry point.
# Stages live in workflow/rules/*.smk; logic lives in the library under src/.


from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/de.smk"
include: "workflow/rules/footprints.smk"
include: "workflow/rules/hypotheses.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
