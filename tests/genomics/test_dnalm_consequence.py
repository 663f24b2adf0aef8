"""MANE Select transcript table and consequence classes, checked against the bundled GRCh38 reference."""

from __future__ import annotations

import pytest

from genomics.dnalm.consequence import (
    CONSEQUENCE_PRIOR,
    annotate,
    cds_sequence,
    combined_score,
    load_transcripts,
    translate,
)
from genomics.dnalm.pretrain_data import revcomp

reference_mod = pytest.importorskip("genomics.reference")


@pytest.fixture(scope="module")
def ref():
    return reference_mod.bundled_reference()


@pytest.fixture(scope="module")
def brca1():
    return load_transcripts()["BRCA1"]


def test_brca1_cds_translates_to_1863_residues_with_single_terminal_stop(ref, brca1):
    assert brca1.ensembl == "ENST00000357654" and brca1.refseq == "NM_007294.4"
    assert len(brca1.exons) == 23
    assert sum(e - s + 1 for s, e in brca1.exons) == 7088
    protein = translate(cds_sequence(brca1, ref))
    assert len(protein) == 1864 and protein.endswith("*") and protein.count("*") == 1
    assert protein.startswith("MDLSALRVEE")
    assert len(protein.rstrip("*")) == 1863


def codon_variant(brca1, ref, codon: int, offset: int, alt_coding: str):
    """VCF variant changing coding-strand base ``offset`` of ``codon`` (1-based) to ``alt_coding``."""
    g = brca1.cds_positions()[(codon - 1) * 3 + offset]
    fwd_ref = ref.fetch("chr17", g, g)
    return g, fwd_ref, revcomp(alt_coding)


def test_classes_on_real_brca1_codons(ref, brca1):
    cds = cds_sequence(brca1, ref)
    # codon 1 ATG -> start_lost
    g, r, a = codon_variant(brca1, ref, 1, 2, "A")
    assert annotate("chr17", g, r, a, ref).consequence == "start_lost"
    # find a codon whose third base change is synonymous / first base change makes a stop
    found = {}
    for c in range(30, 300):
        codon = cds[(c - 1) * 3 : c * 3]
        for off in range(3):
            for b in "ACGT":
                if b == codon[off]:
                    continue
                mut = codon[:off] + b + codon[off + 1 :]
                kind = ("stop_gained" if translate(mut) == "*" else
                        "synonymous" if translate(mut) == translate(codon) else "missense")
                found.setdefault(kind, (c, off, b))
    for kind, (c, off, b) in found.items():
        g, r, a = codon_variant(brca1, ref, c, off, b)
        res = annotate("chr17", g, r, a, ref)
        if res.exon_boundary_distance is not None and res.exon_boundary_distance <= 3:
            continue
        assert res.consequence == kind, (kind, c, off, b, res)
        assert res.protein_position == c


def test_splice_and_indel_classes(ref, brca1):
    # exon 3 (43115726-43115779, minus strand): intron base right after its 3' end is 43115725 (donor +1)
    g = 43115725
    b = ref.fetch("chr17", g, g)
    alt = "A" if b != "A" else "C"
    assert annotate("chr17", g, b, alt, ref).consequence == "canonical_splice"
    g2 = 43115720  # +6 into the intron
    b2 = ref.fetch("chr17", g2, g2)
    assert annotate("chr17", g2, b2, "A" if b2 != "A" else "C", ref).consequence == "splice_region"
    g3 = 43115700
    b3 = ref.fetch("chr17", g3, g3)
    assert annotate("chr17", g3, b3, "A" if b3 != "A" else "C", ref).consequence == "intron"
    # 1-base deletion inside exon 10 (large exon): frameshift; 3-base deletion: inframe
    p = 43093000
    s = ref.fetch("chr17", p, p + 3)
    assert annotate("chr17", p, s[:2], s[0], ref).consequence == "frameshift"
    assert annotate("chr17", p, s, s[0], ref).consequence == "inframe_indel"
    assert annotate("chr17", 43125300, "A", "G", ref).consequence == "utr"
    assert annotate("chr17", 42500000, "A", "G", ref).consequence == "outside_transcript"


def test_combined_score_is_fitted_and_never_none():
    """Regression (issue 17): the combined score was LLR + prior, which measured worse than the prior alone;
    it is now minus the fitted log-odds, and a missing LLR no longer hides the other parts."""
    assert combined_score(-1.5, "stop_gained") < combined_score(0.3, "synonymous")
    assert combined_score(None, "missense") is not None
    assert CONSEQUENCE_PRIOR["frameshift"] < CONSEQUENCE_PRIOR["missense"] < CONSEQUENCE_PRIOR["synonymous"]
