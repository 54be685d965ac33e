"""Everything fetched over the network goes through this module.

`fetch_url` downloads one file with separate connect/read timeouts, retries with
exponential backoff on transient faults (connection errors, timeouts, HTTP 5xx/429,
truncated or corrupt transfers), an optional content-checked cache and an offline mode.
Files are written under a temporary name in the destination folder and moved into
place with `os.replace`, so a failed download never leaves a partial file behind.
`file://` URLs and plain local paths are copied the same way (no retries, no cache).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import DownloadError, NotFoundError

CHUNK = 1 << 16
PROGRESS_EVERY = 1.0  # seconds between progress lines
USER_AGENT = "igf1r-resistance (python urllib)"

Log = Callable[[str], None]


class _TruncatedError(Exception):
    """A transfer ended early or its content is corrupt; worth another try."""


def fetch_url(
    url: str,
    dest: Path,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    timeout: tuple[float, float] = (10, 60),
    retries: int = 4,
    backoff: float = 1.0,
    log: Log = print,
    what: str = "",
) -> Path:
    """Fetch `url` into `dest` and return `dest`.

    `timeout` is (connect, read) in seconds. Up to `retries` further attempts are made
    after a transient fault, sleeping `backoff * 2**attempt` seconds in between.
    A 404/410 raises NotFoundError("{what} was not found at {url}") at once; other 4xx
    raise DownloadError at once. With `cache_dir`, a verified cached copy is reused
    without any request; with `offline`, only the cache (and local paths) are used.
    """
    dest = Path(dest)
    what = what or Path(urllib.parse.urlsplit(url).path).name or url
    local = local_path(url)
    if local is not None:
        return _copy_local(local, dest, url=url, what=what, log=log)

    cached = cache_path(url, cache_dir) if cache_dir is not None else None
    if cached is not None and _cache_is_valid(cached, log):
        _copy_atomic(cached, dest)
        log(f"{what}: using cached copy {cached} of {url}")
        return dest
    if offline:
        where = f"the cache {cached}" if cached else "no cache (cache_dir is not set)"
        raise DownloadError(
            f"offline mode: {what} is not cached; it would be downloaded from {url}, "
            f"looked in {where}. Run once online or put the file there."
        )

    target = cached if cached is not None else dest
    _download_with_retries(
        url, target, timeout=timeout, retries=retries, backoff=backoff, log=log, what=what
    )
    if cached is not None:
        _sidecar(cached).write_text(f"{_sha256_file(cached)}  {cached.name}\n")
        _copy_atomic(cached, dest)
    return dest


def local_path(url: str) -> Path | None:
    """The local path for a `file://` URL or a plain path, None for a network URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme in ("http", "https", "ftp"):
        return None
    return Path(url)  # no scheme (or a Windows drive letter): a local path


def cache_path(url: str, cache_dir: Path) -> Path:
    """Cache file for `url`: sha256 of the URL, then the original file name."""
    digest = hashlib.sha256(url.encode()).hexdigest()
    name = Path(urllib.parse.urlsplit(url).path).name or "index"
    return Path(cache_dir) / f"{digest}-{name}"


def list_directory(url: str, *, timeout: tuple[float, float] = (10, 30)) -> list[str]:
    """File names in a local folder or an HTTP directory listing; [] if not listable.

    HTTP listings (as GEO's https://ftp.ncbi.nlm.nih.gov/geo/... serves them) are read
    from their `href` attributes. Best effort: any fault gives an empty list.
    """
    local = local_path(url)
    if local is not None:
        return sorted(p.name for p in local.iterdir()) if local.is_dir() else []
    try:
        with _open(url.rstrip("/") + "/", timeout) as response:
            html = response.read(4 << 20).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError):
        return []
    names = {
        Path(urllib.parse.unquote(urllib.parse.urlsplit(href).path)).name
        for href in re.findall(r"""href\s*=\s*["']([^"'?#]+)""", html, flags=re.IGNORECASE)
    }
    return sorted(n for n in names if n)


# --- internals -----------------------------------------------------------------------


def _download_with_retries(
    url: str,
    target: Path,
    *,
    timeout: tuple[float, float],
    retries: int,
    backoff: float,
    log: Log,
    what: str,
) -> None:
    attempts = retries + 1
    for attempt in range(attempts):
        try:
            _download_once(url, target, timeout=timeout, log=log, what=what)
            return
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise NotFoundError(f"{what} was not found at {url} (HTTP {exc.code})") from None
            if exc.code < 500 and exc.code != 429:
                raise DownloadError(
                    f"{what}: {url} answered HTTP {exc.code} {exc.reason}"
                ) from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except _TruncatedError as exc:
            problem = str(exc)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            reason = getattr(exc, "reason", None) or exc
            problem = f"{type(exc).__name__}: {reason}"
        if attempt + 1 < attempts:
            delay = backoff * 2**attempt
            log(
                f"{what}: attempt {attempt + 1}/{attempts} failed ({problem}); "
                f"retrying in {delay:.2f} s"
            )
            time.sleep(delay)
    raise DownloadError(
        f"{what}: could not download {url} after {attempts} attempts; last error: {problem}"
    )


def _download_once(
    url: str, target: Path, *, timeout: tuple[float, float], log: Log, what: str
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(target) as tmp, _open(url, timeout) as response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received, start, last = 0, time.monotonic(), time.monotonic()
        with open(tmp, "wb") as out:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except http.client.IncompleteRead as exc:
                    got = received + len(exc.partial)
                    raise _TruncatedError(
                        f"truncated transfer from {url}: received {got} of {expected} bytes"
                    ) from None
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                if time.monotonic() - last >= PROGRESS_EVERY:
                    last = time.monotonic()
                    log(f"{what}: {_progress(received, expected, last - start)}")
        if expected is not None and received != expected:
            raise _TruncatedError(
                f"truncated transfer from {url}: received {received} of {expected} bytes"
            )
        if _is_gzip_name(url) or _is_gzip_name(str(target)):
            problem = _gzip_problem(tmp)
            if problem:
                raise _TruncatedError(f"corrupt gzip from {url} ({received} bytes): {problem}")
        os.replace(tmp, target)
        elapsed = time.monotonic() - start
        log(
            f"{what}: downloaded {_progress(received, None, elapsed)} in {elapsed:.1f} s from {url}"
        )


def _open(url: str, timeout: tuple[float, float]):
    """urlopen with a connect timeout and a separate per-read timeout."""
    connect, read = timeout

    def with_read_timeout(base: type[http.client.HTTPConnection]):
        class Connection(base):
            def connect(self) -> None:
                super().connect()
                self.sock.settimeout(read)

        return Connection

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(with_read_timeout(http.client.HTTPConnection), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(
                with_read_timeout(http.client.HTTPSConnection), req, context=self._context
            )

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.build_opener(Http, Https).open(request, timeout=connect)


def _copy_local(src: Path, dest: Path, *, url: str, what: str, log: Log) -> Path:
    if not src.is_file():
        raise NotFoundError(f"{what} was not found at {url}")
    problem = _gzip_problem(src) if _is_gzip_name(str(src)) else ""
    if problem:
        raise DownloadError(f"{what}: {src} is not a valid gzip file: {problem}")
    if src.resolve() != dest.resolve():
        _copy_atomic(src, dest)
    log(f"{what}: copied {src} ({src.stat().st_size} bytes)")
    return dest


def _copy_atomic(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(dest) as tmp:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A temporary file next to `path`; removed on exit unless it was moved into place."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _cache_is_valid(cached: Path, log: Log) -> bool:
    if not cached.is_file():
        return False
    sidecar = _sidecar(cached)
    recorded = sidecar.read_text().split()[0] if sidecar.is_file() else ""
    actual = _sha256_file(cached)
    if recorded == actual:
        return True
    log(
        f"cache: sha256 of {cached} is {actual}, {sidecar.name} says "
        f"{recorded or '(missing)'}; downloading again"
    )
    cached.unlink()
    sidecar.unlink(missing_ok=True)
    return False


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_gzip_name(name: str) -> bool:
    return urllib.parse.urlsplit(name).path.endswith(".gz") or name.endswith(".gz")


def _gzip_problem(path: Path) -> str:
    """'' if `path` decompresses completely, else what went wrong."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _progress(received: int, expected: int | None, elapsed: float) -> str:
    rate = received / elapsed if elapsed > 0 else 0.0
    of = f" of {_size(expected)}" if expected else ""
    return f"{_size(received)}{of} ({received} bytes), {_size(rate)}/s"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
