"""SUMMIT basket trial, HER2-mutant biliary tract cancer cohort treated with neratinib.

cBioPortal staging files (``#`` header lines): ``data_clinical_patient.txt`` (sex, best overall
response, overall survival months with mostly UNKNOWN status), ``data_clinical_sample.txt``
(tumour/cfDNA/normal samples with OncoTree codes), ``data_mutations_extended.txt`` (MAF, GRCh37)
and ``data_CNA.tsv`` (AMP/DeepDel calls).

Every patient received neratinib (the trial's treatment). Tumour variants are kept as gene +
protein change (build-independent); the MAF's GRCh37 positions are NOT kept (no GRCh38
positions are invented). In this file the MAF header is misaligned with its columns after
``Strand`` (the classification sits under ``Consequence``); the loader detects which column holds
the classification and does not derive VAFs (read-count columns are ambiguous). A patient's
variants from several samples (tissue, cfDNA) are de-duplicated. Overall survival is kept only
where its status is known (LIVING/DECEASED); the months recorded for the others stay in the
``os_months_status_unknown`` column.

Licence: CC0 1.0 (msk-access/puma_biliary_tract_summit_trial).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cohorts.errors import CohortError
from cohorts.loaders._common import (
    DAYS_PER_MONTH,
    LoadedCohort,
    file_version,
    require_file,
    variant_type_from_protein,
)
from cohorts.manifest import Licence, Provenance
from recommender import vocab

__all__ = ["load_summit"]

_CLASS = {
    "Missense_Mutation": "missense", "Nonsense_Mutation": "nonsense", "Frame_Shift_Del": "frameshift",
    "Frame_Shift_Ins": "frameshift", "In_Frame_Del": "inframe_indel", "In_Frame_Ins": "inframe_indel",
    "Splice_Site": "splice", "Splice_Region": "splice", "Silent": "silent", "Nonstop_Mutation": "other_snv",
    "Translation_Start_Site": "other_snv",
}


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False, na_values=["", "NA"],
                           low_memory=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CohortError(f"cannot read: {err}", file=path, fix="give the unmodified cBioPortal staging files") from None


def load_summit(path: str | os.PathLike[str]) -> LoadedCohort:
    """Load the SUMMIT biliary-tract cohort from the folder of cBioPortal staging files."""
    folder = Path(path)
    fix = "give the folder with data_clinical_patient.txt, data_clinical_sample.txt, data_mutations_extended.txt"
    ppath = require_file(folder / "data_clinical_patient.txt", "SUMMIT patient table", fix)
    spath = require_file(folder / "data_clinical_sample.txt", "SUMMIT sample table", fix)
    mpath = require_file(folder / "data_mutations_extended.txt", "SUMMIT MAF", fix)
    cpath = folder / "data_CNA.tsv"
    pat, smp, maf = _read(ppath), _read(spath), _read(mpath)
    bor = "Best Overall Response (BOR)"
    for df, file, cols in ((pat, ppath, ["PATIENT_ID", "SEX", bor]), (smp, spath, ["SAMPLE_ID", "PATIENT_ID"]),
                           (maf, mpath, ["Hugo_Symbol", "Tumor_Sample_Barcode", "HGVSp_Short"])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise CohortError(f"column(s) missing: {', '.join(missing)}", file=file, field=missing[0], fix=fix)

    pid = lambda v: f"SUMMIT-{v}"
    tumour = smp[smp.get("SAMPLE_TYPE", "").ne("Normal") & smp.get("ONCOTREE_CODE", "").ne("Normal")]
    codes = {}
    for p, grp in tumour.groupby("PATIENT_ID"):
        found = [c for c in grp.get("ONCOTREE_CODE", pd.Series(dtype=str)).dropna() if c in vocab.ONCOTREE]
        specific = [c for c in found if c != "BILIARY_TRACT"]
        codes[p] = specific[0] if specific else "BILIARY_TRACT"
    status = pat.get("OS_STATUS", pd.Series(index=pat.index, dtype=str)).str.upper()
    months = pd.to_numeric(pat.get("OS_MONTHS"), errors="coerce")
    known = status.isin(["LIVING", "DECEASED", "0:LIVING", "1:DECEASED"])
    pts = pd.DataFrame({
        "patient_id": pat["PATIENT_ID"].map(pid),
        "sex": pat["SEX"].str.lower().where(pat["SEX"].str.lower().isin(["female", "male"]), "unknown"),
        "cancer_type": pat["PATIENT_ID"].map(codes).fillna("BILIARY_TRACT"),
        "os_months_status_unknown": months.where(~known),
    })
    trs = pd.DataFrame({"treatment_id": pts["patient_id"] + "-t1", "patient_id": pts["patient_id"],
                        "regimen": "neratinib", "drugs": [["neratinib"]] * len(pts)})
    outs = pd.DataFrame({
        "patient_id": pts["patient_id"],
        "best_response": pat[bor].str.strip().str.upper().where(lambda s: s.isin(vocab.RECIST_RESPONSES)),
        "os_days": (months * DAYS_PER_MONTH).where(known),
        "os_event": status.map(lambda s: None if s not in ("LIVING", "DECEASED", "0:LIVING", "1:DECEASED")
                               else s.endswith("DECEASED")),
    })

    sample_to_patient = dict(zip(smp["SAMPLE_ID"], smp["PATIENT_ID"]))
    class_col = next((c for c in ("Variant_Classification", "Consequence")
                      if c in maf.columns and maf[c].isin(list(_CLASS)).mean() > 0.5), None)
    rows = []
    for rec in maf.to_dict("records"):
        p = sample_to_patient.get(rec["Tumor_Sample_Barcode"])
        if p is None:
            continue
        change = rec.get("HGVSp_Short")
        change = change.removeprefix("p.") if isinstance(change, str) and change else None
        vtype = _CLASS.get(rec.get(class_col)) if class_col else None
        if vtype is None:
            vtype = variant_type_from_protein(change)
        if change and "splice" in change.lower():
            vtype = "splice"
        rows.append({"patient_id": pid(p), "gene": str(rec["Hugo_Symbol"]).upper(), "protein_change": change,
                     "variant_type": vtype})
    if cpath.is_file():
        cna = _read(cpath)
        for rec in cna.to_dict("records"):
            p = sample_to_patient.get(rec.get("Samples"))
            vtype = {"AMP": "amplification", "DEEPDEL": "deletion", "HOMDEL": "deletion"}.get(str(rec.get("CNA")).upper())
            if p is None or vtype is None:
                continue
            rows.append({"patient_id": pid(p), "gene": str(rec["Gene"]).upper(), "protein_change": None,
                         "variant_type": vtype})
    tvs = pd.DataFrame(rows, columns=["patient_id", "gene", "protein_change", "variant_type"])
    tvs = tvs.drop_duplicates(["patient_id", "gene", "protein_change", "variant_type"]).reset_index(drop=True)
    sources = [ppath, spath, mpath] + ([cpath] if cpath.is_file() else [])
    return LoadedCohort(
        name="summit-neratinib-btc",
        tables={"patients": pts, "treatments": trs, "outcomes": outs, "tumour_variants": tvs},
        licence=Licence(name="CC0-1.0", url="https://creativecommons.org/publicdomain/zero/1.0/",
                        note="msk-access/puma_biliary_tract_summit_trial"),
        provenance=Provenance(
            source="msk-access/puma_biliary_tract_summit_trial", source_version=file_version(*sources),
            citation="Targeting HER2 mutant advanced biliary tract cancers with neratinib: results from the "
                     "SUMMIT 'basket' trial. Research Square rs-1576467",
            loader="cohorts.loaders.summit",
            notes=("tumour variants as gene + protein change; the MAF's GRCh37 positions are not kept",
                   f"MAF classification read from column {class_col!r} (header misaligned in the source)",
                   "no VAF derived: read-count columns ambiguous in the source MAF",
                   "OS only where OS_STATUS is LIVING/DECEASED"),
        ),
        description="SUMMIT neratinib basket trial, HER2-mutant biliary tract cancer: mutations + best response",
    )
