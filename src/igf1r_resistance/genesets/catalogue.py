"""Gene sets and hypotheses: the built-in mechanism catalogue and user GMT files."""

from __future__ import annotations

import functools
import re
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
    #: "msigdb" for a catalogue set read whole from the shipped MSigDB subset
    origin: str = ""

    @property
    def genes(self) -> tuple[str, ...]:
        return self.up + self.down


#: the comparison of a plain resistant-vs-sensitive data set, and every hypothesis's default
RESISTANCE = "resistance"
_COMPARISON_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


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
    #: primary (the data set's confirmatory family) | supporting | descriptive | context
    role: str = "primary"
    #: where the evidence comes from when it is not a gene set or gene, e.g. "progeny:PI3K"
    readout: str = ""
    #: the hypothesis exists only for data sets of these drug classes (empty = every data set)
    drug_classes: tuple[str, ...] = ()
    #: why a `claim` cannot be tested with these data
    reason: str = ""
    #: the comparisons (contract `comparison:` of a contrast) the claim is about: "resistance"
    #: (resistant vs sensitive) or a regulator comparison such as "TP53_status"; elsewhere absent
    applies_to: tuple[str, ...] = (RESISTANCE,)


PREDICTIONS = {"group": {"up", "down", "changed"}, "gene": {"up", "down", "changed"},
               "coupling": {"positive", "negative"}, "footprint": {"up", "down", "changed"},
               "claim": {"up", "down", "changed"}}
ROLES = ("primary", "supporting", "descriptive", "context")
#: drug classes a data set can have (config `drug_class`; drugs.py infers it from `drug`)
DRUG_CLASSES = ("platinum", "antimetabolite", "anthracycline", "taxane", "vinca_alkaloid",
                "topoisomerase_inhibitor", "targeted", "endocrine")
PROGENY_PREFIX = "progeny:"


def read_gmt(path: str | Path) -> list[GeneSet]:
    """Read a GMT file (name, description, genes...; tab-separated), as MSigDB writes them."""
    from ..errors import InputFormatError

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
    """Read the mechanism catalogue YAML; returns (header, gene sets, hypotheses).

    A gene set given as `msigdb: NAME` is read from the catalogue's shipped MSigDB subset
    (header `msigdb_gmt`, a path relative to the catalogue), so its genes have one home.
    """
    import yaml

    from ..errors import ConfigError

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    shipped: dict[str, GeneSet] = {}
    if data.get("msigdb_gmt"):
        shipped = {s.name: s for s in read_gmt(Path(path).parent / data["msigdb_gmt"])}
    current = _symbol_mapper(str(Path(path).parent / data["symbols"])).current if data.get("symbols") else str
    sets = []
    for name, spec in data["gene_sets"].items():
        if spec.get("msigdb"):
            if spec["msigdb"] not in shipped:
                raise ConfigError(f"{path}: gene set {name!r} names MSigDB set {spec['msigdb']!r}, which is not in "
                                  f"{data.get('msigdb_gmt') or 'msigdb_gmt (not set)'}")
            # MSigDB v7.0 (2019) has outdated symbols (WARS for WARS1): mapped to current HGNC
            # symbols as the expression data are, so they match the measured genes
            up = tuple(dict.fromkeys(current(g) for g in shipped[spec["msigdb"]].up))
            origin = "msigdb"
        else:
            up, origin = tuple(spec.get("up", ())), ""
        sets.append(GeneSet(name=name, up=up, down=tuple(spec.get("down", ())), source=spec.get("source", ""),
                            origin=origin))
    hyps = [parse_hypothesis(h, f"{path}") for h in data["hypotheses"]]
    check_comparisons(hyps, data.get("comparisons") or {}, str(path))
    names = {s.name for s in sets}
    for h in hyps:
        for ref in (h.gene_set, h.with_set):
            if ref and ref not in names:
                raise ConfigError(f"{path}: hypothesis {h.id!r} names unknown gene set {ref!r}")
    header = {k: v for k, v in data.items() if k not in {"gene_sets", "hypotheses"}}
    return header, sets, hyps


@functools.lru_cache(maxsize=2)
def _symbol_mapper(path: str):
    from ..pp.symbols import SymbolMapper

    return SymbolMapper.from_file(path)


def parse_hypothesis(spec: dict, where: str, exploratory: bool = False) -> Hypothesis:
    """One hypothesis from its catalogue / `hypotheses.extra` entry, with its fields checked.

    Raises
    ------
    ConfigError
        An unknown test, role or drug class, a prediction the test cannot make, a missing
        field the test needs, or `applies_to` that is not a non-empty list of comparison names.
    """
    from ..errors import ConfigError

    test = spec.get("test", "group")
    predicted = spec.get("predicted", "")
    if test not in PREDICTIONS:
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: test must be group, gene or coupling")
    if predicted not in PREDICTIONS[test]:
        raise ConfigError(
            f"{where}: hypothesis {spec.get('id')!r}: predicted must be one of "
            f"{sorted(PREDICTIONS[test])} for a {test} test (got {predicted!r})"
        )
    need = {"group": ["gene_set"], "gene": ["gene"], "coupling": ["gene_set", "with_set"],
            "footprint": ["readout"], "claim": ["reason"]}[test]
    for key in need:
        if not spec.get(key):
            raise ConfigError(f"{where}: hypothesis {spec.get('id')!r} ({test} test) needs {key!r}")
    role = spec.get("role", "primary")
    if role not in ROLES:
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: role must be one of {list(ROLES)} (got {role!r})")
    readout = str(spec.get("readout") or "")
    if test == "footprint" and not readout.startswith(PROGENY_PREFIX):
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: a footprint readout is "
                          f"'{PROGENY_PREFIX}<PATHWAY>' (got {readout!r})")
    drug_classes = spec.get("drug_classes") or []
    if isinstance(drug_classes, str) or any(c not in DRUG_CLASSES for c in drug_classes):
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: drug_classes must be a list of "
                          f"{list(DRUG_CLASSES)} (got {drug_classes!r})")
    applies_to = spec.get("applies_to", [RESISTANCE])
    if (not isinstance(applies_to, list) or not applies_to
            or not all(isinstance(c, str) and re.match(_COMPARISON_NAME, c) for c in applies_to)):
        raise ConfigError(f"{where}: hypothesis {spec.get('id')!r}: applies_to must be a non-empty list of "
                          f"comparison names such as [resistance] or [TP53_status] (got {applies_to!r})")
    return Hypothesis(
        id=str(spec["id"]), statement=str(spec.get("statement", "")), test=test, predicted=predicted,
        gene_set=str(spec.get("gene_set", "")), gene=str(spec.get("gene", "")),
        with_set=str(spec.get("with_set", "")), source=str(spec.get("source", "")),
        min_genes=spec.get("min_genes"), exploratory=exploratory or bool(spec.get("exploratory", False)),
        role=role, readout=readout, drug_classes=tuple(drug_classes), reason=str(spec.get("reason") or ""),
        applies_to=tuple(dict.fromkeys(applies_to)),
    )


def applicable(hypotheses: list[Hypothesis], drug_class: str,
               comparison: str = RESISTANCE) -> list[Hypothesis]:
    """The hypotheses that exist for a model of `drug_class` ("" = unknown class) and `comparison`.

    A hypothesis with `drug_classes` applies only to data sets of one of those classes, and a
    hypothesis applies only to the comparisons of its `applies_to` (default: resistance; a
    regulator contrast such as `comparison: TP53_status` gets the regulator claims). For the
    others it is absent (not `not_testable`): it makes no claim about them.

    Parameters
    ----------
    hypotheses
        The catalogue's (and the user's) hypotheses.
    drug_class
        The model's drug class, "" when unknown.
    comparison
        The contrast's `comparison` (contract 1; "resistance" for a plain data set).
    """
    return [h for h in hypotheses
            if comparison in h.applies_to and (not h.drug_classes or drug_class in h.drug_classes)]


def check_comparisons(hypotheses: list[Hypothesis], declared: dict, where: str) -> None:
    """Raise :class:`ConfigError` when a hypothesis applies to a comparison the catalogue's
    `comparisons:` block does not declare (a typo would silently drop the hypothesis)."""
    from ..errors import ConfigError

    known = set(declared) | {RESISTANCE}
    for h in hypotheses:
        unknown = [c for c in h.applies_to if c not in known]
        if unknown:
            raise ConfigError(f"{where}: hypothesis {h.id!r}: applies_to names {unknown[0]!r}, not one of the "
                              f"catalogue's comparisons ({', '.join(sorted(known))})")


def drug_class_controls(hypotheses: list[Hypothesis], drug_class: str) -> dict[str, dict[str, str]]:
    """Known resistance genes of a drug class as data-set controls (contract 3 `controls:` shape).

    The catalogue's single-gene hypotheses restricted to `drug_class` (e.g. SLC31A1 down for
    platinum) are known resistance routes of the drug: `{GENE: {expected, source}}`, for the
    controls of the data set (issue 13a) when the config declares none.
    """
    return {h.gene: {"expected": h.predicted, "source": h.source}
            for h in hypotheses
            if h.test == "gene" and drug_class and drug_class in h.drug_classes and h.predicted in ("up", "down")}


@dataclass(frozen=True)
class Citation:
    """One source the catalogue cites, as found in the YAML (see catalogue_citations)."""

    where: str  # "gene set X" or "hypothesis Y"
    hgnc: int | None = None
    name: str = ""  # the HGNC group name as cited
    msigdb: str = ""
    genes: tuple[str, ...] = ()
    structured: bool = True  # False: found in free text of a `source`
    literature: str = ""


_HGNC_TEXT = r"HGNC group (\d+) '([^']+)'"
_MSIGDB_TEXT = r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,}\b"


def catalogue_citations(path: str | Path, known_msigdb: set[str] | None = None) -> list[Citation]:
    """Every checkable citation of the catalogue: structured ones and free-text mentions.

    Free text: "HGNC group N 'name'" anywhere in a `source`, and every upper-case name with
    underscores that is not one of the catalogue's own curated sets (those are MSigDB names).
    With `known_msigdb`, free-text names are kept only when in that set of names (used by the
    maker, which filters with the full v7.0 files); with None all are returned.
    """
    import re

    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    curated = {n for n, spec in data["gene_sets"].items() if not spec.get("msigdb")}
    out: list[Citation] = []

    def text(where: str, source: str) -> None:
        for gid, name in re.findall(_HGNC_TEXT, source):
            out.append(Citation(where, hgnc=int(gid), name=name, structured=False))
        for token in re.findall(_MSIGDB_TEXT, source):
            if token in curated or (known_msigdb is not None and token not in known_msigdb):
                continue
            out.append(Citation(where, msigdb=token, structured=False))

    for name, spec in data["gene_sets"].items():
        where = f"gene set {name}"
        if spec.get("msigdb"):
            out.append(Citation(where, msigdb=spec["msigdb"], genes=()))
        for c in spec.get("citations", []) or []:
            out.append(Citation(where, hgnc=int(c["hgnc"]) if "hgnc" in c else None, name=str(c.get("name", "")),
                                msigdb=str(c.get("msigdb", "")), genes=tuple(c.get("genes", ())),
                                literature=str(c.get("literature", ""))))
        text(where, str(spec.get("source", "")))
    for h in data["hypotheses"]:
        text(f"hypothesis {h['id']}", str(h.get("source", "")))
    return out


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
    from ..errors import ConfigError

    header, sets, hyps = load_catalogue(catalogue_path)
    names = {s.name: str(catalogue_path) for s in sets}
    msigdb_names = {s.name for s in sets if s.origin == "msigdb"}
    for gmt in gmt_paths:
        for s in read_gmt(gmt):
            if s.name in msigdb_names and names[s.name] == str(catalogue_path):
                continue  # the catalogue already tests this MSigDB set (its symbols brought up to date)
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
        check_comparisons([h], header.get("comparisons") or {}, "config.yaml, hypotheses.extra")
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
