"""Side-effect risk: one calibrated classifier of grade >= 3 per CTCAE v5 term.

:class:`ToxicityModel` fits a :class:`~recommender.models.response.CalibratedBoostedClassifier` per
CTCAE term on patient x received-treatment rows (the treatment features are part of the input, so
each risk is conditioned on the candidate treatment). A term with fewer than ``min_events`` severe
events in the training data is not modelled and is listed in ``skipped_terms_`` with the reason;
predictions never invent a number for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recommender import vocab
from recommender.models._base import as_frame, check_fitted, read_json, write_json
from recommender.models.response import CalibratedBoostedClassifier

__all__ = ["ToxicityModel", "severe_toxicity_labels", "term_slug"]


def term_slug(term: str) -> str:
    """File-name-safe form of a CTCAE term (``Neutrophil count decreased`` -> ``neutrophil_count_decreased``)."""
    return "".join(ch if ch.isalnum() else "_" for ch in term.lower()).strip("_")


def severe_toxicity_labels(adverse_events: pd.DataFrame, row_keys: pd.Series | list[str],
                           terms: list[str] | None = None, key: str = "patient_id") -> pd.DataFrame:
    """0/1 matrix (rows ``row_keys``, columns CTCAE terms): any grade >= 3 of the term.

    Parameters
    ----------
    adverse_events
        Table with ``key``, ``term`` and ``grade`` columns (the cohorts ``adverse_events`` table).
    row_keys
        One key per training row (e.g. the patient of each received-treatment row).
    terms
        Terms to include (default: every term with at least one severe event).
    """
    ae = adverse_events
    severe = ae[ae["grade"].astype(float) >= vocab.SEVERE_GRADE]
    if terms is None:
        terms = sorted(severe["term"].dropna().unique().tolist())
    keys = pd.Index(list(row_keys))
    out = pd.DataFrame(0, index=range(len(keys)), columns=terms, dtype="int64")
    for term in terms:
        hit = set(severe.loc[severe["term"] == term, key])
        out[term] = keys.isin(list(hit)).astype("int64")
    return out


def _modelled_terms(Y: Any, n_rows: int, terms: list[str] | None, min_events: int
                    ) -> tuple[list[str], dict[str, str]]:
    """Check the label frame ``Y`` (one 0/1 column per CTCAE term, ``n_rows`` rows) and split ``terms`` (default:
    its columns) into those with at least ``min_events`` severe events and non-events, and the others (with why)."""
    if not isinstance(Y, pd.DataFrame):
        raise TypeError("Y must be a DataFrame with one 0/1 column per CTCAE term")
    if len(Y) != n_rows:
        raise ValueError("Y must have one row per row of X")
    kept: list[str] = []
    skipped: dict[str, str] = {}
    for term in (list(terms) if terms is not None else list(Y.columns)):
        if term not in Y.columns:
            skipped[term] = "no labels for this term in the training data"
            continue
        events = int(Y[term].to_numpy().astype(int).sum())
        if events < min_events or len(Y) - events < min_events:
            skipped[term] = f"{events} severe events in {len(Y)} rows (< {min_events})"
            continue
        kept.append(term)
    return kept, skipped


class ToxicityModel(BaseEstimator):
    """Per-term calibrated risk of a severe (grade >= 3) toxicity.

    Parameters
    ----------
    terms : list of str or None
        CTCAE terms to model (``None``: every column of ``Y`` with enough events).
    min_events : int
        Fewest severe events (and non-events) a term needs to be modelled.
    classifier_params : dict or None
        Hyper-parameters of each :class:`CalibratedBoostedClassifier`.

    Attributes
    ----------
    models_ : dict[str, CalibratedBoostedClassifier]
    terms_ : list[str]
    skipped_terms_ : dict[str, str]  (term -> reason)
    feature_names_in_ : numpy.ndarray
    """

    def __init__(self, terms: list[str] | None = None, min_events: int = 10,
                 classifier_params: dict[str, Any] | None = None) -> None:
        self.terms = terms
        self.min_events = min_events
        self.classifier_params = classifier_params

    def fit(self, X: Any, Y: pd.DataFrame, sample_weight: Any = None) -> ToxicityModel:
        """Fit one classifier per term (columns of ``Y``: CTCAE terms, values 0/1)."""
        frame = as_frame(X, estimator="ToxicityModel")
        kept, skipped = _modelled_terms(Y, len(frame), self.terms, self.min_events)
        models = {}
        for term in kept:
            clf = CalibratedBoostedClassifier(**(self.classifier_params or {}))
            models[term] = clf.fit(frame, Y[term].to_numpy().astype(int), sample_weight=sample_weight)
        self.models_ = models
        self.terms_ = list(models)
        self.skipped_terms_ = skipped
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """Calibrated P(grade >= 3) per modelled term: DataFrame (rows of ``X`` x ``terms_``)."""
        check_fitted(self, "models_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="ToxicityModel")
        return pd.DataFrame({t: m.predict_proba(frame)[:, 1] for t, m in self.models_.items()}, index=frame.index)

    def save(self, directory: str | Path, name: str = "toxicity") -> list[Path]:
        check_fitted(self, "models_")
        directory = Path(directory)
        paths = []
        slugs = {}
        for term, model in self.models_.items():
            slugs[term] = f"{name}__{term_slug(term)}"
            paths += model.save(directory, slugs[term])
        meta = {"class": "ToxicityModel", "params": self.get_params(), "files": slugs,
                "skipped_terms": self.skipped_terms_, "feature_names": list(self.feature_names_in_)}
        paths.append(write_json(directory / f"{name}.json", meta))
        return paths

    @classmethod
    def load(cls, directory: str | Path, name: str = "toxicity") -> ToxicityModel:
        directory = Path(directory)
        meta = read_json(directory / f"{name}.json")
        est = cls(**meta["params"])
        est.models_ = {t: CalibratedBoostedClassifier.load(directory, slug) for t, slug in meta["files"].items()}
        est.terms_ = list(est.models_)
        est.skipped_terms_ = dict(meta["skipped_terms"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        return est
