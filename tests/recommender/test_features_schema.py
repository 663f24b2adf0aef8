"""The versioned feature schema: names, groups, missing policies, stable hash."""

from __future__ import annotations

import dataclasses

import pytest

from recommender import vocab
from recommender.features import FEATURE_GROUPS, MISSING_SUFFIX, FeatureSchema, default_feature_schema
from recommender.features.schema import FeatureSpec


def test_default_schema_names_unique_and_grouped():
    s = default_feature_schema()
    assert len(set(s.columns)) == len(s.columns)
    assert {s.spec(c).group for c in s.columns} <= set(FEATURE_GROUPS)
    # every group of the brief is represented
    assert {s.spec(c).group for c in s.columns} == set(FEATURE_GROUPS)


def test_indicator_features_are_followed_by_their_companion():
    s = default_feature_schema()
    cols = list(s.columns)
    for f in s.features:
        if f.missing == "indicator":
            assert cols[cols.index(f.name) + 1] == f.name + MISSING_SUFFIX
        else:
            assert f.name + MISSING_SUFFIX not in cols


def test_hash_is_stable_and_round_trips_through_json():
    a, b = default_feature_schema(), default_feature_schema()
    assert a.hash == b.hash
    back = FeatureSchema.from_json(a.to_json())
    assert back.hash == a.hash and back.columns == a.columns


def test_hash_changes_with_any_feature_change():
    s = default_feature_schema()
    changed = dataclasses.replace(s.features[0], missing="zero")
    other = FeatureSchema(features=(changed, *s.features[1:]), pgx_genes=s.pgx_genes, dnalm_genes=s.dnalm_genes,
                          dnalm_embedding_dims=s.dnalm_embedding_dims)
    assert other.hash != s.hash
    assert default_feature_schema(dnalm_genes=()).hash != s.hash


def test_vocab_driven_one_hots_cover_the_vocabularies():
    s = default_feature_schema()
    onc = [d for d, spec in vocab.DRUGS.items() if spec.oncology]
    assert all(f"tx_drug_{d}" in s.columns for d in onc)
    assert all(f"tx_class_{c}" in s.columns for c in vocab.DRUG_CLASSES)
    assert all(f"demo_cancer_{c}" in s.columns for c in vocab.ONCOTREE)


def test_patient_level_columns_exclude_treatment_features():
    s = default_feature_schema()
    pl = s.columns_in(patient_level=True)
    assert "demo_age" in pl and "pgx_dpyd_activity_score" in pl
    assert not [c for c in pl if c.startswith("tx_")]
    assert "bm_option_sensitivity_level" not in pl


def test_dnalm_block_is_optional_and_sized():
    s = default_feature_schema(dnalm_genes=("BRCA1",), dnalm_embedding_dims=2)
    dn = s.columns_in(["dnalm"])
    assert dn == ("dnalm_brca1_n_variants", "dnalm_brca1_n_variants__missing", "dnalm_brca1_min_llr",
                  "dnalm_brca1_sum_llr", "dnalm_brca1_emb0", "dnalm_brca1_emb1")
    assert default_feature_schema(dnalm_genes=()).columns_in(["dnalm"]) == ()


def test_duplicate_names_and_bad_format_refused():
    f = FeatureSpec("x", "float", "history")
    with pytest.raises(ValueError, match="duplicate"):
        FeatureSchema(features=(f, f))
    with pytest.raises(ValueError, match="format"):
        FeatureSchema.from_dict({"format": "other", "features": []})
