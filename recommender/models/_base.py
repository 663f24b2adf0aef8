"""Shared pieces of the estimators: errors, input alignment, booster and JSON I/O (no pickle)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from genomics.errors import ModelError

__all__ = [
    "BundleIntegrityError",
    "FeatureSchemaMismatchError",
    "ModelError",
    "NotFittedModelError",
    "as_frame",
    "check_fitted",
    "load_booster",
    "read_json",
    "save_booster",
    "write_json",
]


class NotFittedModelError(ModelError, NotFittedError):
    """An estimator was used before ``fit`` (also a :class:`sklearn.exceptions.NotFittedError`)."""


class FeatureSchemaMismatchError(ModelError, ValueError):
    """Model input or a bundle does not match the feature schema it was trained with."""


class BundleIntegrityError(ModelError):
    """A bundle file is missing, altered (sha256 mismatch) or not in a safe format."""


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`NotFittedModelError` unless ``estimator`` has the fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        name = type(estimator).__name__
        raise NotFittedModelError(
            f"this {name} is not fitted yet", field=name,
            fix=f"call {name}.fit(...) first, or load a fitted model from a model bundle",
        )


def as_frame(X: Any, columns: Sequence[str] | None = None, *, estimator: str = "model") -> pd.DataFrame:
    """``X`` as a float DataFrame; with ``columns``, checked and reordered to them.

    A DataFrame must contain every column (extra columns are dropped); an array must have exactly
    ``len(columns)`` columns in that order.
    """
    if isinstance(X, pd.DataFrame):
        frame = X
        if columns is not None and list(frame.columns) == list(columns):
            columns = None  # already aligned (the common case): skip the re-indexing
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise FeatureSchemaMismatchError(
                    f"{len(missing)} feature column(s) the {estimator} was trained with are missing "
                    f"(first: {', '.join(missing[:5])})", field="features",
                    fix="build features with the bundle's feature schema (bundle.schema)")
            frame = frame.loc[:, list(columns)]
        if all(dt == np.float64 for dt in frame.dtypes):
            return frame
        return frame.astype("float64")
    arr = np.asarray(X, dtype="float64")
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D feature matrix, got shape {arr.shape}. Reshape your data either using "
                         "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it "
                         "contains a single sample.")
    if columns is None:
        columns = [f"f{i}" for i in range(arr.shape[1])]
    elif arr.shape[1] != len(columns):
        raise FeatureSchemaMismatchError(
            f"X has {arr.shape[1]} features, but {estimator} is expecting {len(columns)} features as input",
            field="features", fix="build features with the bundle's feature schema (bundle.schema)")
    return pd.DataFrame(arr, columns=list(columns))


def save_booster(booster: Any, path: Path) -> Path:
    """Write an xgboost Booster as UBJSON (a safe, non-executable format), atomically."""
    raw = bytes(booster.save_raw(raw_format="ubj"))
    _atomic_bytes(path, raw)
    return path


def booster_contributions(booster: Any, dmatrix: Any, frame: pd.DataFrame, feature_names: Sequence[str],
                          best_iteration: int) -> pd.DataFrame:
    """Per-feature contributions (xgboost ``pred_contribs`` up to ``best_iteration``; column ``bias`` last)."""
    contrib = booster.predict(dmatrix, pred_contribs=True, validate_features=False,
                              iteration_range=(0, best_iteration + 1))
    return pd.DataFrame(contrib, columns=[*feature_names, "bias"], index=frame.index)


def load_booster(path: Path) -> Any:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(Path(path).read_bytes()))
    return booster


def _atomic_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON (NaN written as null), atomically."""
    text = json.dumps(_nan_to_none(data), indent=1, sort_keys=True, default=_default, allow_nan=False)
    _atomic_bytes(Path(path), (text + "\n").encode())
    return Path(path)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _nan_to_none(obj.tolist())
    if isinstance(obj, np.floating):
        return _nan_to_none(float(obj))
    return obj


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleIntegrityError("file missing", file=path, fix="rebuild or re-download the model bundle") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleIntegrityError(f"not valid JSON: {err}", file=path,
                                   fix="rebuild or re-download the model bundle") from None


def floats(values: Any) -> np.ndarray:
    """JSON list (``null`` = NaN) -> float array."""
    return np.array([np.nan if v is None else v for v in values], dtype="float64")
