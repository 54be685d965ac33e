"""Linear designs with several contrasts: what a data set's `design:` and `contrasts:` mean.

A data set with a plain `groups:` block is one model (id = the data-set id). A data set with
``design: {factor, covariates, pair_by}`` and ``contrasts: {NAME: {...}}`` is one model per
contrast (id = ``{ds}/{contrast}``): limma fits ``~ 0 + factor + covariates [+ pair_by]`` once on
every sample with a factor value (:mod:`igf1r_resistance.tl.linear_model`), and each contrast is
``factor<test> - factor<reference>`` of that fit. A response contrast (``response: COLUMN,
higher_is: ...``, cell-line panels with drug responses; docs/panels.md) is instead the
association with a numeric column adjusted for the design's terms (:func:`adjusting_terms`,
:mod:`igf1r_resistance.tl.panels`); a design of response contrasts only needs no factor.
This module is the one home of

- the model ids and what each model carries (drug, drug_class, model, model_type, note,
  controls: the contrast's, else the data set's; its `comparison`),
- the design of a sample sheet (which covariate is a number, which samples are fitted), and
- the checks a user needs, each naming data set, contrast and field: a covariate confounded
  with the factor, a contrast level that does not exist, a pair whose samples sit in one level,
  fewer than 2 residual degrees of freedom, a numeric covariate with missing values.

Reference: Smyth GK (2004), Stat Appl Genet Mol Biol 3(1):3; limma User's Guide (2022),
chapters 9.3-9.5 (several groups, additive batch terms, paired samples).
"""

from __future__ import annotations

import pandas as pd

from ..tl.linear_model import DesignError

#: keys a contrast may carry to override the data set's
MODEL_KEYS = ("drug", "drug_class", "model", "model_type", "note", "controls")
#: the obs columns prepare writes itself with other values; design terms may not be named like
#: them (`title` may: obs['title'] is the sample's title, the same values a `title` term has)
RESERVED_TERMS = ("group", "response", "sample")
#: series-matrix sample fields (besides the characteristics keys) named in messages as usable terms
SERIES_FIELDS = ("title", "source_name", "geo_accession", "description")
#: fewest residual degrees of freedom a design must leave (limma's variance needs them)
MIN_RESIDUAL_DF = 2
RESISTANCE = "resistance"


def has_design(settings: dict) -> bool:
    """Whether a data-set entry is analysed through a design with contrasts."""
    return bool(settings.get("contrasts"))


def is_response(contrast: dict | None) -> bool:
    """Whether a contrast is a response contrast (`response: COLUMN`, a numeric drug response)."""
    return bool((contrast or {}).get("response"))


def contrast_levels(contrast: dict) -> tuple[str | None, str | None]:
    """(test level, reference level) of a contrast: `resistant`/`test` and `sensitive`/`reference`."""
    test = contrast.get("resistant", contrast.get("test"))
    reference = contrast.get("sensitive", contrast.get("reference"))
    return (None if test is None else str(test)), (None if reference is None else str(reference))


def model_ids(datasets: dict) -> list[str]:
    """Every model of the config, in config order: `ds` or `ds/contrast`."""
    out = []
    for name, settings in datasets.items():
        if has_design(settings or {}):
            out += [f"{name}/{c}" for c in settings["contrasts"]]
        else:
            out.append(str(name))
    return out


def dataset_of(model: str) -> str:
    """The data-set id of a model id."""
    return model.split("/", 1)[0]


def model_spec(datasets: dict, model: str) -> dict:
    """What one model is: `id` (the model id), `dataset`, `contrast` ('' for a plain data set),
    `comparison`, the keys of :data:`MODEL_KEYS` (the contrast's, else the data set's; the
    model_type of a regulator comparison defaults to the comparison's name) and,
    for a contrast, `design` (the data set's design block), `test` and `reference` levels, or
    for a response contrast `response` (the column) and `higher_is` (levels None)."""
    ds, _, contrast = model.partition("/")
    settings = datasets[ds] or {}
    spec = {"id": model, "dataset": ds, "contrast": contrast, "comparison": RESISTANCE, "design": None,
            "test": None, "reference": None, "response": None, "higher_is": None}
    for key in MODEL_KEYS:
        spec[key] = settings.get(key, {} if key == "controls" else "")
    if contrast:
        entry = settings["contrasts"][contrast]
        for key in MODEL_KEYS:
            if key in entry:
                spec[key] = entry[key]
        spec["comparison"] = str(entry.get("comparison") or RESISTANCE)
        if spec["comparison"] != RESISTANCE and "model_type" not in entry:
            # a regulator comparison is no resistance model: the meta-analysis pools it apart
            spec["model_type"] = spec["comparison"]
        spec["design"] = dict(settings["design"])
        spec["test"], spec["reference"] = contrast_levels(entry)
        if is_response(entry):
            spec["response"], spec["higher_is"] = str(entry["response"]), str(entry.get("higher_is") or "")
    spec["drug_class"] = spec["drug_class"] or ""
    return spec


def first_model(datasets: dict, ds: str) -> str:
    """The model whose de.tsv feeds the data set's QC tables: the first contrast of levels (the
    one whose groups prepare records in obs), else the first contrast (a panel of response
    contrasts only), or the data set."""
    models = model_ids({ds: datasets[ds]})
    contrasts = (datasets[ds] or {}).get("contrasts") or {}
    return next((m for m in models if not is_response(contrasts.get(m.partition("/")[2]))), models[0])


# --------------------------------------------------------------------------- the design


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def design_terms(design: dict) -> list[tuple[str, str]]:
    """(config field, column) of every term: factor (when given), each covariate, pair_by."""
    terms = [("design.factor", str(design["factor"]))] if design.get("factor") else []
    terms += [("design.covariates", str(c)) for c in design.get("covariates") or []]
    if design.get("pair_by"):
        terms.append(("design.pair_by", str(design["pair_by"])))
    return terms


def design_samples(sheet: pd.DataFrame, design: dict) -> pd.DataFrame:
    """The fitted samples' design terms: samples with a factor value, factor and pair_by as
    text, a covariate as a number when every value of it reads as one, else as text.

    `sheet`: index = sample ids, the sample sheet's (or obs') columns, any dtype. A design
    without a factor (response contrasts only) fits every sample.
    """
    if design.get("factor"):
        factor = str(design["factor"])
        values = sheet[factor].astype(object).where(sheet[factor].notna(), "").astype(str).str.strip()
        fitted = sheet.loc[values != ""]
    else:
        fitted = sheet
    out = pd.DataFrame(index=fitted.index)
    for field, column in design_terms(design):
        col = fitted[column]
        if pd.api.types.is_numeric_dtype(col) and field == "design.covariates":
            out[column] = col.astype(float)
            continue
        text = col.astype(object).where(col.notna(), "").astype(str).str.strip()
        filled = text[text != ""]
        if field == "design.covariates" and len(filled) and all(_is_number(v) for v in filled):
            out[column] = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
        else:
            out[column] = text.where(text != "")
    return out


def series_design_sheet(dataset: str, samples: pd.DataFrame, design: dict, characteristics=(),
                        where: str = "") -> pd.DataFrame:
    """A GEO series' sample table with one column per design term, named as the config names it.

    Each term of a `type: geo` / `geo_rnaseq` design (factor, covariates, pair_by) names a
    characteristics key of the series matrix ('cell line', 'treatment', ...) or a sample field
    (title, source_name, geo_accession, ...), found as `groups.by` finds its field
    (:func:`~igf1r_resistance.pp.groups.find_field`: the exact name, a short name such as
    source_name, else ignoring case). A level is the field's value with surrounding white space
    removed, case and inner spaces kept ('MCF7 TamR' and 'mcf7 tamr' are two levels); an empty
    cell or one of GEO's missing tokens (null, NA, N/A, --, ...) is missing, so a sample without a
    factor value is left out of the fit and a covariate with such a value is reported.

    Parameters
    ----------
    dataset
        Data-set id (for messages).
    samples
        The series matrix's sample table (index = GSM ids; `io.series_matrix.read_series_matrix`).
    design
        The data set's `design:` block.
    characteristics
        The characteristics keys of the series (`SeriesMatrix.characteristics`), listed when a
        term names none of them.
    where
        The series-matrix file, for messages.

    Returns
    -------
    pandas.DataFrame
        `samples` plus (or with normalised values in) one column per term.

    Raises
    ------
    DesignError
        A term names neither a characteristics key nor a sample field (the message names data
        set and field and lists the keys there).
    """
    from ..io.series_matrix import MISSING_TOKENS
    from .groups import find_field

    sheet = samples.copy()
    problems = []
    for field, name in design_terms(design):
        column = find_field(samples, name)
        if name in RESERVED_TERMS:
            # prepare writes its own obs column by that name; GEO keys are found ignoring case, so
            # a characteristics key 'group' is reachable as 'Group'
            other = "geo_accession" if name == "sample" else name.capitalize()
            problems.append(f".{field}: {name!r} is reserved by the workflow (prepare writes its own {name!r} "
                            f"column); write {other!r} instead (keys and fields are found ignoring case)")
            continue
        if column is None:
            keys = ", ".join(repr(k) for k in characteristics) or "none"
            fields = ", ".join(f for f in SERIES_FIELDS if find_field(samples, f) is not None)
            problems.append(f".{field}: {name!r} is neither a characteristics key nor a sample field of the series "
                            f"matrix; characteristics keys there: {keys}; sample fields: {fields}")
            continue
        text = samples[column].astype(object).where(samples[column].notna(), "").astype(str).str.strip()
        sheet[name] = text.where(~text.isin(MISSING_TOKENS))
    if problems:
        source = f" ({where})" if where else ""
        raise DesignError(f"data set {dataset}{source}: the design cannot be fitted:\n"
                          + "\n".join(f"  datasets.{dataset}{p}" for p in problems))
    return sheet


def contrast_weights(design: dict, test: str, reference: str) -> dict[str, float]:
    """The contrast `factor<test> - factor<reference>` as weights of the design columns."""
    factor = str(design["factor"])
    return {f"{factor}{test}": 1.0, f"{factor}{reference}": -1.0}


def contrast_groups(terms: pd.DataFrame, design: dict, test: str, reference: str) -> pd.Series:
    """Per fitted sample: resistant (test level), sensitive (reference level) or excluded
    (another level): the two groups the contrast compares, for the two-group summaries."""
    levels = terms[str(design["factor"])].astype(str)
    out = pd.Series("excluded", index=terms.index, dtype=object)
    out[levels == test] = "resistant"
    out[levels == reference] = "sensitive"
    return out


def _response_contract_problems(design: dict, name: str, contrast: dict) -> list[str]:
    """What a response contrast says wrong on its own: levels given with a response, no
    `higher_is`, a response column named like a design term or a reserved column."""
    field = f".contrasts.{name}"
    out = [f"{field}: a response contrast takes response and higher_is, not {key}"
           for key in ("resistant", "sensitive", "test", "reference") if key in contrast]
    if not contrast.get("higher_is"):
        out.append(f"{field}.higher_is: needed with response: resistant (higher = more resistant, e.g. IC50, "
                   "AUC of a viability curve) or sensitive (e.g. CCLE's activity area)")
    column = str(contrast["response"])
    if column in RESERVED_TERMS or column in adjusting_terms(design):
        out.append(f"{field}.response: column name {column!r} is reserved or a design term; rename the column")
    return out


def contrast_problems(design: dict, contrasts: dict, levels: list[str] | None = None) -> list[str]:
    """What is wrong with the contrasts of levels themselves, each as '.field: message' (a
    response contrast is checked on the sample sheet, :func:`response_problems`): no factor,
    no levels, `resistant` with `test`, test = reference, and, given
    the factor's `levels`, a level that matches no sample (the values are listed). Without
    `levels` (a GEO series or h5ad before prepare has read it) the levels are not looked up.
    """
    factor = str(design.get("factor") or "")
    out: list[str] = []
    for name, contrast in contrasts.items():
        if is_response(contrast):  # the rest is checked on the sample sheet (response_problems)
            out += _response_contract_problems(design, name, contrast)
            continue
        if not factor:
            out.append(f".contrasts.{name}: a contrast of levels needs design.factor (or make it a response "
                       "contrast: response + higher_is)")
            continue
        test, reference = contrast_levels(contrast)
        for key, synonym, level in (("resistant", "test", test), ("sensitive", "reference", reference)):
            given = synonym if synonym in contrast else key
            if key in contrast and synonym in contrast:
                out.append(f".contrasts.{name}: give {key} or {synonym}, not both")
            elif level is None:
                out.append(f".contrasts.{name}: needs {key} (or {synonym}): a level of {factor!r}")
            elif levels is not None and level not in levels:
                near = [v for v in levels if v.casefold() == level.casefold()]
                hint = f"; levels keep their case: did you mean {near[0]!r}?" if near else ""
                out.append(f".contrasts.{name}.{given}: {level!r} is not a level of {factor!r} "
                           f"(levels: {', '.join(levels)}){hint}")
        if test is not None and test == reference:
            out.append(f".contrasts.{name}: test and reference are the same level {test!r}")
    return out


def design_problems(sheet: pd.DataFrame, design: dict, contrasts: dict) -> list[str]:
    """What keeps a design from being fitted, each as '.field: message' (field = the config key).

    Checked, in this order: terms are columns of the sheet and not reserved names; a numeric
    covariate has no missing values; a factor or pair value is not missing; each contrast's
    levels exist and differ; every pair has samples in two levels; the design is of full
    rank (the first term that makes it rank-deficient is named, with the column it aliases);
    at least :data:`MIN_RESIDUAL_DF` residual degrees of freedom remain.
    """
    from ..tl.linear_model import _estimable_columns, design_matrix

    out: list[str] = []
    for field, column in design_terms(design):
        if column in RESERVED_TERMS:
            out.append(f".{field}: column name {column!r} is reserved by the workflow; rename the column in the "
                       "sample sheet")
        elif column not in sheet.columns:
            out.append(f".{field}: {column!r} is not a column of the sample sheet (columns: "
                       f"{', '.join(map(str, sheet.columns))})")
    if out:
        return out
    if not design.get("factor"):
        return _factorless_problems(sheet, design, contrasts)
    factor = str(design["factor"])
    terms = design_samples(sheet, design)
    if terms.empty:
        return [f".design.factor: no sample has a value in column {factor!r}"]
    for field, column in design_terms(design)[1:]:
        missing = terms.index[terms[column].isna()]
        if len(missing):
            kind = "numeric covariate" if pd.api.types.is_numeric_dtype(terms[column]) else "column"
            out.append(f".{field}: {kind} {column!r} has missing values (sample(s) "
                       f"{', '.join(map(str, missing[:5]))}); fill them in or leave those samples out "
                       f"(empty {factor!r})")
    out += contrast_problems(design, contrasts, sorted(terms[factor].unique()))
    if out:
        return out
    for name, contrast in contrasts.items():
        if is_response(contrast):
            out += response_problems(sheet, terms, design, name, contrast)
    if out:
        return out
    pair_by = design.get("pair_by")
    if pair_by:
        n_levels = terms.groupby(terms[str(pair_by)])[factor].nunique()
        lonely = sorted(map(str, n_levels.index[n_levels < 2]))
        if lonely:
            out.append(f".design.pair_by: pair(s) {', '.join(lonely[:5])} of {pair_by!r} have all their samples in "
                       f"one level of {factor!r}; each pair needs samples in at least two levels")
            return out
    covariates = [c for f, c in design_terms(design) if f == "design.covariates"]
    steps = [(field, column) for field, column in design_terms(design)]
    for k in range(1, len(steps) + 1):
        covs = [c for f, c in steps[1:k] if f == "design.covariates"]
        pair = pair_by if k == len(steps) and pair_by else None
        x = design_matrix(terms, factor, covs, pair)
        kept = _estimable_columns(x.to_numpy(float))
        if not kept.all():
            field, column = steps[k - 1]
            aliased = x.columns[~kept][0]
            out.append(f".{field}: {column!r} is confounded with the terms before it (design column {aliased!r} is a "
                       f"combination of {', '.join(c for c in x.columns if c != aliased)}): the design is not of full "
                       "rank; drop the term or add samples that separate it from the factor")
            return out
    x = design_matrix(terms, factor, covariates, pair_by or None)
    df = x.shape[0] - x.shape[1]
    if df < MIN_RESIDUAL_DF:
        out.append(f".design: {x.shape[0]} samples for {x.shape[1]} coefficients leave {df} residual degree(s) of "
                   f"freedom; limma needs at least {MIN_RESIDUAL_DF} (add samples or drop covariates)")
    return out


def _factorless_problems(sheet: pd.DataFrame, design: dict, contrasts: dict) -> list[str]:
    """A design without a factor: every contrast must be a response contrast; covariates
    without missing values; then each response contrast's own checks."""
    levels = contrast_problems(design, contrasts)  # a contrast of levels needs the factor
    if levels:
        return levels
    terms = design_samples(sheet, design)
    out = []
    for field, column in design_terms(design):
        missing = terms.index[terms[column].isna()]
        if len(missing):
            out.append(f".{field}: column {column!r} has missing values (sample(s) "
                       f"{', '.join(map(str, missing[:5]))}); fill them in or drop the samples")
    if out:
        return out
    for name, contrast in contrasts.items():
        out += response_problems(sheet, terms, design, name, contrast)
    return out


def adjusting_terms(design: dict) -> list[str]:
    """The columns a response contrast is adjusted for: every term of the design (the factor
    when given, covariates, pair_by), so ``~ [factor +] covariates [+ pair_by] + response``. A
    panel of response contrasts only needs no factor (``design: {covariates: [tissue]}``); in
    a panel that also has level contrasts (e.g. TP53 status) the response is adjusted for the
    factor too."""
    return [column for _, column in design_terms(design)]


def response_problems(sheet: pd.DataFrame, terms: pd.DataFrame, design: dict, name: str, contrast: dict) -> list[str]:
    """What keeps response contrast `name` from being fitted on the sample sheet, as '.field:
    message' (what the contrast says alone is :func:`contrast_problems`'): an absent column, a non-numeric column,
    fewer than 3 lines with a value, a design ``~ terms + response`` not of full rank or with
    fewer than :data:`MIN_RESIDUAL_DF` residual df (on the lines with a response)."""
    from ..tl.panels import oriented_response, response_design

    field = f".contrasts.{name}"
    column = str(contrast["response"])
    if column not in sheet.columns:
        return [f"{field}.response: {column!r} is not a column of the sample sheet (columns: "
                f"{', '.join(map(str, sheet.columns))})"]
    try:
        samples = terms.assign(**{column: sheet.loc[terms.index, column]})
        oriented = oriented_response(samples, column, str(contrast["higher_is"]))
        kept = samples.loc[oriented.notna()].assign(**{column: oriented[oriented.notna()]})
        x = response_design(kept, column, adjusting_terms(design))
    except DesignError as exc:
        return [f"{field}.response: {exc}"]
    from ..tl.linear_model import _estimable_columns

    estimable = _estimable_columns(x.to_numpy(float))
    if not estimable.all():
        return [f"{field}.response: {column!r} is confounded with the design's terms (design column "
                f"{x.columns[~estimable][0]!r} is a combination of the others) on the {len(kept)} lines with a "
                "value: the design is not of full rank"]
    df = x.shape[0] - x.shape[1]
    if df < MIN_RESIDUAL_DF:
        return [f"{field}.response: {x.shape[0]} lines with a value for {x.shape[1]} coefficients leave {df} "
                f"residual degree(s) of freedom; at least {MIN_RESIDUAL_DF} are needed (add lines or drop "
                "covariates)"]
    return []


def response_samples(obs: pd.DataFrame, model: dict) -> pd.DataFrame:
    """A response model's fitted lines: their design terms (:func:`design_samples`) and the
    response column as stored by prepare (numbers, NaN = no value), index = sample ids."""
    terms = design_samples(obs, model["design"])
    column = model["response"]
    return terms.assign(**{column: pd.to_numeric(obs.loc[terms.index, column], errors="coerce")})


def check_design(dataset: str, sheet: pd.DataFrame, design: dict, contrasts: dict, where: str = "") -> None:
    """Raise :class:`DesignError` listing :func:`design_problems` as `datasets.{ds}.{field}: ...`."""
    problems = design_problems(sheet, design, contrasts)
    if problems:
        source = f" ({where})" if where else ""
        raise DesignError(f"data set {dataset}{source}: the design cannot be fitted:\n"
                          + "\n".join(f"  datasets.{dataset}{p}" for p in problems))


def fitted_design(dataset: str, sheet: pd.DataFrame, design: dict, contrasts: dict) -> tuple[pd.DataFrame, dict]:
    """(design matrix of the fitted samples, {contrast: column weights}) after :func:`check_design`."""
    from ..tl.linear_model import design_matrix

    check_design(dataset, sheet, design, contrasts)
    terms = design_samples(sheet, design)
    pair_by = design.get("pair_by") or None
    covariates = [str(c) for c in design.get("covariates") or []]
    x = design_matrix(terms, str(design["factor"]), covariates, pair_by)
    weights = {name: contrast_weights(design, *contrast_levels(c)) for name, c in contrasts.items()
               if not is_response(c)}
    return x, weights


def design_grouping(dataset: str, sheet: pd.DataFrame, design: dict, contrasts: dict, where: str = ""):
    """prepare's :class:`~igf1r_resistance.pp.groups.Grouping` of a design data set.

    Every sample with a factor value is kept (the fit uses them all): `resistant` /
    `sensitive` are the first contrast's levels (what QC and the data-set tables show),
    `intermediate` the other fitted samples, `excluded` samples without a factor value.
    Raises :class:`DesignError` (via :func:`check_design`) when the design cannot be fitted.
    """
    from .groups import Grouping

    check_design(dataset, sheet, design, contrasts, where)
    terms = design_samples(sheet, design)
    # the first contrast of levels names the groups; a panel of response contrasts only has none
    # (every fitted line intermediate: a response has no resistant / sensitive group)
    first = next((name for name, c in contrasts.items() if not is_response(c)), "")
    if first:
        groups = contrast_groups(terms, design, *contrast_levels(contrasts[first]))
    else:
        groups = pd.Series("excluded", index=terms.index, dtype=object)
    groups = groups.replace("excluded", "intermediate").reindex(sheet.index).fillna("excluded")
    factor = str(design.get("factor") or "")
    record = {
        "group_rule": "design", "group_field": factor, "design_factor": factor,
        "design_covariates": ";".join(str(c) for c in design.get("covariates") or []),
        "design_pair_by": str(design.get("pair_by") or ""),
        "contrasts": ";".join(contrasts), "group_contrast": first,
    }
    return Grouping(groups, factor, None, record)


def design_obs(samples: pd.DataFrame, design: dict, contrasts: dict | None = None) -> pd.DataFrame:
    """The design columns prepare stores in obs (as text, as the sheet has them), then the
    response column of each response contrast (as numbers, NaN = no value)."""
    columns = [column for _, column in design_terms(design)]
    out = samples[columns].astype(object).where(samples[columns].notna(), "").astype(str)
    for contrast in (contrasts or {}).values():
        if is_response(contrast):
            column = str(contrast["response"])
            raw = samples[column].astype(object).where(samples[column].notna(), "").astype(str).str.strip()
            out[column] = pd.to_numeric(raw.where(raw != ""), errors="coerce").astype(float)
    return out


def factor_levels(obs: pd.DataFrame, design: dict) -> pd.Series:
    """Per sample its factor level (the groups whose means decide `measurable`); one level
    "all" for a design without a factor."""
    if not design.get("factor"):
        return pd.Series("all", index=obs.index)
    return obs[str(design["factor"])].astype(str)


def design_set_effects(scores: pd.DataFrame, obs: pd.DataFrame, model: dict, methods,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Set scores through the model's design: per method, limma on the sets x samples score
    matrix (``score ~ 0 + factor + covariates [+ pair_by]``, the contrast test - reference,
    moderated t across the sets; Haenzelmann et al. 2013, BMC Bioinformatics 14:7, the
    GSVA-then-limma route), so a set's estimate is adjusted for the covariates and pairs as
    the genes' are.

    Parameters
    ----------
    scores
        Long table ``sample, gene_set, method, score`` (scores.tsv).
    obs
        The fitted samples' design columns (expression.h5ad obs).
    model
        :func:`model_spec` of a contrast.
    methods
        Scoring methods to fit.

    Returns
    -------
    pandas.DataFrame
        ``gene_set, method, logFC, CI.L, CI.R, t, P.Value`` (topTable's, one row per set and method).
    """
    from ..tl.linear_model import linear_model

    contrast = model["contrast"]
    x, weights = fitted_design(model["dataset"], obs, model["design"],
                               {contrast: {"test": model["test"], "reference": model["reference"]}})
    out = []
    for method in methods:
        long = scores[scores["method"] == method]
        if long.empty:
            continue
        wide = long.pivot(index="gene_set", columns="sample", values="score").reindex(columns=x.index)
        table = linear_model(wide.astype(float), x, {contrast: weights[contrast]}, confidence=confidence)[contrast]
        out.append(table.rename(columns={"gene": "gene_set"}).assign(method=method))
    columns = ["gene_set", "method", "logFC", "CI.L", "CI.R", "t", "P.Value"]
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)


__all__ = ["DesignError", "MODEL_KEYS", "adjusting_terms", "check_design", "contrast_groups", "contrast_levels",
           "contrast_problems", "contrast_weights", "dataset_of", "design_grouping", "design_obs", "design_problems",
           "design_samples", "design_set_effects", "design_terms", "factor_levels", "first_model", "fitted_design",
           "has_design", "is_response", "model_ids", "model_spec", "response_problems", "response_samples",
           "series_design_sheet"]
