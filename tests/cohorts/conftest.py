"""Helpers for the cohort tests: tiny cohorts and VCFs built in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pysam
import pytest

from cohorts.manifest import Licence, Provenance

LENGTH = {"GRCh38": 50_818_468, "GRCh37": 51_304_566}


def make_vcf(path: Path, samples: list[str], build: str = "GRCh38") -> Path:
    """A one-record bgzipped, tabix-indexed VCF on chr22 of ``build`` (contig length in the header)."""
    text = path.with_suffix("")  # x.vcf
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID=chr22,length={LENGTH[build]}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
        "\t".join(["chr22", "42126611", ".", "C", "G", ".", "PASS", ".", "GT", *["0|1"] * len(samples)]),
    ]
    text.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(text), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def small_tables() -> dict[str, pd.DataFrame]:
    patients = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3"],
        "sample_id": ["S1", "S2", "S3"],
        "age": [61.0, 47.5, 70.2],
        "sex": ["female", "male", "female"],
        "cancer_type": ["COAD", "COAD", "LUAD"],
        "ecog": [0, 2, 1],
        "bilirubin": [10.0, 12.5, None],
        "medications": [["paroxetine"], [], ["metformin"]],
        "kras_status": ["mut", "wt", "wt"],  # an extra covariate column is kept
    })
    treatments = pd.DataFrame({
        "treatment_id": ["P1-t1", "P2-t1", "P3-t1"], "patient_id": ["P1", "P2", "P3"],
        "regimen": ["FOLFOX", "FOLFIRI", "osimertinib"],
        "drugs": [["fluorouracil", "leucovorin", "oxaliplatin"], ["fluorouracil", "leucovorin", "irinotecan"],
                  ["osimertinib"]],
    })
    outcomes = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3"], "best_response": ["PR", "PD", "CR"],
        "pfs_days": [200.0, 60.0, None], "pfs_event": [True, True, None],
        "os_days": [500.0, 300.0, 800.0], "os_event": [False, True, False],
    })
    adverse = pd.DataFrame({"patient_id": ["P1", "P2"], "treatment_id": ["P1-t1", "P2-t1"],
                            "term": ["Neutrophil count decreased", "Diarrhea"], "grade": [3, 2]})
    variants = pd.DataFrame({"patient_id": ["P1", "P3"], "gene": ["KRAS", "EGFR"], "protein_change": ["G12D", "L858R"],
                             "variant_type": ["missense", "missense"], "chrom": ["chr12", None],
                             "pos": [25245350, None]})
    return {"patients": patients, "treatments": treatments, "outcomes": outcomes, "adverse_events": adverse,
            "tumour_variants": variants}


@pytest.fixture()
def tables() -> dict[str, pd.DataFrame]:
    return small_tables()


@pytest.fixture()
def meta() -> dict:
    return {"name": "small", "licence": Licence(name="CC0-1.0"), "provenance": Provenance(source="test", loader="test")}
