"""HGVS protein-change normalisation (genomics.biomarkers.protein_change)."""

import pytest

from genomics.biomarkers.protein_change import parse_protein_change


@pytest.mark.parametrize(
    "text, short, kind",
    [
        ("p.V600E", "V600E", "missense"),
        ("p.Val600Glu", "V600E", "missense"),
        ("V600E", "V600E", "missense"),
        ("p.(Val600Glu)", "V600E", "missense"),
        ("ENSP00000288602.7:p.Val600Glu", "V600E", "missense"),
        ("p.Glu746_Ala750del", "E746_A750del", "inframe_deletion"),
        ("p.E746_A750del", "E746_A750del", "inframe_deletion"),
        ("p.Leu747_Pro753delinsSer", "L747_P753delinsS", "delins"),
        ("p.Ala767_Val769dup", "A767_V769dup", "duplication"),
        ("p.Asp770_Asn771insSerValAsp", "D770_N771insSVD", "inframe_insertion"),
        ("p.Arg1443Ter", "R1443*", "nonsense"),
        ("p.R1443*", "R1443*", "nonsense"),
        ("R1443X", "R1443*", "nonsense"),
        ("p.Lys1445AsnfsTer3", "K1445fs", "frameshift"),
        ("p.K1445Nfs*3", "K1445fs", "frameshift"),
        ("p.V600%3D", "V600=", "synonymous"),
        ("p.Val600=", "V600=", "synonymous"),
        ("p.V600V", "V600=", "synonymous"),
        ("p.Met1?", "M1?", "start_lost"),
    ],
)
def test_spellings_normalise_to_one_form(text, short, kind):
    pc = parse_protein_change(text)
    assert (pc.short, pc.kind) == (short, kind)


@pytest.mark.parametrize("text", ["", None, "p.?", "p.=", "c.1799T>A", "not a change", "p.V600"])
def test_unreadable_text_is_unknown_not_an_error(text):
    pc = parse_protein_change(text)
    assert pc.short is None and pc.kind == "unknown"


def test_positions_and_flags():
    pc = parse_protein_change("p.Glu746_Ala750del")
    assert (pc.start, pc.end, pc.ref) == (746, 750, "E")
    assert pc.is_inframe_indel and not pc.is_loss_of_function
    assert pc.overlaps(729, 761) and not pc.overlaps(751, 800)
    assert parse_protein_change("p.Arg132His").codon == "R132"
    assert parse_protein_change("p.Q61*").is_loss_of_function
