"""fetch_url against a local GEO-shaped HTTP mirror with injected faults (no internet)."""

from __future__ import annotations

import gzip
import socket
from pathlib import Path

import pytest

from igf1r_resistance.errors import DownloadError, NotFoundError
from igf1r_resistance.io.download import cache_path, fetch_url, list_directory

from geo_server import DEMO_MIRROR, serve_directory

MATRIX = "series/GSE27nnn/GSE27473/matrix/GSE27473_series_matrix.txt.gz"
FAST = {"timeout": (1.0, 1.0), "backoff": 0.01}


@pytest.fixture
def server():
    with serve_directory(DEMO_MIRROR) as s:
        yield s


@pytest.fixture
def messages() -> list[str]:
    return []


def assert_no_partials(folder: Path) -> None:
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    assert leftovers == []


def test_happy_download(server, tmp_path, messages):
    dest = tmp_path / "out" / "GSE27473.txt.gz"
    result = fetch_url(f"{server.url}/{MATRIX}", dest, log=messages.append, **FAST)
    assert result == dest
    assert dest.read_bytes() == (DEMO_MIRROR / MATRIX).read_bytes()
    assert len(server.requests) == 1
    assert any("downloaded" in m and "bytes" in m and "/s" in m for m in messages)
    assert_no_partials(dest.parent)


def test_404_is_not_found_and_not_retried(server, tmp_path):
    url = f"{server.url}/series/GSE99nnn/GSE99999/matrix/GSE99999_series_matrix.txt.gz"
    with pytest.raises(NotFoundError, match="GSE99999 series matrix was not found at") as info:
        fetch_url(
            url, tmp_path / "m.txt.gz", what="GSE99999 series matrix", log=lambda m: None, **FAST
        )
    assert url in str(info.value)
    assert len(server.requests) == 1
    assert list(tmp_path.iterdir()) == []


def test_500_twice_then_success(server, tmp_path, messages):
    server.faults.fail_first = 2
    dest = tmp_path / "m.txt.gz"
    fetch_url(f"{server.url}/{MATRIX}", dest, retries=4, log=messages.append, **FAST)
    assert len(server.requests) == 3
    assert sum("HTTP 500" in m and "retrying" in m for m in messages) == 2
    assert dest.read_bytes() == (DEMO_MIRROR / MATRIX).read_bytes()


def test_500_forever_gives_up(server, tmp_path):
    server.faults.fail_first = 100
    with pytest.raises(DownloadError, match="after 3 attempts.*HTTP 500"):
        fetch_url(
            f"{server.url}/{MATRIX}", tmp_path / "m.txt.gz", retries=2, log=lambda m: None, **FAST
        )
    assert len(server.requests) == 3
    assert list(tmp_path.iterdir()) == []


def test_other_4xx_is_not_retried(server, tmp_path):
    server.faults.fail_first, server.faults.fail_status = 1, 403
    with pytest.raises(DownloadError, match="HTTP 403") as info:
        fetch_url(f"{server.url}/{MATRIX}", tmp_path / "m.txt.gz", log=lambda m: None, **FAST)
    assert not isinstance(info.value, NotFoundError)
    assert len(server.requests) == 1


def test_truncated_transfer_retried_then_fails(server, tmp_path):
    server.faults.truncate_first = 100
    size = (DEMO_MIRROR / MATRIX).stat().st_size
    url = f"{server.url}/{MATRIX}"
    with pytest.raises(DownloadError) as info:
        fetch_url(url, tmp_path / "m.txt.gz", retries=2, log=lambda m: None, **FAST)
    message = str(info.value)
    assert url in message and f"{size // 2} of {size} bytes" in message
    assert len(server.requests) == 3
    assert list(tmp_path.iterdir()) == []


def test_truncated_once_then_success(server, tmp_path):
    server.faults.truncate_first = 1
    dest = tmp_path / "m.txt.gz"
    fetch_url(f"{server.url}/{MATRIX}", dest, log=lambda m: None, **FAST)
    assert len(server.requests) == 2
    assert dest.read_bytes() == (DEMO_MIRROR / MATRIX).read_bytes()


def test_corrupt_gzip_detected(tmp_path):
    good = gzip.compress(b"ID_REF\tGSM1\n" * 2000)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF  # complete transfer, Content-Length right, content corrupt
    served = tmp_path / "served"
    served.mkdir()
    (served / "bad.txt.gz").write_bytes(bytes(bad))
    (served / "short.txt.gz").write_bytes(good[: len(good) // 2])
    out = tmp_path / "out"
    with serve_directory(served) as s:
        for name in ("bad.txt.gz", "short.txt.gz"):
            with pytest.raises(DownloadError, match="corrupt gzip") as info:
                fetch_url(f"{s.url}/{name}", out / name, retries=1, log=lambda m: None, **FAST)
            assert name in str(info.value)
        assert len(s.requests) == 4  # each retried once
    assert list(out.iterdir()) == []


def test_read_timeout_retried(server, tmp_path, messages):
    server.faults.delay_first, server.faults.delay = 1, 0.6
    dest = tmp_path / "m.txt.gz"
    fetch_url(f"{server.url}/{MATRIX}", dest, timeout=(1.0, 0.2), backoff=0.01, log=messages.append)
    assert len(server.requests) == 2
    assert any("timed out" in m for m in messages)
    assert_no_partials(tmp_path)


def test_connection_refused_gives_up(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.txt.gz"
    with pytest.raises(DownloadError, match="after 2 attempts") as info:
        fetch_url(url, tmp_path / "x.txt.gz", retries=1, log=lambda m: None, **FAST)
    assert url in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_cache_reuse_makes_no_request(server, tmp_path, messages):
    cache = tmp_path / "cache"
    url = f"{server.url}/{MATRIX}"
    fetch_url(url, tmp_path / "a.txt.gz", cache_dir=cache, log=messages.append, **FAST)
    cached = cache_path(url, cache)
    assert cached.name.endswith("-GSE27473_series_matrix.txt.gz")
    assert (cache / (cached.name + ".sha256")).is_file()
    fetch_url(url, tmp_path / "b.txt.gz", cache_dir=cache, log=messages.append, **FAST)
    fetch_url(url, tmp_path / "c.txt.gz", cache_dir=cache, offline=True, log=messages.append)
    assert len(server.requests) == 1
    expected = (DEMO_MIRROR / MATRIX).read_bytes()
    assert (tmp_path / "b.txt.gz").read_bytes() == expected
    assert (tmp_path / "c.txt.gz").read_bytes() == expected
    assert_no_partials(cache)


def test_sha256_mismatch_triggers_redownload(server, tmp_path, messages):
    cache = tmp_path / "cache"
    url = f"{server.url}/{MATRIX}"
    fetch_url(url, tmp_path / "a.txt.gz", cache_dir=cache, log=messages.append, **FAST)
    cache_path(url, cache).write_bytes(b"tampered")
    dest = tmp_path / "b.txt.gz"
    fetch_url(url, dest, cache_dir=cache, log=messages.append, **FAST)
    assert len(server.requests) == 2
    assert any("sha256" in m and "downloading again" in m for m in messages)
    assert dest.read_bytes() == (DEMO_MIRROR / MATRIX).read_bytes()


def test_offline_with_empty_cache_names_url_and_cache(server, tmp_path):
    cache = tmp_path / "cache"
    url = f"{server.url}/{MATRIX}"
    with pytest.raises(DownloadError, match="offline") as info:
        fetch_url(url, tmp_path / "m.txt.gz", cache_dir=cache, offline=True, log=lambda m: None)
    assert url in str(info.value)
    assert str(cache_path(url, cache)) in str(info.value)
    assert server.requests == []


def test_local_path_and_file_url_are_copied(tmp_path):
    src = DEMO_MIRROR / MATRIX
    a = fetch_url(str(src), tmp_path / "a.txt.gz", log=lambda m: None)
    b = fetch_url(src.as_uri(), tmp_path / "b.txt.gz", offline=True, log=lambda m: None)
    assert a.read_bytes() == b.read_bytes() == src.read_bytes()
    with pytest.raises(NotFoundError, match="GSE1 series matrix was not found"):
        fetch_url(
            str(tmp_path / "missing.txt.gz"),
            tmp_path / "c.txt.gz",
            what="GSE1 series matrix",
            log=lambda m: None,
        )
    assert_no_partials(tmp_path)


def test_list_directory_reads_http_listing_and_local_folder(server):
    folder = "series/GSE15nnn/GSE15709/matrix"
    expected = ["GSE15709-GPL570_series_matrix.txt.gz"]
    assert list_directory(f"{server.url}/{folder}", timeout=(1, 1)) == expected
    assert list_directory(str(DEMO_MIRROR / folder)) == expected
    assert list_directory(f"{server.url}/no/such/folder", timeout=(1, 1)) == []


def test_progress_lines(server, tmp_path, messages, monkeypatch):
    from igf1r_resistance.io import download

    monkeypatch.setattr(download, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(download, "CHUNK", 4096)
    fetch_url(
        f"{server.url}/{MATRIX}",
        tmp_path / "m.txt.gz",
        log=messages.append,
        what="GSE27473 series matrix",
        **FAST,
    )
    size = (DEMO_MIRROR / MATRIX).stat().st_size
    progress = [m for m in messages if m.startswith("GSE27473 series matrix:") and " of " in m]
    assert progress and all("/s" in m for m in progress)
    assert f"({size} bytes)" in messages[-1] and "downloaded" in messages[-1]


def test_corrupt_local_gzip_is_not_copied(tmp_path):
    src = tmp_path / "src" / "x.txt.gz"
    src.parent.mkdir()
    src.write_bytes(gzip.compress(b"data\n" * 100)[:-10])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DownloadError, match="not a valid gzip file"):
        fetch_url(str(src), out / "x.txt.gz", log=lambda m: None)
    assert list(out.iterdir()) == []
