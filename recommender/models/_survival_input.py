"""Input validation of the survival estimators' ``fit``: scikit-learn's contract with a survival target.

The survival estimators (:mod:`recommender.models.survival`) take ``y`` as scikit-survival does: a numpy
structured array with a boolean event field and a float time field (``sksurv.util.Surv.from_arrays(event,
time)`` or :func:`survival_target` here, which needs no scikit-survival). The forms the rest of the package
used before still work: ``fit(X, time, event)``, a 2-column ``(time, event)`` array, a DataFrame with
``time`` and ``event`` columns.

:func:`validate_survival_fit` is what every ``fit`` calls first: parameter constraints
(``_parameter_constraints``), :func:`sklearn.utils.validation.validate_data` on ``X`` (NaN allowed -- the
estimators impute or route missing values -- infinity refused), the target checked (finite, non-negative
times, at least one event, one row per sample) and the sample weights (non-negative, not all zero).

Examples
--------
>>> y = survival_target([True, False], [12.0, 30.5])
>>> y.dtype.names
('event', 'time')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SURVIVAL_Y_HELP", "survival_target", "validate_survival_fit"]

#: What a survival target must look like (appended to every target error).
SURVIVAL_Y_HELP = ("y must be a structured array with a boolean event field and a float time field, e.g. "
                   "sksurv.util.Surv.from_arrays(event, time) or recommender.models.survival_target(event, time); "
                   "(time, event) columns or fit(X, time, event) also work")


def survival_target(event: Any, time: Any, *, event_name: str = "event", time_name: str = "time") -> np.ndarray:
    """A scikit-survival style structured target ``[(event: bool, time: float), ...]``.

    Parameters
    ----------
    event : array-like of bool
        ``True`` when the event was observed, ``False`` when censored.
    time : array-like of float
        Time of the event or of censoring.
    """
    ev = np.asarray(event)
    t = np.asarray(time, dtype="float64")
    if ev.shape != t.shape or ev.ndim != 1:
        raise ValueError(f"event and time must be 1-D and of the same length (got {ev.shape} and {t.shape})")
    if ev.dtype != np.bool_:
        if not np.isin(ev, [0, 1]).all():
            raise ValueError("event must hold booleans (or 0/1)")
        ev = ev.astype(bool)
    out = np.empty(len(t), dtype=[(event_name, "?"), (time_name, "<f8")])
    out[event_name], out[time_name] = ev, t
    return out


def _target(y: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    from recommender.models.survival import split_survival_target

    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    if event is None and isinstance(y, (pd.Series, list, tuple)) and np.asarray(y).ndim == 1 \
            and np.asarray(y).dtype.names is None:
        raise ValueError(f"a 1-D y is not a survival target: {SURVIVAL_Y_HELP}")
    try:
        time, ev = split_survival_target(y, event)
    except (KeyError, IndexError, TypeError) as err:
        raise ValueError(f"cannot read the survival target ({type(err).__name__}: {err}): {SURVIVAL_Y_HELP}") from None
    except ValueError as err:
        raise ValueError(f"{err}: {SURVIVAL_Y_HELP}") from None
    if time.ndim != 1 or ev.ndim != 1 or len(time) != len(ev):
        raise ValueError(f"time and event must be 1-D and of the same length: {SURVIVAL_Y_HELP}")
    return time, ev


def validate_survival_fit(estimator: Any, X: Any, y: Any, event: Any = None, sample_weight: Any = None, *,
                          min_events: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``(frame, time, event, weights)`` for ``estimator.fit``, every input checked (see the module docstring).

    Sets ``n_features_in_`` and ``feature_names_in_`` (the DataFrame's column names, else ``f0, f1, ...``,
    which the bundle's feature alignment relies on).

    Raises
    ------
    ValueError
        Invalid parameters (``InvalidParameterError`` is a ``ValueError``), ``X`` empty, 1-D, complex,
        infinite or not numeric, a target that is not a survival target, negative or non-finite times, fewer
        than ``min_events`` events, mismatched lengths, negative or all-zero sample weights.
    """
    from sklearn.utils.validation import _check_sample_weight, check_consistent_length, validate_data

    if hasattr(estimator, "_validate_params") and getattr(estimator, "_parameter_constraints", None):
        estimator._validate_params()
    index = X.index if isinstance(X, pd.DataFrame) else None
    columns = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
    if columns is not None and not all(isinstance(c, str) for c in X.columns):
        X = X.set_axis(columns, axis=1)  # validate_data only records all-string names
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    arr = validate_data(estimator, X, reset=True, dtype="float64", ensure_all_finite="allow-nan",
                        ensure_min_samples=2)
    names = columns if columns is not None else [f"f{i}" for i in range(arr.shape[1])]
    frame = pd.DataFrame(arr, columns=names, index=index)
    time, ev = _target(y, event)
    check_consistent_length(arr, time)
    if not np.isfinite(time).all():
        raise ValueError("the survival times hold NaN or infinite values")
    if (time < 0).any():
        raise ValueError("the survival times must not be negative")
    if int(ev.sum()) < min_events:
        raise ValueError(f"too few events to fit {type(estimator).__name__}: needs at least {min_events}, y has "
                         f"{int(ev.sum())}" + (" (all samples are censored)" if ev.sum() == 0 else ""))
    if sample_weight is None:
        w = np.ones(len(time))
    else:
        w = _check_sample_weight(sample_weight, arr, dtype=np.float64, ensure_non_negative=True)
        if w.sum() <= 0:
            raise ValueError("sample weights sum to zero: nothing to fit")
    estimator.feature_names_in_ = np.array(names, dtype=object)
    estimator.n_features_in_ = len(names)
    return frame, time, ev, w


def check_finite_prediction_input(frame: pd.DataFrame) -> None:
    """Refuse ``+-inf`` in prediction input (``NaN`` is a missing value and allowed)."""
    if np.isinf(frame.to_numpy(dtype="float64", copy=False)).any():
        raise ValueError("Input X contains infinity: give finite values (NaN for a missing value)")
