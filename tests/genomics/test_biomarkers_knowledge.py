"""The bundled biomarker -> therapy table: content, validation and rule grammar."""

import json

import pytest

from genomics.biomarkers.knowledge import EVIDENCE_LEVELS, load_knowledge_base, rule_matches
from genomics.biomarkers.protein_change import parse_protein_change
from genomics.errors import KnowledgeBaseError


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_bundled_table_has_version_hash_and_citations(kb):
    assert kb.version and len(kb.sha256) == 64
    assert kb.provenance()["sha256"] == kb.sha256
    for row in kb.rows:
        assert row.citations, row.id
        assert any(c.kind == "PMID" for c in row.citations), f"{row.id} cites no trial PMID"
        assert row.evidence_level in EVIDENCE_LEVELS and row.evidence_level != "3B"
        assert all(t == t.lower() for t in row.therapies)
        assert (row.direction == "resistance") == row.evidence_level.startswith("R")


REQUIRED = [
    ("EGFR", "NSCLC", {"osimertinib", "gefitinib", "erlotinib", "afatinib"}),
    ("KRAS", "NSCLC", {"sotorasib", "adagrasib"}),
    ("KRAS", "COADREAD", {"cetuximab", "panitumumab"}),
    ("NRAS", "COADREAD", {"cetuximab", "panitumumab"}),
    ("BRAF", "MEL", {"vemurafenib", "dabrafenib + trametinib"}),
    ("BRAF", "COADREAD", {"encorafenib + cetuximab"}),
    ("BRAF", "NSCLC", {"dabrafenib + trametinib"}),
    ("ERBB2", "BREAST", {"trastuzumab", "pertuzumab", "trastuzumab deruxtecan", "neratinib"}),
    ("PIK3CA", "BREAST", {"alpelisib"}),
    ("BRCA1", "OVARY", {"olaparib", "niraparib", "rucaparib"}),
    ("BRCA2", "BREAST", {"olaparib", "talazoparib"}),
    ("ALK", "NSCLC", {"alectinib", "crizotinib", "lorlatinib"}),
    ("ROS1", "NSCLC", {"crizotinib", "entrectinib"}),
    ("MSI", "TISSUE", {"pembrolizumab"}),
    ("TMB", "TISSUE", {"pembrolizumab"}),
    ("NTRK1", "TISSUE", {"larotrectinib", "entrectinib"}),
    ("IDH1", "AML", {"ivosidenib"}),
    ("IDH1", "CHOL", {"ivosidenib"}),
    ("KIT", "GIST", {"imatinib"}),
]


@pytest.mark.parametrize("gene, cancer, drugs", REQUIRED)
def test_required_biomarkers_are_in_the_table(kb, gene, cancer, drugs):
    found = set()
    for row in kb.rows_for_gene(gene):
        if cancer in row.cancer_types:
            found.update(row.therapies)
    assert drugs <= found


def test_summit_neratinib_row_cites_pmid_29420467(kb):
    row = next(r for r in kb.rows if "neratinib" in r.therapies)
    assert "29420467" in {c.pmid for c in row.citations}
    assert row.evidence_level == "3A"


def test_cancer_type_hierarchy(kb):
    row = next(r for r in kb.rows if r.id == "EGFR_L858R_NSCLC")
    assert kb.applies_to(row, "LUAD") and kb.applies_to(row, "nsclc")
    assert not kb.applies_to(row, "COAD") and not kb.applies_to(row, None)
    agnostic = next(r for r in kb.rows if r.id == "MSI_H_AGNOSTIC")
    assert kb.applies_to(agnostic, "PAAD") and kb.applies_to(agnostic, "COAD")
    assert kb.ancestors("HGSOC")[-1] == "TISSUE" and "OVARY" in kb.ancestors("HGSOC")


@pytest.mark.parametrize(
    "rule, change, expected",
    [
        ("inframe_deletion_in:729-761", "p.E746_A750del", True),
        ("inframe_deletion_in:729-761", "p.L747_P753delinsS", True),
        ("inframe_deletion_in:729-761", "p.L858R", False),
        ("inframe_deletion_in:729-761", "p.A767_V769dup", False),
        ("exact:V600E", "p.Val600Glu", True),
        ("exact:V600E", "p.V600K", False),
        ("codon:R132", "p.R132H", True),
        ("codon:R132", "p.R132=", False),
        ("codons:12,13,59,61,117,146", "p.Q61R", True),
        ("codons:12,13,59,61,117,146", "p.G12*", False),
        ("codons:12,13,59,61,117,146", "p.A18D", False),
        ("inframe_insertion_in:770-781", "p.D770_N771insSVD", True),
        ("duplication_in:770-781", "p.Y772_A775dup", True),
        ("protein_altering_in:550-592", "p.W557_K558del", True),
        ("loss_of_function", "p.K1445fs", True),
        ("loss_of_function", "p.I1334V", False),
    ],
)
def test_rules(rule, change, expected):
    assert rule_matches(rule, parse_protein_change(change)) is expected


def test_exon_rule_uses_annotator_exon():
    unknown = parse_protein_change("")
    assert rule_matches("exon_inframe_deletion:19", unknown, exon=19, consequences=["inframe_deletion"])
    assert not rule_matches("exon_inframe_deletion:19", unknown, exon=20, consequences=["inframe_deletion"])
    assert rule_matches("loss_of_function", unknown, consequences=["splice_donor_variant"])
    assert rule_matches("loss_of_function", parse_protein_change("p.C61G"), pathogenic=True)


def _write(tmp_path, data):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def _good_row(**over):
    row = {"id": "X1", "gene": "BRAF", "alteration": "V600E", "match": {"kind": "mutation", "rules": ["exact:V600E"]},
           "cancer_types": ["MEL"], "therapies": ["vemurafenib"], "direction": "sensitivity", "evidence_level": "1",
           "citations": [{"kind": "PMID", "pmid": "21639808", "text": "BRIM-3"}]}
    row.update(over)
    return row


@pytest.mark.parametrize(
    "over, field",
    [
        ({"evidence_level": "9"}, "evidence_level"),
        ({"evidence_level": "3B"}, "evidence_level"),
        ({"direction": "resistance"}, "evidence_level"),
        ({"cancer_types": ["NOPE"]}, "cancer_types"),
        ({"therapies": ["Vemurafenib"]}, "therapies"),
        ({"match": {"kind": "mutation", "rules": ["exact:"]}}, "match.rules"),
        ({"match": {"kind": "sorcery"}}, "match.kind"),
        ({"citations": [{"kind": "PMID", "text": "x"}]}, "citations"),
        ({"citations": []}, "citations"),
    ],
)
def test_malformed_rows_are_refused_naming_row_and_field(tmp_path, over, field):
    data = {"name": "t", "version": "1", "oncotree_parents": {"MEL": "SKIN"}, "rows": [_good_row(**over)]}
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(_write(tmp_path, data))
    assert err.value.record == "X1" and err.value.field == field and err.value.fix


def test_bad_json_and_missing_file(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="not valid JSON") as err:
        load_knowledge_base(_write(tmp_path, '{"rows": [ }'))
    assert err.value.record == "line 1"
    with pytest.raises(KnowledgeBaseError, match="not found"):
        load_knowledge_base(tmp_path / "missing.json")
    with pytest.raises(KnowledgeBaseError, match="duplicate"):
        load_knowledge_base(_write(tmp_path, {"name": "t", "version": "1", "oncotree_parents": {"MEL": "SKIN"},
                                              "rows": [_good_row(), _good_row()]}))
