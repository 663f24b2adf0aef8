"""Germline BRCA1 variants of uncertain significance in the simulator (``simulate_cohort(vus_rate=...)``)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohorts import simulate_model as M
from cohorts.brca_vus import MAX_INTRON_DISTANCE, VUS_CONSEQUENCES, build_vus_table, load_vus_variants
from cohorts.germline import RealGenotypeSource, load_brca_variants
from cohorts.germline_panel import PANEL_PATH
from cohorts.simulate import simulate_cohort
from genomics.errors import UsageError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "variant_effect"
MIX = {"BRCA": 0.4, "HGSOC": 0.3, "PAAD": 0.3}
needs_panel = pytest.mark.skipif(not PANEL_PATH.is_file(), reason="haplotype panel not installed")


def _digest(c) -> str:
    h = hashlib.sha256()
    for group in (c.tables, c.truth_tables):
        for name in sorted(group):
            h.update(name.encode())
            h.update(group[name].to_csv(index=False).encode())
    if c.vcf is not None:
        h.update("".join(ln for ln in _lines(c.vcf) if not ln.startswith("##source")).encode())
    return h.hexdigest()


def _lines(vcf) -> list[str]:
    with gzip.open(vcf, "rt") as fh:
        return fh.readlines()


def _records(vcf) -> list[str]:
    return [ln for ln in _lines(vcf) if not ln.startswith("#")]


# ---------------------------------------------------------------------------- off by default: nothing changes
def test_vus_off_cohort_identical_to_before_the_option_existed():
    """Hashes computed on the simulator *before* the VUS option was added (2026-12-06). If this fails after an
    intended change of the simulator, recompute the hash; if it fails after a VUS change, the VUS leaked into
    the main random stream."""
    c = simulate_cohort(400, seed=11)
    assert _digest(c) == "6fe81eb7b9efd317a144ac25bcef9a21dab24f2a0497f9d03aca55d05b21d2e7"
    assert _digest(simulate_cohort(400, seed=11, vus_rate=0.0)) == _digest(c)


@needs_panel
def test_vus_off_genotype_cohort_identical_to_before_the_option_existed(tmp_path):
    """Same check with the real-genotype source, VCF included (hash taken before the edit; it also moves when the
    PGx caller's calls change)."""
    c = simulate_cohort(300, seed=7, germline=RealGenotypeSource(workdir=tmp_path))
    assert _digest(c) == "e379cb679aaedc60a19dbe74c5e5b926b92740b00384418c5aecf5bd4acae6ce"
    assert "brca_vus" not in c.truth_tables["germline"].columns


# ---------------------------------------------------------------------------- the VUS table is real
def test_vus_table_holds_real_brca1_snvs_at_reference_positions():
    from genomics.dnalm.consequence import annotate
    from genomics.reference import bundled_reference

    ref = bundled_reference()
    t = load_vus_variants()
    curated = {(r.chrom, int(r.pos), r.ref, r.alt) for r in load_brca_variants().itertuples()}
    assert len(t) >= 100 and t["hidden_lof"].sum() >= 20 and (~t["hidden_lof"]).sum() >= 50
    assert set(t["enigma_class"]) == {"Pathogenic", "Benign"}
    assert (t["hidden_lof"] == (t["enigma_class"] == "Pathogenic")).all()
    for r in t.itertuples():
        assert len(r.ref) == len(r.alt) == 1 and r.ref != r.alt
        assert ref.fetch(r.chrom, r.pos, r.pos).upper() == r.ref
        c = annotate(r.chrom, r.pos, r.ref, r.alt, ref)
        assert c.gene == "BRCA1" and c.consequence == r.consequence in VUS_CONSEQUENCES
        if r.consequence == "intron":
            assert r.exon_distance <= MAX_INTRON_DISTANCE
        assert (r.chrom, r.pos, r.ref, r.alt) not in curated
    assert set(t["consequence"]) >= {"missense", "synonymous", "canonical_splice", "intron"}


@pytest.mark.skipif(not (SHARED / "enigma_brca").is_dir(), reason="labelled sets folder not present")
def test_vus_table_rebuilds_from_the_enigma_source():
    shipped = load_vus_variants()
    rebuilt = build_vus_table(SHARED)
    cols = ["hgvs_c", "chrom", "pos", "ref", "alt", "consequence", "enigma_class", "hidden_lof"]
    pd.testing.assert_frame_equal(shipped[cols].reset_index(drop=True), rebuilt[cols].reset_index(drop=True),
                                  check_dtype=False)


def test_broken_vus_table_is_a_usage_error(tmp_path):
    bad = tmp_path / "vus.tsv"
    bad.write_text("gene\tpos\nBRCA1\t1\n")
    with pytest.raises(UsageError, match="lacks column"):
        load_vus_variants(bad)
    with pytest.raises(UsageError, match="cannot read"):
        load_vus_variants(tmp_path / "missing.tsv")


# ---------------------------------------------------------------------------- the hidden truth drives olaparib only
def test_vus_on_changes_only_the_vus_and_their_olaparib_truth():
    off = simulate_cohort(3000, seed=5, cancer_mix=MIX)
    on = simulate_cohort(3000, seed=5, cancer_mix=MIX, vus_rate=0.4)
    for name in ("patients", "treatments", "adverse_events", "tumour_variants"):
        pd.testing.assert_frame_equal(off.tables[name], on.tables[name])
    pd.testing.assert_frame_equal(off.truth_tables["assignment"], on.truth_tables["assignment"])  # blind to VUS
    g = on.truth_tables["germline"]
    carriers = g["brca_vus"].notna()
    assert 0.35 < carriers.mean() < 0.45
    acts = g["brca_vus_acts"].to_numpy(bool)
    assert (acts == (g["brca_vus_hidden_lof"] & ~g["germline_brca_lof"] & ~g["somatic_brca_lof"])).all()
    assert acts.sum() > 100
    # only olaparib rows of patients whose VUS acts change, and they get the curated loss-of-function effect
    o_off, o_on = off.truth_tables["oracle"], on.truth_tables["oracle"]
    changed = ~np.isclose(o_off["p_response"], o_on["p_response"], rtol=0, atol=0)
    acting_ids = set(g.loc[acts, "patient_id"])
    assert set(o_on.loc[changed, "regimen"]) == {"olaparib"}
    assert set(o_on.loc[changed, "patient_id"]) == acting_ids & set(o_on.loc[o_on.regimen == "olaparib", "patient_id"])
    rows = changed & (o_on["regimen"] == "olaparib")
    logit = lambda p: np.log(p / (1 - p))
    shift = logit(o_on.loc[rows, "p_response"].to_numpy()) - logit(o_off.loc[rows, "p_response"].to_numpy())
    assert np.allclose(shift, M.VUS_LOF_EFFECTS["olaparib"], atol=1e-6)
    assert (o_on.loc[rows, "expected_pfs_days"].to_numpy() > o_off.loc[rows, "expected_pfs_days"].to_numpy()).all()
    # the truth never leaks into what a model may train on
    for name, df in on.tables.items():
        assert not [c for c in df.columns if "vus" in c.lower()], name


def test_vus_lof_share_and_rate_are_checked():
    on = simulate_cohort(4000, seed=2, cancer_mix=MIX, vus_rate=1.0, vus_lof_share=0.5)
    g = on.truth_tables["germline"]
    assert g["brca_vus"].notna().all()
    assert 0.45 < g["brca_vus_hidden_lof"].mean() < 0.55
    for bad in ({"vus_rate": -0.1}, {"vus_rate": 1.5}, {"vus_rate": 0.1, "vus_lof_share": 2.0}):
        with pytest.raises(UsageError):
            simulate_cohort(10, seed=0, **bad)


def test_vus_same_seed_same_cohort():
    a = simulate_cohort(500, seed=4, vus_rate=0.2)
    b = simulate_cohort(500, seed=4, vus_rate=0.2)
    assert _digest(a) == _digest(b)


# ---------------------------------------------------------------------------- the product reads them from the VCF
@needs_panel
def test_vus_written_to_the_germline_vcf_of_each_carrier(tmp_path):
    off = simulate_cohort(300, seed=3, cancer_mix=MIX, germline=RealGenotypeSource(workdir=tmp_path / "off"))
    on = simulate_cohort(300, seed=3, cancer_mix=MIX, vus_rate=0.5,
                         germline=RealGenotypeSource(workdir=tmp_path / "on"))
    rec_off, rec_on = _records(off.vcf), _records(on.vcf)
    vus_lines = [ln for ln in rec_on if "KIND=germline_vus" in ln]
    assert sorted(set(rec_on) - set(vus_lines)) == sorted(rec_off)  # everything else byte-identical
    header = next(ln for ln in _lines(on.vcf) if ln.startswith("##INFO=<ID=KIND"))
    assert "germline_vus" in header
    g = on.truth_tables["germline"].set_index("sample_id")
    samples = next(ln for ln in _lines(on.vcf) if ln.startswith("#CHROM")).rstrip("\n").split("\t")[9:]
    seen: dict[str, str] = {}
    for ln in vus_lines:
        f = ln.rstrip("\n").split("\t")
        for s, gt in zip(samples, f[9:]):
            if gt in ("0|1", "1|0"):
                assert s not in seen
                seen[s] = f"{f[0]}:{f[1]}:{f[3]}>{f[4]}"
            else:
                assert gt == "0|0"
    carriers = g[g["brca_vus"].notna()]
    assert seen == carriers["brca_vus_variant"].to_dict()
    assert "brca_vus_hidden_lof" not in on.tables["patients"].columns


@needs_panel
def test_simulate_command_vus_rate(tmp_path, capsys):
    from cohorts.storage import load_cohort
    from recommender.cli import main

    out = tmp_path / "c"
    assert main(["cohort", "simulate", "-n", "120", "--seed", "1", "--cancer-types", "HGSOC,PAAD",
                 "--vus-rate", "0.3", "-o", str(out)]) == 0
    g = load_cohort(out).truth("germline")
    assert 0.15 < g["brca_vus"].notna().mean() < 0.45
    assert main(["cohort", "simulate", "-n", "10", "--vus-rate", "2", "-o", str(tmp_path / "x")]) == 2
    assert "vus_rate" in capsys.readouterr().err
