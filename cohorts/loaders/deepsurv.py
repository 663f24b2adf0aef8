"""DeepSurv benchmark splits (Katzman et al. 2018, BMC Med Res Methodol 18:24), loaded as stored.

The HDF5 files hold ``train`` and ``test`` groups with ``x`` (covariates), ``t`` (time) and ``e``
(event). Columns carry no names; their meanings follow the DeepSurv paper (see the shared data
README). Each split is kept as stored (``patients.split``); protocols that re-split say so.

* ``gbsg``: train = Rotterdam node-positive (1546), test = GBSG trial (686). Treatment = hormone
  therapy (x0; tamoxifen in both source studies) or ``observation``. Endpoint: recurrence-free
  survival (months, stored as ``pfs_days``).
* ``metabric``: x0-x3 gene expression (order of MKI67/EGFR/PGR/ERBB2 undocumented: kept as
  ``expr_0..3``), x4 hormone, x5 radio, x6 chemotherapy, x7 ER-positive, x8 age. Endpoint:
  overall survival (months).
* ``support``: x0 age, x1 sex code, x2 race code (codings undocumented: kept as codes),
  x3 comorbidity count, x4 diabetes, x5 dementia, x6 cancer (0 none, 1 non-metastatic,
  2 metastatic), x7-x10 vital signs, x11 sodium (mmol/L), x12 white cells (10^9/L), x13 serum
  creatinine (mg/dL). Treatment not recorded (``treatment (unspecified)``). Endpoint: overall
  survival (days).

Licence: MIT (DeepSurv repository); the underlying cohorts keep their sources' terms.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cohorts.errors import CohortError
from cohorts.loaders._common import DAYS_PER_MONTH, LoadedCohort, file_version, require_file
from cohorts.manifest import Licence, Provenance
from recommender.features.covariates import CovariateSpec

__all__ = ["DATASETS", "load_deepsurv"]

DATASETS = ("gbsg", "metabric", "support")
_N, _B = "numeric", "binary"
#: Covariates each dataset declares (age, sex, ER status and the SUPPORT labs map to standard features).
COVARIATES: dict[str, tuple[CovariateSpec, ...]] = {
    "gbsg": (CovariateSpec("tumour_grade", _N, label="tumour grade", unit="0-2 as stored"),
             CovariateSpec("postmenopausal", _B, label="postmenopausal"),
             CovariateSpec("positive_nodes", _N, label="positive lymph nodes", unit="count"),
             CovariateSpec("pgr_fmol", _N, label="progesterone receptor", unit="fmol/l"),
             CovariateSpec("er_fmol", _N, label="oestrogen receptor", unit="fmol/l")),
    "metabric": tuple(CovariateSpec(f"expr_{k}", _N, label=f"expression value {k} (MKI67/EGFR/PGR/ERBB2, "
                                    "order undocumented)") for k in range(4)),
    "support": (CovariateSpec("sex_code", _N, label="sex (code)"), CovariateSpec("race_code", _N, label="race (code)"),
                CovariateSpec("n_comorbidities", _N, label="number of comorbidities"),
                CovariateSpec("diabetes", _B), CovariateSpec("dementia", _B),
                CovariateSpec("cancer_status", _N, label="cancer (0 none, 1 non-metastatic, 2 metastatic)"),
                CovariateSpec("mean_arterial_pressure", _N, unit="mmHg"), CovariateSpec("heart_rate", _N, unit="/min"),
                CovariateSpec("respiration_rate", _N, unit="/min"), CovariateSpec("temperature_c", _N, unit="C")),
}
_FILES = {"gbsg": "gbsg_cancer_train_test.h5", "metabric": "metabric_IHC4_clinical_train_test.h5",
          "support": "support_train_test.h5"}
_NCOL = {"gbsg": 7, "metabric": 9, "support": 14}


def _guess(path: Path) -> str | None:
    name = path.name.lower()
    for ds in DATASETS:
        if name.startswith(ds):
            return ds
    return None


def _read(path: Path, dataset: str) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    import h5py

    out = []
    try:
        with h5py.File(path, "r") as f:
            for split in ("train", "test"):
                if split not in f:
                    raise CohortError(f"HDF5 file has no '{split}' group", file=path, field=split,
                                      fix="give a DeepSurv *_train_test.h5 file")
                g = f[split]
                x, t, e = (np.asarray(g[k][()]) for k in ("x", "t", "e"))
                if x.ndim != 2 or x.shape[1] != _NCOL[dataset]:
                    raise CohortError(f"{split}/x has shape {x.shape}, expected (n, {_NCOL[dataset]}) for {dataset}",
                                      file=path, field=f"{split}/x", fix="check --dataset")
                out.append((split, x.astype(float), t.astype(float).ravel(), e.astype(int).ravel()))
    except OSError as err:
        raise CohortError(f"cannot read HDF5: {err}", file=path, fix="give a DeepSurv *_train_test.h5 file") from None
    return out


def load_deepsurv(path: str | os.PathLike[str], dataset: str | None = None) -> LoadedCohort:
    """Load a DeepSurv ``*_train_test.h5`` file (``dataset`` guessed from the file name).

    ``path`` may also be the folder holding the files when ``dataset`` is given.
    """
    path = Path(path)
    if path.is_dir():
        if dataset is None:
            raise CohortError("a folder was given without --dataset", file=path,
                              fix=f"pass --dataset {{{','.join(DATASETS)}}} or the .h5 file itself")
        path = path / _FILES[dataset]
    dataset = dataset or _guess(path)
    if dataset not in DATASETS:
        raise CohortError(f"unknown DeepSurv dataset {dataset!r}", file=path, field="dataset",
                          fix=f"pass --dataset one of {', '.join(DATASETS)} (WHAS is not supported: repeated individuals)")
    require_file(path, "DeepSurv HDF5 file", "give the path of the .h5 file (../shared/data/cohorts/deepsurv_h5)")
    pts, trs, outs = [], [], []
    for split, x, t, e in _read(path, dataset):
        for i in range(len(t)):
            pid = f"{dataset}-{split}-{i:05d}"
            row: dict = {"patient_id": pid, "split": split}
            out: dict = {"patient_id": pid}
            regimens: list[str] = []
            xi = x[i]
            if dataset == "gbsg":
                row.update(sex="female", cancer_type="BRCA", age=float(xi[3]), tumour_grade=int(xi[1]),
                           postmenopausal=bool(xi[2]), positive_nodes=int(xi[4]), pgr_fmol=float(xi[5]),
                           er_fmol=float(xi[6]), source_cohort="Rotterdam" if split == "train" else "GBSG")
                regimens = ["tamoxifen"] if xi[0] > 0.5 else ["observation"]
                out.update(pfs_days=float(t[i]) * DAYS_PER_MONTH, pfs_event=bool(e[i]))
            elif dataset == "metabric":
                row.update(sex="female", cancer_type="BRCA", age=float(xi[8]), er_positive=bool(xi[7]),
                           **{f"expr_{k}": float(xi[k]) for k in range(4)})
                regimens = [name for flag, name in ((xi[4], "endocrine therapy (unspecified)"),
                                                    (xi[5], "radiotherapy"),
                                                    (xi[6], "chemotherapy (unspecified)")) if flag > 0.5]
                regimens = regimens or ["observation"]
                out.update(os_days=float(t[i]) * DAYS_PER_MONTH, os_event=bool(e[i]))
            else:  # support
                row.update(age=float(xi[0]), sex_code=int(xi[1]), race_code=int(xi[2]), n_comorbidities=int(xi[3]),
                           diabetes=bool(xi[4]), dementia=bool(xi[5]), cancer_status=int(xi[6]),
                           mean_arterial_pressure=float(xi[7]), heart_rate=float(xi[8]), respiration_rate=float(xi[9]),
                           temperature_c=float(xi[10]), sodium=float(xi[11]), leukocytes=float(xi[12]),
                           creatinine=float(xi[13]) * 88.42)
                out.update(os_days=float(t[i]), os_event=bool(e[i]))
                regimens = ["treatment (unspecified)"]
            pts.append(row)
            outs.append(out)
            for j, reg in enumerate(regimens, start=1):
                trs.append({"treatment_id": f"{pid}-t{j}", "patient_id": pid, "regimen": reg, "drugs": []})
    from recommender import vocab

    for tr in trs:
        tr["drugs"] = list(vocab.regimen(tr["regimen"]).drugs)
    patients = pd.DataFrame(pts)
    if dataset == "metabric":
        patients["pycox_split"] = _pycox_split(len(patients))
    tables = {"patients": patients, "treatments": pd.DataFrame(trs, columns=["treatment_id", "patient_id",
                                                                                          "regimen", "drugs"]),
              "outcomes": pd.DataFrame(outs)}
    endpoint = {"gbsg": "recurrence-free survival (pfs_*)", "metabric": "overall survival",
                "support": "overall survival"}[dataset]
    notes = (f"splits kept as stored: train/test in patients.split; endpoint: {endpoint}",
             "months converted to days x 30.4375" if dataset != "support" else "times in days as stored")
    if dataset == "metabric":
        notes += ("pycox_split: the pycox examples' split (train+test concatenated, np.random.seed(1234), "
                  "20% sampled as test)",)
    if dataset == "support":
        notes += ("serum creatinine converted from mg/dL to umol/L (x 88.42); sex/race codes undocumented",)
    return LoadedCohort(
        name=f"deepsurv-{dataset}",
        tables=tables,
        licence=Licence(name="MIT", url="https://github.com/jaredleekatzman/DeepSurv/blob/master/LICENSE.txt",
                        note="DeepSurv benchmark files; underlying cohorts keep their sources' terms"),
        provenance=Provenance(
            source="jaredleekatzman/DeepSurv experiments/data", source_version=file_version(path),
            citation="Katzman JL et al. BMC Med Res Methodol 2018;18:24", loader="cohorts.loaders.deepsurv",
            notes=notes,
        ),
        description=f"DeepSurv {dataset} benchmark ({endpoint})",
        covariates=COVARIATES[dataset],
    )


def _pycox_split(n: int, seed: int = 1234, frac: float = 0.2) -> list[str]:
    """``train``/``test`` labels of pycox's examples split over ``n`` rows in file order (train then test).

    pycox: ``np.random.seed(1234); df_test = df.sample(frac=0.2)``; ``DataFrame.sample`` draws
    ``RandomState.choice(n, round(frac * n), replace=False)`` from NumPy's global state (reproduced with a
    private RandomState, so the caller's global state is untouched).
    """
    test = set(np.random.RandomState(seed).choice(n, int(round(frac * n)), replace=False).tolist())
    return ["test" if i in test else "train" for i in range(n)]
