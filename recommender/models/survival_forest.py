"""A random survival forest stored as plain arrays (no pickle, no GPL code).

:class:`SurvivalForest` grows ``n_estimators`` scikit-learn regression trees, each on a bootstrap sample of
the training rows, on the null model's martingale residuals ``r_i = d_i - H_NA(t_i)`` (Nelson-Aalen of all
training rows). Squared-error splits on these residuals approximate log-rank splits (Therneau, Grambsch and
Fleming 1990; LeBlanc and Crowley 1992), at the speed of scikit-learn's compiled trees. As in Ishwaran et al.'s
random survival forest (Ann Appl Stat 2008), each leaf then holds the Nelson-Aalen cumulative hazard of its
in-bag rows, summarised as the leaf's *mortality* ``sum_k H_leaf(T_k)`` over the training event times ``T_k``;
a row's risk is the mean mortality of its leaves over the trees (scikit-survival's ``predict`` value).

The product ranks by one log hazard: the forest's is ``log(mortality + eps)``, and
:class:`~recommender.models.survival.BlendedSurvival` standardises and blends it with the other candidates;
:meth:`SurvivalForest.predict_survival` is the Breslow curve of that log hazard. The forest's own curves
(:meth:`SurvivalForest.predict_survival_native`: the mean over the trees of the leaf's Nelson-Aalen cumulative
hazard, stored per leaf as sparse increments) are not proportional-hazards; the curve mixture
(:mod:`recommender.models.survival_mixture`) can use them. ``min_samples_leaf`` and ``max_features`` left at
``None`` are chosen from a small grid by the out-of-bag Harrell's C on the training rows (no extra data seen).

Saved as JSON: per tree the node arrays (children, split feature, threshold, NaN direction, leaf mortality,
leaf hazard increments as CSR arrays), packed as base64 little-endian arrays with dtype and shape; prediction
is numpy only.
"""

from __future__ import annotations

import base64
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from recommender.models._base import (
    BundleIntegrityError,
    as_frame,
    check_fitted,
    read_json,
    write_json,
)
from recommender.models._survival_input import validate_survival_fit
from recommender.models.survival import _SurvivalBase

__all__ = ["FOREST_GRID", "SurvivalForest", "leaf_hazard_increments", "leaf_mortality", "nelson_aalen_at"]

#: ``(min_samples_leaf, max_features)`` pairs tried by out-of-bag C when those parameters are ``None``.
FOREST_GRID: tuple[tuple[int, float], ...] = ((10, 1 / 3), (25, 1 / 3), (60, 1 / 3), (10, 2 / 3), (25, 2 / 3),
                                              (60, 2 / 3))
_LEAF_GRID = tuple(sorted({g[0] for g in FOREST_GRID}))
_FEATURE_GRID = tuple(sorted({g[1] for g in FOREST_GRID}))
_TREE_FIELDS = (("left", "<i4"), ("right", "<i4"), ("feature", "<i4"), ("threshold", "<f8"),
                ("missing_left", "|u1"), ("value", "<f8"))
#: Per tree, the leaves' Nelson-Aalen increments as a sparse (node x training event time) matrix in CSR form:
#: ``chf_ptr`` (nodes + 1), ``chf_index`` (event-time positions), ``chf_value`` (hazard increments). Optional:
#: forests saved before they existed load without them and have no :meth:`SurvivalForest.predict_survival_native`.
_CHF_FIELDS = (("chf_ptr", "<i4"), ("chf_index", "<i4"), ("chf_value", "<f8"))


def nelson_aalen_at(time: np.ndarray, event: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The Nelson-Aalen cumulative hazard of all rows, evaluated at each row's own time (weighted)."""
    t, e = np.asarray(time, float), np.asarray(event, bool)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, float)
    times = np.unique(t[e])
    if not len(times):
        return np.zeros(len(t))
    order = np.argsort(t, kind="stable")
    cum_w = np.cumsum(w[order][::-1])[::-1]  # weight at risk from each sorted position on
    first = np.searchsorted(t[order], times, side="left")
    deaths = np.bincount(np.searchsorted(times, t[e]), weights=w[e], minlength=len(times))
    H = np.cumsum(deaths / np.maximum(cum_w[first], 1e-12))
    pos = np.searchsorted(times, t, side="right") - 1
    return np.where(pos >= 0, H[np.clip(pos, 0, None)], 0.0)


def _leaf_risk_sets(leaf: np.ndarray, weight: np.ndarray, time: np.ndarray, event: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """In-bag rows (``weight`` > 0) sorted by leaf, then time descending, with the weight at risk in the row's
    leaf at its time (``L, V, T, E, at_risk``; the risk set of a row is a prefix of its leaf; ties share one)."""
    m = weight > 0
    L, V, T, E = leaf[m], weight[m], time[m], np.asarray(event, bool)[m]
    order = np.lexsort((-T, L))
    L, V, T, E = L[order], V[order], T[order], E[order]
    cs = np.cumsum(V)
    start = np.searchsorted(L, L, side="left")
    base = np.where(start > 0, cs[np.maximum(start - 1, 0)], 0.0)
    change = np.r_[(L[1:] != L[:-1]) | (T[1:] != T[:-1]), True]
    group_end = np.flatnonzero(change)  # last position of each (leaf, time) group
    gid = np.cumsum(np.r_[0, change[:-1]])
    return L, V, T, E, cs[group_end[gid]] - base


def leaf_mortality(leaf: np.ndarray, weight: np.ndarray, time: np.ndarray, event: np.ndarray,
                   event_times: np.ndarray, n_nodes: int) -> np.ndarray:
    """Per node: ``sum_k H(T_k)`` of the Nelson-Aalen hazard ``H`` of the rows (``weight`` > 0) in that leaf.

    ``sum_k H(T_k) = sum_j dH(t_j) * #{k: T_k >= t_j}``, so only the leaf's own event times are visited.
    """
    L, V, T, E, at_risk = _leaf_risk_sets(leaf, weight, time, event)
    later = len(event_times) - np.searchsorted(event_times, T, side="left")
    contrib = np.where(E, V / np.maximum(at_risk, 1e-12) * later, 0.0)
    return np.bincount(L, weights=contrib, minlength=n_nodes)


def leaf_hazard_increments(leaf: np.ndarray, weight: np.ndarray, time: np.ndarray, event: np.ndarray,
                           event_times: np.ndarray, n_nodes: int) -> dict[str, np.ndarray]:
    """The Nelson-Aalen hazard increments ``dH_leaf(T_k) = d_leaf(T_k) / Y_leaf(T_k)`` of every leaf, as CSR arrays.

    Rows are the tree's nodes (``n_nodes``; internal nodes are empty), columns the positions of the training
    event times ``event_times``; ``weight`` is the in-bag weight of each row (bootstrap count x sample weight).
    ``sum_k dH_leaf(T_k) * #{j: T_j >= T_k}`` is :func:`leaf_mortality`.
    """
    L, V, T, E, at_risk = _leaf_risk_sets(leaf, weight, time, event)
    node, col = L[E], np.searchsorted(event_times, T[E])
    inc = V[E] / np.maximum(at_risk[E], 1e-12)
    key = node.astype(np.int64) * (len(event_times) + 1) + col  # sum the tied events of one leaf and time
    uniq, inv = np.unique(key, return_inverse=True)
    value = np.bincount(inv, weights=inc, minlength=len(uniq))
    u_node, u_col = uniq // (len(event_times) + 1), uniq % (len(event_times) + 1)
    ptr = np.r_[0, np.cumsum(np.bincount(u_node, minlength=n_nodes))]
    return {"chf_ptr": ptr.astype("int32"), "chf_index": u_col.astype("int32"), "chf_value": value.astype("float64")}


def _pack(arr: np.ndarray, dtype: str) -> dict[str, Any]:
    a = np.ascontiguousarray(np.asarray(arr).astype(dtype))
    return {"dtype": dtype, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def _unpack(obj: Any, dtype: str, path: Path) -> np.ndarray:
    try:
        if obj["dtype"] != dtype:
            raise ValueError(f"dtype {obj['dtype']!r}, expected {dtype!r}")
        raw = base64.b64decode(obj["b64"], validate=True)
        a = np.frombuffer(raw, dtype=np.dtype(dtype)).copy()
        return a.reshape([int(s) for s in obj["shape"]])
    except (KeyError, TypeError, ValueError) as err:
        raise BundleIntegrityError(f"a forest tree array is malformed: {err}", file=path,
                                   fix="rebuild the model bundle with this package version") from None


class SurvivalForest(_SurvivalBase):
    """Random survival forest (martingale-residual splits, Nelson-Aalen leaves, mortality risk).

    Parameters
    ----------
    n_estimators : int
        Trees (each on a bootstrap sample of the rows).
    min_samples_leaf : int or None
        Smallest leaf (rows); ``None``: chosen with ``max_features`` from :data:`FOREST_GRID` by the out-of-bag C
        of forests of ``max(25, n_estimators // 4)`` trees, then the chosen forest is grown in full.
    max_features : float or None
        Share of the used columns tried at each split; ``None``: chosen by out-of-bag C.
    max_depth : int or None
    random_state : int

    Attributes
    ----------
    used_columns_ : list of str
        Columns not constant on the training rows (NaN is allowed: each split learns a direction for it).
    min_samples_leaf_, max_features_ : the values in use; ``oob_c_index_``: out-of-bag C of each grid point.
    trees_ : list of dict of numpy arrays; ``event_times_``; the Breslow baseline of ``log(mortality)``.
    """

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left"), None],
        "max_features": [Interval(Real, 0, 1, closed="right"), None],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_estimators: int = 100, min_samples_leaf: int | None = None,
                 max_features: float | None = None, max_depth: int | None = None, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.max_depth = max_depth
        self.random_state = random_state

    # ------------------------------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> SurvivalForest:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight, min_events=2)
        used = [c for c in frame.columns if frame[c].nunique(dropna=False) > 1]
        if not used:  # nothing to split on: one root leaf per tree (the Nelson-Aalen of all rows)
            used = list(frame.columns[:1])
        self.used_columns_ = [str(c) for c in used]
        Z = self._matrix(frame)
        self.event_times_ = np.unique(time[ev])
        target = ev.astype(float) - nelson_aalen_at(time, ev, w)
        leaves = [self.min_samples_leaf] if self.min_samples_leaf is not None else list(_LEAF_GRID)
        feats = [self.max_features] if self.max_features is not None else list(_FEATURE_GRID)
        grid = [(int(a), float(b)) for a in leaves for b in feats]
        self.oob_c_index_: dict[str, float | None] = {}
        if len(grid) == 1:
            (leaf, share), = grid
        else:  # grid points compared on smaller forests' out-of-bag C; the chosen one is then grown in full
            n_tune = max(25, int(self.n_estimators) // 4)
            best: tuple[float, tuple[int, float]] | None = None
            for point in grid:
                _, oob = self._grow(Z, time, ev, w, target, *point, n_trees=n_tune)
                c = _harrell(time, ev, oob)
                self.oob_c_index_[f"min_samples_leaf={point[0]}, max_features={point[1]:.2f}"] = c
                if c is not None and (best is None or c > best[0] + 1e-9):
                    best = (c, point)
            leaf, share = best[1] if best is not None else grid[0]
        self.trees_, _ = self._grow(Z, time, ev, w, target, leaf, share, n_trees=int(self.n_estimators),
                                    keep_hazard=True)
        self.min_samples_leaf_, self.max_features_ = leaf, share
        self._fit_baseline(frame, time, ev, w)
        return self

    def _grow(self, Z: np.ndarray, time: np.ndarray, ev: np.ndarray, w: np.ndarray, target: np.ndarray, leaf: int,
              share: float, *, n_trees: int, keep_hazard: bool = False
              ) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
        from sklearn.tree import DecisionTreeRegressor

        rng = np.random.default_rng(int(self.random_state))
        n = len(time)
        trees: list[dict[str, np.ndarray]] = []
        oob_sum, oob_n = np.zeros(n), np.zeros(n)
        for _ in range(n_trees):
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")
            tree = DecisionTreeRegressor(min_samples_leaf=int(leaf), max_features=float(share),
                                         max_depth=self.max_depth, random_state=int(rng.integers(2**31 - 1)))
            tree.fit(Z, target, sample_weight=counts * w)
            t_ = tree.tree_
            leaf_of = tree.apply(Z)
            value = leaf_mortality(leaf_of, counts * w, time, ev, self.event_times_, t_.node_count)
            trees.append({"left": t_.children_left.astype("int32"), "right": t_.children_right.astype("int32"),
                          "feature": np.where(t_.children_left < 0, -1, t_.feature).astype("int32"),
                          "threshold": t_.threshold.astype("float64"),
                          "missing_left": np.asarray(t_.missing_go_to_left, dtype="uint8"),
                          "value": value})
            if keep_hazard:
                trees[-1].update(leaf_hazard_increments(leaf_of, counts * w, time, ev, self.event_times_,
                                                        t_.node_count))
            out = counts == 0
            oob_sum[out] += value[leaf_of[out]]
            oob_n[out] += 1
        oob = np.where(oob_n > 0, oob_sum / np.maximum(oob_n, 1), np.nan)
        oob[np.isnan(oob)] = np.nanmean(oob) if np.isfinite(oob).any() else 0.0
        return trees, oob

    # ----------------------------------------------------------------------------------------- predicting
    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        # scikit-learn trees compare float32 features with float64 thresholds: the same cast keeps splits identical
        return frame[self.used_columns_].to_numpy(dtype="float32").astype("float64")

    def mortality(self, X: Any) -> np.ndarray:
        """Mean leaf mortality over the trees (the forest's risk score, expected events; higher = worse)."""
        check_fitted(self, "trees_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="SurvivalForest")
        return self._mortality(self._matrix(frame))

    def _mortality(self, Z: np.ndarray) -> np.ndarray:
        total = np.zeros(len(Z))
        for tree in self.trees_:
            total += tree["value"][_apply(tree, Z)]
        return total / len(self.trees_)

    def has_native_curves(self) -> bool:
        """Whether the trees carry their leaves' Nelson-Aalen hazards (forests saved before them do not)."""
        return bool(getattr(self, "trees_", None)) and all("chf_ptr" in t for t in self.trees_)

    def predict_survival_native(self, X: Any, times: Any = None) -> pd.DataFrame:
        """The forest's own survival curves: ``S(t | x) = exp(-mean_b H_leaf_b(x)(t))``.

        ``H_leaf`` is the Nelson-Aalen cumulative hazard of the in-bag rows of the leaf ``x`` falls in, averaged
        over the trees (Ishwaran et al. 2008's ensemble cumulative hazard). Unlike :meth:`predict_survival` (one
        Breslow baseline of ``log(mortality)``, proportional hazards), these curves may cross.
        """
        check_fitted(self, "trees_")
        if not self.has_native_curves():
            raise BundleIntegrityError("this forest was saved without its leaves' hazards", field="SurvivalForest",
                                       fix="retrain the bundle with this package version")
        from scipy import sparse

        frame = as_frame(X, list(self.feature_names_in_), estimator="SurvivalForest")
        Z = self._matrix(frame)
        K = len(self.event_times_)
        total = sparse.csr_matrix((len(Z), K))
        for tree in self.trees_:
            n_nodes = len(tree["left"])
            mat = sparse.csr_matrix((tree["chf_value"], tree["chf_index"], tree["chf_ptr"]), shape=(n_nodes, K))
            total = total + mat[_apply(tree, Z)]
        H = np.cumsum(total.toarray(), axis=1) / len(self.trees_)  # (rows, event times)
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        pos = np.searchsorted(self.event_times_, grid, side="right") - 1
        Hg = np.where(pos[None, :] >= 0, H[:, np.clip(pos, 0, None)], 0.0)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(np.exp(-Hg), columns=grid, index=index)

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        m = self._mortality(self._matrix(frame))
        return np.log(m + self._eps())

    def _eps(self) -> float:
        # a floor for leaves without events (log 0); small against any mortality a leaf with one event gets
        return 1e-3 / max(len(getattr(self, "event_times_", ())), 1)

    # ------------------------------------------------------------------------------------------- saving
    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "trees_")
        meta = {"class": "SurvivalForest", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "used_columns": self.used_columns_, "min_samples_leaf": int(self.min_samples_leaf_),
                "max_features": float(self.max_features_), "oob_c_index": self.oob_c_index_,
                "event_times": self.event_times_,
                "trees": [{k: _pack(t[k], dt) for k, dt in _TREE_FIELDS + (_CHF_FIELDS if "chf_ptr" in t else ())}
                          for t in self.trees_],
                "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
                "time_grid": self.time_grid_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> SurvivalForest:
        from recommender.models._base import floats

        path = Path(directory) / f"{name}.json"
        meta = read_json(path)
        est = cls(**meta["params"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.used_columns_ = [str(c) for c in meta["used_columns"]]
        est.min_samples_leaf_, est.max_features_ = int(meta["min_samples_leaf"]), float(meta["max_features"])
        est.oob_c_index_ = dict(meta.get("oob_c_index") or {})
        est.event_times_ = floats(meta["event_times"])
        est.trees_ = [_check_tree({k: _unpack(t[k], dt, path) for k, dt in _TREE_FIELDS + _CHF_FIELDS
                                   if k in t or (k, dt) in _TREE_FIELDS},
                                  len(est.used_columns_), len(est.event_times_), path) for t in meta["trees"]]
        if not est.trees_ or not set(est.used_columns_) <= set(est.feature_names_in_):
            raise BundleIntegrityError("the forest has no trees or uses unknown columns", file=path,
                                       fix="rebuild the model bundle with this package version")
        est._restore_baseline(meta)
        return est


def _check_tree(tree: dict[str, np.ndarray], n_features: int, n_times: int, path: Path) -> dict[str, np.ndarray]:
    """Reject a tree whose arrays could index out of range or loop (children must point forward), or whose leaf
    hazards (when present) are not a well-formed CSR matrix over the nodes and training event times."""
    n = len(tree["left"])
    idx = np.arange(n)
    internal = tree["left"] >= 0
    ok = (n >= 1 and all(len(tree[k]) == n and tree[k].ndim == 1 for k, _ in _TREE_FIELDS)
          and ((tree["right"] >= 0) == internal).all()
          and (tree["left"][internal] > idx[internal]).all() and (tree["right"][internal] > idx[internal]).all()
          and (tree["left"][internal] < n).all() and (tree["right"][internal] < n).all()
          and ((tree["feature"][internal] >= 0) & (tree["feature"][internal] < n_features)).all()
          and np.isfinite(tree["value"][~internal]).all())
    if ok and "chf_ptr" in tree:
        ptr, col, val = tree["chf_ptr"], tree["chf_index"], tree["chf_value"]
        ok = (ptr.ndim == col.ndim == val.ndim == 1 and len(ptr) == n + 1 and ptr[0] == 0
              and (np.diff(ptr) >= 0).all() and ptr[-1] == len(col) == len(val)
              and ((col >= 0) & (col < n_times)).all() and np.isfinite(val).all() and (val >= 0).all())
    if not ok:
        raise BundleIntegrityError("a forest tree is inconsistent (child, feature or leaf value out of range)",
                                   file=path, fix="rebuild the model bundle with this package version")
    return tree


def _apply(tree: dict[str, np.ndarray], Z: np.ndarray) -> np.ndarray:
    """The leaf of each row of ``Z`` (scikit-learn's traversal: ``x <= threshold`` left; NaN by ``missing_left``)."""
    left, right, feature, thr, miss = (tree["left"], tree["right"], tree["feature"], tree["threshold"],
                                       tree["missing_left"].astype(bool))
    node = np.zeros(len(Z), dtype=np.int64)
    active = np.flatnonzero(left[node] >= 0)
    while len(active):  # children point forward, so this ends within the tree's depth
        nd = node[active]
        x = Z[active, feature[nd]]
        go_left = np.where(np.isnan(x), miss[nd], x <= thr[nd])
        node[active] = np.where(go_left, left[nd], right[nd])
        active = active[left[node[active]] >= 0]
    return node


def _harrell(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float | None:
    from lifelines.utils import concordance_index

    if event.sum() < 1 or not np.isfinite(risk).all():
        return None
    return float(concordance_index(time, -risk, event))
