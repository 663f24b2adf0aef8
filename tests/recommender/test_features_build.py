"""Feature fusion: one patient x one option -> one row; batch frame; explicit missing values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genomics.pgx import GeneCall, PgxProfile, PgxProvenance
from recommender.features import build_feature_frame, build_features, default_feature_schema
from recommender.schema import Patient, TreatmentOption

SCHEMA = default_feature_schema()


def _patient(**kw) -> Patient:
    base = {"patient_id": "P1", "demographics": {"age": 64, "sex": "female"},
            "diagnosis": {"cancer_type": "COAD", "ecog": 1, "stage": "IIIB"}}
    base.update(kw)
    return Patient(**base)


def test_row_has_every_schema_column_in_order():
    row = build_features(_patient(), "FOLFOX", match_tumour=False)
    assert tuple(row) == SCHEMA.columns
    assert row["demo_age"] == 64 and row["demo_sex_female"] == 1.0
    assert row["demo_cancer_COAD"] == 1.0 and row["demo_cancer_LUAD"] == 0.0
    assert row["hist_stage"] == 3.0 and row["hist_ecog"] == 1.0


def test_treatment_one_hot_and_classes():
    row = build_features(_patient(), "FOLFOX", match_tumour=False)
    assert row["tx_drug_fluorouracil"] == row["tx_drug_oxaliplatin"] == row["tx_drug_leucovorin"] == 1.0
    assert row["tx_drug_capecitabine"] == 0.0
    assert row["tx_class_fluoropyrimidine"] == row["tx_class_platinum"] == 1.0
    assert row["tx_modality_chemotherapy"] == 1.0 and row["tx_n_drugs"] == 3.0
    custom = build_features(_patient(), TreatmentOption(regimen="my combo", drugs=["irinotecan", "capecitabine"]),
                            match_tumour=False)
    assert custom["tx_drug_irinotecan"] == custom["tx_drug_capecitabine"] == 1.0


def test_missing_pgx_is_nan_with_indicator_not_normal():
    row = build_features(_patient(), "FOLFOX", match_tumour=False)
    assert math.isnan(row["pgx_dpyd_activity_score"]) and row["pgx_dpyd_activity_score__missing"] == 1.0
    # the gene-drug interaction is unknown too, not 0 (which would read "no deficit")
    assert math.isnan(row["tx_fluoropyrimidine_x_dpyd_deficit"])
    # but it is 0 for a drug the gene does not touch
    assert build_features(_patient(), "carboplatin-paclitaxel", match_tumour=False)[
        "tx_fluoropyrimidine_x_dpyd_deficit"] == 0.0


def test_dpyd_activity_score_enters_and_interacts_with_fluoropyrimidines():
    row = build_features(_patient(), "FOLFOX", pgx={"DPYD": 1.0}, match_tumour=False)
    assert row["pgx_dpyd_activity_score"] == 1.0 and row["pgx_dpyd_activity_score__missing"] == 0.0
    assert row["pgx_dpyd_phenotype"] == 1.0  # intermediate, derived from the score
    assert row["tx_fluoropyrimidine_x_dpyd_deficit"] == 1.0
    assert build_features(_patient(), "carboplatin-paclitaxel", pgx={"DPYD": 1.0}, match_tumour=False)[
        "tx_fluoropyrimidine_x_dpyd_deficit"] == 0.0


def test_pgx_profile_input_uses_only_called_genes():
    prov = PgxProvenance(definitions_version="test")
    profile = PgxProfile(sample="S", provenance=prov, genes={
        "DPYD": GeneCall(gene="DPYD", status="called", phenotype="Intermediate Metabolizer", activity_score="1.5",
                         lookup_key="1.5"),
        "CYP2C19": GeneCall(gene="CYP2C19", status="not_called", reasons=["no_data"]),
        "UGT1A1": GeneCall(gene="UGT1A1", status="called", phenotype="Poor Metabolizer", lookup_key="Poor Metabolizer"),
    })
    row = build_features(_patient(), "FOLFIRI", pgx=profile, match_tumour=False)
    assert row["pgx_dpyd_activity_score"] == 1.5
    assert math.isnan(row["pgx_cyp2c19_phenotype"]) and row["pgx_cyp2c19_phenotype__missing"] == 1.0
    assert row["pgx_ugt1a1_phenotype"] == 0.0
    assert row["tx_irinotecan_x_ugt1a1_decreased"] == 2.0


def test_phenoconversion_and_medication_counts():
    p = _patient(diagnosis={"cancer_type": "BRCA"}, medications=["paroxetine", "fluconazole"])
    row = build_features(p, "tamoxifen", pgx={"CYP2D6": {"phenotype": "Normal Metabolizer", "activity_score": 2.0},
                                              "CYP2C19": "Normal Metabolizer"}, match_tumour=False)
    assert row["pgx_cyp2d6_phenotype"] == 2.0  # genotype
    assert row["pgx_cyp2d6_functional_phenotype"] == 0.0  # after paroxetine
    assert row["pgx_cyp2d6_functional_activity_score"] == 0.0
    assert row["tx_tamoxifen_x_cyp2d6_function"] == 0.0
    assert row["pgx_cyp2c19_functional_phenotype"] == 0.0  # fluconazole: strong CYP2C19 inhibitor
    assert row["med_cyp2d6_strong_inhibitor"] == 1.0 and row["med_cyp2c19_strong_inhibitor"] == 1.0
    assert row["med_cyp3a_moderate_inhibitor"] == 1.0 and row["med_n_medications"] == 2.0


def test_thiopurine_feature_is_the_worse_of_tpmt_and_nudt15():
    row = build_features(_patient(diagnosis={"cancer_type": "BLL"}), "mercaptopurine-methotrexate",
                         pgx={"TPMT": "Normal Metabolizer", "NUDT15": "Intermediate Metabolizer"}, match_tumour=False)
    assert row["pgx_thiopurine_phenotype"] == 1.0
    assert row["tx_thiopurine_x_thiopurine_deficit"] == 1.0


def test_tumour_biomarkers_and_option_specific_levels():
    p = _patient(diagnosis={"cancer_type": "LUAD"}, tumour_variants=[{"gene": "EGFR", "protein_change": "L858R"}])
    osi = build_features(p, "osimertinib")
    chemo = build_features(p, "carboplatin-paclitaxel")
    assert osi["bm_egfr_sensitising"] == chemo["bm_egfr_sensitising"] == 1.0
    assert osi["bm_option_sensitivity_level"] > 0 and chemo["bm_option_sensitivity_level"] == 0
    k = _patient(tumour_variants=[{"gene": "KRAS", "protein_change": "G12D"}])
    pani = build_features(k, "FOLFOX+panitumumab")
    assert pani["bm_kras_mutant"] == 1.0 and pani["bm_ras_raf_wildtype"] == 0.0
    assert pani["bm_option_resistance_level"] > 0
    assert build_features(_patient(), "FOLFOX")["bm_ras_raf_wildtype"] == 1.0


def test_dnalm_block_optional():
    row = build_features(_patient(), "olaparib", dnalm={"BRCA1": {"n_variants": 2, "min_llr": -3.5, "sum_llr": -4.0,
                                                                  "mean_embedding_delta": [0.1, -0.2, 0.3]}},
                         match_tumour=False)
    assert row["dnalm_brca1_min_llr"] == -3.5 and row["dnalm_brca1_n_variants__missing"] == 0.0
    assert row["dnalm_brca1_emb1"] == pytest.approx(-0.2)
    assert math.isnan(row["dnalm_brca1_emb3"])  # vector shorter than the schema's dims
    assert math.isnan(row["dnalm_brca2_min_llr"]) and row["dnalm_brca2_n_variants__missing"] == 1.0


def test_covariates_er_status():
    p = _patient(diagnosis={"cancer_type": "BRCA"})
    assert build_features(p, "tamoxifen", covariates={"er_positive": True}, match_tumour=False)["bm_er_positive"] == 1
    row = build_features(p, "tamoxifen", match_tumour=False)
    assert math.isnan(row["bm_er_positive"]) and row["bm_er_positive__missing"] == 1.0


def test_batch_frame_matches_single_rows():
    p1 = _patient(candidate_treatments=["FOLFOX", "CAPOX"])
    p2 = _patient(patient_id="P2", demographics={"age": 50})
    frame = build_feature_frame([p1, p2], [["FOLFOX", "CAPOX"], ["FOLFIRI"]], pgx={"P1": {"DPYD": 0.5}},
                                match_tumour=False)
    assert list(frame.columns) == list(SCHEMA.columns)
    assert list(frame.index) == [("P1", "FOLFOX"), ("P1", "CAPOX"), ("P2", "FOLFIRI")]
    single = build_features(p1, "CAPOX", pgx={"DPYD": 0.5}, match_tumour=False)
    np.testing.assert_array_equal(frame.loc[("P1", "CAPOX")].to_numpy(), np.array(list(single.values())))
    assert math.isnan(frame.loc[("P2", "FOLFIRI"), "pgx_dpyd_activity_score"])
    # options=None -> each patient's candidate treatments
    assert len(build_feature_frame([p1], None, match_tumour=False)) == 2


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="pgx"):
        build_features(_patient(), "FOLFOX", pgx=[1, 2], match_tumour=False)
    with pytest.raises(ValueError):
        build_features(_patient(), "no such regimen", match_tumour=False)


def test_extra_cohort_covariates_become_named_features():
    schema = default_feature_schema(covariates=("positive_nodes", "npi"))
    assert schema.hash != SCHEMA.hash
    row = build_features(_patient(), "tamoxifen", covariates={"positive_nodes": 3, "npi": "4.5"}, schema=schema,
                         match_tumour=False)
    assert row["cov_positive_nodes"] == 3.0 and row["cov_npi"] == 4.5
    assert math.isnan(build_features(_patient(), "tamoxifen", schema=schema, match_tumour=False)["cov_npi"])
    assert "cov_npi" not in SCHEMA.columns
