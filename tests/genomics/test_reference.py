"""Tests of genomics.reference: the bundled GRCh38 subset and user FASTA files.

Facts checked against sources independent of the bundled data:

* BRCA1 (minus strand, GRCh38): start codon ATG at chr17:43,124,094-43,124,096 and stop codon TGA at
  chr17:43,045,678-43,045,680 (issue 2; NCBI Gene 672 / NM_007294.4). Its first coding exon
  translates to MDLSALRVEEVQNVINAMQKILECPI and the last codons to ...LIPQIPHSHY* (UniProt P38398).
* HLA-A (plus strand): CDS starts at chr6:29,942,554 (GENCODE / the HLA-A region used by QUILT-HLA,
  first CDS exon 29,942,554-29,942,626); its first 24 codons encode the signal peptide
  MAVMAPRTLLLLLSGALALTQTWA (UniProt P04439, HLA-A*03:01, the allele of the GRCh38 reference).
* HLA-B (minus strand): first CDS exon ends at chr6:31,357,158; its first 24 codons encode
  MLVMAPRTVLLLLSAALALTETWA (UniProt P01889, HLA-B*07:02, the GRCh38 reference allele).
"""

from __future__ import annotations

import gzip
import os
import random
import shutil
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pysam
import pytest

from genomics.errors import (
    GenomeBuildError,
    IndexFileError,
    OutsideReferenceError,
    RecommenderError,
    ReferenceSequenceError,
    UsageError,
)
from genomics.reference import (
    BUNDLED_REGIONS,
    ReferenceGenome,
    SequenceWindow,
    bundled_reference,
    reference_from_option,
)
from genomics.reference import fasta as fasta_module
from genomics.reference._builds import detect_build

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_CODONS = {a + b + c: _CODE[16 * i + 4 * j + k]
           for i, a in enumerate("TCAG") for j, b in enumerate("TCAG") for k, c in enumerate("TCAG")}


def revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(seq: str) -> str:
    return "".join(_CODONS[seq[i:i + 3]] for i in range(0, len(seq) - 2, 3))


def read_fasta_text(path: Path) -> dict[str, str]:
    """Independent FASTA parser (no pysam): first word of the header -> sequence."""
    records: dict[str, list[str]] = {}
    name = ""
    for line in path.read_text(encoding="ascii").splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records[name] = []
        else:
            records[name].append(line.strip())
    return {k: "".join(v) for k, v in records.items()}


@pytest.fixture(scope="module")
def ref() -> ReferenceGenome:
    return bundled_reference()


@pytest.fixture()
def refdir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "reference"


@pytest.fixture()
def user_fa(refdir: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny user FASTA (without its .fai)."""
    dst = tmp_path / "user.fa"
    shutil.copy(refdir / "user.fa", dst)
    return dst


# --------------------------------------------------------------------------- bundled subset: facts
def test_brca1_start_codon_reads_cat_on_forward_strand(ref: ReferenceGenome) -> None:
    assert ref.fetch("chr17", 43124094, 43124096) == "CAT"
    assert revcomp(ref.fetch("chr17", 43124094, 43124096)) == "ATG"


def test_brca1_stop_codon_reads_tca_on_forward_strand(ref: ReferenceGenome) -> None:
    assert ref.fetch("chr17", 43045678, 43045680) == "TCA"


def test_brca1_first_coding_exon_translates_to_uniprot_start(ref: ReferenceGenome) -> None:
    coding = revcomp(ref.fetch("chr17", 43124096 - 77, 43124096))
    assert translate(coding) == "MDLSALRVEEVQNVINAMQKILECPI"


def test_brca1_last_codons_translate_to_uniprot_end(ref: ReferenceGenome) -> None:
    assert translate(revcomp(ref.fetch("chr17", 43045678, 43045710))) == "LIPQIPHSHY*"


def test_hla_a_start_codon_and_signal_peptide(ref: ReferenceGenome) -> None:
    assert ref.fetch("chr6", 29942554, 29942556) == "ATG"
    assert translate(ref.fetch("chr6", 29942554, 29942554 + 71)) == "MAVMAPRTLLLLLSGALALTQTWA"


def test_hla_b_start_codon_on_minus_strand_and_signal_peptide(ref: ReferenceGenome) -> None:
    assert ref.fetch("chr6", 31357156, 31357158) == "CAT"
    assert translate(revcomp(ref.fetch("chr6", 31357158 - 71, 31357158))) == "MLVMAPRTVLLLLSAALALTETWA"


def test_bundled_contigs_are_real_grch38_lengths(ref: ReferenceGenome) -> None:
    assert ref.build == "GRCh38"
    assert ref.contigs == {"chr17": 83_257_441, "chr6": 170_805_979}
    assert ref.is_subset


def test_bundled_regions_constant_matches_data(ref: ReferenceGenome) -> None:
    assert ref.covered_intervals == BUNDLED_REGIONS
    hla_a = [iv for iv in BUNDLED_REGIONS if iv.label == "HLA-A"]
    assert [(iv.start, iv.end) for iv in hla_a] == [(29_942_469, 29_945_883)]
    hla_b = [iv for iv in BUNDLED_REGIONS if iv.label == "HLA-B"]
    assert [(iv.start, iv.end) for iv in hla_b] == [(31_353_871, 31_357_211)]


def test_bundled_reference_is_cached_and_default_of_option(ref: ReferenceGenome) -> None:
    assert bundled_reference() is ref
    assert reference_from_option(None) is ref
    assert reference_from_option("") is ref


def test_option_refuses_grch37_for_the_bundled_subset() -> None:
    with pytest.raises(GenomeBuildError, match="bundled reference subset is GRCh38"):
        reference_from_option(None, build="GRCh37")


# --------------------------------------------------------------------------- naming, windows, ranges
def test_bare_and_chr_contig_names_are_the_same(ref: ReferenceGenome) -> None:
    assert ref.fetch("17", 43124000, 43124200) == ref.fetch("chr17", 43124000, 43124200)
    assert ref.base_at("6", 29942554) == "A"
    assert ref.window("17", 43124095, size=21).contig == "chr17"


def test_window_is_centred_and_sized(ref: ReferenceGenome) -> None:
    w = ref.window("chr17", 43124095, size=6000)
    assert isinstance(w, SequenceWindow)
    assert len(w.sequence) == 6000 and (w.start, w.end) == (43124095 - 3000, 43124095 + 2999)
    assert w.sequence[w.center_index] == ref.base_at("chr17", 43124095)
    assert w.sequence[w.center_index - 1:w.center_index + 2] == "CAT"
    assert not w.clipped
    with pytest.raises(Exception):
        w.start = 1  # type: ignore[misc]  # frozen
    assert w.to_dict()["center"] == 43124095


def test_window_odd_size_is_symmetric(ref: ReferenceGenome) -> None:
    w = ref.window("chr17", 43124095, size=11)
    assert (w.start, w.end, w.center_index) == (43124090, 43124100, 5)


def test_window_clipped_at_start_of_covered_interval(ref: ReferenceGenome) -> None:
    w = ref.window("chr6", 29942469, size=101)
    assert w.clipped and w.start == 29942469 and w.end == 29942469 + 50
    assert w.center_index == 0
    assert w.sequence == ref.fetch("chr6", 29942469, 29942519)


def test_window_clipped_at_end_of_covered_interval(ref: ReferenceGenome) -> None:
    w = ref.window("chr17", 43600000, size=100)
    assert w.clipped and (w.start, w.end) == (43600000 - 50, 43600000)
    assert w.sequence[w.center_index] == ref.base_at("chr17", 43600000)


def test_window_without_clip_at_edge_raises_outside(ref: ReferenceGenome) -> None:
    with pytest.raises(OutsideReferenceError, match="only partly in the bundled GRCh38 subset"):
        ref.window("chr6", 29942469, size=101, clip=False)
    # the full window inside the interval is fine
    assert len(ref.window("chr6", 29942469 + 50, size=101, clip=False)) == 101


def test_window_centre_outside_subset_raises(ref: ReferenceGenome) -> None:
    with pytest.raises(OutsideReferenceError):
        ref.window("chr6", 29942468, size=101)


def test_window_rejects_bad_size(ref: ReferenceGenome) -> None:
    with pytest.raises(UsageError):
        ref.window("chr17", 43124095, size=0)


def test_outside_subset_message_names_intervals_and_fix(ref: ReferenceGenome) -> None:
    with pytest.raises(OutsideReferenceError) as info:
        ref.fetch("chr6", 1_000_000, 1_000_010)
    err = info.value
    text = err.one_line()
    assert "not in the bundled GRCh38 subset" in text
    assert "29,942,469-29,945,883 (HLA-A)" in text
    assert "--reference PATH" in err.fix and "samtools faidx" in err.fix and ".fai" in err.fix
    assert err.record == "chr6:1000000-1000010"
    assert isinstance(err, ReferenceSequenceError) and isinstance(err, RecommenderError)


def test_real_chromosome_absent_from_subset_is_outside_not_unknown(ref: ReferenceGenome) -> None:
    with pytest.raises(OutsideReferenceError, match="chr1 is not in the bundled GRCh38 subset") as info:
        ref.fetch("chr1", 1_000_000, 1_000_000)
    assert "42,425,000-43,600,000 (BRCA1 region)" in str(info.value)


def test_unknown_contig(ref: ReferenceGenome) -> None:
    with pytest.raises(ReferenceSequenceError, match="unknown contig 'chrUn_xyz'") as info:
        ref.fetch("chrUn_xyz", 1, 2)
    assert not isinstance(info.value, OutsideReferenceError)
    assert "chr17" in str(info.value) and "chr6" in str(info.value)


@pytest.mark.parametrize("start,end", [(0, 3), (-5, 3), (83_257_440, 83_257_442), (10, 9)])
def test_out_of_range(ref: ReferenceGenome, start: int, end: int) -> None:
    with pytest.raises(ReferenceSequenceError) as info:
        ref.fetch("chr17", start, end)
    assert not isinstance(info.value, OutsideReferenceError)


def test_partial_overlap_is_outside(ref: ReferenceGenome) -> None:
    with pytest.raises(OutsideReferenceError, match="only partly"):
        ref.fetch("chr17", 43_599_990, 43_600_010)


def test_contains(ref: ReferenceGenome) -> None:
    assert ref.contains("chr17", 42_425_000, 43_600_000)
    assert ref.contains("17", 43124095)
    assert not ref.contains("chr17", 42_424_999, 42_425_000)
    assert not ref.contains("chr6", 29_945_883, 29_945_884)
    assert ref.contains("chr6", 33_064_568, 33_089_695)  # merged HLA-DPA1 + HLA-DPB1
    assert not ref.contains("chrZ", 1)
    assert not ref.contains("chr17", 0)
    assert not ref.contains("chr17", 10, 5)


def test_non_integer_positions_are_usage_errors(ref: ReferenceGenome) -> None:
    with pytest.raises(UsageError):
        ref.fetch("chr17", "43124094", 43124096)  # type: ignore[arg-type]


def test_reference_sent_to_a_worker_process_reopens(ref: ReferenceGenome) -> None:
    # exactly what multiprocessing does when it sends the reference to a worker
    clone = ForkingPickler.loads(ForkingPickler.dumps(ref))
    assert clone.fetch("chr17", 43124094, 43124096) == "CAT"
    assert clone.provenance()["reference"] == "bundled GRCh38 subset"


# --------------------------------------------------------------------------- bundled subset vs sources
@pytest.mark.needs_shared
def test_bundled_brca1_equals_reverse_complement_of_source(ref: ReferenceGenome, shared_data: Path) -> None:
    raw = "".join((shared_data / "sequence/brca1_region_GRCh38/chr17_brca1_ext.txt").read_text().split())
    fwd = revcomp(raw.upper())
    rng = random.Random(7)
    for pos in [42_425_000, 43_600_000, 43_124_094] + rng.sample(range(42_425_000, 43_600_001), 50):
        assert ref.base_at("chr17", pos) == fwd[pos - 42_425_000]  # README: fwd[pos - 42,425,000]
    assert ref.fetch("chr17", 42_425_000, 43_600_000) == fwd


@pytest.mark.needs_shared
@pytest.mark.parametrize("gene_file", ["DPB1-3115.fa", "F-3134.fa", "G-3135.fa", "MICB-4277.fa"])
def test_primary_segment_equals_refseqgene_record(ref: ReferenceGenome, shared_data: Path, gene_file: str) -> None:
    """Consistency check: for these plus-strand genes the RefSeqGene record equals the primary segment."""
    text = (shared_data / "sequence/vg_GRCh38_HLA" / gene_file).read_text()
    chunks = text.split(">")[1:]
    primary = next(c for c in chunks if c.startswith("gi|568815592:"))
    refseqgene = next(c for c in chunks if "RefSeqGene" in c.split("\n", 1)[0])
    start, end = (int(x) for x in primary.split()[0].split(":")[1].split("-"))
    seq = "".join(refseqgene.split("\n", 1)[1].split()).upper()
    assert ref.fetch("chr6", start, end) == seq


@pytest.mark.needs_shared
def test_builder_reproduces_bundled_data(shared_data: Path, tmp_path: Path) -> None:
    from genomics.reference import build_bundled
    from genomics.reference.bundled import bundled_reference_path

    intervals = build_bundled.build(shared_data, tmp_path)
    assert tuple(intervals) == BUNDLED_REGIONS
    bundled_dir = bundled_reference_path().parent
    for name in ("GRCh38_subset.fa.gz.fai", "GRCh38_subset.fa.gz.intervals.json", "LICENSE-NOTE.md",
                 "LICENSE-vg-MIT.txt"):
        assert (tmp_path / name).read_bytes() == (bundled_dir / name).read_bytes(), name
    rebuilt = ReferenceGenome(tmp_path / "GRCh38_subset.fa.gz")
    for iv in BUNDLED_REGIONS:
        assert rebuilt.fetch(iv.contig, iv.start, iv.end) == bundled_reference().fetch(iv.contig, iv.start, iv.end)
    provenance = (tmp_path / "PROVENANCE.md").read_text()
    assert "46ade68ec770eba0101fa64452f1358626561b446177f2fc18bf9a8b44812fd6" in provenance  # README sha256


def test_bundled_data_ships_provenance_and_licence_note() -> None:
    from genomics.reference.bundled import bundled_reference_path

    folder = bundled_reference_path().parent
    provenance = (folder / "PROVENANCE.md").read_text()
    assert "vgteam/vg @ fd49b9a9040716197f3b23521e14ca29e547fbb7" in provenance
    assert "vmizg/inf4_proj_main @ 442e0a66497b1bac81f1e7ab6b7dff93cb12d215" in provenance
    assert "public domain" in (folder / "LICENSE-NOTE.md").read_text()
    assert "MIT License" in (folder / "LICENSE-vg-MIT.txt").read_text()


# --------------------------------------------------------------------------- user FASTA files
def test_user_plain_fasta_builds_missing_index_and_reads(user_fa: Path, refdir: Path) -> None:
    assert not Path(str(user_fa) + ".fai").exists()
    ref = ReferenceGenome(user_fa)
    assert Path(str(user_fa) + ".fai").exists()
    truth = read_fasta_text(refdir / "user.fa")
    assert ref.contigs == {"chr1": 300, "2": 130}
    assert not ref.is_subset
    assert ref.fetch("chr1", 1, 300) == truth["chr1"].upper()
    assert ref.fetch("chr1", 101, 120) == truth["chr1"][100:120].upper()  # soft-masked -> upper
    assert ref.fetch("chr2", 61, 61) == ref.fetch("2", 61, 61) == truth["2"][60]
    assert ref.fetch("1", 59, 62) == truth["chr1"][58:62].upper()  # across a line break


def test_user_bgzip_fasta_matches_plain(refdir: Path) -> None:
    plain = ReferenceGenome(refdir / "user.fa")
    bgz = ReferenceGenome(refdir / "user.fa.gz")
    assert plain.fetch("chr1", 1, 300) == bgz.fetch("chr1", 1, 300)
    assert plain.fetch("2", 1, 130) == bgz.fetch("chr2", 1, 130)


def test_user_bgzip_without_index_gets_one(refdir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "user.fa.gz"
    shutil.copy(refdir / "user.fa.gz", dst)
    ref = ReferenceGenome(dst)
    assert ref.fetch("chr1", 1, 10) == read_fasta_text(refdir / "user.fa")["chr1"][:10]
    assert (tmp_path / "user.fa.gz.fai").exists() and (tmp_path / "user.fa.gz.gzi").exists()


def test_user_fasta_window_clipped_at_chromosome_ends(refdir: Path) -> None:
    ref = ReferenceGenome(refdir / "user.fa")
    w = ref.window("chr1", 3, size=11)
    assert w.clipped and (w.start, w.end) == (1, 8) and w.center_index == 2
    w = ref.window("chr1", 299, size=11)
    assert w.clipped and (w.start, w.end) == (294, 300)
    with pytest.raises(ReferenceSequenceError, match="outside the contig") as info:
        ref.window("chr1", 3, size=11, clip=False)
    assert not isinstance(info.value, OutsideReferenceError)


def test_user_fasta_out_of_range_and_unknown(refdir: Path) -> None:
    ref = ReferenceGenome(refdir / "user.fa")
    with pytest.raises(ReferenceSequenceError, match=r"chr1 is 1-300"):
        ref.fetch("chr1", 290, 301)
    with pytest.raises(ReferenceSequenceError, match="unknown contig 'chr17'") as info:
        ref.fetch("chr17", 1, 2)
    assert not isinstance(info.value, OutsideReferenceError)  # a full FASTA has no "subset"


def test_read_only_folder_index_goes_to_cache(user_fa: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fasta_module, "_writable_dir", lambda path: False)
    cache = tmp_path / "cache"
    ref = ReferenceGenome(user_fa, index_cache_dir=cache)
    assert not Path(str(user_fa) + ".fai").exists()
    assert ref.index_path.is_relative_to(cache) and ref.index_path.exists()
    assert len(ref.fetch("chr1", 1, 300)) == 300


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_for_real(refdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(refdir / "user.fa", folder / "user.fa")
    folder.chmod(0o555)
    monkeypatch.setenv(fasta_module.INDEX_DIR_ENV, str(tmp_path / "cache"))
    try:
        ref = ReferenceGenome(folder / "user.fa")
        assert ref.fetch("2", 1, 5) == read_fasta_text(refdir / "user.fa")["2"][:5]
        assert not (folder / "user.fa.fai").exists()
    finally:
        folder.chmod(0o755)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceSequenceError, match="not found") as info:
        ReferenceGenome(tmp_path / "GRCh38.fa.gz")
    assert info.value.file == str(tmp_path / "GRCh38.fa.gz") and "--reference" in info.value.fix


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceSequenceError, match="not a file"):
        ReferenceGenome(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.fa").write_bytes(b"")
    with pytest.raises(ReferenceSequenceError, match="empty"):
        ReferenceGenome(tmp_path / "empty.fa")


def test_not_a_fasta(refdir: Path) -> None:
    with pytest.raises(ReferenceSequenceError, match="not a FASTA file"):
        ReferenceGenome(refdir / "not_a_fasta.fa")


def test_truncated_bgzip_fasta(refdir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReferenceSequenceError, match="truncated") as info:
        ReferenceGenome(refdir / "user_truncated.fa.gz")
    assert "samtools faidx" in info.value.fix
    assert capfd.readouterr().err == ""  # no htslib noise


def test_gzip_that_is_not_bgzip(refdir: Path) -> None:
    with pytest.raises(ReferenceSequenceError, match="gzip, not bgzip") as info:
        ReferenceGenome(refdir / "user_gzip.fa.gz")
    assert "bgzip" in info.value.fix


def test_malformed_fasta_cannot_be_indexed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ragged.fa"
    bad.write_text(">chr1\nACGTACGTAC\nACG\nACGTACGTAC\n>chr2\nAC\n")  # inconsistent line lengths
    with pytest.raises(ReferenceSequenceError, match="cannot index"):
        ReferenceGenome(bad)
    assert not (tmp_path / "ragged.fa.fai").exists()  # nothing half-written
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("cached", [False, True])
def test_corrupt_bgzip_block_is_reported_at_read(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, cached: bool) -> None:
    from genomics.reference import genome as genome_module

    if not cached:  # read block by block, as for a whole chromosome
        monkeypatch.setattr(genome_module, "_CACHE_RECORD_MAX_BASES", 0)
    rng = random.Random(3)
    plain = tmp_path / "big.fa"
    seq = "".join(rng.choice("ACGT") for _ in range(200_000))
    plain.write_text(">chr1\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    gz = tmp_path / "big.fa.gz"
    pysam.tabix_compress(str(plain), str(gz), force=True)
    ReferenceGenome(gz).close()  # builds .fai/.gzi
    data = bytearray(gz.read_bytes())
    for i in range(30_000, 30_100):
        data[i] ^= 0xFF
    gz.write_bytes(bytes(data))
    ref = ReferenceGenome(gz)
    if not cached:
        assert ref.fetch("chr1", 1, 10) == seq[:10]  # first block is intact
    with pytest.raises(ReferenceSequenceError, match="corrupt"):
        ref.fetch("chr1", 1, 200_000)
    assert capfd.readouterr().err == ""


def test_stale_index_is_refused(refdir: Path) -> None:
    with pytest.raises(IndexFileError, match="does not match"):
        ReferenceGenome(refdir / "user_stale.fa")


def test_user_subset_with_manifest(refdir: Path) -> None:
    ref = ReferenceGenome(refdir / "user_subset.fa")
    truth = read_fasta_text(refdir / "user_subset.fa")
    assert ref.is_subset and ref.contigs == {"chr2": 242_193_529}
    assert ref.fetch("2", 1001, 1100) == truth["chr2_1001_1100"]
    assert ref.base_at("chr2", 2060) == truth["chr2_2001_2060"][-1]
    with pytest.raises(OutsideReferenceError, match="reference subset user_subset.fa") as info:
        ref.fetch("chr2", 1500, 1500)
    assert "1,001-1,100 (piece A)" in str(info.value)


def test_manifest_disagreeing_with_fasta(refdir: Path, tmp_path: Path) -> None:
    for name in ("user_subset.fa", "user_subset.fa.fai"):
        shutil.copy(refdir / name, tmp_path / name)
    text = (refdir / "user_subset.fa.intervals.json").read_text().replace('"end": 1100', '"end": 1101')
    (tmp_path / "user_subset.fa.intervals.json").write_text(text)
    with pytest.raises(ReferenceSequenceError, match="disagree"):
        ReferenceGenome(tmp_path / "user_subset.fa")


def test_corrupt_manifest(refdir: Path, tmp_path: Path) -> None:
    for name in ("user_subset.fa", "user_subset.fa.fai"):
        shutil.copy(refdir / name, tmp_path / name)
    (tmp_path / "user_subset.fa.intervals.json").write_text("{not json")
    with pytest.raises(ReferenceSequenceError, match="not valid JSON"):
        ReferenceGenome(tmp_path / "user_subset.fa")


def test_grch37_reference_refused_for_grch38(refdir: Path, tmp_path: Path) -> None:
    for name in ("user_subset.fa", "user_subset.fa.fai"):
        shutil.copy(refdir / name, tmp_path / name)
    text = (refdir / "user_subset.fa.intervals.json").read_text().replace("242193529", "243199373")
    (tmp_path / "user_subset.fa.intervals.json").write_text(text)  # GRCh37 chr2 length
    with pytest.raises(GenomeBuildError, match="GRCh37"):
        ReferenceGenome(tmp_path / "user_subset.fa")
    with pytest.raises(GenomeBuildError):
        ReferenceGenome(tmp_path / "user_subset.fa", build="GRCh38")
    # ... but read when GRCh37 is asked for explicitly (the manifest says GRCh38, so edit it too)
    (tmp_path / "user_subset.fa.intervals.json").write_text(text.replace('"GRCh38"', '"GRCh37"'))
    assert ReferenceGenome(tmp_path / "user_subset.fa", build="GRCh37").build == "GRCh37"


def test_detect_build_from_lengths() -> None:
    assert detect_build({"chr17": 83_257_441}) == "GRCh38"
    assert detect_build({"17": 81_195_210, "MT": 16569}) == "GRCh37"
    assert detect_build({"chr1": 300}) is None
    assert detect_build({"chr17": 83_257_441, "chr1": 249_250_621}) is None  # conflicting


def test_unknown_build_is_usage_error(refdir: Path) -> None:
    with pytest.raises(UsageError):
        ReferenceGenome(refdir / "user.fa", build="T2T")


def test_reference_from_option_opens_path(refdir: Path) -> None:
    ref = reference_from_option(str(refdir / "user.fa"))
    assert ref.path == refdir / "user.fa" and ref.build == "GRCh38"


def test_gzip_module_fixture_really_is_plain_gzip(refdir: Path) -> None:
    # guards the fixture itself: it must be valid gzip, just not BGZF
    with gzip.open(refdir / "user_gzip.fa.gz", "rt") as fh:
        assert fh.readline().startswith(">chr1")
