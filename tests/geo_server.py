"""A GEO-shaped HTTP mirror on 127.0.0.1 for tests, with switchable faults.

    with serve_directory(root) as server:
        server.faults.fail_first = 2          # the next 2 requests answer HTTP 500
        fetch_url(server.url + "/series/...", dest)
        assert len(server.requests) == 3

Faults count down per request, across all paths:
  fail_first      answer `fail_status` (500) to the next N requests
  truncate_first  announce the full Content-Length but send half the body and close
  delay_first     sleep `delay` seconds before answering (to trigger read timeouts)
Directories are served as HTML listings with hrefs, like GEO's https mirror does.
GEO's download endpoint for NCBI-computed RNA-seq counts is imitated too:
  /geo/download/?type=rnaseq_counts&acc=GSE1&format=file&file=NAME
serves series/GSEnnn/GSE1/rnaseq_counts/NAME of the root (404 when absent).
Nothing here touches the internet.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DEMO_MIRROR = Path(__file__).resolve().parents[1] / ".test" / "geo"


@dataclass
class Faults:
    fail_first: int = 0
    fail_status: int = 500
    truncate_first: int = 0
    delay_first: int = 0
    delay: float = 0.0


@dataclass
class GeoServer:
    url: str
    root: Path
    faults: Faults = field(default_factory=Faults)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, name: str) -> bool:
        """Consume one unit of the countdown fault `name`; True if it applies."""
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False


class _Handler(SimpleHTTPRequestHandler):
    server_state: GeoServer  # set per server via functools.partial

    def __init__(self, *args, state: GeoServer, **kwargs):
        self.server_state = state
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):  # silence the default stderr log
        pass

    def do_GET(self):
        state = self.server_state
        with state.lock:
            state.requests.append(self.path)
        try:
            if state.take("delay_first"):
                time.sleep(state.faults.delay)
            if state.take("fail_first"):
                self.send_error(state.faults.fail_status, "injected fault")
                return
            path = Path(self.translate_path(self.path))
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            if query.get("type") == ["rnaseq_counts"] and "file" in query:
                acc, name = query.get("acc", [""])[0], query["file"][0]
                folder = f"{acc[:-3]}nnn" if len(acc) > 6 else "GSEnnn"
                path = state.root / "series" / folder / acc / "rnaseq_counts" / Path(name).name
                if not path.is_file():
                    self.send_error(404, "no such rnaseq_counts file")
                    return
                self.path = "/" + path.relative_to(state.root).as_posix()
            if path.is_file() and state.take("truncate_first"):
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True


@contextlib.contextmanager
def serve_directory(root: Path | str = DEMO_MIRROR) -> Iterator[GeoServer]:
    """Serve `root` on a free port of 127.0.0.1 in a daemon thread."""
    state = GeoServer(url="", root=Path(root))
    handler = functools.partial(_Handler, state=state, directory=os.fspath(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def geo_server() -> Iterator[GeoServer]:
    """The demo GEO mirror (.test/geo) over HTTP; register with `pytest_plugins` or import."""
    with serve_directory(DEMO_MIRROR) as server:
        yield server
