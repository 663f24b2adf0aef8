"""The researcher's cohort report: what a scored cohort looks like and how the predictions hold up.

``build_report(SCORES.parquet, COHORT)`` reads the output of ``recommender cohort score`` (only the columns it
needs, in record batches, so a 100,000-patient cohort fits in modest memory) with the cohort's tables and
computes a frozen, JSON-ready :class:`CohortReport`; :func:`render_html` turns it into one self-contained HTML
page (inline CSS and SVG figures from :mod:`cohorts.report_figures`, no scripts, no external address).

Sections and their statistical choices:

* **Predictions per treatment**: per candidate regimen, over every patient it was scored for, ``n``, mean,
  median, quartiles (IQR), 5th/95th percentiles and a fixed-bin histogram of the predicted response
  probability, PFS and OS medians and the highest severe-toxicity probability.
* **Pharmacogenomic phenotypes by population** (``patients.population``, else ``ancestry``, else
  ``unknown``): per gene x population, phenotype counts and % of the patients whose gene was called
  (``called``/``ambiguous``/``outside_call`` with a phenotype); the other patients are counted as not callable.
* **Calibration** where outcomes exist, on the regimen each patient received (first line of the treatments
  table; patients whose received regimen is not among their scored options are left out): objective response
  (best response CR or PR = 1, SD or PD = 0, NE or missing left out, as :mod:`recommender.models.training`
  labels it) and, per CTCAE term, a severe toxicity (any grade >= :data:`recommender.vocab.SEVERE_GRADE` of the
  term, :func:`recommender.models.toxicity.severe_toxicity_labels`). Equal-count quantile bins (up to 10, at
  least 5 patients each), Brier score, calibration-in-the-large (intercept of a logistic model of the outcome
  with ``logit(p)`` as offset; 0 is ideal) and calibration slope (logistic recalibration
  ``outcome ~ a + b logit(p)``; 1 is ideal) by Newton-Raphson maximum likelihood.
* **Survival by adherence to the recommendation**: Kaplan-Meier of PFS and OS for "received the recommended
  option (rank 1)" vs "received another option" (lifelines, :func:`cohorts.evaluation.km.km_compare`): numbers
  at risk at fixed times, medians with 95% CI; the log-rank p only when every group has at least
  :data:`MIN_GROUP_FOR_TEST` patients; Cox hazard ratios (lifelines ``CoxPHFitter``) unadjusted and adjusted for
  age, stage and ECOG where present. Observational: confounded by indication.
* **Provenance** (package, model bundle, cohort, scoring plan, genome build, report time) and the disclaimer.

The statistics live in :mod:`cohorts.report_stats` (re-exported here), the figures in
:mod:`cohorts.report_figures`, the page in ``cohorts/templates/cohort_report.html.j2``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohorts.errors import CohortError
from cohorts.report_stats import (
    METRICS,
    MIN_GROUP_FOR_TEST,
    OTHER,
    RECOMMENDED,
    Calibration,
    Distributions,
    PgxFrequencies,
    SurvivalComparison,
    _Dict,
    calibration,
    distributions,
    pgx_frequencies,
    survival_comparison,
)

__all__ = [
    "MIN_GROUP_FOR_TEST",
    "OTHER",
    "RECOMMENDED",
    "Calibration",
    "CohortReport",
    "build_report",
    "calibration",
    "render_html",
    "report_tables",
    "survival_comparison",
    "write_report",
]

#: File metadata key ``recommender cohort score`` writes (JSON provenance of the run).
META_KEY = b"recommender.cohort_score"
#: Columns of the score file the report reads.
SCORE_COLUMNS = ("patient_id", "regimen", "rank", "p_response", "pfs_median_days", "os_median_days",
                 "max_toxicity_probability", "toxicity", "pgx_phenotypes", "model_bundle_id", "model_bundle_sha256")
#: Best responses counted as no objective response; RESPONDERS (CR/PR) is the response model's own label
#: (recommender.models.training); NE is not evaluable (left out).
NON_RESPONDERS = ("SD", "PD")
#: Gene call statuses that carry a phenotype.
CALLED = ("called", "ambiguous", "outside_call")
CAVEAT = (
    "Observational comparison: who received the recommended option was decided by clinicians for reasons "
    "(tumour, fitness, preferences) that also affect outcome, so the groups differ by more than the "
    "recommendation (confounding by indication). The adjusted hazard ratio accounts only for the covariates "
    "named; neither number is a causal effect of following the recommender."
)


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ReportProvenance(_Dict):
    """Where the numbers come from."""

    scores_file: str
    scores_sha256: str
    scoring_package_version: str | None
    report_package_version: str
    model_bundle_ids: tuple[str, ...]
    model_bundle_sha256: tuple[str, ...]
    cohort: str | None
    cohort_version: str | None
    cohort_dir: str
    cohort_dir_scored: str | None
    plan: str | None
    genome_build: str | None
    created: str
    #: Knowledge-base versions the scores were computed with (PGx tables, biomarker tables, DNA LM, feature schema).
    knowledge_bases: dict[str, Any] | None = None


@dataclass(frozen=True)
class CohortReport(_Dict):
    """Everything the HTML report and the app's Cohort page show (JSON-ready via :meth:`to_dict`)."""

    title: str
    provenance: ReportProvenance
    n_patients_cohort: int
    n_patients_scored: int
    n_rows: int
    n_with_treatment: int
    n_received_scored_option: int
    n_received_recommended: int
    distributions: Distributions
    pgx: PgxFrequencies
    response_calibration: Calibration | None
    toxicity_calibration: tuple[Calibration, ...]
    survival: tuple[SurvivalComparison, ...]
    notes: tuple[str, ...]
    caveat: str
    disclaimer: str

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


# ------------------------------------------------------------------------------------------------ reading
def open_scores(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Open a ``recommender cohort score`` Parquet: ``(pyarrow ParquetFile, run metadata)``.

    Raises :class:`~cohorts.errors.CohortError` naming the file when it is missing, unreadable or not a
    cohort score file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    score_fix = "give the Parquet file written by 'recommender cohort score COHORT -o SCORES.parquet'"
    if not p.is_file():
        raise CohortError("scores file not found", file=p,
                          fix="check the path, or write it with 'recommender cohort score COHORT -o SCORES.parquet'")
    try:
        pf = pq.ParquetFile(p, pre_buffer=False)  # no read-ahead cache: memory bounded by one batch
    except (pa.ArrowException, OSError) as err:
        raise CohortError(f"not a readable Parquet file ({str(err).splitlines()[0]})", file=p,
                          fix="re-run 'recommender cohort score' to write it again") from None
    meta = pf.schema_arrow.metadata or {}
    missing = [c for c in SCORE_COLUMNS if c not in pf.schema_arrow.names]
    if META_KEY not in meta or missing:
        what = ("no 'recommender.cohort_score' metadata" if META_KEY not in meta
                else f"columns missing: {', '.join(missing)}")
        raise CohortError(f"not a cohort score file ({what})", file=p, fix=score_fix)
    try:
        info = json.loads(meta[META_KEY])
    except (ValueError, UnicodeDecodeError):
        raise CohortError("the 'recommender.cohort_score' metadata is not JSON", file=p, fix=score_fix) from None
    return pf, info if isinstance(info, dict) else {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_table(cohort: Any, name: str, wanted: Sequence[str]) -> pd.DataFrame | None:
    """Only the ``wanted`` columns (those present) of a cohort table, or ``None`` when the table is absent."""
    import pyarrow.parquet as pq

    entry = cohort.manifest.tables.get(name)
    if entry is None:
        return None
    path = cohort.path / entry.path
    try:
        names = pq.read_schema(path).names
        return pq.read_table(path, columns=[c for c in wanted if c in names]).to_pandas()
    except (OSError, ValueError) as err:
        raise CohortError(f"cannot read the {name} table ({str(err).splitlines()[0]})", file=path,
                          fix="restore the file or re-import the cohort") from None


def _first_line(treatments: pd.DataFrame) -> pd.DataFrame:
    """The received regimen per patient: the lowest ``line`` (table order breaks ties; missing line last)."""
    tr = treatments.reset_index(drop=True).copy()
    tr["_order"] = np.arange(len(tr))
    if "line" in tr.columns:
        tr["_line"] = pd.to_numeric(tr["line"], errors="coerce").astype(float).fillna(np.inf)
        tr = tr.sort_values(["patient_id", "_line", "_order"], kind="stable")
    else:
        tr = tr.sort_values(["patient_id", "_order"], kind="stable")
    return tr.drop_duplicates("patient_id")[["patient_id", "regimen"]].astype({"regimen": "object"})


class _Vocab:
    """Strings <-> small integer codes shared by all batches (no Python string per row)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}

    def code(self, name: str) -> int:
        if name not in self._code:
            self._code[name] = len(self.names)
            self.names.append(name)
        return self._code[name]

    def encode(self, column: Any) -> np.ndarray:
        """Codes of an Arrow string array (``-1`` for null), via Arrow dictionary encoding."""
        import pyarrow.compute as pc

        enc = pc.dictionary_encode(column)
        mapping = np.array([self.code(str(x)) for x in enc.dictionary.to_pylist()] + [-1], dtype=np.int32)
        idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return mapping[idx]


@dataclass
class _Scan:
    """Accumulators of the streaming pass (internal). Patients are integer codes (row in the patients table),
    regimens, terms, genes and phenotypes codes of :class:`_Vocab`."""

    n_patients: int
    n_populations: int
    regimens: _Vocab
    n_rows: int = 0
    n_missing: int = 0
    words: _Vocab = field(default_factory=_Vocab)
    values: list = field(default_factory=list)
    pheno: Counter = field(default_factory=Counter)
    matched: list = field(default_factory=list)
    tox: list = field(default_factory=list)
    bundles: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self.scored = np.zeros(self.n_patients, dtype=bool)
        self.pop_sizes = np.zeros(self.n_populations, dtype=np.int64)


def _scan(pf: Any, code_of: pd.Index, pop_code: np.ndarray, n_pops: int, received: np.ndarray,
          regimens: _Vocab, batch_size: int) -> _Scan:
    """One pass over the score file in record batches (only the needed columns; memory bounded by the batch).

    ``received[patient code]`` is the code (in ``regimens``) of the regimen the patient received, ``-1`` if none.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    acc = _Scan(len(code_of), n_pops, regimens)
    words = acc.words
    for batch in pf.iter_batches(batch_size=batch_size, columns=list(SCORE_COLUMNS)):
        acc.n_rows += batch.num_rows
        codes = code_of.get_indexer(batch.column("patient_id").to_numpy(zero_copy_only=False))
        regimen = regimens.encode(batch.column("regimen"))
        rank = batch.column("rank").fill_null(0).to_numpy(zero_copy_only=False).astype(np.int32)
        acc.values.append(pd.DataFrame({"regimen": regimen, "rank": rank,
                                        **{c: batch.column(c).to_numpy(zero_copy_only=False).astype(float)
                                           for c in METRICS}}))
        for b, s in zip(pc.unique(batch.column("model_bundle_id")).to_pylist(),
                        pc.unique(batch.column("model_bundle_sha256")).to_pylist(), strict=False):
            acc.bundles.add((str(b), str(s)))
        # one row per patient (rank 1): population sizes and phenotypes
        first = rank == 1
        c1 = codes[first]
        acc.n_missing += int((c1 < 0).sum())
        known = c1[c1 >= 0]
        acc.scored[known] = True
        acc.pop_sizes += np.bincount(pop_code[known], minlength=n_pops)
        lists = batch.column("pgx_phenotypes").filter(pa.array(first))
        flat = pc.list_flatten(lists)
        if len(flat):
            parent = c1[pc.list_parent_indices(lists).to_numpy()]
            gene, status, phen = (words.encode(flat.field(f)) for f in ("gene", "status", "phenotype"))
            called = np.isin(status, [words.code(x) for x in CALLED])
            keep = (parent >= 0) & called & (phen >= 0) & (phen != words.code(""))
            df = pd.DataFrame({"pop": pop_code[parent[keep]], "gene": gene[keep], "phenotype": phen[keep]})
            for key, n in df.groupby(["pop", "gene", "phenotype"]).size().items():
                acc.pheno[key] += int(n)
        # the row of the regimen each patient received
        got = np.where(codes >= 0, received[np.clip(codes, 0, None)], -1)
        hit = np.flatnonzero((got >= 0) & (got == regimen))
        if len(hit):
            p_resp = batch.column("p_response").to_numpy(zero_copy_only=False).astype(float)
            acc.matched.append(pd.DataFrame({"code": codes[hit], "rank": rank[hit], "p_response": p_resp[hit]}))
            tox = batch.column("toxicity").take(pa.array(hit))
            flat = pc.list_flatten(tox)
            if len(flat):
                parent = pc.list_parent_indices(tox).to_numpy()
                acc.tox.append(pd.DataFrame({"code": codes[hit][parent], "term": words.encode(flat.field("term")),
                                             "probability": flat.field("probability").to_numpy(
                                                 zero_copy_only=False).astype(float)}))
    return acc


def build_report(scores: str | os.PathLike[str], cohort_dir: str | os.PathLike[str] | None = None, *,
                 batch_size: int = 20_000, now: datetime | None = None) -> CohortReport:
    """Compute the cohort report of a score file.

    Parameters
    ----------
    scores
        Output of ``recommender cohort score`` (Parquet with its run metadata).
    cohort_dir
        The scored cohort (default: ``cohort_dir`` recorded in the score file).
    batch_size
        Rows per record batch read from the score file (bounds memory).
    now
        Report time (default: now, UTC).

    Raises
    ------
    CohortError
        Missing/corrupt/foreign score file, missing cohort, or scored patients absent from the cohort.
    """
    import pyarrow as pa

    from cohorts.storage import load_cohort
    from recommender.models.toxicity import severe_toxicity_labels
    from recommender.recommendation import DISCLAIMER, package_version

    scores = Path(scores)
    pf, info = open_scores(scores)
    notes: list[str] = []
    if cohort_dir is None:
        if not info.get("cohort_dir"):
            raise CohortError("the score file does not name its cohort directory", file=scores,
                              fix="pass --cohort DIR (the cohort that was scored)")
        cohort_dir = info["cohort_dir"]
    cohort_path = Path(cohort_dir)
    if not (cohort_path / "manifest.json").is_file():
        raise CohortError("cohort directory not found (no manifest.json)", file=cohort_path,
                          fix="pass --cohort DIR with the cohort that was scored")
    cohort = load_cohort(cohort_path, validate=False)
    m = cohort.manifest
    if info.get("cohort") and (info.get("cohort"), str(info.get("cohort_version"))) != (m.name, str(m.version)):
        notes.append(f"the score file was made from cohort {info.get('cohort')!r} version "
                     f"{info.get('cohort_version')}, this cohort is {m.name!r} version {m.version}")

    # -- patients as integer codes (row of the patients table), population, received regimen
    patients = _read_table(cohort, "patients", ("patient_id", "population", "ancestry", "age", "stage", "ecog",
                                                "cancer_type"))
    assert patients is not None  # required table (load_cohort checks it is listed)
    patients = patients.drop_duplicates("patient_id").reset_index(drop=True)
    code_of = pd.Index(patients["patient_id"].astype(str).to_numpy(dtype=object))
    if "population" in patients.columns and patients["population"].notna().any():
        pop_source = "population"
        pop = patients["population"].astype("object")
        if "ancestry" in patients.columns:
            pop = pop.where(pop.notna(), patients["ancestry"].astype("object"))
    elif "ancestry" in patients.columns and patients["ancestry"].notna().any():
        pop_source, pop = "ancestry", patients["ancestry"].astype("object")
    else:
        pop_source, pop = "none", pd.Series([None] * len(patients), dtype="object")
    pops = pd.Categorical(pop.where(pop.notna(), "unknown").astype(str))
    received = _first_line(_read_table(cohort, "treatments", ("patient_id", "regimen", "line")))  # type: ignore[arg-type]
    regimens = _Vocab()
    received_by_code = np.full(len(code_of), -1, dtype=np.int32)
    rc = code_of.get_indexer(received["patient_id"].astype(str).to_numpy(dtype=object))
    received_by_code[rc[rc >= 0]] = [regimens.code(str(r)) for r in received["regimen"].to_numpy(dtype=object)[rc >= 0]]
    del received

    # -- one streaming pass over the score file
    try:
        acc = _scan(pf, code_of, np.asarray(pops.codes, dtype=np.int64), len(pops.categories), received_by_code,
                    regimens, batch_size)
    except (pa.ArrowException, OSError) as err:
        raise CohortError(f"the score file is damaged ({str(err).splitlines()[0]})", file=scores,
                          fix="re-run 'recommender cohort score' to write it again") from None
    finally:
        pf.close()
    n_scored = int(acc.scored.sum())
    if acc.n_missing:
        raise CohortError(
            f"{acc.n_missing} of {acc.n_missing + n_scored} scored patients are not in this cohort's patients table",
            file=cohort_path / m.tables["patients"].path,
            fix=f"pass --cohort DIR with the cohort that was scored (the score file names {info.get('cohort_dir')})")
    bundles = acc.bundles

    rows = pd.concat(acc.values, ignore_index=True) if acc.values else pd.DataFrame(
        {"regimen": [], "rank": [], **{k: [] for k in METRICS}})
    rows["regimen"] = pd.Categorical.from_codes(rows["regimen"].to_numpy(dtype=np.int64), regimens.names) \
        if len(rows) else rows["regimen"].astype(str)
    dist = distributions(rows)
    del rows
    acc.values.clear()
    names, words = list(pops.categories), acc.words.names
    pgx = pgx_frequencies(Counter({(names[p], words[g], words[ph]): n for (p, g, ph), n in acc.pheno.items()}),
                          Counter({names[i]: int(n) for i, n in enumerate(acc.pop_sizes) if n}), pop_source)

    # -- outcomes of the received regimen
    matched = (pd.concat(acc.matched, ignore_index=True) if acc.matched
               else pd.DataFrame({"code": pd.Series([], dtype=np.int64), "rank": [], "p_response": []}))
    matched["recommended"] = matched["rank"] == 1
    outcomes = _read_table(cohort, "outcomes", ("patient_id", "best_response", "pfs_days", "pfs_event",
                                                "os_days", "os_event"))
    outcomes = (outcomes if outcomes is not None else pd.DataFrame({"patient_id": []})).drop_duplicates("patient_id")
    outcomes["code"] = code_of.get_indexer(outcomes["patient_id"].astype(str).to_numpy(dtype=object))
    covs = patients[[c for c in ("age", "stage", "ecog", "cancer_type") if c in patients.columns]].copy()
    covs["code"] = np.arange(len(patients))
    frame = (matched.merge(outcomes.drop(columns="patient_id"), on="code", how="left")
             .merge(covs, on="code", how="left"))

    response = None
    if "best_response" in frame.columns and frame["best_response"].notna().any():
        from recommender.models.training import RESPONDERS

        br = frame["best_response"].astype("object")
        y = np.where(br.isin(RESPONDERS), 1.0, np.where(br.isin(NON_RESPONDERS), 0.0, np.nan))
        response = calibration(y, frame["p_response"].to_numpy(dtype=float),
                               "objective response (best response CR or PR) on the received regimen")
    else:
        notes.append("no best response recorded: response calibration not shown")

    tox_cal: list[Calibration] = []
    ae = _read_table(cohort, "adverse_events", ("patient_id", "term", "grade"))
    tox_long = pd.concat(acc.tox, ignore_index=True) if acc.tox else pd.DataFrame(
        {"code": [], "term": [], "probability": []})
    acc.tox.clear()
    if ae is not None and len(ae) and len(tox_long):
        ae["code"] = code_of.get_indexer(ae["patient_id"].astype(str).to_numpy(dtype=object))
        for code, g in sorted(tox_long.groupby("term"), key=lambda kv: words[int(kv[0])]):
            term = words[int(code)]
            labels = severe_toxicity_labels(ae, g["code"].tolist(), terms=[term], key="code")
            tox_cal.append(calibration(labels[term].to_numpy(dtype=float), g["probability"].to_numpy(dtype=float),
                                       f"severe {term} (grade >= 3)"))
    elif ae is None or not len(ae):
        notes.append("no adverse events recorded: toxicity calibration not shown")

    survival = tuple(survival_comparison(frame, ep) for ep in ("pfs", "os")
                     if f"{ep}_days" in frame.columns and frame[f"{ep}_days"].notna().any())
    if not survival:
        notes.append("no PFS or OS recorded: survival comparison not shown")

    bundle_ids = tuple(sorted({b for b, _ in bundles}))
    prov = ReportProvenance(
        scores_file=str(scores), scores_sha256=_sha256(scores), scoring_package_version=info.get("package_version"),
        report_package_version=package_version(), model_bundle_ids=bundle_ids,
        model_bundle_sha256=tuple(sorted({s for _, s in bundles})), cohort=m.name, cohort_version=str(m.version),
        cohort_dir=str(cohort_path), cohort_dir_scored=info.get("cohort_dir"), plan=info.get("plan"),
        genome_build=info.get("genome_build") or m.genome_build,
        created=(now or datetime.now(UTC)).replace(microsecond=0).isoformat(),
        knowledge_bases=info.get("knowledge_bases"))
    if len(bundle_ids) > 1:
        notes.append(f"the score file mixes {len(bundle_ids)} model bundles")
    with_tr = int((acc.scored & (received_by_code >= 0)).sum())
    return CohortReport(
        title=f"Cohort report: {m.name}", provenance=prov, n_patients_cohort=m.tables["patients"].rows,
        n_patients_scored=n_scored, n_rows=acc.n_rows, n_with_treatment=with_tr,
        n_received_scored_option=len(matched), n_received_recommended=int(matched["recommended"].sum()),
        distributions=dist, pgx=pgx, response_calibration=response, toxicity_calibration=tuple(tox_cal),
        survival=survival, notes=tuple(notes), caveat=CAVEAT, disclaimer=DISCLAIMER)


# ------------------------------------------------------------------------------------------------ tables
def _r(v: float | None, digits: int) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def report_tables(report: CohortReport) -> dict[str, pd.DataFrame]:
    """The report's tables as DataFrames (for the app and notebooks).

    Keys: ``predictions``, ``calibration``, ``response_bins``, ``pgx:<GENE>`` (phenotype rows x population
    columns "count (pct%)" plus a "not callable" row), and per endpoint ``km:<ep>``, ``cox:<ep>`` and, with
    several cancer types, ``km_strata:<ep>`` (Kaplan-Meier per cancer type, log-rank within each).
    """
    d = report.distributions
    rows = []
    for reg in d.regimens:
        row: dict[str, Any] = {"regimen": reg.regimen, "patients": reg.n_patients, "ranked first": reg.n_recommended}
        for m in d.metrics:
            s = reg.metric(m)
            k = 0 if d.units[m] else 3
            row[f"{d.labels[m]}: median"] = _r(s.median, k)
            row[f"{d.labels[m]}: IQR"] = "-" if s.q1 is None else f"{s.q1:.{k}f}-{s.q3:.{k}f}"
        rows.append(row)
    out = {"predictions": pd.DataFrame(rows)}
    cals = ([report.response_calibration] if report.response_calibration else []) + list(report.toxicity_calibration)
    out["calibration"] = pd.DataFrame([{
        "outcome": c.label, "n": c.n, "events": c.events, "mean predicted": _r(c.mean_predicted, 3),
        "observed": _r(c.observed_rate, 3), "Brier": _r(c.brier, 4),
        "calibration-in-the-large": _r(c.calibration_in_the_large, 3), "slope": _r(c.calibration_slope, 3),
        "slope 95% CI": "-" if c.slope_ci[0] is None else f"{c.slope_ci[0]:.2f} to {c.slope_ci[1]:.2f}",
        "note": c.note or ""} for c in cals])
    if report.response_calibration is not None:
        out["response_bins"] = pd.DataFrame([{"bin": i + 1, "predicted from": _r(b.low, 3), "predicted to": _r(b.high, 3),
                                              "n": b.n, "mean predicted": _r(b.mean_predicted, 3),
                                              "observed": _r(b.observed, 3)}
                                             for i, b in enumerate(report.response_calibration.bins)])
    pg = report.pgx
    for gene in pg.genes:
        grid = []
        for ph in pg.phenotypes_of(gene):
            row = {"phenotype": ph}
            for pop in pg.populations:
                cell = pg.cell(gene, pop)
                hit = next((p for p in cell.phenotypes if p.phenotype == ph), None) if cell else None
                row[f"{pop} (n={pg.populations[pop]})"] = "0" if hit is None else f"{hit.count} ({hit.percent:.1f}%)"
            grid.append(row)
        grid.append({"phenotype": "not callable", **{f"{pop} (n={n})": str(c.n_not_callable if (c := pg.cell(gene, pop)) else n)
                                                    for pop, n in pg.populations.items()}})
        out[f"pgx:{gene}"] = pd.DataFrame(grid)
    for comp in report.survival:
        out[f"km:{comp.endpoint}"] = pd.DataFrame([{
            "group": g.label, "n": g.n, "events": g.events, "median (days)": _r(g.median, 0),
            "95% CI": f"{'not reached' if g.median_ci[0] is None else round(g.median_ci[0])} to "
                      f"{'not reached' if g.median_ci[1] is None else round(g.median_ci[1])}",
            **{f"at risk day {t:.0f}": n for t, n in zip(comp.times, g.at_risk, strict=False)}} for g in comp.groups])
        if comp.strata:
            out[f"km_strata:{comp.endpoint}"] = pd.DataFrame([{
                "cancer type": st.cancer_type, "group": g.label, "n": g.n, "events": g.events,
                "median (months)": None if g.median is None else round(g.median / 30.4375, 1),
                "log-rank p (within cancer type)": _r(st.logrank_p, 4) if st.logrank_p is not None
                else (st.logrank_note or "-")}
                for st in comp.strata for g in st.groups])
        out[f"cox:{comp.endpoint}"] = pd.DataFrame([{
            "model": h.model, "n": h.n, "events": h.events, "HR (recommended vs another)": _r(h.hr, 3),
            "95% CI": "-" if h.hr is None else f"{h.low:.2f} to {h.high:.2f}", "p": _r(h.p, 4), "note": h.note or ""}
            for h in comp.hazard_ratios])
    return out


# ------------------------------------------------------------------------------------------------ HTML
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _fmt(v: Any, digits: int = 2, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if pct:
        return f"{100 * v:.0f}%"
    return f"{v:.{digits}f}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def render_html(report: CohortReport, figures: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; no scripts, no external address)."""
    import jinja2
    from markupsafe import Markup

    from cohorts.report_figures import report_figures

    figs = report_figures(report) if figures is None else figures
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _fmt
    env.filters["pval"] = _fmt_p
    return env.get_template("cohort_report.html.j2").render(
        r=report, figures={k: Markup(v) for k, v in figs.items()}, metrics=METRICS,
        min_group=MIN_GROUP_FOR_TEST)


def write_report(report: CohortReport, html_path: str | os.PathLike[str],
                 json_path: str | os.PathLike[str] | None = None) -> Path:
    """Write the HTML (and optionally the JSON) report atomically (temporary file + rename)."""
    from recommender.commands._output import write_atomic

    out = write_atomic(html_path, render_html(report))
    if json_path is not None:
        write_atomic(json_path, report.to_json() + "\n")
    return out

