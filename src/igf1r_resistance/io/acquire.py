"""The fetch steps: get a series matrix and its platform annotation, mirror first, then GEO."""

from __future__ import annotations

import gzip
import logging
import re
import shutil
from pathlib import Path

import pandas as pd

from ..errors import AnnotationError, DownloadError, InputFormatError, NotFoundError
from . import geo
from .files import atomic_path, write_tsv


def _network(geo_config: dict) -> dict:
    """Timeout and retries of downloads from the `geo` block of the config."""
    return {"timeout": (10.0, float(geo_config.get("timeout_seconds", 60))),
            "retries": int(geo_config.get("retries", 4))}


def _locate_or_fetch(candidates: list[str], geo_config: dict, dest: str | Path, log: logging.Logger,
                     what: str) -> str:
    """geo.locate_or_fetch with the `geo` block of the config: mirrors first, then GEO."""
    _, source = geo.locate_or_fetch(
        candidates,
        local_mirrors=[Path(m) for m in geo_config.get("local_mirrors", [])],
        base_url=geo_config["base_url"],
        dest=Path(dest),
        cache_dir=Path(geo_config["cache_dir"]),
        offline=geo_config.get("offline", False),
        log=log.info,
        what=what,
        **_network(geo_config),
    )
    return source


def fetch_series(dataset: str, settings: dict, geo_config: dict, dest: str | Path,
                 log: logging.Logger) -> str:
    """Put the series matrix of `dataset` at `dest`; returns where it came from."""
    candidates = geo.series_matrix_candidates(dataset, settings.get("platform"))
    source = _locate_or_fetch(candidates, geo_config, dest, log, f"{dataset} series matrix")
    log.info("series matrix of %s from %s", dataset, source)
    return source


def fetch_rnaseq_counts(dataset: str, settings: dict, geo_config: dict, dest_counts: str | Path,
                        dest_annotation: str | Path, log: logging.Logger) -> list[str]:
    """GEO's NCBI-computed raw counts of an RNA-seq series and its GeneID -> Symbol table.

    Looked for in the local mirrors (series/GSEnnn/GSE.../rnaseq_counts/<file>), then
    downloaded from GEO's download endpoint (`geo.download_url`). Returns the sources.
    """
    from ..pp.rnaseq import ANNOTATION_FILE, COUNTS_FILE
    from .download import fetch_url

    files = [
        (settings.get("counts_file") or COUNTS_FILE.format(acc=dataset), Path(dest_counts), "raw counts"),
        (settings.get("annotation_file") or ANNOTATION_FILE, Path(dest_annotation), "gene annotation"),
    ]
    sources = []
    for name, dest, what in files:
        label = f"{dataset} {what} ({name})"
        rel = geo.rnaseq_counts_path(dataset, name)
        local = [Path(m) / rel for m in geo_config.get("local_mirrors", []) if (Path(m) / rel).is_file()]
        if local:
            fetch_url(str(local[0]), dest, log=log.info, what=label)
            sources.append(str(local[0]))
            continue
        url = geo.rnaseq_counts_url(geo_config.get("download_url", geo.DEFAULT_DOWNLOAD_URL), dataset, name)
        try:
            fetch_url(url, dest, cache_dir=Path(geo_config["cache_dir"]), offline=geo_config.get("offline", False),
                      log=log.info, what=label, **_network(geo_config))
        except NotFoundError as exc:
            raise NotFoundError(
                f"data set {dataset}: {exc}. GEO computes counts only for some human and mouse RNA-seq series; "
                f"if {dataset} has none, give its counts as a local data set (type: matrix, values: counts). "
                f"Looked in the local mirrors under {rel} too."
            ) from None
        sources.append(url)
    log.info("counts of %s from %s", dataset, "; ".join(sources))
    return sources


def fetch_suppl(dataset: str, settings: dict, geo_config: dict, dest: str | Path, log: logging.Logger) -> str:
    """A file of the series' supplementary folder (`suppl_file`), mirror first, then GEO."""
    name = settings["suppl_file"]
    source = _locate_or_fetch([geo.suppl_path(dataset, name)], geo_config, dest, log,
                              f"{dataset} supplementary file {name}")
    log.info("supplementary file %s of %s from %s", name, dataset, source)
    return source


def mirrored_sources(dataset: str, kind: str, settings: dict, geo_config: dict) -> list[Path]:
    """The local-mirror copies (`geo.local_mirrors`) of the data files the fetch rules would
    bring for `dataset`, found without fetching anything: the series matrix (type geo), the
    counts (geo_rnaseq) or the supplementary file (single_cell with `suppl_file`).

    Lets a resource function estimate a data set's size before its fetch ran (dry run,
    ``--dag``, DAG building of a fresh clone). Returns [] when no mirror holds them (the data
    will be downloaded: the estimate is then refined once the files are there).
    """
    from ..pp.rnaseq import COUNTS_FILE

    if kind == "geo":
        relative = geo.series_matrix_candidates(dataset, settings.get("platform"))
    elif kind == "geo_rnaseq":
        name = settings.get("counts_file") or COUNTS_FILE.format(acc=dataset)
        relative = [geo.rnaseq_counts_path(dataset, name)]
    elif settings.get("suppl_file"):
        relative = [geo.suppl_path(dataset, settings["suppl_file"])]
    else:
        return []
    for rel in relative:
        for mirror in geo_config.get("local_mirrors", []):
            if (Path(mirror) / rel).is_file():
                return [Path(mirror) / rel]
    return []


def series_platforms(series_matrix: str | Path) -> list[str]:
    """Platforms named by the `!Series_platform_id` / `!Sample_platform_id` lines."""
    platforms: list[str] = []
    with gzip.open(series_matrix, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("!series_matrix_table_begin"):
                break
            if line.startswith("!Sample_platform_id") or line.startswith("!Series_platform_id"):
                platforms += re.findall(r"GPL\d+", line)
    return list(dict.fromkeys(platforms))


def fetch_platform_annotation(dataset: str, settings: dict, series_matrix: str | Path, geo_config: dict,
                              overrides: dict[str, str], dest: str | Path, log: logging.Logger) -> str:
    """Write `dest`: a probe -> symbol table (`probe, symbol`) for the data set's platform."""
    try:
        platforms = series_platforms(series_matrix)
    except (OSError, EOFError) as exc:
        raise InputFormatError(f"data set {dataset}: cannot read {series_matrix} ({exc})") from exc
    platform = settings.get("platform")
    if platform is None:
        if len(platforms) != 1:
            raise AnnotationError(
                f"data set {dataset}: the series matrix names platforms {platforms or 'none'}; "
                "set datasets." + dataset + ".platform in config.yaml"
            )
        platform = platforms[0]
    elif platforms and platform not in platforms:
        raise AnnotationError(
            f"data set {dataset}: config says platform {platform}, but {series_matrix} names {platforms}"
        )
    raw_dir = Path(dest).parent / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    if platform in overrides:
        source = overrides[platform]
        raw = raw_dir / Path(source).name
        if re.match(r"^(https?|ftp)://", source):
            from .download import fetch_url

            fetch_url(source, raw, cache_dir=Path(geo_config["cache_dir"]),
                      offline=geo_config.get("offline", False), log=log.info,
                      what=f"{platform} annotation (platform_annotation.{platform})")
        else:
            if not Path(source).is_file():
                raise AnnotationError(
                    f"data set {dataset}: platform_annotation.{platform} = {source!r} does not exist"
                )
            with atomic_path(raw) as tmp:
                shutil.copyfile(source, tmp)
    else:
        candidates = geo.platform_annotation_candidates(platform)
        try:
            raw, source = geo.locate_or_fetch(
                candidates,
                local_mirrors=[Path(m) for m in geo_config.get("local_mirrors", [])],
                base_url=geo_config["base_url"],
                dest=raw_dir / f"{platform}.annotation",
                cache_dir=Path(geo_config["cache_dir"]),
                offline=geo_config.get("offline", False),
                log=log.info,
                what=f"{platform} annotation",
                **_network(geo_config),
            )
        except DownloadError as exc:
            # offline, "not found" comes as DownloadError (not in the mirrors or the cache);
            # online, only a real 404 means there is no annotation: other faults propagate
            if not isinstance(exc, NotFoundError) and not geo_config.get("offline", False):
                raise
            where = " available offline" if geo_config.get("offline", False) else ""
            raise AnnotationError(
                f"data set {dataset}: platform {platform} has no annotation{where} ({exc}); give a probe -> "
                f"symbol table in config.yaml as platform_annotation: {{{platform}: path/to/table.tsv}}"
            ) from exc
    table = geo.read_platform_annotation(Path(raw), platform)
    if table.empty or (table["symbol"].fillna("") == "").all():
        raise AnnotationError(f"data set {dataset}: annotation of {platform} from {source} has no gene symbols")
    log.info("annotation of %s from %s: %d probes, %d with a symbol", platform, source, len(table),
             int((table["symbol"].fillna("") != "").sum()))
    out = pd.DataFrame({"probe": table["probe"].astype(str), "symbol": table["symbol"].fillna("").astype(str)})
    out["platform"] = platform
    out["source"] = source
    write_tsv(out, dest)
    return source
