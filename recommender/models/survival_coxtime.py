"""Cox-Time: a neural relative-risk model whose log hazard depends on time (Kvamme et al. 2019, JMLR 20:129).

:class:`CoxTime` models the hazard as ``h(t | x) = h0(t) exp(g(t, x))`` with ``g`` a small MLP on the
standardised features and the standardised time, so hazards need not be proportional and curves may cross.
It follows pycox's ``CoxTime`` (``MLPVanillaCoxTime``: two hidden layers of 32 ReLU units, batch norm,
dropout 0.1; the case-control loss; a Breslow baseline computed with ``g`` at each event time):

- loss: for every event ``i`` one control ``j`` is drawn from the risk set ``{T_j >= T_i}`` (by the rows'
  sample weights, resampled every epoch) and the loss is the weighted mean of
  ``log(1 + exp(g(T_i, x_j) - g(T_i, x_i)))`` (pycox's ``cox_cc_loss`` with one control, no shrinkage);
  Adam, mini-batches of events, early stopping on a stratified held-out share of the fitting rows by the same
  loss (controls drawn once, ``validation_controls`` per event, fixed seed);
- baseline: ``dH0(t_k) = d_k / sum_{j: T_j >= t_k} w_j exp(g(t_k, x_j))`` at every distinct event time ``t_k``
  (``d_k`` the weighted events at ``t_k``); a risk set larger than ``max_risk_set`` rows is replaced by a fixed
  random subset of that size and its sum scaled by the weight ratio (pycox's ``sample`` keeps the estimate fast
  the same way);
- curves (:meth:`CoxTime.predict_survival_native`): ``S(t | x) = exp(-sum_{t_k <= t} dH0(t_k) exp(g(t_k, x)))``.

In the product's contract (like the random survival forest and the AFT model) a survival candidate ranks by
one number and :meth:`~CoxTime.predict_survival` is one Breslow baseline of that number, so the model blends,
stacks and recalibrates with the others; its own, non-proportional curves are
:meth:`~CoxTime.predict_survival_native`, which the curve mixture may use
(:mod:`recommender.models.survival_mixture`). The one number (:meth:`~CoxTime.predict_risk`) is the log of
the model's cumulative hazard at ``risk_time_``, the median observed time of the training rows: for a
proportional-hazards ``g`` it is the log hazard plus a constant, so it sits on the scale the product's
blends, calibration slope and Breslow baselines assume (minus the restricted mean survival time, the
alternative, is bounded and on the time scale). Chosen before any result was seen.

Trained with torch (threads set to 1 during ``fit``); scoring is numpy from the weights saved as JSON, so a
bundle with this model loads and scores without torch.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval

from recommender.models._base import (
    BundleIntegrityError,
    as_frame,
    check_fitted,
    floats,
    read_json,
    write_json,
)
from recommender.models._survival_input import check_finite_prediction_input, validate_survival_fit
from recommender.models.survival import (
    NeuralCox,
    _import_torch,
    _standardise,
    _SurvivalBase,
    _train_early_stopping,
)

__all__ = ["CoxTime"]

#: Cells (rows x event times) evaluated per chunk when the net is applied at every event time.
_CHUNK_CELLS = 200_000
#: Bound on ``g`` before ``exp`` (a diverged net must not produce inf / NaN curves).
_G_CLIP = 50.0


class CoxTime(_SurvivalBase):
    """Cox-Time (Kvamme, Borgan and Scheel 2019): an MLP ``g(t, x)`` relative risk trained case-control.

    Parameters
    ----------
    hidden : int
        Units of each hidden layer (ReLU).
    n_layers : int
        Hidden layers.
    batch_norm : bool
        Batch normalisation after each hidden layer's activation (pycox's ``DenseVanillaBlock`` order:
        linear, ReLU, batch norm, dropout).
    dropout, weight_decay, learning_rate : float
    batch_size : int
        Events per mini-batch (each with its control).
    max_epochs, patience : int
        Upper bound on epochs and early-stopping patience (epochs without a better validation loss).
    validation_fraction : float
        Stratified (by event) share of the fitting rows held out for early stopping.
    validation_controls : int
        Controls drawn (once) per validation event for the early-stopping loss.
    max_risk_set : int
        Rows of a risk set used by the Breslow baseline (larger ones are subsampled and scaled).
    random_state : int
    max_missing : float
        Columns missing in a larger share of training rows are dropped.

    Attributes
    ----------
    used_columns_, medians_, means_, scales_ : feature preprocessing
    time_mean_, time_scale_ : standardisation of the time input
    layers_ : list of dict, the net's numpy weights (``W``, ``b`` and, with batch norm, the folded affine ``a``, ``c``)
    event_times_, baseline_hazard_ : Cox-Time baseline hazard increments at the distinct training event times
    risk_time_ : float, where :meth:`predict_risk` reads the cumulative hazard
    baseline_times_, baseline_cumhaz_, time_grid_ : Breslow baseline of :meth:`predict_risk` (product contract)
    training_summary_ : dict
    """

    def __init__(self, hidden: int = 32, n_layers: int = 2, batch_norm: bool = True, dropout: float = 0.1,
                 weight_decay: float = 1e-4, learning_rate: float = 1e-2, batch_size: int = 256,
                 max_epochs: int = 256, patience: int = 10, validation_fraction: float = 0.2,
                 validation_controls: int = 5, max_risk_set: int = 2000, random_state: int = 0,
                 max_missing: float = 0.5) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.validation_controls = validation_controls
        self.max_risk_set = max_risk_set
        self.random_state = random_state
        self.max_missing = max_missing

    #: scikit-learn parameter validation (checked by ``fit``).
    #: NeuralCox's constraints plus the Cox-Time ones.
    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        **NeuralCox._parameter_constraints,
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "batch_norm": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_controls": [Interval(Integral, 1, None, closed="left")],
        "max_risk_set": [Interval(Integral, 10, None, closed="left")],
    }

    # ------------------------------------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> CoxTime:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        torch = _import_torch("CoxTime", "coxtime")
        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight, min_events=10)
        names = [str(c) for c in frame.columns]
        if (w == 0).any():  # a zero weight removes the row (it is neither a case nor a control)
            nz = w > 0
            frame, time, ev, w = frame[nz], time[nz], ev[nz], w[nz]
            if int(ev.sum()) < 10:
                raise ValueError("too few events with a positive sample weight to fit CoxTime: needs at least 10")
        keep, medians, means, scales, Zn = _standardise(frame, self.max_missing)
        t_ev = time[ev]
        self.time_mean_ = float(t_ev.mean())
        self.time_scale_ = float(t_ev.std()) or 1.0
        self.used_columns_ = list(keep)
        self.medians_, self.means_, self.scales_ = medians, means, scales
        tr, va = train_test_split(np.arange(len(time)), test_size=self.validation_fraction, stratify=ev,
                                  random_state=self.random_state)
        torch.manual_seed(int(self.random_state))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a small net: threads only contend on a shared machine
        try:
            self._train(torch, Zn.astype("float32"), time, ev, w, tr, va)
        finally:
            torch.set_num_threads(threads)
        self._fit_coxtime_baseline(Zn, time, ev, w)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self._fit_baseline(frame, time, ev, w)  # the product's Breslow curves of predict_risk
        return self

    def _tt(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, dtype="float64") - self.time_mean_) / self.time_scale_

    def _train(self, torch: Any, Z: np.ndarray, time: np.ndarray, ev: np.ndarray, w: np.ndarray, tr: np.ndarray,
               va: np.ndarray) -> None:
        nn = torch.nn
        mods: list[Any] = []
        width = Z.shape[1] + 1
        for _ in range(int(self.n_layers)):
            mods += [nn.Linear(width, int(self.hidden)), nn.ReLU()]
            if self.batch_norm:
                mods.append(nn.BatchNorm1d(int(self.hidden)))
            mods.append(nn.Dropout(float(self.dropout)))
            width = int(self.hidden)
        mods.append(nn.Linear(width, 1, bias=False))  # a bias cancels in g(t, x_j) - g(t, x_i)
        net = nn.Sequential(*mods)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay))
        rng = np.random.default_rng(int(self.random_state))

        def pairs(rows: np.ndarray, draws: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """(case, control, case weight) index triples: ``draws`` controls per event of ``rows``, drawn by
            weight from the event's risk set within ``rows``."""
            order = rows[np.argsort(time[rows], kind="stable")]
            t_sorted = time[order]
            cw = np.cumsum(w[order])
            cases = order[ev[order]]
            start = np.searchsorted(t_sorted, time[cases], side="left")  # first row with T >= T_i
            before = np.where(start > 0, cw[np.maximum(start - 1, 0)], 0.0)
            cases = np.repeat(cases, draws)
            before, start = np.repeat(before, draws), np.repeat(start, draws)
            target = before + rng.random(len(cases)) * (cw[-1] - before)
            j = np.clip(np.searchsorted(cw, target, side="right"), start, len(order) - 1)
            return cases, order[j], w[cases]

        def inputs(idx: np.ndarray, t: np.ndarray) -> Any:
            return torch.from_numpy(np.column_stack([Z[idx], self._tt(t).astype("float32")]).astype("float32"))

        def loss_of(case: np.ndarray, ctrl: np.ndarray, wc: np.ndarray) -> Any:
            t_case = time[case]
            g = net(torch.cat([inputs(case, t_case), inputs(ctrl, t_case)])).squeeze(-1)
            n = len(case)
            wt = torch.from_numpy(wc.astype("float32"))
            return (torch.nn.functional.softplus(g[n:] - g[:n]) * wt).sum() / wt.sum()

        v_case, v_ctrl, v_w = pairs(va, int(self.validation_controls))
        if not len(v_case):
            raise ValueError("the early-stopping rows hold no event: give more events or a larger "
                             "validation_fraction")

        def epoch() -> None:  # one control per case, drawn afresh each epoch, in shuffled mini-batches
            case, ctrl, wc = pairs(tr, 1)
            perm = rng.permutation(len(case))
            size = int(self.batch_size)
            for s in range(0, len(perm), size):
                b = perm[s:s + size]
                opt.zero_grad()
                loss_of(case[b], ctrl[b], wc[b]).backward()
                opt.step()

        best, epochs = _train_early_stopping(torch, net, epoch, lambda: loss_of(v_case, v_ctrl, v_w),
                                             self.max_epochs, self.patience)
        self.layers_ = _export(net, torch)
        self.training_summary_ = {"rows": len(time), "events": int(ev.sum()), "validation_rows": len(va),
                                  "epochs": epochs, "best_validation_loss": float(best)}

    def _fit_coxtime_baseline(self, Zn: np.ndarray, time: np.ndarray, ev: np.ndarray, w: np.ndarray) -> None:
        """Breslow increments with the time-varying ``g`` at every distinct event time (module docstring)."""
        rng = np.random.default_rng(int(self.random_state) + 1)
        order = np.argsort(time, kind="stable")
        t_sorted, Zs, ws = time[order], Zn[order], w[order]
        times = np.unique(time[ev])
        d = np.array([w[(time == s) & ev].sum() for s in times])
        m = int(self.max_risk_set)
        pre = Zs @ self.layers_[0]["W"][:-1] + self.layers_[0]["b"]  # the first layer's feature part, once
        dH = np.empty(len(times))
        for k, s in enumerate(times):
            first = int(np.searchsorted(t_sorted, s, side="left"))
            rows = np.arange(first, len(t_sorted))
            scale = 1.0
            if len(rows) > m:
                sub = np.sort(rng.choice(rows, m, replace=False))
                scale = ws[rows].sum() / ws[sub].sum()
                rows = sub
            g = self._g_from_pre(pre[rows], np.array([s]))[:, 0]
            dH[k] = d[k] / (scale * float(np.sum(ws[rows] * np.exp(g))))
        self.event_times_, self.baseline_hazard_ = times, dH
        self.risk_time_ = float(max(np.median(time), times[0]))

    # ------------------------------------------------------------------------------------------- the net
    def _features(self, frame: pd.DataFrame) -> np.ndarray:
        Z = frame[self.used_columns_].fillna(self.medians_)
        return ((Z - self.means_) / self.scales_).to_numpy(dtype="float64")

    def _g_from_pre(self, pre: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``g(t, x)`` for every row x every time: ``(rows, times)``; ``pre`` is the first layer's feature part.

        The hidden layers run in float32 (the net was trained in float32; 3-4x faster than float64 on the
        rows x event-times cells the curves need); ``g`` is returned as float64.
        """
        layers = [{k: v.astype("float32") for k, v in layer.items()} for layer in self.layers_]
        tt = self._tt(times).astype("float32")
        pre = np.asarray(pre, dtype="float32")
        out = np.empty((len(pre), len(tt)))
        step = max(1, _CHUNK_CELLS // max(len(tt), 1))
        for s in range(0, len(pre), step):
            h = pre[s:s + step, None, :] + tt[None, :, None] * layers[0]["W"][-1][None, None, :]
            h = h.reshape(-1, h.shape[-1])
            for i, layer in enumerate(layers):
                if i:
                    h = h @ layer["W"] + layer["b"]
                if i == len(self.layers_) - 1:
                    break
                h = np.maximum(h, 0.0)
                if "a" in layer:
                    h = h * layer["a"] + layer["c"]
            out[s:s + step] = np.clip(h.reshape(-1, len(tt)), -_G_CLIP, _G_CLIP)
        return out

    def _g(self, frame: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        first = self.layers_[0]
        return self._g_from_pre(self._features(frame) @ first["W"][:-1] + first["b"], times)

    def _cumhaz(self, frame: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
        """Cox-Time cumulative hazard ``(rows, len(grid))``."""
        G = np.exp(self._g(frame, self.event_times_)) * self.baseline_hazard_[None, :]
        H = np.cumsum(G, axis=1)
        pos = np.searchsorted(self.event_times_, grid, side="right") - 1
        return np.where(pos[None, :] >= 0, H[:, np.clip(pos, 0, None)], 0.0)

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        k = int(np.searchsorted(self.event_times_, self.risk_time_, side="right"))
        G = np.exp(self._g(frame, self.event_times_[:k])) * self.baseline_hazard_[None, :k]
        return np.log(G.sum(axis=1) + 1e-300)

    # ------------------------------------------------------------------------------------------- curves
    def predict_cumulative_hazard_native(self, X: Any, times: Any = None) -> pd.DataFrame:
        """Cox-Time's cumulative hazard ``sum_{t_k <= t} dH0(t_k) exp(g(t_k, x))`` at ``times``."""
        check_fitted(self, "layers_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="CoxTime")
        check_finite_prediction_input(frame)
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(self._cumhaz(frame, grid), columns=grid, index=index)

    def predict_survival_native(self, X: Any, times: Any = None) -> pd.DataFrame:
        """Cox-Time's own survival curves ``exp(-H(t | x))`` (not proportional hazards: they may cross).

        :meth:`predict_survival` is, as for every candidate of the product, one Breslow baseline of
        :meth:`predict_risk`.
        """
        H = self.predict_cumulative_hazard_native(X, times)
        return np.exp(-H)

    # ------------------------------------------------------------------------------------------- saving
    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "layers_")
        meta = {"class": "CoxTime", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "used_columns": self.used_columns_, "medians": self.medians_.tolist(),
                "means": self.means_.tolist(), "scales": self.scales_.tolist(),
                "time_mean": self.time_mean_, "time_scale": self.time_scale_,
                "layers": [{k: v.tolist() for k, v in layer.items()} for layer in self.layers_],
                "event_times": self.event_times_, "baseline_hazard": self.baseline_hazard_,
                "risk_time": self.risk_time_,
                "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
                "time_grid": self.time_grid_, "training_summary": self.training_summary_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> CoxTime:
        path = Path(directory) / f"{name}.json"
        meta = read_json(path)
        try:
            est = cls(**meta["params"])
            cols = [str(c) for c in meta["used_columns"]]
            est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
            est.n_features_in_ = len(est.feature_names_in_)
            est.used_columns_ = cols
            est.medians_ = pd.Series(floats(meta["medians"]), index=cols)
            est.means_ = pd.Series(floats(meta["means"]), index=cols)
            est.scales_ = pd.Series(floats(meta["scales"]), index=cols)
            est.time_mean_, est.time_scale_ = float(meta["time_mean"]), float(meta["time_scale"])
            est.layers_ = [{k: np.asarray(v, dtype="float64") for k, v in layer.items()} for layer in meta["layers"]]
            est.event_times_ = floats(meta["event_times"])
            est.baseline_hazard_ = floats(meta["baseline_hazard"])
            est.risk_time_ = float(meta["risk_time"])
            est._restore_baseline(meta)
            est.training_summary_ = meta.get("training_summary", {})
        except (KeyError, TypeError, ValueError) as err:
            raise BundleIntegrityError(f"the Cox-Time model is malformed: {err}", file=path,
                                       fix="rebuild the model bundle with this package version") from None
        _check_loaded(est, path)
        return est


def _export(net: Any, torch: Any) -> list[dict[str, np.ndarray]]:
    """The net's layers as numpy: ``W`` (in x out), ``b`` and, after a batch norm, its eval-mode affine ``a``, ``c``."""
    layers: list[dict[str, np.ndarray]] = []
    for mod in net:
        if isinstance(mod, torch.nn.Linear):
            W = mod.weight.detach().numpy().astype("float64").T
            b = (mod.bias.detach().numpy().astype("float64") if mod.bias is not None else np.zeros(W.shape[1]))
            layers.append({"W": W, "b": b})
        elif isinstance(mod, torch.nn.BatchNorm1d):
            var = mod.running_var.detach().numpy().astype("float64")
            mean = mod.running_mean.detach().numpy().astype("float64")
            a = mod.weight.detach().numpy().astype("float64") / np.sqrt(var + mod.eps)
            layers[-1]["a"] = a
            layers[-1]["c"] = mod.bias.detach().numpy().astype("float64") - mean * a
    return layers


def _check_loaded(est: CoxTime, path: Path) -> None:
    """Refuse a saved model whose arrays do not chain, are not finite, or whose baseline is not a hazard."""
    def bad(why: str) -> BundleIntegrityError:
        return BundleIntegrityError(f"the Cox-Time model is malformed: {why}", file=path,
                                    fix="rebuild the model bundle with this package version")

    width = len(est.used_columns_) + 1
    if not est.layers_:
        raise bad("no layers")
    for i, layer in enumerate(est.layers_):
        W, b = layer.get("W"), layer.get("b")
        if W is None or b is None or W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise bad(f"layer {i} has the wrong shape")
        if any(k in layer and layer[k].shape != b.shape for k in ("a", "c")) or ("a" in layer) != ("c" in layer):
            raise bad(f"layer {i}'s batch norm has the wrong shape")
        if not all(np.isfinite(v).all() for v in layer.values()):
            raise bad(f"layer {i} holds non-finite weights")
        width = W.shape[1]
    if width != 1:
        raise bad("the last layer must have one output")
    t, h = est.event_times_, est.baseline_hazard_
    if not len(t) or t.shape != h.shape or not (np.isfinite(t).all() and np.isfinite(h).all()) \
            or (np.diff(t) <= 0).any() or (h < 0).any():
        raise bad("the baseline hazard is not increasing event times with non-negative increments")
    if not (np.isfinite(est.time_mean_) and np.isfinite(est.time_scale_) and est.time_scale_ > 0
            and np.isfinite(est.risk_time_)):
        raise bad("the time standardisation is not finite")
    if not set(est.used_columns_) <= set(est.feature_names_in_):
        raise bad("it uses columns it does not declare")
