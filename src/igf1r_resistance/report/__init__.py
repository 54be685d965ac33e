"""The self-contained HTML report: tables in, one page out.

`tables` is the one adapter to the pipeline's tables, `sentences` writes the first screen in
words, `figures` draws, `views`/`evidence` arrange values for the Jinja2 templates in
`templates/`, and `render` is the one renderer (CSS and the table script in `static/`).
"""

from .figures import DISPLAY
from .render import build_report, forest_overview, run_figures, run_report, section_run_costs
from .sentences import first_screen
from .tables import (
    QC_NAMES,
    VERDICTS,
    DatasetTables,
    ReportData,
    hypothesis_info,
    load_report_data,
    read_benchmarks,
    read_uns,
)
from .views import anchor

__all__ = ["DISPLAY", "QC_NAMES", "VERDICTS", "DatasetTables", "ReportData", "anchor", "build_report",
           "first_screen", "forest_overview", "hypothesis_info", "load_report_data", "read_benchmarks",
           "read_uns", "run_figures", "run_report", "section_run_costs"]
