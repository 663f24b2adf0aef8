"""Loaders of the real cohorts in ../shared/data/cohorts (skip on a developer machine without it).

Expected numbers come from the shared data README (counted from the source files).
"""

from __future__ import annotations

import pytest

from cohorts import load_cohort
from cohorts.loaders import (
    load_csv,
    load_deepsurv,
    load_metabric,
    load_phenopackets,
    load_summit,
    load_tcga_cdr,
)


@pytest.mark.needs_shared
def test_deepsurv_gbsg_hormone_therapy_as_stored(shared_data, tmp_path):
    loaded = load_deepsurv(shared_data / "cohorts" / "deepsurv_h5" / "gbsg_cancer_train_test.h5")
    cohort = loaded.write(tmp_path / "gbsg")
    pts, out, tr = cohort.patients, cohort.outcomes, cohort.treatments
    assert pts["split"].value_counts().to_dict() == {"train": 1546, "test": 686}
    events = out.merge(pts[["patient_id", "split"]]).groupby("split")["pfs_event"].sum().to_dict()
    assert events == {"train": 968, "test": 299}
    assert set(tr["regimen"]) == {"tamoxifen", "observation"}
    assert set(pts["cancer_type"]) == {"BRCA"} and out["os_days"].isna().all()
    assert cohort.manifest.licence.name == "MIT"
    p = cohort.patient("gbsg-test-00000")
    assert p.outcomes[0].treatment.regimen in ("tamoxifen", "observation") and p.outcomes[0].pfs is not None


@pytest.mark.needs_shared
def test_deepsurv_metabric_and_support(shared_data, tmp_path):
    folder = shared_data / "cohorts" / "deepsurv_h5"
    met = load_deepsurv(folder, dataset="metabric").write(tmp_path / "m")
    assert met.patients["split"].value_counts().to_dict() == {"train": 1523, "test": 381}
    assert int(met.outcomes["os_event"].sum()) == 887 + 216
    chemo = met.query("regimen = 'chemotherapy (unspecified)'", table="treatments")
    assert 0.18 < len(chemo) / 1904 < 0.24  # README: chemotherapy rate 0.208
    sup = load_deepsurv(folder / "support_train_test.h5").write(tmp_path / "s")
    assert sup.n_patients == 7098 + 1775 and int(sup.outcomes["os_event"].sum()) == 4823 + 1213
    assert sup.patients["sodium"].between(110, 181).all()


@pytest.mark.needs_shared
def test_metabric_cbioportal(shared_data, tmp_path):
    cohort = load_metabric(shared_data / "cohorts" / "metabric_cbioportal").write(tmp_path / "mb")
    assert cohort.n_patients == 1980
    causes = cohort.outcomes["os_cause"].value_counts(dropna=False).to_dict()
    assert causes["died of disease"] == 646 and causes["died of other causes"] == 497
    assert int((~cohort.outcomes["os_event"]).sum()) == 837
    tv = cohort.tumour_variants
    panel = tv[tv["variant_type"] != "amplification"]
    assert panel["patient_id"].nunique() == 1859
    assert cohort.manifest.licence.name == "ODbL-1.0"
    pik3ca = cohort.query("gene = 'PIK3CA' and protein_change = 'H1047R'", table="tumour_variants")
    assert len(pik3ca) > 100
    assert tv["pos"].isna().all()  # no coordinates in the source
    assert set(cohort.patients["split"].dropna()) == {"train", "test"}
    p = cohort.patient("MB-0000")
    assert p.outcomes[0].os.cause is None and p.diagnosis.cancer_type in ("IDC", "BRCA", "ILC", "MDLC")


@pytest.mark.needs_shared
def test_tcga_cdr(shared_data, tmp_path):
    cohort = load_tcga_cdr(shared_data / "cohorts" / "tcga_cdr").write(tmp_path / "t")
    assert cohort.n_patients == 11160
    counts = cohort.patients["cancer_type"].value_counts().to_dict()
    assert counts["BRCA"] == 1097 and counts["LUAD"] == 522
    resp = cohort.outcomes["best_response"].value_counts().to_dict()
    assert resp["CR"] == 4093 and resp["PD"] == 672
    both = cohort.outcomes.dropna(subset=["pfs_days", "os_days"])
    assert (both["pfs_days"] <= both["os_days"]).all()
    assert "11 record(s)" in cohort.manifest.provenance.notes[0]
    assert load_cohort(cohort.path).query("cancer_type = 'HGSOC'").shape[0] > 500  # TCGA OV -> OncoTree HGSOC


@pytest.mark.needs_shared
def test_summit_neratinib(shared_data, tmp_path):
    cohort = load_summit(shared_data / "cohorts" / "summit_neratinib_btc").write(tmp_path / "s")
    assert cohort.n_patients == 25
    assert cohort.outcomes["best_response"].value_counts().to_dict() == {"SD": 8, "PD": 7, "NE": 6, "PR": 4}
    assert set(cohort.treatments["regimen"]) == {"neratinib"}
    tv = cohort.tumour_variants
    assert tv["pos"].isna().all() and tv["chrom"].isna().all()  # GRCh37 positions not kept
    erbb2 = tv[(tv["gene"] == "ERBB2") & (tv["variant_type"] == "missense")]
    assert "S310F" in set(erbb2["protein_change"])
    assert {"missense", "frameshift", "nonsense", "amplification", "deletion"} <= set(tv["variant_type"])
    assert cohort.manifest.licence.name == "CC0-1.0"


def test_csv_loader_round_trip(tmp_path, fixtures_dir):
    from tests.cohorts.conftest import small_tables

    folder = tmp_path / "csv"
    folder.mkdir()
    for name, df in small_tables().items():
        df = df.copy()
        for col in ("drugs", "medications"):
            if col in df:
                df[col] = df[col].map(";".join)
        df.to_csv(folder / f"{name}.csv", index=False)
    cohort = load_csv(folder, name="from-csv", licence="CC0-1.0").write(tmp_path / "c")
    assert cohort.treatments["drugs"][0] == ["fluorouracil", "leucovorin", "oxaliplatin"]
    assert cohort.patient("P1").medications == ("paroxetine",)


def test_phenopackets_loader(tmp_path, fixtures_dir):
    import shutil

    folder = tmp_path / "pp"
    folder.mkdir()
    shutil.copy(fixtures_dir / "cohorts" / "phenopacket_luad.json", folder)
    shutil.copy(fixtures_dir / "cohorts" / "patient_full.json", folder)
    with pytest.warns(Warning):
        cohort = load_phenopackets(folder, name="pp").write(tmp_path / "c")
    assert sorted(cohort.patients["patient_id"]) == ["DEMO-0001", "LUAD-0042"]
    assert cohort.patient("LUAD-0042").tumour_variants[0].label == "EGFR L858R"
