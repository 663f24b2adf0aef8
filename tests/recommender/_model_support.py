"""Synthetic training data with known signals for the feature/model tests (no cohorts import).

``toy_cohort`` returns cohort-layout tables (patients, treatments, outcomes, adverse_events,
tumour_variants) for colorectal patients on FOLFOX, CAPOX or FOLFOX+panitumumab with:

* severe neutropenia driven by DPYD deficit under a fluoropyrimidine (every regimen here has one) and by
  age; severe diarrhoea only under FOLFOX-containing regimens (few events: may be skipped);
* response raised by panitumumab only in RAS wild-type tumours (KRAS G12D lowers it);
* PFS hazard lowered by response probability, raised by ECOG;
* treatment assignment confounded: KRAS-mutant patients rarely receive panitumumab.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIMENS = {"FOLFOX": ["fluorouracil", "leucovorin", "oxaliplatin"], "CAPOX": ["capecitabine", "oxaliplatin"],
            "FOLFOX+panitumumab": ["fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"]}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def toy_cohort(n: int = 400, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pid = np.array([f"T{seed}-{i:05d}" for i in range(n)], dtype=object)
    age = rng.normal(64, 10, n).clip(25, 90).round(1)
    ecog = rng.choice([0, 1, 2], size=n, p=[0.4, 0.45, 0.15])
    dpyd = rng.choice([2.0, 1.5, 1.0, 0.5], size=n, p=[0.55, 0.2, 0.17, 0.08])
    kras = rng.random(n) < 0.4
    # confounded assignment
    scores = np.column_stack([np.full(n, 0.5), np.where(ecog >= 2, 0.8, 0.0), np.where(kras, -2.5, 0.8)])
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    names = list(REGIMENS)
    pick = np.array([rng.choice(3, p=row) for row in p])
    regimen = np.array([names[k] for k in pick], dtype=object)
    pani = regimen == "FOLFOX+panitumumab"
    p_resp = sigmoid(-0.6 + 1.6 * pani * (~kras) - 0.8 * pani * kras - 0.3 * ecog)
    resp = rng.random(n) < p_resp
    best = np.where(resp, "PR", np.where(rng.random(n) < 0.6, "SD", "PD"))
    rate = np.log(2) / 300 * np.exp(0.45 * ecog - 1.0 * (p_resp - 0.4))
    pfs = rng.exponential(1 / rate)
    cens = rng.uniform(200, 900, n)
    os_ = pfs + rng.exponential(300, n)
    p_neut = sigmoid(-3.0 + 1.8 * (2.0 - dpyd) + 0.04 * (age - 64))
    neut = rng.random(n) < p_neut
    diar = (rng.random(n) < sigmoid(-4.5 + 0.5 * (regimen != "CAPOX")))
    patients = pd.DataFrame({
        "patient_id": pid, "age": age, "sex": rng.choice(["female", "male"], n), "population": rng.choice(
            ["AFR", "EUR", "EAS"], n), "cancer_type": "COAD", "stage": "IV", "ecog": ecog,
        "smoking": rng.choice(["never", "former", "current"], n), "bmi": rng.normal(26, 4, n).clip(15, 45).round(1),
        "albumin": rng.normal(38, 4, n).clip(20, 55).round(1), "medications": [[] for _ in range(n)],
        "comorbidities": [[] for _ in range(n)], "pgx_dpyd_activity_score": dpyd,
    })
    treatments = pd.DataFrame({"treatment_id": [f"{x}-t1" for x in pid], "patient_id": pid, "regimen": regimen,
                               "drugs": [REGIMENS[r] for r in regimen], "line": 1})
    outcomes = pd.DataFrame({"patient_id": pid, "best_response": best,
                             "pfs_days": np.minimum(pfs, cens).round(1), "pfs_event": pfs <= cens,
                             "os_days": np.minimum(os_, cens).round(1), "os_event": os_ <= cens})
    ae = []
    for i in range(n):
        if neut[i]:
            ae.append((pid[i], "Neutrophil count decreased", 3))
        elif rng.random() < 0.2:
            ae.append((pid[i], "Neutrophil count decreased", 1))
        if diar[i]:
            ae.append((pid[i], "Diarrhea", 3))
    adverse = pd.DataFrame(ae, columns=["patient_id", "term", "grade"])
    tv = pd.DataFrame({"patient_id": pid[kras], "gene": "KRAS", "protein_change": "G12D", "variant_type": "missense"})
    return {"patients": patients, "treatments": treatments, "outcomes": outcomes, "adverse_events": adverse,
            "tumour_variants": tv}


def toy_matrix(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Small numeric matrix: severe toxicity driven by DPYD deficit x fluoropyrimidine (+ age)."""
    rng = np.random.default_rng(seed)
    dpyd = rng.choice([2.0, 1.5, 1.0, 0.5, 0.0], size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    fluoro = (rng.random(n) < 0.6).astype(float)
    age = rng.normal(62, 10, n)
    noise = rng.normal(size=n)
    logit = -2.5 + 2.0 * fluoro * (2.0 - dpyd) + 0.03 * (age - 62)
    y = (rng.random(n) < sigmoid(logit)).astype(int)
    X = pd.DataFrame({"dpyd_as": dpyd, "fluoropyrimidine": fluoro, "age": age, "noise": noise})
    X.loc[rng.random(n) < 0.05, "age"] = np.nan
    return X, y
