"""The report's per-step run time and memory table, read from Snakemake's benchmark files."""

from pathlib import Path

from igf1r_resistance.report import read_benchmarks, section_run_costs

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_benchmark_tables_become_a_report_section(tmp_path: Path):
    (tmp_path / "prepare").mkdir()
    (tmp_path / "prepare" / "GSE1.tsv").write_text(HEADER + "3.5\t0:00:03\t215.6\t1\t1\t1\t0\t0\t50\t2\n")
    (tmp_path / "score").mkdir()
    (tmp_path / "score" / "GSE1.tsv").write_text(HEADER + "6.1\t0:00:06\t281.8\t1\t1\t1\t0\t0\t50\t5\n")
    (tmp_path / "score" / "broken.tsv").write_text("")
    bench = read_benchmarks(tmp_path)
    assert list(bench["step"]) == ["prepare", "score"]
    assert bench.set_index("step").loc["score", "max_rss_mb"] == 281.8
    html = section_run_costs(bench)
    assert "Run time and memory per step" in html and ">282<" in html and "9.6 s in total" in html


def test_report_reads_only_the_benchmark_files_it_declares(tmp_path: Path):
    """The report rule declares its benchmark files as input; the report reads exactly those."""
    for step in ("prepare", "score"):
        (tmp_path / step).mkdir()
        (tmp_path / step / "GSE1.tsv").write_text(HEADER + "1.0\t0:00:01\t100\t1\t1\t1\t0\t0\t50\t1\n")
    bench = read_benchmarks([tmp_path / "score" / "GSE1.tsv"])
    assert list(bench["step"]) == ["score"]


def test_report_rule_declares_the_benchmarks_of_its_steps():
    import re

    rules = Path(__file__).resolve().parents[1] / "workflow" / "rules"
    report = (rules / "report.smk").read_text()
    assert "benchmarks=[" in report and "results/benchmarks/meta/meta.tsv" in report
    steps = re.search(r"REPORT_BENCHMARK_STEPS = \[(.*?)\]", report, flags=re.S).group(1)
    model_steps = re.search(r"REPORT_MODEL_BENCHMARK_STEPS = \[(.*?)\]", report, flags=re.S).group(1)
    declared = re.findall(r'"(\w+)"', steps) + re.findall(r'"(\w+)"', model_steps)
    # a per-model step writes results/benchmarks/{step}/{model}.tsv ({ds} while a rule is per data set)
    written = set(re.findall(r'"results/benchmarks/(\w+)/\{(?:ds|model)\}\.tsv"',
                             "".join(p.read_text() for p in rules.glob("*.smk"))))
    assert declared and set(declared) <= written, set(declared) - written


def test_benchmarks_of_a_contrast_name_the_model(tmp_path: Path):
    """Per-model steps of a data set with contrasts write results/benchmarks/{step}/{ds}/{contrast}.tsv."""
    path = tmp_path / "results" / "benchmarks" / "de" / "P53_NCI60" / "mutant_vs_wild_type.tsv"
    path.parent.mkdir(parents=True)
    path.write_text("s\th:m:s\tmax_rss\n1.5\t0:00:01\t120.0\n")
    bench = read_benchmarks([path])
    assert bench.to_dict("records") == [{"step": "de", "target": "P53_NCI60/mutant_vs_wild_type", "s": 1.5,
                                         "max_rss_mb": 120.0}]
    assert read_benchmarks(tmp_path / "results" / "benchmarks")["target"].tolist() == ["P53_NCI60/mutant_vs_wild_type"]
