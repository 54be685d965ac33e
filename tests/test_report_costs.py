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
    declared = re.findall(r'"(\w+)"', steps)
    written = set(re.findall(r'"results/benchmarks/(\w+)/\{ds\}\.tsv"',
                             "".join(p.read_text() for p in rules.glob("*.smk"))))
    assert declared and set(declared) <= written, set(declared) - written
