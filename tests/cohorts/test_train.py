"""cohorts.train: training a bundle on a cohort directory, with and without feature groups."""

from __future__ import annotations

import json

import pytest

from cohorts.simulate import simulate_cohort
from cohorts.train import GENOMIC_GROUPS, reduced_schema, train_cohort
from genomics.errors import UsageError
from recommender.cli import main
from recommender.features import default_feature_schema
from recommender.models import ModelBundle
from recommender.models._base import FeatureSchemaMismatchError
from recommender.models.training import TrainingConfig

# the four survival candidates of before issue 13's forest/AFT/stack: these tests are about the plumbing
FAST = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0,
                      survival_candidates=("boosted", "boosted_shallow", "cox", "blend"))


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "cohort"
    simulate_cohort(300, 11).write(out)  # phenotype priors (no VCF): fast
    return out


def test_reduced_schema_drops_only_the_excluded_groups():
    full = default_feature_schema()
    red = reduced_schema(GENOMIC_GROUPS)
    groups = {red.spec(c).group for c in red.columns}
    assert not groups & set(GENOMIC_GROUPS)
    assert {"treatment", "demographics", "history"} <= groups
    assert len(red.columns) < len(full.columns)
    assert red.hash != full.hash
    assert reduced_schema(()).hash == full.hash


@pytest.mark.parametrize("bad", [("pgx", "genes"), ("treatment",)])
def test_reduced_schema_refuses_unknown_or_treatment_group(bad):
    with pytest.raises(UsageError) as err:
        reduced_schema(bad)
    assert err.value.fix


def test_train_cohort_writes_a_loadable_bundle_without_genomic_features(cohort_dir, tmp_path):
    bundle = train_cohort(cohort_dir, tmp_path / "b", exclude_groups=GENOMIC_GROUPS, config=FAST)
    loaded = ModelBundle.load(tmp_path / "b")
    assert loaded.schema.hash == bundle.schema.hash == reduced_schema(GENOMIC_GROUPS).hash
    assert not any(c.startswith("pgx_") for c in loaded.schema.columns)
    assert loaded.response is not None and "pfs" in loaded.survival
    assert "pgx" in loaded.metadata["cohort_description"]
    assert loaded.metadata["training_rows"] == 300
    # the full schema is refused by this bundle (trained on a reduced one)
    with pytest.raises(FeatureSchemaMismatchError):
        ModelBundle.load(tmp_path / "b", expected_schema=default_feature_schema())


def test_train_cohort_refuses_existing_directory(cohort_dir, tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(UsageError):
        train_cohort(cohort_dir, tmp_path / "b", config=FAST)


def test_cli_cohort_train_json(cohort_dir, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["cohort", "train", str(cohort_dir), "-o", str(out), "--no-bootstrap", "--exclude-groups",
                 "pgx,dnalm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bundle_id"] and (out / "MANIFEST.json").is_file()
    assert 0.0 <= data["metrics"]["response"]["brier"] <= 1.0
    assert main(["cohort", "train", str(cohort_dir), "-o", str(tmp_path / "x"), "--exclude-groups", "nope"]) == 2
