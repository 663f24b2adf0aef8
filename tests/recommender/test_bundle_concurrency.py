"""A shared ModelBundle used by several sessions at once (threads of the HTTP service / app).

Regression: ``ModelBundle.predict_batch(intervals=False)`` switched the bundle's bootstrap ensembles off
(set to ``None``) and back on around its prediction, so a concurrent session scoring with intervals on the
same bundle could lose its intervals (or see a half-switched bundle). Now it predicts through a shallow copy
without ensembles and never writes to the shared bundle.
"""

from __future__ import annotations

import threading

import pytest

from recommender.models.defaults import load_default_bundle
from recommender.schema import Patient

ROUNDS = 3


@pytest.fixture(scope="module")
def bundle():
    b = load_default_bundle()
    assert b.response_ensemble is not None and b.toxicity_ensemble is not None  # the test needs ensembles
    return b


def _patient(i: int) -> Patient:
    return Patient(patient_id=f"P{i}", demographics={"age": 40 + i % 40, "sex": "female"},
                   diagnosis={"cancer_type": "COAD"})


def test_point_predictions_in_one_thread_never_take_the_intervals_of_another(bundle):
    before = (bundle.response_ensemble, bundle.toxicity_ensemble,
              {ep: m.get("ensemble") for ep, m in bundle.survival.items()})
    errors: list[BaseException] = []
    missing_intervals: list[int] = []
    switched_off: list[str] = []
    done = threading.Event()

    def point_only() -> None:
        try:
            for i in range(ROUNDS):
                out = bundle.predict_batch([_patient(i)], ["FOLFOX", "FOLFIRI"], intervals=False)
                assert out["p_response_low"].isna().all()
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    def with_intervals() -> None:
        try:
            for i in range(ROUNDS):
                out = bundle.predict_batch([_patient(100 + i)], ["FOLFOX", "FOLFIRI"], intervals=True)
                if out["p_response_low"].isna().any() or out["pfs_median_days_low"].isna().all():
                    missing_intervals.append(i)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    def watch() -> None:  # a third session looking at the shared bundle the whole time
        while not done.is_set():
            if bundle.response_ensemble is not before[0] or bundle.toxicity_ensemble is not before[1]:
                switched_off.append("response/toxicity ensemble")
            for ep, ens in before[2].items():
                if bundle.survival[ep].get("ensemble") is not ens:
                    switched_off.append(f"{ep} ensemble")
            done.wait(0.001)

    threads = [threading.Thread(target=point_only), threading.Thread(target=with_intervals)]
    watcher = threading.Thread(target=watch)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    done.set()
    watcher.join(timeout=10)
    assert not errors, errors
    assert missing_intervals == []
    assert switched_off == []
    assert bundle.response_ensemble is before[0] and bundle.toxicity_ensemble is before[1]
