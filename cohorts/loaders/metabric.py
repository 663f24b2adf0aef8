"""METABRIC breast cancer cohort from cBioPortal (``brca_metabric``), read from the user's copy.

Files (``metabric_clinical.tsv``, ``metabric_survival.tsv``, ``metabric_mutations.tsv``):
clinical covariates, treatments (chemotherapy, hormone therapy, radiotherapy as YES/NO),
overall survival in days with cause of death (1 died of disease, 2 died of other causes) and
a 173-gene panel of mutations as gene + protein change (no coordinates: build-independent).
``HER2_SNP6 == GAIN`` is recorded as an ERBB2 amplification. ``split`` is the source author's
random train/test label (not a published split).

Licence: ODC Open Database License 1.0 (ODbL). A cohort written from it is a derived database:
keep the licence and attribution with it (recorded in the manifest). Never bundle it.
Cite Curtis C et al. Nature 2012;486:346-52; Pereira B et al. Nat Commun 2016;7:11479; cBioPortal.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cohorts.errors import CohortError
from cohorts.loaders._common import LoadedCohort, file_version, require_file, variant_type_from_protein
from cohorts.covariates import categorical
from cohorts.manifest import Licence, Provenance
from recommender.features.covariates import CovariateSpec

__all__ = ["load_metabric"]

_HISTOLOGY = {"Ductal/NST": "IDC", "Lobular": "ILC", "Mixed": "MDLC"}
#: Categorical clinical covariates declared for training (ER status goes to the ER feature instead).
_CATEGORICAL = (("claudin_subtype", "PAM50 + claudin-low subtype"), ("her2_snp6", "HER2 copy number (SNP6)"),
                ("menopausal_state", "inferred menopausal state"), ("threegene", "3-gene classifier subtype"),
                ("cellularity", "tumour cellularity"), ("breast_surgery", "breast surgery"),
                ("histology", "histological subtype"))
_CAUSE = {1: "died of disease", 2: "died of other causes"}


def _read_tsv(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t", dtype={"patientId": "string"})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CohortError(f"cannot read TSV: {err}", file=path, fix="give the cBioPortal METABRIC export") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CohortError(f"column(s) missing: {', '.join(missing)}", file=path, field=missing[0],
                          fix="give the unmodified metabric_*.tsv files")
    return df


def load_metabric(path: str | os.PathLike[str]) -> LoadedCohort:
    """Load METABRIC from the folder holding ``metabric_{clinical,survival,mutations}.tsv``."""
    folder = Path(path)
    fix = "give the folder with metabric_clinical.tsv, metabric_survival.tsv and metabric_mutations.tsv"
    cpath = require_file(folder / "metabric_clinical.tsv", "METABRIC clinical table", fix)
    spath = require_file(folder / "metabric_survival.tsv", "METABRIC survival table", fix)
    mpath = require_file(folder / "metabric_mutations.tsv", "METABRIC mutation table", fix)
    clin = _read_tsv(cpath, ["patientId", "AGE_AT_DIAGNOSIS", "CHEMOTHERAPY", "HORMONE_THERAPY", "RADIO_THERAPY"])
    surv = _read_tsv(spath, ["patientId", "time", "event"])
    muts = _read_tsv(mpath, ["patientId", "hugoGeneSymbol", "proteinChange"])

    clin = clin.merge(surv, on="patientId", how="left", validate="one_to_one")
    pts = pd.DataFrame({
        "patient_id": clin["patientId"],
        "age": clin["AGE_AT_DIAGNOSIS"].astype(float),
        "sex": "female",
        "cancer_type": clin["HISTOLOGICAL_SUBTYPE"].map(_HISTOLOGY).fillna("BRCA"),
        "histology": clin["HISTOLOGICAL_SUBTYPE"],
        "split": clin.get("split"),
        "claudin_subtype": clin.get("CLAUDIN_SUBTYPE"),
        "er_ihc": clin.get("ER_IHC").replace({"Positve": "Positive"}) if "ER_IHC" in clin else None,
        "her2_snp6": clin.get("HER2_SNP6"),
        "menopausal_state": clin.get("INFERRED_MENOPAUSAL_STATE"),
        "positive_nodes": clin.get("LYMPH_NODES_EXAMINED_POSITIVE"),
        "npi": clin.get("NPI"),
        "threegene": clin.get("THREEGENE"),
        "cellularity": clin.get("CELLULARITY"),
        "breast_surgery": clin.get("BREAST_SURGERY"),
        "laterality": clin.get("LATERALITY"),
    })
    trs = []
    for pid, chemo, hormone, radio in zip(clin["patientId"], clin["CHEMOTHERAPY"], clin["HORMONE_THERAPY"],
                                          clin["RADIO_THERAPY"]):
        given = [name for flag, name in ((chemo, "chemotherapy (unspecified)"),
                                         (hormone, "endocrine therapy (unspecified)"),
                                         (radio, "radiotherapy")) if str(flag).upper() == "YES"]
        for j, reg in enumerate(given or ["observation"], start=1):
            trs.append({"treatment_id": f"{pid}-t{j}", "patient_id": pid, "regimen": reg, "drugs": []})
    event = pd.to_numeric(clin["event"], errors="coerce")
    outs = pd.DataFrame({
        "patient_id": clin["patientId"],
        "os_days": pd.to_numeric(clin["time"], errors="coerce").astype(float),
        "os_event": event.map(lambda v: None if pd.isna(v) else bool(v in (1, 2))),
        "os_cause": event.map(lambda v: _CAUSE.get(int(v)) if pd.notna(v) else None),
        "event_code": event,
    })
    known = set(clin["patientId"])
    muts = muts[muts["patientId"].isin(known)]
    tvs = pd.DataFrame({
        "patient_id": muts["patientId"],
        "gene": muts["hugoGeneSymbol"].astype("string").str.strip().str.upper(),
        "protein_change": muts["proteinChange"].astype("string").str.strip().str.removeprefix("p."),
        "variant_type": muts["proteinChange"].map(lambda c: variant_type_from_protein(c if isinstance(c, str) else None)),
    })
    gain = clin.loc[clin.get("HER2_SNP6", pd.Series(dtype=str)).eq("GAIN"), "patientId"]
    amp = pd.DataFrame({"patient_id": gain.to_numpy(), "gene": "ERBB2",
                        "protein_change": pd.array([None] * len(gain), dtype="string"),
                        "variant_type": "amplification"})
    tvs = pd.concat([tvs, amp], ignore_index=True).drop_duplicates(["patient_id", "gene", "protein_change",
                                                                    "variant_type"])
    covariates = (CovariateSpec("positive_nodes", "numeric", label="positive lymph nodes", unit="count"),
                  CovariateSpec("npi", "numeric", label="Nottingham prognostic index"),
                  *(categorical(pts, c, label=lab) for c, lab in _CATEGORICAL if pts[c].notna().any()))
    return LoadedCohort(
        covariates=covariates,
        name="metabric-cbioportal",
        tables={"patients": pts, "treatments": pd.DataFrame(trs), "outcomes": outs, "tumour_variants": tvs},
        licence=Licence(name="ODbL-1.0", url="https://opendatacommons.org/licenses/odbl/1-0/",
                        note="derived database of METABRIC (cBioPortal brca_metabric): attribution and share-alike "
                             "apply; never bundle it with the package"),
        provenance=Provenance(
            source="peterchristofferholm/metabric_data (cBioPortal brca_metabric)",
            source_version=file_version(cpath, spath, mpath),
            citation="Curtis C et al. Nature 2012;486:346-52; Pereira B et al. Nat Commun 2016;7:11479; cBioPortal",
            loader="cohorts.loaders.metabric",
            notes=("split = source author's random train/test label, not a published split",
                   "treatments: YES/NO flags; drugs not recorded (unspecified regimens)",
                   "ERBB2 amplification from HER2_SNP6 == GAIN",
                   "mutations: gene + protein change only (no coordinates)"),
        ),
        description="METABRIC breast cancer: clinical, treatments, OS with cause of death, panel mutations",
    )
