"""The hand-curated GRCh38 hotspot positions: internal consistency and the GRCh37 cross-check."""

from collections import defaultdict

from genomics.biomarkers import load_hotspots, parse_protein_change

_COMPLEMENT = str.maketrans("ACGT", "TGCA")
#: Alleles whose GRCh38 position was verified directly in a public source (SOURCES.md, S codes).
_DIRECT = {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"}


def test_table_loads_and_indexes():
    table = load_hotspots()
    assert len(table.alleles) >= 15 and len(table.sha256) == 64
    braf = table.grch38_allele("chr7", 140753336, "A", "T")
    assert braf is not None and (braf.gene, braf.protein_change, braf.dbsnp) == ("BRAF", "V600E", "rs113488022")
    assert table.grch38_allele("7", 140753336, "a", "t") is braf  # contig / case forms
    assert table.grch38_allele("chr7", 140753336, "A", "G") is None
    assert table.grch37_allele("chr7", 140453136, "A", "T") is braf


def test_every_allele_has_a_readable_protein_change_and_source():
    for a in load_hotspots().alleles:
        assert parse_protein_change(a.protein_change).kind == "missense", a
        sources = set(a.verified_by.split(";"))
        assert "H" in sources or len(sources & _DIRECT) >= 2, f"{a}: needs the GRCh37 check or two sources"
        assert a.hgvs_c.startswith("NM_")
        assert len(a.ref) == len(a.alt) == 1


def test_offsets_within_a_gene_agree_with_a_directly_verified_allele():
    by_gene = defaultdict(list)
    for a in load_hotspots().alleles:
        by_gene[a.gene].append(a)
    for gene, alleles in by_gene.items():
        direct = [a for a in alleles if _DIRECT & set(a.verified_by.split(";"))]
        assert direct, f"{gene}: no allele verified directly"
        offsets = {a.pos - a.grch37_pos for a in alleles}
        assert len(offsets) == 1, f"{gene}: GRCh38-GRCh37 offsets differ: {offsets}"


def test_minus_strand_genes_have_complemented_alleles():
    # KRAS, NRAS, BRAF, IDH1 are on the minus strand: c.35G>A is a C>T on the forward strand
    table = load_hotspots()
    for a in table.alleles:
        cdna = a.hgvs_c.split("c.")[1]
        ref_c, alt_c = cdna[-3], cdna[-1]
        if a.gene in {"KRAS", "NRAS", "BRAF", "IDH1"}:
            assert (a.ref, a.alt) == (ref_c.translate(_COMPLEMENT), alt_c.translate(_COMPLEMENT)), a
        else:
            assert (a.ref, a.alt) == (ref_c, alt_c), a


def test_grch37_alleles_are_in_the_cancer_hotspots_vcf(shared_data):
    vcf = shared_data / "oncology" / "cancer_hotspots_chang2016" / "publication_hotspots.vcf"
    records = set()
    for line in vcf.read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, ident, ref, alt = line.split("\t")[:5]
        records.add((chrom, int(pos), ident, ref, alt))
    checked = 0
    for a in load_hotspots().alleles:
        if "H" not in a.verified_by.split(";"):
            continue  # e.g. EGFR T790M, an acquired mutation, is not a Chang 2016 hotspot
        checked += 1
        codon = parse_protein_change(a.protein_change).codon
        key = (a.chrom.removeprefix("chr"), a.grch37_pos, f"{a.gene}:{codon}", a.ref, a.alt)
        assert key in records, f"{a.gene} {a.protein_change}: {key} not in the GRCh37 hotspot VCF"
    assert checked >= 15
