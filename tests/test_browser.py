"""The demo report in Debian's headless Chromium: no console errors, no network requests,
the verdict matrix and the plots are drawn, and a screenshot is kept in tests/artifacts/.

The first screen (issue 17): bottom-line sentences with numbers, the caveat box before the
first figure, model-type labels on the matrix, the summary readable at 1,280 px without
horizontal scrolling, and no word broken inside a table cell (checked on the DOM: every word's
client rectangles lie on one line). The table script runs under the page's CSP.

Chromium is driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`),
so the test needs no Python package beyond the standard library. Skipped only when no
`chromium` binary is installed (CI installs it: .ci/run).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from test_report import HOSTILE, build_large_report, synthetic_report

from igf1r_resistance import report as rep

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")

# What the page reports about itself once loaded (evaluated in the page).
PAGE_CHECKS = """
(() => {
  const m = document.getElementById('verdict-matrix');
  const box = m ? m.getBoundingClientRect() : null;
  const svgs = [...document.querySelectorAll('svg.plot')];
  const drawn = svgs.filter(s => { const r = s.getBoundingClientRect(); return r.width > 50 && r.height > 20; });
  const marks = document.querySelectorAll('svg.plot circle, svg.plot rect, svg.plot polyline, svg.plot path');
  const pca = document.querySelector('figure[id^="fig-pca-"] svg');
  const pbox = pca ? pca.getBoundingClientRect() : null;
  return JSON.stringify({
    matrix: !!m, matrixRows: m ? m.querySelectorAll('tbody tr').length : 0,
    matrixWidth: box ? box.width : 0, matrixHeight: box ? box.height : 0,
    verdictCells: m ? m.querySelectorAll('td.verdict').length : 0,
    svgs: svgs.length, drawn: drawn.length, marks: marks.length,
    pcaY: pbox ? pbox.top + window.scrollY : -1, pcaH: pbox ? pbox.height : 0,
    scripts: document.scripts.length, images: document.images.length,
    titles: document.querySelectorAll('svg.plot title').length,
  });
})()
"""


class Chromium:
    """Minimal DevTools-protocol client over --remote-debugging-pipe (fd 3: commands in, fd 4: out)."""

    def __init__(self, user_data_dir: Path, width: int = 1400, height: int = 1000):
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # move the child's ends to free descriptors >= 10 so dup2 onto 3 and 4 cannot clobber them
        child_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "--remote-debugging-pipe",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=wire, pass_fds=(3, 4, child_in, child_out),
        )
        os.close(child_in)
        os.close(child_out)
        self.write_fd = to_chrome_w
        self.read_fd = from_chrome_r
        self.messages: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        self.next_id = 0
        self.stderr: list[str] = []
        threading.Thread(target=self._reader, daemon=True).start()
        threading.Thread(target=self._stderr_reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self.messages.put(json.loads(raw))
        self.messages.put(None)

    def _stderr_reader(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            item = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if item is None:
                raise RuntimeError("chromium closed the pipe:\n" + "".join(self.stderr[-20:]))
            if item.get("id") == self.next_id:
                if "error" in item:
                    raise RuntimeError(f"{method}: {item['error']}")
                return item.get("result", {})
            self.events.append(item)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            item = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if item is None:
                raise RuntimeError("chromium closed the pipe")
            self.events.append(item)
            if item.get("method") == method:
                return item

    def drain(self, seconds: float = 0.5) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                item = self.messages.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is None:
                break
            self.events.append(item)

    def open(self, url: str, width: int = 1400, height: int = 1000) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", timeout=120)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path, clip: dict | None = None) -> bytes:
        params = {"format": "png"}
        if clip:
            params.update(clip=clip, captureBeyondViewport=True)
        data = base64.b64decode(self.send("Page.captureScreenshot", params, session=session)["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions, browser log errors (CSP, blocked loads)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in {"error", "warning", "assert"}:
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in {"error", "warning"}:
                entry = p["entry"]
                out.append(f"log {entry['level']} ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.write_fd, self.read_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def render(html_path: Path, shot: Path, width: int = 1400, height: int = 1000) -> tuple[dict, list[str],
                                                                                             list[str], float]:
    """Open `html_path`, return (page checks, problems, requests, seconds to load) and save a screenshot."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = Chromium(Path(profile), width, height)
        try:
            start = time.monotonic()
            session = browser.open(html_path.resolve().as_uri(), width, height)
            seconds = time.monotonic() - start
            checks = json.loads(browser.evaluate(session, PAGE_CHECKS))
            browser.screenshot(session, shot)
            if checks["pcaY"] >= 0:
                browser.screenshot(session, shot.with_name(shot.stem + "_pca.png"),
                                   clip={"x": 0, "y": checks["pcaY"] - 10, "width": width,
                                         "height": checks["pcaH"] + 80, "scale": 1})
            browser.drain(0.5)
            return checks, browser.problems(), browser.requests(), seconds
        finally:
            browser.close()


def png_is_blank(data: bytes) -> bool:
    """True when the screenshot has (almost) a single colour."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("L")
    lo, hi = img.getextrema()
    return hi - lo < 10


def _demo_report(demo_run: Path) -> Path:
    report = demo_run / "results/report/report.html"
    assert report.exists(), "the demo run wrote no report"
    return report


@pytest.mark.workflow
def test_demo_report_renders_in_chromium(demo_run: Path):
    shot = ARTIFACTS / "demo_report.png"
    checks, problems, requests, seconds = render(_demo_report(demo_run), shot)
    assert problems == [], problems
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
    assert checks["matrix"] and checks["matrixRows"] >= 10 and checks["matrixHeight"] > 100, checks
    assert checks["verdictCells"] >= 10 * 4, checks
    assert checks["drawn"] >= 20 and checks["marks"] > 1000, checks
    assert checks["titles"] > 500, checks  # hover texts
    assert checks["scripts"] == 1 and checks["images"] == 0, checks  # the table script, allowed by hash
    assert not png_is_blank(shot.read_bytes())
    pca = shot.with_name("demo_report_pca.png")
    assert pca.exists() and not png_is_blank(pca.read_bytes())
    assert seconds < 15, f"the demo report took {seconds:.1f} s to load"


@pytest.fixture(scope="session")
def large_report_html(tmp_path_factory) -> Path:
    """The 1,000-sample report (the same file test_report.py checks; built once per session)."""
    return build_large_report(tmp_path_factory.mktemp("large"))[0]


def test_large_report_opens_quickly(large_report_html: Path):
    """Two data sets of 1,000 samples each: the report loads in a few seconds."""
    shot = ARTIFACTS / "large_report.png"
    checks, problems, requests, seconds = render(large_report_html, shot)
    assert problems == [], problems
    assert checks["matrix"] and checks["drawn"] >= 20, checks
    assert not png_is_blank(shot.read_bytes())
    assert seconds < 20, f"the 1,000-sample report took {seconds:.1f} s to load"


def test_hostile_title_renders_as_text(tmp_path: Path):
    """A sample title of <img src=x onerror=alert(1)> is text in the rendered page, not an element."""
    config, datasets, data = synthetic_report(hostile=HOSTILE)
    page = tmp_path / "hostile.html"
    page.write_text(rep.build_report(config, datasets, data), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = Chromium(Path(profile))
        try:
            session = browser.open(page.resolve().as_uri())
            found = json.loads(browser.evaluate(session, """JSON.stringify({
                images: document.querySelectorAll('img').length,
                scripts: document.scripts.length,
                text: document.body.textContent.includes('<img src=x onerror=alert(1)>'),
                hover: [...document.querySelectorAll('svg title')].some(t => t.textContent.includes('onerror'))
            })"""))
            browser.drain(0.3)
            problems = browser.problems()
        finally:
            browser.close()
    assert found == {"images": 0, "scripts": 1, "text": True, "hover": True}, found
    assert problems == [], problems


# Every word of every cell of the first screen's tables must sit on one line. A <wbr> splits an id
# into text nodes, so a wrap there (after '_', ';', ',' or '/') is allowed; a wrap inside a text node's
# word is not. Also measures what 1,280 px shows and where the caveats sit.
FIRST_SCREEN = """
(() => {
  const broken = [];
  const cells = document.querySelectorAll('#summary td, #summary th, table.sortable td, table.sortable th');
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const re = /\\S+/g;
      let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  const firstFig = document.querySelector('figure, svg.plot');
  const caveats = document.getElementById('caveats');
  const summary = document.getElementById('summary');
  const matrix = document.getElementById('verdict-matrix');
  const tops = el => el ? el.getBoundingClientRect().top + window.scrollY : -1;
  const sentences = [...document.querySelectorAll('#bottom-lines li.bottom-line')].map(li => li.textContent);
  return JSON.stringify({
    broken, cells: cells.length, sentences,
    caveatsY: tops(caveats), firstFigureY: tops(firstFig),
    matrixY: tops(matrix), matrixH: matrix ? matrix.getBoundingClientRect().height : 0,
    matrixRight: matrix ? matrix.getBoundingClientRect().right : 1e9,
    summaryScroll: summary ? summary.scrollWidth - summary.clientWidth : 1e9,
    pageScroll: document.documentElement.scrollWidth,
    typeLabels: [...document.querySelectorAll('#verdict-matrix th.mt .mt-name')].map(e => e.textContent),
  });
})()
"""

# The table script: filter a sortable table, then sort it by its first column.
TABLE_SCRIPT = """
(() => {
  const table = document.querySelector('table.sortable');
  const input = table.previousElementSibling.querySelector('input');
  const rows = table.tBodies[0].rows;
  const first = rows[0].cells[0].textContent;
  input.value = first; input.dispatchEvent(new Event('input'));
  const shown = [...rows].filter(r => !r.hidden).length;
  input.value = ''; input.dispatchEvent(new Event('input'));
  const th = table.tHead.rows[0].cells[0];
  th.click(); th.click();
  return JSON.stringify({tools: !!input, rows: rows.length, shown, sorted: th.getAttribute('data-sort')});
})()
"""


def first_screen(html_path: Path, shot: Path, width: int = 1280) -> tuple[dict, dict, list[str]]:
    """First-screen measurements and the table script's behaviour at `width` px; screenshot of the matrix."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = Chromium(Path(profile), width, 900)
        try:
            session = browser.open(html_path.resolve().as_uri(), width, 900)
            checks = json.loads(browser.evaluate(session, FIRST_SCREEN))
            browser.screenshot(session, shot, clip={"x": 0, "y": max(0, checks["matrixY"] - 40), "width": width,
                                                    "height": checks["matrixH"] + 160, "scale": 1})
            script = json.loads(browser.evaluate(session, TABLE_SCRIPT))
            browser.drain(0.3)
            return checks, script, browser.problems()
        finally:
            browser.close()


def assert_first_screen(checks: dict, script: dict, problems: list[str], n_sentences: int) -> None:
    assert problems == [], problems  # a CSP violation would be a console error
    assert checks["broken"] == [], f"words broken inside a cell: {checks['broken'][:20]}"
    assert checks["cells"] > 50, checks["cells"]
    assert len(checks["sentences"]) >= n_sentences, checks["sentences"]
    numbers = re.compile(r"[+-]\d+\.\d\d (log2|,)|g [+-]\d|rho [+-]\d")
    assert sum(bool(numbers.search(s)) for s in checks["sentences"]) >= n_sentences - 2, checks["sentences"]
    assert 0 <= checks["caveatsY"] < checks["firstFigureY"], checks
    assert checks["matrixRight"] <= 1280 and checks["summaryScroll"] <= 0, checks
    assert script["tools"] and 0 < script["shown"] <= script["rows"] and script["sorted"] == "desc", script


@pytest.mark.workflow
def test_demo_first_screen_in_chromium(demo_run: Path):
    shot = ARTIFACTS / "demo_matrix_1280.png"
    checks, script, problems = first_screen(_demo_report(demo_run), shot)
    assert_first_screen(checks, script, problems, n_sentences=14)
    labels = set(checks["typeLabels"])
    assert {"chemotherapy", "endocrine", "single cells, pseudo-replicated"} <= labels, labels
    assert any(s.startswith("IGF1R mRNA is not higher in any model:") and "A2780-cisplatin (-1.31 log2" in s
               for s in checks["sentences"]), checks["sentences"]
    assert not png_is_blank(shot.read_bytes())
    print(f"matrix screenshot: {shot}")


def test_contract_tables_first_screen_in_chromium():
    """The synthetic report with the contract tables (new verdict words, controls, strata) in Chromium."""
    from test_report_contract import contract_report

    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        page = Path(tmp) / "contract.html"
        page.write_text(rep.build_report(*contract_report()), encoding="utf-8")
        shot = ARTIFACTS / "contract_matrix_1280.png"
        checks, script, problems = first_screen(page, shot)
    assert_first_screen(checks, script, problems, n_sentences=10)
    assert not png_is_blank(shot.read_bytes())


def test_models_first_screen_in_chromium():
    """Contrasts as models and the P53 regulator comparison (made-up contract tables, issue 15):
    five matrix columns grouped by comparison stay within 1,280 px, no word breaks inside, and the
    regulator sentences (control first) are first-screen sentences with numbers."""
    from test_report_models import models_report

    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        page = Path(tmp) / "models.html"
        page.write_text(rep.build_report(*models_report(hostile=HOSTILE)), encoding="utf-8")
        shot = ARTIFACTS / "models_matrix_1280.png"
        checks, script, problems = first_screen(page, shot)
    assert_first_screen(checks, script, problems, n_sentences=10)
    assert "regulator comparison" in checks["typeLabels"] and "mutant_vs_wild_type" in checks["typeLabels"]
    assert any(s.startswith("Control of P53_NCI60 mutant_vs_wild_type (TP53_status): CDKN1A, MDM2, BAX and DDB2")
               for s in checks["sentences"]), checks["sentences"]
    assert any(s.startswith("IGF1R mRNA is higher in TP53-mutant than in TP53-wild type lines (+0.42 log2")
               for s in checks["sentences"]), checks["sentences"]
    assert not png_is_blank(shot.read_bytes())
