"""Combine one hypothesis across resistance models: random-effects meta-analysis within strata.

The unit is the **model** (a resistant vs sensitive comparison; today each data set is one
model, `model` = data-set id). Models are pooled only with models of the same kind, the
**stratum**: the model's `model_type` (chemotherapy resistance, endocrine resistance,
targeted-therapy resistance, a regulator comparison named by its factor, ...) and, where the
data-set config gives `drug_class`, also `model_type / drug_class` when a model type holds more
than one drug class. The **headline** stratum (config `meta.headline_stratum`, default
chemotherapy resistance) answers the review's question; every other stratum gets its own rows.

Per hypothesis x stratum (one row of results/summary/meta.tsv, :data:`META_COLUMNS`):

- **Effects.** Group hypotheses: Hedges' g of the primary scoring method with its variance.
  Couplings: Fisher's z of Spearman's rho with the Bonett-Wright variance
  (:func:`igf1r_resistance.tl.stats.spearman_z_variance`), pooled on z and reported as rho.
- **Pooling** (:func:`igf1r_resistance.tl.meta_stats.rma`, equal to metafor 3.8): REML tau^2
  (config `meta.tau2_method`: REML, PM or DL) with Hartung-Knapp-Sidik-Jonkman CI and p (t on
  k - 1 df; config `meta.test`: knha or z), the 95% prediction interval, Q, I^2 with its
  Q-profile CI, leave-one-model-out range of the estimate, and the vote count by direction
  (models with a positive / negative effect, shown beside the estimate when k < 5).
- **Pseudo-replicates.** A single-cell model whose samples are cells (no `replicate_column`),
  or whose replicate column gives fewer than 2 replicates per group, compares 1 culture with
  1 culture: its variance measures cell-to-cell noise, not the variation between cultures
  the pooled estimate needs, and would take most of the weight. Such models are listed in
  `descriptive_models` and never pooled.
- **Two-sided predictions** ("changed") are not pooled as signed effects: opposite shifts in
  different models are not one mechanism, and a signed mean of them is meaningless. Pooling
  |g| is not done either: |g| is a folded quantity whose expectation is positive even when every
  true effect is 0 (about sqrt(2/pi) standard errors), so a pooled |g| has no valid "no
  change" null without a folded-normal model that 3 vs 3 variances cannot support. These rows
  report heterogeneity only (Q, I^2, tau^2 of the signed effects: do models disagree?) and the
  vote count; estimate, CI and p are empty and the verdict is inconclusive (note says why).
- **Verdict** (null: the pooled mean effect is 0): BH FDR over the pooled rows of one stratum,
  each stratum its own family (the headline stratum is the confirmatory family; the others are
  secondary and never change it); supported / contradicted / inconclusive by
  :func:`igf1r_resistance.tl.stats.verdict`. A stratum with fewer than `meta.min_models` pooled
  models is not_testable.

References: Viechtbauer 2010 (J Stat Softw 36:3, metafor); IntHout et al. 2014 (BMC Med Res
Methodol 14:25, HKSJ); Cochrane Handbook v6.4 section 10.10.4 (REML + HKSJ + prediction
intervals); Bonett & Wright 2000 (Psychometrika 65:23).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..workflow.config import dataset_type
from . import meta_stats, stats

META_COLUMNS = [
    "hypothesis", "stratum", "k", "models", "method", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "i2", "p_value", "verdict",
    # extras
    "headline", "effect_measure", "scoring_method", "predicted", "observed", "se", "df", "fdr", "fdr_family",
    "i2_ci_low", "i2_ci_high", "tau2_ci_low", "tau2_ci_high", "q", "q_p", "vote_up", "vote_down",
    "loo_min", "loo_max", "weights", "descriptive_models", "note",
]
DEFAULT_SETTINGS = {"tau2_method": "REML", "test": "knha", "headline_stratum": "chemotherapy resistance",
                    "min_models": 2}
DEFAULT_MODEL_TYPE = "chemotherapy resistance"
_EXCLUDED_VERDICTS = {"not_testable", "not_measurable", "context"}
_TWO_SIDED = {"changed"}


def model_metadata(datasets: dict) -> dict[str, dict]:
    """Per model what the meta-analysis needs from the config: a plain data set is one
    model (id = data-set id), each contrast of a design another (id = `ds/contrast`, with
    the contrast's model_type and drug_class when it gives them; designs.model_spec).

    Parameters:
        datasets: config["datasets"] (validated, defaults filled).

    Returns:
        {model id: {model_type, drug_class (None when not given), data_type (the
        config `type`), replicate_column (None when not given)}}.
    """
    from ..pp.designs import model_ids, model_spec

    out = {}
    for model in model_ids(datasets):
        spec = model_spec(datasets, model)
        settings = datasets[spec["dataset"]] or {}
        drug_class = spec["drug_class"] or settings.get("drug_class")
        out[model] = {
            "model_type": str(spec["model_type"] or DEFAULT_MODEL_TYPE),
            "drug_class": None if drug_class in (None, "") else str(drug_class),
            "data_type": dataset_type(spec["dataset"], settings),
            "replicate_column": settings.get("replicate_column") or None,
        }
    return out


def _truthy(series: pd.Series) -> pd.Series:
    return series.astype(str).str.lower().isin(["true", "1"])


def _model_table(primary: pd.DataFrame, models: dict[str, dict]) -> pd.DataFrame:
    """Attach model id, model_type, drug_class and pseudo-replication to each primary row.

    hypotheses.tsv columns `model`, `model_type`, `drug_class` win when present and non-empty;
    the config (`models`, from :func:`model_metadata`) fills the rest.
    """
    t = primary.copy()
    ds = t["dataset"].astype(str)
    if "model" in t.columns:  # a contrast's rows are its model's (ds/contrast), not the data set's
        named = t["model"].astype(object)
        ds = named.where(named.notna() & (named.astype(str) != ""), ds).astype(str)
    meta_of = [models.get(d, {}) for d in ds]

    def column(name: str, from_config: list) -> pd.Series:
        cfg = pd.Series(from_config, index=t.index, dtype=object)
        if name in t.columns:
            given = t[name].astype(object)
            given = given.where(given.notna() & (given.astype(str) != ""), cfg)
            return given
        return cfg

    t["model"] = column("model", list(ds)).astype(str)
    t["model_type"] = column("model_type", [m.get("model_type", DEFAULT_MODEL_TYPE) for m in meta_of])
    t["model_type"] = t["model_type"].fillna(DEFAULT_MODEL_TYPE).astype(str)
    t["drug_class"] = column("drug_class", [m.get("drug_class") for m in meta_of])
    single_cell = np.array([m.get("data_type") == "single_cell" for m in meta_of], dtype=bool)
    if "data_type" in t.columns:  # written by the hypotheses step from the prepared data
        single_cell |= t["data_type"].astype(str).eq("single_cell").to_numpy()
    has_replicates = np.array([bool(m.get("replicate_column")) for m in meta_of], dtype=bool)
    n_min = np.minimum(pd.to_numeric(t.get("n_resistant"), errors="coerce").to_numpy(float),
                       pd.to_numeric(t.get("n_sensitive"), errors="coerce").to_numpy(float))
    # with a replicate column the samples are pseudobulk replicates: at least 2 per group to pool
    t["pseudo_replicated"] = single_cell & ~(has_replicates & (n_min >= 2))
    return t


def _strata(t: pd.DataFrame) -> list[tuple[str, pd.Index]]:
    """(stratum, row index) pairs: each model type, and model_type / drug_class where a type has several classes."""
    out = []
    for model_type, sub in t.groupby("model_type", sort=True):
        out.append((str(model_type), sub.index))
        classes = sub["drug_class"].dropna().astype(str)
        classes = classes[classes != ""]
        if classes.nunique() > 1:
            for drug_class, idx in classes.groupby(classes).groups.items():
                out.append((f"{model_type} / {drug_class}", pd.Index(idx)))
    return out


def _effects(sub: pd.DataFrame, coupling: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows with a usable effect, their effects and variances on the pooling scale."""
    if coupling:
        rho = pd.to_numeric(sub["effect"], errors="coerce").to_numpy(float)
        n = (pd.to_numeric(sub["n_resistant"], errors="coerce")
             + pd.to_numeric(sub["n_sensitive"], errors="coerce")).to_numpy(float)
        var = np.array([stats.spearman_z_variance(r, int(m)) if np.isfinite(m) else math.nan
                        for r, m in zip(rho, n)])
        ok = np.isfinite(rho) & (np.abs(rho) < 1) & np.isfinite(var)
        return sub[ok], np.arctanh(rho[ok]), var[ok]
    g = pd.to_numeric(sub["hedges_g"], errors="coerce").to_numpy(float)
    var = pd.to_numeric(sub["g_variance"], errors="coerce").to_numpy(float)
    ok = np.isfinite(g) & np.isfinite(var) & (var > 0)
    return sub[ok], g[ok], var[ok]


def _pool(hid: str, stratum: str, sub: pd.DataFrame, settings: dict) -> dict:
    """One meta.tsv row (before the FDR) for the models of one stratum."""
    first = sub.iloc[0]
    predicted = str(first["predicted"])
    coupling = str(first.get("test", "group")) == "coupling"
    descriptive = sorted(set(sub.loc[sub["pseudo_replicated"], "model"]))
    testable = sub[~sub["pseudo_replicated"] & ~sub["verdict"].astype(str).isin(_EXCLUDED_VERDICTS)]
    used, y, v = _effects(testable, coupling)
    k = len(used)
    method = f"{settings['tau2_method']}-{'HKSJ' if settings['test'] == 'knha' else 'Wald'}"
    notes = []
    if descriptive:
        notes.append(f"not pooled (pseudo-replicates: single cells without 2 replicates per group): "
                     f"{', '.join(descriptive)}")
    row = {
        "hypothesis": hid, "stratum": stratum, "k": k, "models": ";".join(used["model"].astype(str)),
        "method": method, "effect_measure": "spearman_rho (pooled via Fisher z)" if coupling else "hedges_g",
        "scoring_method": str(first.get("method", "")), "predicted": predicted,
        "vote_up": int((y > 0).sum()), "vote_down": int((y < 0).sum()),
        "descriptive_models": ";".join(descriptive), "verdict": "not_testable", "observed": "none",
    }
    if k < settings["min_models"]:
        notes.insert(0, f"{k} model(s) testable in this stratum, at least {settings['min_models']} needed")
        return {**row, "note": "; ".join(notes)}
    try:
        fit = meta_stats.rma(y, v, method=settings["tau2_method"], test=settings["test"])
    except ArithmeticError as exc:  # the tau^2 estimator did not converge (metafor stops too)
        notes.insert(0, f"not pooled: {exc}")
        return {**row, "note": "; ".join(notes)}
    row.update(tau2=fit.tau2, i2=fit.i2, i2_ci_low=fit.i2_ci_low, i2_ci_high=fit.i2_ci_high,
               tau2_ci_low=fit.tau2_ci_low, tau2_ci_high=fit.tau2_ci_high, q=fit.q, q_p=fit.q_p,
               weights=";".join(f"{w:.2f}" for w in fit.weights), verdict="inconclusive")
    if k < 5:
        notes.append(f"k = {k} < 5: vote count {row['vote_up']} up / {row['vote_down']} down beside the estimate")
    if predicted in _TWO_SIDED:
        notes.insert(0, "two-sided prediction: not pooled with a sign (heterogeneity and vote count only)")
        return {**row, "method": f"{settings['tau2_method']} heterogeneity only", "note": "; ".join(notes)}
    back = math.tanh if coupling else (lambda x: x)
    loo = [f.estimate for f in meta_stats.leave_one_out(y, v, method=settings["tau2_method"],
                                                           test=settings["test"]) if f is not None]
    est = back(fit.estimate)
    row.update(estimate=est, se=fit.se, df=fit.df, ci_low=back(fit.ci_low), ci_high=back(fit.ci_high),
               pi_low=back(fit.pi_low), pi_high=back(fit.pi_high), p_value=fit.p_value,
               loo_min=back(min(loo)) if loo else math.nan, loo_max=back(max(loo)) if loo else math.nan,
               observed="none" if est == 0 else (("positive" if est > 0 else "negative") if coupling
                                                 else ("up" if est > 0 else "down")))
    return {**row, "note": "; ".join(notes)}


def meta_analyse(hypotheses: pd.DataFrame, models: dict[str, dict] | None = None, *, alpha: float = 0.05,
                 settings: dict | None = None) -> pd.DataFrame:
    """Pool each hypothesis across models within strata (see the module docstring).

    Parameters:
        hypotheses: the rows of every data set's hypotheses.tsv (columns dataset, hypothesis,
            method, primary, test, predicted, verdict, effect, hedges_g, g_variance,
            n_resistant, n_sensitive; optional model, model_type, drug_class, role, data_type).
        models: :func:`model_metadata` of the config (model_type, drug_class, data_type,
            replicate_column per data set); missing data sets default to chemotherapy
            resistance, bulk.
        alpha: FDR threshold of the verdict.
        settings: config `meta` (tau2_method, test, headline_stratum, min_models).

    Returns:
        meta.tsv as a DataFrame with :data:`META_COLUMNS`, one row per hypothesis x stratum,
        the headline stratum's row first for each hypothesis.
    """
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    models = models or {}
    primary = hypotheses[_truthy(hypotheses["primary"])]
    if "role" in primary.columns:  # context rows carry no verdict and are not evidence
        primary = primary[primary["role"].astype(str) != "context"]
    table = _model_table(primary, models)
    rows = []
    for hid, sub in table.groupby("hypothesis", sort=False):
        for stratum, idx in _strata(sub):
            rows.append(_pool(str(hid), stratum, sub.loc[idx], settings))
    if not rows:
        return pd.DataFrame(columns=META_COLUMNS)
    out = pd.DataFrame(rows)
    for col in META_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    headline = settings["headline_stratum"]
    out["headline"] = out["stratum"].eq(headline)
    out["verdict"] = out["verdict"].astype(object)
    out["fdr_family"] = out["stratum"].map(
        lambda s: f"{s} (headline)" if s == headline else f"{s} (secondary)").astype(object)
    for idx in out.groupby("stratum").groups.values():
        block = out.loc[idx]
        pooled = block.index[block["p_value"].notna()]
        if len(pooled):
            out.loc[pooled, "fdr"] = stats.bh_fdr(out.loc[pooled, "p_value"].to_numpy(float))
            out.loc[pooled, "verdict"] = [
                stats.verdict(e, f, p, alpha=alpha)
                for e, f, p in zip(out.loc[pooled, "estimate"], out.loc[pooled, "fdr"], out.loc[pooled, "predicted"])
            ]
    order = out.assign(_h=~out["headline"], _n=range(len(out)))
    order["_first"] = order.groupby("hypothesis", sort=False)["_n"].transform("min")
    out = out.loc[order.sort_values(["_first", "_h", "_n"]).index].reset_index(drop=True)
    out["note"] = out["note"].fillna("")
    for col in ("models", "descriptive_models", "weights"):
        out[col] = out[col].fillna("")
    return out[META_COLUMNS]
