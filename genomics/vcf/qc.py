"""QC summary of a VCF: per sample and per file (see :func:`vcf_qc`)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from genomics.vcf.build import BuildCall, RefCheck
from genomics.vcf.reader import VcfReader
from genomics.vcf.records import HAPLOID_PAD, MISSING, is_symbolic, is_transition

__all__ = ["FileQc", "QcSummary", "SampleQc", "package_version", "vcf_qc"]

_DIST = "genomics-treatment-recommender"


def package_version() -> str:
    """Installed version of the product (``"unknown"`` when not installed)."""
    try:
        from importlib.metadata import version

        return version(_DIST)
    except Exception:  # noqa: BLE001 - PackageNotFoundError or a broken install
        return "unknown"


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


@dataclass(frozen=True)
class SampleQc:
    """QC of one sample over the records read.

    ``missing_rate`` = missing calls / records with GT; ``het_hom_ratio`` = het / hom-alt calls;
    ``ti_tv`` = transitions / transversions over the sample's non-reference SNV calls;
    ``phased_fraction`` = phased / called diploid calls (haploid calls are left out).
    ``pass_calls`` / ``filtered_calls``: called genotypes in PASS / filtered records (the table's
    PASS and filtered columns). Records without GT are not counted for any sample.
    """

    sample: str
    records: int
    called: int
    missing: int
    missing_rate: float | None
    hom_ref: int
    het: int
    hom_alt: int
    het_hom_ratio: float | None
    haploid: int
    transitions: int
    transversions: int
    ti_tv: float | None
    phased: int
    phased_fraction: float | None
    pass_calls: int
    filtered_calls: int


@dataclass(frozen=True)
class FileQc:
    """QC of the file as a whole (site level)."""

    records: int
    passed: int
    filtered: int
    no_genotype: int
    multiallelic: int
    symbolic: int
    snv: int
    indel: int
    other: int
    transitions: int
    transversions: int
    ti_tv: float | None
    contigs: list[str]
    first: str | None
    last: str | None


@dataclass(frozen=True)
class QcSummary:
    """Everything ``recommender qc`` prints; ``to_dict`` gives its JSON form."""

    file: str
    region: str | None
    access: str | None
    build: BuildCall
    samples: list[SampleQc]
    totals: FileQc
    ref_check: RefCheck
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "region": self.region,
            "access": self.access,
            "build": self.build.to_dict(),
            "totals": asdict(self.totals),
            "samples": [asdict(s) for s in self.samples],
            "ref_check": self.ref_check.to_dict(),
            "warnings": list(self.warnings),
            "provenance": dict(self.provenance),
        }

    def format_table(self) -> str:
        """Human-readable report (what ``recommender qc`` prints without ``--json``)."""
        t = self.totals
        b = self.build
        lines = [
            f"file      {self.file}",
            f"region    {self.region or 'whole file'}; access: "
            + ("index (tabix/CSI query)" if self.access == "index" else "scan (streaming, no index used)"),
            f"build     {b.build} " + (f"ASSUMED ({b.detail})" if b.assumed else f"(from {b.method}: {b.detail})"),
            f"records   {t.records}  PASS {t.passed}  filtered {t.filtered}  no genotype {t.no_genotype}",
            (
                f"types     SNV {t.snv}  indel {t.indel}  other {t.other}  multi-allelic {t.multiallelic}"
                f"  symbolic {t.symbolic}  Ti/Tv {_fmt(t.ti_tv)}"
            ),
            f"contigs   {', '.join(t.contigs) or '-'}" + (f"  ({t.first} .. {t.last})" if t.first else ""),
        ]
        rc = self.ref_check
        if rc.reference is not None:
            lines.append(
                f"REF check {rc.mismatched} of {rc.checked} REF alleles disagree with {rc.reference}"
                f" ({rc.not_covered} not covered by it)"
                + (f"; e.g. {rc.examples[0]}" if rc.examples else "")
            )
        else:
            lines.append("REF check not done (no reference given: --reference FASTA)")
        header = ["sample", "records", "PASS", "filtered", "missing", "het", "hom_alt", "het/hom", "Ti/Tv",
                  "phased", "haploid"]
        rows = [
            [s.sample, str(s.records), str(s.pass_calls), str(s.filtered_calls), _pct(s.missing_rate), str(s.het),
             str(s.hom_alt), _fmt(s.het_hom_ratio), _fmt(s.ti_tv), _pct(s.phased_fraction), str(s.haploid)]
            for s in self.samples
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines.append("")
        lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for row in rows:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if not rows:
            lines.append("(no samples: sites-only file)")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def vcf_qc(
    source: str | os.PathLike[str] | VcfReader,
    samples: list[str] | None = None,
    region: str | None = None,
    build: str | None = "GRCh38",
    reference: Any = None,
) -> QcSummary:
    """QC summary per sample and per file.

    Parameters
    ----------
    source
        A path (opened with :class:`VcfReader` and ``samples``, ``build``, ``reference``) or an
        open reader.
    region
        Optional region (``chr10:94761900-94855547``); ``None`` reads the whole file.
    """
    reader = source if isinstance(source, VcfReader) else VcfReader(source, samples=samples, build=build,
                                                                        reference=reference)
    n = len(reader.samples)
    zeros = lambda: np.zeros(n, dtype=np.int64)
    s_records, s_called, s_hom_ref, s_het, s_hom_alt = zeros(), zeros(), zeros(), zeros(), zeros()
    s_haploid, s_ti, s_tv, s_phased, s_diploid_called = zeros(), zeros(), zeros(), zeros(), zeros()
    s_pass, s_filtered = zeros(), zeros()
    records = passed = no_gt = multi = symbolic = snv = indel = other = ti = tv = 0
    contigs: list[str] = []
    first = last = None
    kind_lookup = np.zeros(8, dtype=np.int8)

    for rec in reader.fetch(region):
        records += 1
        chrom = rec.chrom
        if (not contigs or contigs[-1] != chrom) and chrom not in contigs:  # unsorted files revisit contigs
            contigs.append(chrom)
        locus = f"{chrom}:{rec.pos}"
        if first is None:
            first = locus
        last = locus
        is_pass = rec.is_pass
        passed += is_pass
        ref = rec.ref
        alts = rec.alts
        if len(alts) > 1:
            multi += 1
        sym = [is_symbolic(a) for a in alts]
        if any(sym):
            symbolic += 1
        snv_alleles = [len(ref) == 1 and len(a) == 1 and not s for a, s in zip(alts, sym)]
        if alts and all(snv_alleles):
            snv += 1
        elif alts and not any(sym) and any(len(a) != len(ref) for a in alts):
            indel += 1
        else:
            other += 1
        if any(snv_alleles):
            if len(kind_lookup) < len(alts) + 1:
                kind_lookup = np.zeros(len(alts) + 1, dtype=np.int8)
            kind_lookup[:] = 0
            for i, (a, is_snv_allele) in enumerate(zip(alts, snv_alleles), start=1):
                if is_snv_allele:
                    if is_transition(ref, a):
                        kind_lookup[i] = 1
                        ti += 1
                    else:
                        kind_lookup[i] = 2
                        tv += 1
        if not rec.has_gt:
            no_gt += 1
            continue
        if n == 0:
            continue
        gt = rec.gt
        a0 = gt[:, 0]
        a1 = gt[:, 1]
        haploid = a1 == HAPLOID_PAD
        called = (a0 >= 0) & (a1 != MISSING)
        alt0 = a0 > 0
        alt1 = a1 > 0
        any_alt = called & (alt0 | alt1)
        het = called & ~haploid & (a0 != a1)
        s_records += 1
        s_called += called
        s_het += het
        s_hom_alt += any_alt & ~het
        s_hom_ref += called & ~any_alt
        s_haploid += called & haploid
        diploid_called = called & ~haploid
        s_diploid_called += diploid_called
        s_phased += diploid_called & rec.phased
        if is_pass:
            s_pass += called
        else:
            s_filtered += called
        if any(snv_alleles) and any_alt.any():
            k0 = kind_lookup[np.clip(a0, 0, None)]
            k1 = kind_lookup[np.clip(a1, 0, None)]
            s_ti += any_alt & ((k0 == 1) | (k1 == 1))
            s_tv += any_alt & ((k0 == 2) | (k1 == 2))

    per_sample = []
    for i, name in enumerate(reader.samples):
        rec_n, call_n = int(s_records[i]), int(s_called[i])
        het, hom_alt = int(s_het[i]), int(s_hom_alt[i])
        per_sample.append(SampleQc(
            sample=name, records=rec_n, called=call_n, missing=rec_n - call_n,
            missing_rate=_ratio(rec_n - call_n, rec_n), hom_ref=int(s_hom_ref[i]), het=het, hom_alt=hom_alt,
            het_hom_ratio=_ratio(het, hom_alt), haploid=int(s_haploid[i]), transitions=int(s_ti[i]),
            transversions=int(s_tv[i]), ti_tv=_ratio(int(s_ti[i]), int(s_tv[i])), phased=int(s_phased[i]),
            phased_fraction=_ratio(int(s_phased[i]), int(s_diploid_called[i])),
            pass_calls=int(s_pass[i]), filtered_calls=int(s_filtered[i]),
        ))
    totals = FileQc(
        records=records, passed=passed, filtered=records - passed, no_genotype=no_gt, multiallelic=multi,
        symbolic=symbolic, snv=snv, indel=indel, other=other, transitions=ti, transversions=tv,
        ti_tv=_ratio(ti, tv), contigs=contigs, first=first, last=last,
    )
    warnings = list(reader.warnings)
    if no_gt:
        warnings.append(f"{no_gt} record(s) carry no GT field: no genotype reported for them")
    if reader.ref_check.mismatched:
        warnings.append(f"{reader.ref_check.mismatched} REF allele(s) disagree with the reference")
    return QcSummary(
        file=str(reader.path),
        region=region,
        access=reader.access,
        build=reader.build,
        samples=per_sample,
        totals=totals,
        ref_check=RefCheck(**reader.ref_check.to_dict()),
        warnings=warnings,
        provenance={
            "package": _DIST,
            "version": package_version(),
            "genome_build": reader.build.build,
            "build_method": reader.build.method,
            "access": reader.access,
            "reader": "genomics.vcf.VcfReader (cyvcf2 " + _cyvcf2_version() + ")",
        },
    )


def _cyvcf2_version() -> str:
    try:
        import cyvcf2

        return str(cyvcf2.__version__)
    except Exception:  # noqa: BLE001
        return "unknown"
