"""ModelBundle: a versioned directory of fitted models in safe formats, with integrity checks.

Layout::

    <bundle>/
      MANIFEST.json        bundle id, format, created, package version, sha256 of every other file
      feature_schema.json  the FeatureSchema (its hash is in the manifest)
      metadata.json        training-data fingerprint, metrics, hyper-parameters, knowledge-base versions
      MODEL_CARD.md        what it was trained on, in plain words
      response.ubj/.json, response_ens.json + members, survival_<endpoint>_{cox,boosted}...,
      toxicity*.json/.ubj, propensity.json, ood.json

Only ``.json``, ``.ubj`` and ``.md`` files are written or accepted (no pickle, no joblib).
:meth:`ModelBundle.load` verifies every sha256 listed in the manifest, refuses unlisted or unsafe
files, refuses a bundle whose feature-builder version differs from the running code, and refuses
a feature schema other than ``expected_schema`` when one is given (:class:`FeatureSchemaMismatchError`).

:meth:`ModelBundle.predict_options` is the call a scoring API makes: patient + candidate options ->
one :class:`OptionPrediction` per option (response, survival, toxicity, each with an interval,
drivers, and the out-of-distribution check).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genomics.fileio import sha256_file, swap_directory
from recommender.features.build import build_feature_frame, resolve_option
from recommender.features.schema import BUILDER_VERSION, FeatureSchema
from recommender.models._base import (
    BundleIntegrityError,
    FeatureSchemaMismatchError,
    ModelError,
    read_json,
    write_json,
)
from recommender.models.counterfactual import BootstrapEnsemble, OodDetector, PropensityModel
from recommender.models.effects import DrugCauseToxicity, InteractionCox, InteractionLogit, InteractionToxicity
from recommender.models.explain import explain_hazard, explain_probability
from recommender.models.response import CalibratedBoostedClassifier, ResponseModel
from recommender.models.survival import BoostedSurvival, CoxBaseline, load_survival_model
from recommender.models.toxicity import ToxicityModel

__all__ = ["BUNDLE_FORMAT", "ModelBundle", "OptionPrediction", "package_version", "sha256_file"]

BUNDLE_FORMAT = "model-bundle/1"
SAFE_SUFFIXES = (".json", ".ubj", ".md")
_MEMBER_CLASSES = {"CalibratedBoostedClassifier": CalibratedBoostedClassifier, "ResponseModel": ResponseModel,
                   "BoostedSurvival": BoostedSurvival, "CoxBaseline": CoxBaseline, "ToxicityModel": ToxicityModel,
                   "InteractionLogit": InteractionLogit, "InteractionCox": InteractionCox,
                   "InteractionToxicity": InteractionToxicity, "DrugCauseToxicity": DrugCauseToxicity}


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genomics-treatment-recommender")
    except PackageNotFoundError:
        return "0.0.0+unknown"




@dataclass(frozen=True)
class OptionPrediction:
    """Model output for one candidate treatment of one patient (JSON via :meth:`to_dict`).

    ``response``: ``{"p", "low", "high", "drivers"}``; ``survival``: endpoint -> ``{"median_days",
    "low", "high", "cox_median_days", "times", "survival", "drivers"}`` (medians ``None`` = not reached);
    ``toxicity``: CTCAE term -> ``{"p", "low", "high", "drivers"}``; ``ood``: ``{"flag", "reasons", ...}``;
    ``propensity``: how often patients like this one received the option in training; ``imputed``:
    values unknown for this patient that were never unknown in training, filled with the training
    median (each named, with the value used).
    """

    regimen: str
    drugs: tuple[str, ...]
    response: dict[str, Any] | None
    survival: dict[str, dict[str, Any]]
    toxicity: dict[str, dict[str, Any]]
    ood: dict[str, Any]
    propensity: float | None
    not_modelled: dict[str, str] = field(default_factory=dict)
    imputed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["drugs"] = list(self.drugs)
        d["imputed"] = list(self.imputed)
        return d


@contextlib.contextmanager
def _stage(timer: Any, name: str) -> Iterator[None]:
    """``timer.stage(name)`` when a timing hook is given, else nothing."""
    if timer is None:
        yield
        return
    with timer.stage(name):
        yield


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if not np.isfinite(v) else v


@dataclass
class ModelBundle:
    """Fitted models + schema + metadata; :meth:`save` / :meth:`load` a versioned directory."""

    schema: FeatureSchema
    response: CalibratedBoostedClassifier | None = None
    response_ensemble: BootstrapEnsemble | None = None
    survival: dict[str, dict[str, Any]] = field(default_factory=dict)  # endpoint -> {cox, boosted, ensemble}
    toxicity: ToxicityModel | None = None
    toxicity_ensemble: BootstrapEnsemble | None = None
    propensity: PropensityModel | None = None
    ood: OodDetector | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    model_card: str = ""
    bundle_id: str = ""
    path: Path | None = None

    # -- identity ------------------------------------------------------------------------------------
    @property
    def schema_hash(self) -> str:
        return self.schema.hash

    def provenance(self) -> dict[str, Any]:
        """What every output built from this bundle should carry."""
        return {
            "bundle_id": self.bundle_id, "bundle_format": BUNDLE_FORMAT, "feature_schema_hash": self.schema_hash,
            "feature_builder_version": self.schema.builder_version,
            "training_data_sha256": self.metadata.get("training_data_sha256"),
            "trained_on": self.metadata.get("trained_on"),
            "knowledge_bases": self.metadata.get("knowledge_bases", {}),
            "package_version_at_training": self.metadata.get("package_version"),
            "manifest_sha256": self.metadata.get("_manifest_sha256"),
        }

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the bundle atomically (a temporary sibling directory renamed into place)."""
        target = Path(directory)
        if target.exists() and not overwrite:
            raise ModelError("bundle directory exists", file=target, fix="choose a new directory or pass overwrite=True")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
        try:
            self.bundle_id = self.bundle_id or f"bundle-{datetime.now(UTC).strftime('%Y%m%d')}-{uuid.uuid4().hex[:8]}"
            files: list[Path] = []
            (tmp / "feature_schema.json").write_text(self.schema.to_json() + "\n", encoding="utf-8")
            files.append(tmp / "feature_schema.json")
            contents: dict[str, Any] = {}
            if self.response is not None:
                files += self.response.save(tmp, "response")
                contents["response"] = {"class": type(self.response).__name__, "name": "response"}
            if self.response_ensemble is not None:
                files += self.response_ensemble.save(tmp, "response_ens")
                contents["response_ensemble"] = "response_ens"
            surv: dict[str, dict[str, str]] = {}
            for endpoint, models in self.survival.items():
                surv[endpoint] = {}
                for kind, model in models.items():
                    if model is None:
                        continue
                    name = f"survival_{endpoint}_{kind}"
                    files += model.save(tmp, name)
                    surv[endpoint][kind] = name
            contents["survival"] = surv
            if self.toxicity is not None:
                files += self.toxicity.save(tmp, "toxicity")
                contents["toxicity"] = "toxicity"
            if self.toxicity_ensemble is not None:
                files += self.toxicity_ensemble.save(tmp, "toxicity_ens")
                contents["toxicity_ensemble"] = "toxicity_ens"
            if self.propensity is not None:
                files += self.propensity.save(tmp, "propensity")
                contents["propensity"] = "propensity"
            if self.ood is not None:
                files += self.ood.save(tmp, "ood")
                contents["ood"] = "ood"
            meta = {k: v for k, v in self.metadata.items() if not k.startswith("_")}
            files.append(write_json(tmp / "metadata.json", meta))
            (tmp / "MODEL_CARD.md").write_text(self.model_card or "# Model card\n\n(no card given)\n", encoding="utf-8")
            files.append(tmp / "MODEL_CARD.md")
            manifest = {
                "format": BUNDLE_FORMAT, "bundle_id": self.bundle_id,
                "created": datetime.now(UTC).isoformat(timespec="seconds"), "package_version": package_version(),
                "feature_schema_hash": self.schema.hash, "feature_builder_version": self.schema.builder_version,
                "contents": contents,
                "files": {p.name: sha256_file(p) for p in sorted(set(files), key=lambda p: p.name)},
            }
            write_json(tmp / "MANIFEST.json", manifest)
            swap_directory(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.path = target
        self.metadata["_manifest_sha256"] = sha256_file(target / "MANIFEST.json")
        return target

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, expected_schema: FeatureSchema | None = None) -> ModelBundle:
        """Load and verify a bundle (module docstring); raises :class:`ModelError` subclasses."""
        root = Path(directory)
        if not (root / "MANIFEST.json").is_file():
            raise BundleIntegrityError("no MANIFEST.json: not a model bundle", file=root,
                                       fix="give the directory written by ModelBundle.save / `recommender cohort train`")
        manifest = read_json(root / "MANIFEST.json")
        if manifest.get("format") != BUNDLE_FORMAT:
            raise BundleIntegrityError(f"unknown bundle format {manifest.get('format')!r}", file=root / "MANIFEST.json",
                                       field="format", fix=f"use a {BUNDLE_FORMAT} bundle or upgrade the package")
        listed = manifest.get("files", {})
        for p in root.iterdir():
            if p.name == "MANIFEST.json" or p.name.startswith("."):
                continue
            if p.suffix not in SAFE_SUFFIXES:
                raise BundleIntegrityError(f"unsafe or unknown file type {p.suffix!r} in a model bundle", file=p,
                                           fix="model bundles hold only .json, .ubj and .md files; rebuild the bundle")
            if p.name not in listed:
                raise BundleIntegrityError("file not listed in MANIFEST.json", file=p,
                                           fix="remove the file or rebuild the bundle")
        for name, digest in listed.items():
            path = root / name
            if not path.is_file():
                raise BundleIntegrityError("file listed in MANIFEST.json is missing", file=path,
                                           fix="rebuild or re-download the model bundle")
            if sha256_file(path) != digest:
                raise BundleIntegrityError("sha256 does not match MANIFEST.json (file altered)", file=path,
                                           field="sha256", fix="rebuild or re-download the model bundle")
        try:
            schema = FeatureSchema.from_json((root / "feature_schema.json").read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as err:
            raise BundleIntegrityError(f"feature schema unreadable: {err}", file=root / "feature_schema.json",
                                       fix="rebuild the model bundle") from None
        if schema.hash != manifest.get("feature_schema_hash"):
            raise FeatureSchemaMismatchError("feature schema hash differs from MANIFEST.json",
                                             file=root / "feature_schema.json", field="feature_schema_hash",
                                             fix="rebuild the model bundle")
        if schema.builder_version != BUILDER_VERSION:
            raise FeatureSchemaMismatchError(
                f"bundle was trained with feature builder {schema.builder_version}, this code builds "
                f"{BUILDER_VERSION}", file=root, field="feature_builder_version",
                fix="retrain the bundle with this version (`recommender cohort train`) or install the matching version")
        if expected_schema is not None and expected_schema.hash != schema.hash:
            raise FeatureSchemaMismatchError(
                f"bundle feature schema {schema.hash[:12]} is not the expected schema {expected_schema.hash[:12]}",
                file=root, field="feature_schema_hash",
                fix="score with the bundle's own schema (bundle.schema) or retrain the bundle for this schema")
        c = manifest.get("contents", {})
        bundle = cls(schema=schema, bundle_id=manifest.get("bundle_id", ""), path=root)
        try:
            if "response" in c:
                bundle.response = _MEMBER_CLASSES[c["response"]["class"]].load(root, c["response"]["name"])
            if "response_ensemble" in c:
                bundle.response_ensemble = BootstrapEnsemble.load(root, c["response_ensemble"], _MEMBER_CLASSES)
            for endpoint, kinds in c.get("survival", {}).items():
                bundle.survival[endpoint] = {}
                for kind, name in kinds.items():
                    if kind == "ensemble":
                        bundle.survival[endpoint][kind] = BootstrapEnsemble.load(root, name, _MEMBER_CLASSES)
                    elif kind in ("cox", "boosted"):
                        klass = {"cox": CoxBaseline, "boosted": BoostedSurvival}[kind]
                        bundle.survival[endpoint][kind] = klass.load(root, name)
                    else:  # e.g. "selected": the cross-validated choice, any survival model class
                        bundle.survival[endpoint][kind] = load_survival_model(root, name, _MEMBER_CLASSES)
            if "toxicity" in c:
                tox_class = read_json(root / f"{c['toxicity']}.json").get("class", "ToxicityModel")
                bundle.toxicity = _MEMBER_CLASSES[tox_class].load(root, c["toxicity"])
            if "toxicity_ensemble" in c:
                bundle.toxicity_ensemble = BootstrapEnsemble.load(root, c["toxicity_ensemble"], _MEMBER_CLASSES)
            if "propensity" in c:
                bundle.propensity = PropensityModel.load(root, c["propensity"])
            if "ood" in c:
                bundle.ood = OodDetector.load(root, c["ood"])
        except (KeyError, ValueError, TypeError) as err:
            raise BundleIntegrityError(f"model file unreadable: {err}", file=root, fix="rebuild the model bundle") from None
        for model in bundle._models():
            names = list(getattr(model, "feature_names_in_", []))
            if names and model is not bundle.propensity and model is not bundle.ood and names != list(schema.columns):
                raise FeatureSchemaMismatchError("a model's feature columns differ from the bundle's schema", file=root,
                                                 field="feature_names", fix="rebuild the model bundle")
        bundle.metadata = read_json(root / "metadata.json")
        bundle.metadata["_manifest_sha256"] = sha256_file(root / "MANIFEST.json")
        bundle.model_card = (root / "MODEL_CARD.md").read_text(encoding="utf-8")
        return bundle

    def without_ensembles(self) -> ModelBundle:
        """A shallow copy sharing the fitted models, without bootstrap ensembles (point predictions only)."""
        import dataclasses

        survival = {ep: {k: m for k, m in models.items() if k != "ensemble"} for ep, models in self.survival.items()}
        return dataclasses.replace(self, response_ensemble=None, toxicity_ensemble=None, survival=survival)

    def _models(self) -> list[Any]:
        out = [self.response, self.toxicity, self.propensity, self.ood]
        for models in self.survival.values():
            out += [m for k, m in models.items() if k != "ensemble"]
        return [m for m in out if m is not None]

    # -- prediction ----------------------------------------------------------------------------------
    # Intervals: the point estimate is the full-data model's; the interval is the bootstrap members'
    # spread around their own median, centred on that point (see _centred_interval). Members fitted on
    # resamples see ~63 % distinct rows and stop earlier, so they shrink effects: their raw percentile
    # interval could exclude the full-data estimate (regression: response 0.39 shown with 0.21-0.38).
    def predict_frame(self, frame: pd.DataFrame, *, explain: bool = False, top: int = 5) -> list[dict[str, Any]]:
        """Predictions for feature rows already built with :attr:`schema` (one dict per row)."""
        missing = [c for c in self.schema.columns if c not in frame.columns]
        if missing:
            raise FeatureSchemaMismatchError(f"{len(missing)} schema columns missing from the feature frame "
                                             f"(first: {', '.join(missing[:3])})", field="features",
                                             fix="build the frame with build_feature_frame(..., schema=bundle.schema)")
        X = frame.loc[:, list(self.schema.columns)]
        notes: list[list[str]] = [[] for _ in range(len(X))]
        if self.ood is not None and hasattr(self.ood, "missing_rate_"):
            X, notes = self.ood.impute_unseen_missing(X)
            X.index = frame.index
        n = len(X)
        rows: list[dict[str, Any]] = [{"response": None, "survival": {}, "toxicity": {}, "not_modelled": {},
                                       "imputed": notes[i]} for i in range(n)]
        if self.response is not None:
            p = self.response.predict_proba(X)[:, 1]
            lo = hi = np.full(n, np.nan)
            if self.response_ensemble is not None:
                mid, lo, hi = self.response_ensemble.interval_of(lambda m: m.predict_proba(X)[:, 1])
                lo, hi = _centred_interval(p, mid, lo, hi, upper=1.0)
            for i in range(n):
                rows[i]["response"] = {"p": _num(p[i]), "low": _num(lo[i]), "high": _num(hi[i]), "drivers": []}
                if explain:
                    rows[i]["response"]["drivers"] = [d.to_dict() for d in explain_probability(
                        self.response, X.iloc[[i]], self.schema, "response probability", top=top, display=frame.iloc[i])]
        else:
            for r in rows:
                r["not_modelled"]["response"] = "no response model in this bundle"
        for endpoint, models in self.survival.items():
            boosted, cox, ens = models.get("boosted"), models.get("cox"), models.get("ensemble")
            main = survival_main(models)
            if main is None:
                continue
            risk, med, curves = main.predict_outputs(X)  # one pass over the model (curves may be non-PH)
            cox_med = cox.predict_median(X) if cox is not None else np.full(n, np.nan)
            lo = hi = np.full(n, np.nan)
            if ens is not None:
                mid, lo, hi = ens.interval_of(lambda m: m.predict_median(X))
                lo, hi = _centred_interval(med, mid, lo, hi, upper=np.inf)
            curve_values = curves.to_numpy()
            times = [float(t) for t in curves.columns]
            explainer = main if isinstance(main, InteractionCox) else boosted  # the model behind the numbers
            for i in range(n):
                entry = {"median_days": _num(med[i]), "low": _num(lo[i]), "high": _num(hi[i]),
                         "cox_median_days": _num(cox_med[i]), "times": list(times),
                         "survival": [float(s) for s in curve_values[i]], "drivers": [], "risk": _num(risk[i])}
                if explain and explainer is not None:
                    entry["drivers"] = [d.to_dict() for d in explain_hazard(
                        explainer, X.iloc[[i]], self.schema, f"{endpoint.upper()} hazard", top=top,
                        display=frame.iloc[i])]
                rows[i]["survival"][endpoint] = entry
        if self.toxicity is not None:
            probs = self.toxicity.predict_proba(X)
            terms = list(probs.columns)
            lo_t = hi_t = None
            if self.toxicity_ensemble is not None:
                def _tox(m: Any) -> np.ndarray:
                    return m.predict_proba(X).reindex(columns=terms).to_numpy()
                mid_t, lo_t, hi_t = self.toxicity_ensemble.interval_of(_tox)
                lo_t, hi_t = _centred_interval(probs.to_numpy(), mid_t, lo_t, hi_t, upper=1.0)
            pv = probs.to_numpy()
            for i in range(n):
                for j, term in enumerate(terms):
                    entry = {"p": _num(pv[i, j]),
                             "low": None if lo_t is None else _num(lo_t[i, j]),
                             "high": None if hi_t is None else _num(hi_t[i, j]), "drivers": []}
                    if explain:
                        entry["drivers"] = [d.to_dict() for d in explain_probability(
                            self.toxicity.models_[term], X.iloc[[i]], self.schema,
                            f"severe {term.lower()} risk", top=3, display=frame.iloc[i])]
                    rows[i]["toxicity"][term] = entry
                for term, reason in self.toxicity.skipped_terms_.items():
                    rows[i]["not_modelled"][f"toxicity: {term}"] = reason
        return rows

    def predict_batch(
        self,
        patients: Sequence[Any],
        options: Sequence[Any] | None = None,
        *,
        pgx: Mapping[str, Any] | None = None,
        biomarkers: Mapping[str, Any] | None = None,
        dnalm: Mapping[str, Any] | None = None,
        covariates: Mapping[str, Mapping[str, Any]] | None = None,
        intervals: bool = True,
    ) -> pd.DataFrame:
        """Flat predictions for many patients x options (the batch form for cohort scoring).

        Columns: ``patient_id``, ``regimen``, ``p_response`` (+ ``_low``/``_high``), per endpoint
        ``<ep>_median_days`` (+ ``_low``/``_high``) and ``<ep>_cox_median_days``, ``p_severe:<term>`` per
        modelled CTCAE term, ``ood_flag``, ``ood_reasons``, ``propensity``. No explanations (use
        :meth:`predict_options` for one patient). Blocks are keyed by ``patient_id``.
        """
        frame = build_feature_frame(list(patients), options, pgx=pgx, biomarkers=biomarkers, dnalm=dnalm,
                                    covariates=covariates, schema=self.schema)
        # no intervals: predict with a shallow view of the bundle without ensembles (never mutate self: a
        # bundle is shared by concurrent sessions)
        rows = (self if intervals else self.without_ensembles()).predict_frame(frame, explain=False)
        out: dict[str, list[Any]] = {"patient_id": [i[0] for i in frame.index], "regimen": [i[1] for i in frame.index]}
        for r in rows:
            flat: dict[str, Any] = {}
            if r["response"] is not None:
                flat.update({"p_response": r["response"]["p"], "p_response_low": r["response"]["low"],
                             "p_response_high": r["response"]["high"]})
            for ep, s in r["survival"].items():
                flat.update({f"{ep}_median_days": s["median_days"], f"{ep}_median_days_low": s["low"],
                             f"{ep}_median_days_high": s["high"], f"{ep}_cox_median_days": s["cox_median_days"]})
            for term, t in r["toxicity"].items():
                flat[f"p_severe:{term}"] = t["p"]
            for k, v in flat.items():
                out.setdefault(k, []).append(v)
        ood = self.ood.check(frame) if self.ood is not None else []
        out["ood_flag"] = [o.flag for o in ood] if ood else [None] * len(frame)
        out["ood_reasons"] = ["; ".join(o.reasons) for o in ood] if ood else [""] * len(frame)
        if self.propensity is not None:
            prop = self.propensity.predict_proba(frame[list(self.propensity.feature_names_in_)])
            out["propensity"] = [_num(prop.iloc[i][reg]) if reg in prop.columns else None
                                 for i, reg in enumerate(out["regimen"])]
        return pd.DataFrame(out)

    def predict_options(
        self,
        patient: Any,
        options: Sequence[Any] | None = None,
        *,
        pgx: Any = None,
        biomarkers: Any = None,
        dnalm: Any = None,
        covariates: Mapping[str, Any] | None = None,
        explain: bool = True,
        top: int = 5,
    ) -> list[OptionPrediction]:
        """Counterfactual predictions for every candidate option of one patient (S-learner).

        ``options`` default to ``patient.candidate_treatments``; the optional blocks are those of
        :func:`recommender.features.build_features`.
        """
        opts = [resolve_option(o) for o in (options if options is not None else patient.candidate_treatments)]
        if not opts:
            raise ModelError("no candidate treatment to score", record=None, field="candidate_treatments",
                             fix="give treatments or fill Patient.candidate_treatments")
        pid = patient.patient_id
        frame = build_feature_frame(
            [patient], [opts], pgx={pid: pgx} if pgx is not None else None,
            biomarkers={pid: biomarkers} if biomarkers is not None else None,
            dnalm={pid: dnalm} if dnalm is not None else None,
            covariates={pid: covariates} if covariates is not None else None, schema=self.schema)
        preds = self.predict_frame(frame, explain=explain, top=top)
        ood = self.ood.check(frame) if self.ood is not None else [None] * len(opts)
        prop = None
        if self.propensity is not None:
            cols = list(self.propensity.feature_names_in_)
            prop = self.propensity.predict_proba(frame[cols])
        return self._option_predictions(opts, preds, ood, prop)

    def predict_options_many(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        explain: bool = False,
        top: int = 5,
        timer: Any = None,
    ) -> list[list[OptionPrediction]]:
        """:meth:`predict_options` for many patients at once: one feature frame, one pass of every model.

        Parameters
        ----------
        items
            One mapping per patient with ``patient`` and the optional ``options``, ``pgx``, ``biomarkers``,
            ``dnalm`` and ``covariates`` of :meth:`predict_options`. Patient ids must be unique in a call.
        explain, top
            As :meth:`predict_options`.
        timer
            Optional timing hook with a ``stage(name)`` context manager (e.g.
            :class:`recommender.scoring.StageTimer`): the frame is timed as ``"features"``, the models as
            ``"models"``.

        Returns
        -------
        list of list of OptionPrediction
            Per item, exactly what :meth:`predict_options` returns for that patient alone (every model is
            row-wise; the propensity product runs per patient block so even the last bit agrees).
        """
        if not items:
            return []
        patients = [it["patient"] for it in items]
        pids = [p.patient_id for p in patients]
        if len(set(pids)) != len(pids):
            raise ValueError("predict_options_many needs distinct patient ids (blocks are keyed by patient_id)")
        opts_list = []
        for it, patient in zip(items, patients, strict=True):
            given = it.get("options")
            opts = [resolve_option(o) for o in (given if given is not None else patient.candidate_treatments)]
            if not opts:
                raise ModelError("no candidate treatment to score", record=None, field="candidate_treatments",
                                 fix="give treatments or fill Patient.candidate_treatments")
            opts_list.append(opts)

        def block(key: str) -> dict[str, Any] | None:
            out = {p.patient_id: it[key] for it, p in zip(items, patients, strict=True) if it.get(key) is not None}
            return out or None

        with _stage(timer, "features"):
            frame = build_feature_frame(patients, opts_list, pgx=block("pgx"), biomarkers=block("biomarkers"),
                                        dnalm=block("dnalm"), covariates=block("covariates"), schema=self.schema)
        with _stage(timer, "models"):
            preds = self.predict_frame(frame, explain=explain, top=top)
            ood = self.ood.check(frame) if self.ood is not None else [None] * len(frame)
            sizes = [len(o) for o in opts_list]
            props: list[Any] = [None] * len(items)
            if self.propensity is not None:
                cols = list(self.propensity.feature_names_in_)
                props = self.propensity.predict_proba_blocks(frame[cols], sizes)
            out: list[list[OptionPrediction]] = []
            k = 0
            for opts, prop in zip(opts_list, props, strict=True):
                n = len(opts)
                out.append(self._option_predictions(opts, preds[k:k + n], ood[k:k + n], prop))
                k += n
        return out

    def _option_predictions(self, opts: Sequence[Any], preds: Sequence[dict[str, Any]], ood: Sequence[Any],
                            prop: pd.DataFrame | None) -> list[OptionPrediction]:
        """One patient's :class:`OptionPrediction` list from its rows of predictions, OOD results, propensities."""
        columns = self._columns_set()
        prop_values = None if prop is None else prop.to_numpy()
        prop_col = {} if prop is None else {c: j for j, c in enumerate(prop.columns)}
        out = []
        for i, opt in enumerate(opts):
            p = None
            if prop is not None and opt.regimen in prop.columns:
                p = _num(prop_values[i, prop_col[opt.regimen]])
            o = ood[i].to_dict() if ood[i] is not None else {"flag": None, "reasons": ["no OOD model in bundle"]}
            if prop is not None and opt.regimen not in prop.columns:
                o = {**o, "flag": True, "reasons": [*o.get("reasons", []), f"{opt.regimen} was never given in training"]}
            unknown = [d for d in opt.drugs if f"tx_drug_{d.replace(' ', '_')}" not in columns]
            if unknown:
                o = {**o, "flag": True, "reasons": [*o.get("reasons", []),
                                                    f"drug(s) unknown to this bundle's features: {', '.join(unknown)}"]}
            out.append(OptionPrediction(
                regimen=opt.regimen, drugs=tuple(opt.drugs), response=preds[i]["response"],
                survival=preds[i]["survival"], toxicity=preds[i]["toxicity"], ood=o, propensity=p,
                not_modelled=preds[i]["not_modelled"], imputed=tuple(preds[i]["imputed"])))
        return out

    def _columns_set(self) -> frozenset[str]:
        """``set(schema.columns)``, computed once per schema."""
        cached = self.__dict__.get("_columns_cache")
        if cached is None or cached[0] is not self.schema:
            cached = (self.schema, frozenset(self.schema.columns))
            self.__dict__["_columns_cache"] = cached
        return cached[1]



def survival_main(models: Mapping[str, Any]) -> Any:
    """The survival model an endpoint's predictions come from: the cross-validated choice, else boosted, else Cox."""
    return models.get("selected") or models.get("boosted") or models.get("cox")


def _centred_interval(point: np.ndarray, mid: np.ndarray, low: np.ndarray, high: np.ndarray,
                      *, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """``point - (mid - low)`` to ``point + (high - mid)``, clipped to ``[0, upper]``.

    The bootstrap distribution's spread estimates the sampling variability; its centre is biased by
    the members' stronger regularisation, so the spread is re-centred on the full-data estimate.
    Where the point is undefined (e.g. a median not reached) the raw percentiles are kept.
    """
    point, mid, low, high = (np.asarray(a, dtype=float) for a in (point, mid, low, high))
    with np.errstate(invalid="ignore"):
        new_low = np.clip(point - (mid - low), 0.0, upper)
        new_high = np.clip(point + (high - mid), 0.0, upper)
    ok = np.isfinite(point) & np.isfinite(mid)
    return np.where(ok, new_low, low), np.where(ok, new_high, high)
