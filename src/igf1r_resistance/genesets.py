"""Gene sets and hypotheses: the built-in mechanism catalogue and user GMT files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class GeneSet:
    """A named gene set; `down` genes are expected to move against `up` genes.

    A set with `down` genes is scored as score(up) - score(down) by every method except
    singscore, which has its own up/down definition (Foroutan et al. 2018).
    """

    name: str
    up: tuple[str, ...]
    down: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def genes(self) -> tuple[str, ...]:
        return self.up + self.down


@dataclass(frozen=True)
class Hypothesis:
    """One testable claim: a group test on a set or gene, or a coupling of two sets."""

    id: str
    statement: str
    test: str  # group | gene | coupling
    predicted: str  # up | down | changed | positive | negative
    gene_set: str = ""
    gene: str = ""
    with_set: str = ""
    source: str = ""
    min_genes: int | None = None
    exploratory: bool = False


PREDICTIONS = {"group": {"up", "down", "changed"}, "gene": {"up", "down", "changed"},
               "coupling": {"positive", "negative"}}


def read_gmt(path: str | Path) -> list[GeneSet]:
    """Read a GMT file (name, description, genes...; tab-separated), as MSigDB writes them."""
    from .errors import InputFormatError

    sets: list[GeneSet] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                raise InputFormatError(
                    f"{path}, line {lineno}: a GMT line needs a name, a description and genes, "
                    "separated by tabs"
                )
            name = parts[0].strip()
            if name in seen:
                raise InputFormatError(f"{path}, line {lineno}: gene set {name!r} appears twice")
            seen.add(name)
            genes = tuple(dict.fromkeys(g.strip() for g in parts[2:] if g.strip()))
            sets.append(GeneSet(name=name, up=genes, source=f"{Path(path).name}: {parts[1].strip()}"))
    if not sets:
        raise InputFormatError(f"{path}: no gene set found (empty GMT file)")
    return sets


def format_gmt(sets: list[GeneSet]) -> str:
    """Sets as GMT text; a set with down genes becomes NAME_UP and NAME_DN lines."""
    lines = []
    for s in sets:
        if s.down:
            lines.append("\t".join([f"{s.name}_UP", s.source or "na", *s.up]))
            lines.append("\t".join([f"{s.name}_DN", s.source or "na", *s.down]))
        else:
            lines.append("\t".join([s.name, s.source or "na", *s.up]))
    return "\n".join(lines) + "\n"


def gmt_prediction(name: str) -> str:
    """Predicted direction of an exploratory GMT set from its name (_UP, _DN/_DOWN)."""
    upper = name.upper()
    if upper.endswith("_UP"):
        return "up"
    if upper.endswith("_DN") or upper.endswith("_DOWN"):
        return "down"
    return "changed"


def load_catalogue(path: str | Path) -> tuple[dict, list[GeneSet], list[Hypothesis]]:
    """Read the mechanism catalogue YAML; returns (header, gene sets, hypotheses)."""
    import yaml

    from .errors import ConfigError

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    sets = [
        GeneSet(name=name, up=tuple(spec.get("up", ())), down=tuple(spec.get("down", ())),
                source=spec.get("source", ""))
        for name, spec in data["gene_sets"].items()
    ]
    hyps = [parse_hypothesis(h, f"{path}") for h in data["hypotheses"]]
    names = {s.name for s in sets}
    for h in hyps:
        for ref in (h.gene_set, h.with_set):
            if ref and ref not in names:
                raise ConfigError(f"{path}: hypothesis {h.id!r} names unknown gene set {ref!r}")
    header = {k: v for k, v in data.items() if k not in {"gene_sets", "hypotheses"}}
    return header, sets, hyps


def parse_hypothesis(spec: dict, where: str, exploratory: bool = False) -> Hypothesis:
    from .errors import ConfigError

    test = spec.get("test", "group")
    predicted = spec.get("predicted", "")
    if test not in PREDICTIONS:
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: test must be group, gene or coupling")
    if predicted not in PREDICTIONS[test]:
        raise ConfigError(
            f"{where}: hypothesis {spec.get('id')!r}: predicted must be one of "
            f"{sorted(PREDICTIONS[test])} for a {test} test (got {predicted!r})"
        )
    need = {"group": ["gene_set"], "gene": ["gene"], "coupling": ["gene_set", "with_set"]}[test]
    for key in need:
        if not spec.get(key):
            raise ConfigError(f"{where}: hypothesis {spec.get('id')!r} ({test} test) needs {key!r}")
    return Hypothesis(
        id=str(spec["id"]), statement=str(spec.get("statement", "")), test=test, predicted=predicted,
        gene_set=str(spec.get("gene_set", "")), gene=str(spec.get("gene", "")),
        with_set=str(spec.get("with_set", "")), source=str(spec.get("source", "")),
        min_genes=spec.get("min_genes"), exploratory=exploratory or bool(spec.get("exploratory", False)),
    )


def restrict(gene_set: GeneSet, measured: set[str] | pd.Index) -> GeneSet:
    """The set limited to measured genes (order kept)."""
    measured = set(measured)
    return GeneSet(
        name=gene_set.name,
        up=tuple(g for g in gene_set.up if g in measured),
        down=tuple(g for g in gene_set.down if g in measured),
        source=gene_set.source,
    )


def collect(catalogue_path: str | Path, gmt_paths: list[str], extra: list[dict]) -> tuple[dict, list[GeneSet], list[Hypothesis]]:
    """All gene sets and hypotheses of a run: catalogue, user GMT files, user hypotheses.

    Each GMT set becomes an exploratory group hypothesis named after the set. A GMT set
    whose name collides with another set is an error (names must identify sets).
    """
    from .errors import ConfigError

    header, sets, hyps = load_catalogue(catalogue_path)
    names = {s.name: str(catalogue_path) for s in sets}
    for gmt in gmt_paths:
        for s in read_gmt(gmt):
            if s.name in names:
                raise ConfigError(
                    f"gene_sets.gmt: set {s.name!r} in {gmt} has the same name as a set in {names[s.name]}"
                )
            names[s.name] = gmt
            sets.append(s)
            hyps.append(Hypothesis(
                id=s.name, statement=f"exploratory: gene set {s.name} ({Path(gmt).name})", test="group",
                predicted=gmt_prediction(s.name), gene_set=s.name, source=s.source, exploratory=True,
            ))
    ids = {h.id for h in hyps}
    for spec in extra:
        h = parse_hypothesis(spec, "config.yaml, hypotheses.extra")
        if h.id in ids:
            raise ConfigError(f"config.yaml, hypotheses.extra: id {h.id!r} is already used")
        for ref in (h.gene_set, h.with_set):
            if ref and ref not in names:
                raise ConfigError(
                    f"config.yaml, hypotheses.extra: hypothesis {h.id!r} names gene set {ref!r}, which is "
                    "neither in the catalogue nor in gene_sets.gmt"
                )
        ids.add(h.id)
        hyps.append(h)
    return header, sets, hyps
