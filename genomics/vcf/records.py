"""VCF records with bulk numpy genotype arrays.

A :class:`VcfRecord` wraps one cyvcf2 ``Variant`` and computes everything lazily, so a caller
that reads only positions pays nothing for genotypes, and one that reads genotypes gets one
numpy array per record (never one Python object per sample).

Genotype codes
--------------
``gt`` is an ``int16`` array of shape ``(n_samples, 2)``:

* ``0`` REF, ``1..k`` the record's ALT alleles (index into ``(ref,) + alts``);
* ``MISSING`` (-1): a missing allele (``./.`` gives ``[-1, -1]``; ``0/.`` gives ``[0, -1]``);
* ``HAPLOID_PAD`` (-2): column 1 of a haploid call (``0`` or ``1`` on chrX/chrY in males gives
  ``[0, -2]`` / ``[1, -2]``; a bare ``.`` gives ``[-1, -2]``, i.e. missing);
* ``OTHER_ALT`` (-3): only in :meth:`VcfRecord.biallelic` views of multi-allelic records, for an
  allele of the record that is neither REF nor the view's ALT (a ``1/2`` call seen from ALT 1 is
  ``[1, -3]``; it is *not* REF and *not* missing).

A call is missing when column 0 is ``MISSING``; haploid when column 1 is ``HAPLOID_PAD``.
``phased`` is True for ``|`` calls and for haploid calls (one allele has no phase to lose; htslib
marks them so too).
Records that carry no ``GT`` field have ``has_gt == False`` and an all-missing ``gt``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from genomics.errors import VcfError

__all__ = ["HAPLOID_PAD", "MISSING", "OTHER_ALT", "BiallelicView", "VcfRecord", "is_symbolic"]

MISSING = -1
HAPLOID_PAD = -2
OTHER_ALT = -3

_LITTLE_ENDIAN = sys.byteorder == "little"
_INT32_MISSING_MAX = np.iinfo(np.int32).min + 1  # htslib: INT32_MIN missing, INT32_MIN+1 vector end
_ACGT = frozenset("ACGTN")
_TRANSITIONS = frozenset({("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")})


def is_symbolic(alt: str) -> bool:
    """True for alleles that are not sequence: ``<DEL>``, ``<*>``, ``<NON_REF>``, ``*``, breakends."""
    if not alt:
        return True
    if alt[0] == "<" or alt == "*" or "[" in alt or "]" in alt:
        return True
    # single breakends: ".A" / "A."
    return len(alt) > 1 and (alt[0] == "." or alt[-1] == ".")


def is_transition(ref: str, alt: str) -> bool:
    return (ref.upper(), alt.upper()) in _TRANSITIONS


class VcfRecord:
    """One VCF record (lazy; genotype arrays are computed on first access and cached).

    Attributes
    ----------
    chrom, pos, id, ref, alts, qual, filters
        As in the file; ``pos`` is 1-based, ``id`` is ``None`` for ``.``, ``qual`` ``None`` when
        missing, ``filters`` is ``()`` for ``.`` and ``("PASS",)`` for PASS.
    gt, phased, phase_set, dp, gq
        Bulk numpy arrays over the selected samples (see the module docstring for codes).
    """

    __slots__ = ("_alts", "_arr", "_gt", "_n", "_names", "_phased", "_source", "_v")

    def __init__(self, variant: Any, source: str = "", n_samples: int = 0,
                 sample_names: Sequence[str] | None = None) -> None:
        self._v = variant
        self._source = source
        self._n = n_samples
        self._names = sample_names
        self._arr: np.ndarray | None = None
        self._gt: np.ndarray | None = None
        self._phased: np.ndarray | None = None
        self._alts: tuple[str, ...] | None = None

    # -- site ---------------------------------------------------------------------------------
    @property
    def variant(self) -> Any:
        """The underlying ``cyvcf2.Variant`` (escape hatch; prefer the properties)."""
        return self._v

    def _not_utf8(self, field: str) -> VcfError:
        try:
            where = f"{self._v.CHROM}:{self._v.POS}"
        except UnicodeDecodeError:
            where = f"POS {self._v.POS}"
        return VcfError(f"{field} holds bytes that are not UTF-8", file=self._source, record=where, field=field,
                        fix="VCF text must be UTF-8 (REF/ALT plain A, C, G, T, N): correct the record or re-encode "
                            "the file")

    @property
    def chrom(self) -> str:
        try:
            return self._v.CHROM
        except UnicodeDecodeError:
            raise self._not_utf8("CHROM") from None

    @property
    def pos(self) -> int:
        return self._v.POS

    @property
    def end(self) -> int:
        """1-based inclusive end of the REF allele (``pos + len(ref) - 1``, or INFO/END)."""
        return self._v.end

    @property
    def locus(self) -> str:
        return f"{self.chrom}:{self._v.POS}"

    @property
    def id(self) -> str | None:
        try:
            value = self._v.ID
        except UnicodeDecodeError:
            raise self._not_utf8("ID") from None
        return None if value in (None, ".") else value

    @property
    def ref(self) -> str:
        try:
            return self._v.REF
        except UnicodeDecodeError:
            raise self._not_utf8("REF") from None

    @property
    def alts(self) -> tuple[str, ...]:
        if self._alts is None:
            try:
                self._alts = tuple(self._v.ALT)
            except UnicodeDecodeError:
                raise self._not_utf8("ALT") from None
        return self._alts

    @property
    def qual(self) -> float | None:
        return self._v.QUAL

    @property
    def filters(self) -> tuple[str, ...]:
        try:
            return tuple(self._v.FILTERS)
        except UnicodeDecodeError:
            raise self._not_utf8("FILTER") from None

    @property
    def is_pass(self) -> bool:
        """True for FILTER ``PASS`` or ``.`` (not filtered)."""
        filters = self.filters
        return not filters or (len(filters) == 1 and filters[0] == "PASS")

    @property
    def symbolic(self) -> tuple[bool, ...]:
        """Per ALT: is it symbolic (``<DEL>``, ``<*>``, ``<NON_REF>``, ``*``, a breakend)?"""
        return tuple(is_symbolic(a) for a in self.alts)

    @property
    def is_symbolic(self) -> bool:
        return any(self.symbolic)

    @property
    def is_multiallelic(self) -> bool:
        return len(self.alts) > 1

    @property
    def is_snv(self) -> bool:
        """REF and every ALT are single bases (A, C, G, T)."""
        ref = self.ref
        return (
            len(ref) == 1
            and ref.upper() in _ACGT
            and bool(self.alts)
            and all(len(a) == 1 and a.upper() in _ACGT for a in self.alts)
        )

    # -- genotypes ----------------------------------------------------------------------------------
    def _unpack(self) -> np.ndarray:
        """Read GT once: sets ``_arr`` (htslib's array or None) and ``_gt``; returns ``_gt``."""
        try:
            arr = self._v.genotype.array()
        except Exception:  # noqa: BLE001 - cyvcf2 raises a bare Exception when GT is absent
            arr = None
        if arr is not None and arr.shape[1] > 3:
            self._check_ploidy(arr)
        self._arr = arr
        if arr is None:
            gt = np.full((self._n, 2), MISSING, dtype=np.int16)
        elif arr.shape[1] >= 3:
            gt = arr[:, :2]
        else:  # every call haploid: htslib gives (allele, phased)
            gt = np.empty((arr.shape[0], 2), dtype=np.int16)
            gt[:, 0] = arr[:, 0]
            gt[:, 1] = HAPLOID_PAD
        if arr is not None:
            self._check_alleles(gt)
        self._gt = gt
        return gt

    def _sample_name(self, i: int) -> str:
        names = self._names
        if names is not None and 0 <= i < len(names):
            return repr(str(names[i]))
        return f"#{i + 1}"

    def _check_alleles(self, gt: np.ndarray) -> None:
        """Refuse an allele index beyond the record's ALT alleles (``0/2`` with one ALT; ``0/9``)."""
        if gt.size == 0:
            return
        n_alts = len(self.alts)
        if int(gt.max()) <= n_alts:
            return
        i = int(np.flatnonzero((gt > n_alts).any(axis=1))[0])
        bad = int(gt[i].max())
        raise VcfError(
            f"sample {self._sample_name(i)}: GT names allele {bad} but the record has {n_alts} ALT allele(s) "
            f"({','.join(self.alts) or '.'})",
            file=self._source, record=self.locus, field="GT",
            fix="correct the GT (allele numbers count the ALT alleles: 1 = first ALT) or list the missing ALT "
                "alleles; a file cut from a multi-allelic one must be split first (bcftools norm -m- FILE)",
        )

    def _check_ploidy(self, arr: np.ndarray) -> None:
        """Refuse calls of more than two alleles (``0/0/1``): they would silently lose alleles."""
        extra = arr[:, 2:-1]
        bad = (extra != -2).any(axis=1)  # htslib pads shorter calls with vector-end (-2)
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        ploidy = int((arr[i, :-1] != -2).sum())
        raise VcfError(
            f"sample {self._sample_name(i)}: a call of ploidy {ploidy}; only haploid and diploid calls are read "
            "(a third allele would be dropped and the call made on two)",
            file=self._source, record=self.locus, field="GT",
            fix="give diploid (or haploid) genotypes; the product does not call star alleles on polyploid data",
        )

    @property
    def has_gt(self) -> bool:
        """Does the record carry a ``GT`` field? (``False``: no genotypes, ``gt`` all missing)."""
        if self._gt is None:
            self._unpack()
        return self._arr is not None

    @property
    def ploidy(self) -> int:
        """Highest ploidy among the record's calls (0 without GT)."""
        if self._gt is None:
            self._unpack()
        arr = self._arr
        return 0 if arr is None else arr.shape[1] - 1

    @property
    def gt(self) -> np.ndarray:
        """Allele indices, ``int16`` shape ``(n_samples, 2)`` (codes: module docstring)."""
        gt = self._gt
        if gt is not None:
            return gt
        try:  # the common case inlined (hot path); _unpack handles the rest
            arr = self._v.genotype.array()
        except Exception:  # noqa: BLE001 - no GT field
            return self._unpack()
        if arr.shape[1] != 3:
            return self._unpack()
        gt = arr[:, :2]
        self._check_alleles(gt)
        self._arr = arr
        self._gt = gt
        return gt

    @property
    def phased(self) -> np.ndarray:
        """Phased (``|``) flag per sample, ``bool`` shape ``(n_samples,)``."""
        phased = self._phased
        if phased is None:
            if self._gt is None:
                self._unpack()
            arr = self._arr
            if arr is None:
                phased = np.zeros(self._gt.shape[0], dtype=bool)
            elif arr.shape[1] == 2:  # every call haploid: trivially phased
                phased = np.ones(arr.shape[0], dtype=bool)
            elif _LITTLE_ENDIAN and arr.strides == (6, 2):
                # zero-copy: the low byte of the int16 phase column (values 0/1) viewed as bool
                phased = np.ndarray((arr.shape[0],), np.bool_, arr, 4, (6,))
            else:
                phased = arr[:, -1].astype(bool)
            self._phased = phased
        return phased

    def _format_int(self, key: str) -> np.ndarray | None:
        try:
            values = self._v.format(key)
        except KeyError:
            return None  # not declared in the header
        except Exception as err:  # noqa: BLE001
            raise VcfError(
                f"cannot read FORMAT/{key}: {err}",
                file=self._source,
                record=self.locus,
                field=key,
                fix=f"check the ##FORMAT=<ID={key},...> header line against the data",
            ) from None
        if values is None:
            return None
        if values.ndim == 2 and values.shape[1] != 1:
            raise VcfError(
                f"FORMAT/{key} holds {values.shape[1]} values per sample but should hold one",
                file=self._source,
                record=self.locus,
                field=key,
                fix=f"correct the ##FORMAT=<ID={key},Number=...> header line (or the data) so they agree",
            )
        column = values.reshape(values.shape[0], -1)[:, 0] if values.size else values.reshape(-1)
        if column.dtype.kind == "f":
            out = np.where(np.isnan(column), MISSING, np.rint(column)).astype(np.int32)
        elif column.dtype.kind in "iu":
            out = column.astype(np.int32, copy=True)
            out[out <= _INT32_MISSING_MAX] = MISSING
        else:
            raise VcfError(
                f"FORMAT/{key} is declared Type={_kind_name(column)} but must be a number",
                file=self._source,
                record=self.locus,
                field=key,
                fix=f"declare ##FORMAT=<ID={key},Number=1,Type=Integer,...> with integer values",
            )
        return out

    @property
    def phase_set(self) -> np.ndarray | None:
        """``FORMAT/PS`` per sample (``int32``, -1 missing), ``None`` when the record has none."""
        return self._format_int("PS")

    @property
    def dp(self) -> np.ndarray | None:
        """``FORMAT/DP`` per sample (``int32``, -1 missing), ``None`` when the record has none."""
        return self._format_int("DP")

    @property
    def gq(self) -> np.ndarray | None:
        """``FORMAT/GQ`` per sample (``int32``, -1 missing), ``None`` when the record has none."""
        return self._format_int("GQ")

    def info(self, key: str, default: Any = None) -> Any:
        """``INFO/key`` as cyvcf2 reads it (tuple for several values, ``True`` for a flag)."""
        try:
            return self._v.INFO.get(key, default)
        except Exception as err:  # noqa: BLE001
            raise VcfError(
                f"cannot read INFO/{key}: {err}",
                file=self._source,
                record=self.locus,
                field=key,
                fix=f"check the ##INFO=<ID={key},...> header line against the data",
            ) from None

    # -- multi-allelic ------------------------------------------------------------------------
    def biallelic(self) -> Iterator[BiallelicView]:
        """One biallelic view per ALT (one view with ``alt=None`` for a record without ALT).

        In the view of ALT ``i``: ``0`` REF, ``1`` ALT ``i``, ``OTHER_ALT`` (-3) any other ALT
        of this record, ``MISSING``/``HAPLOID_PAD`` unchanged.
        """
        alts = self.alts
        if len(alts) <= 1:
            yield BiallelicView(self, 1 if alts else 0)
            return
        for index in range(1, len(alts) + 1):
            yield BiallelicView(self, index)

    def __repr__(self) -> str:
        alts = ",".join(self.alts) or "."
        return f"VcfRecord({self.locus} {self.ref}>{alts})"


def _kind_name(column: np.ndarray) -> str:
    return {"U": "String", "S": "String", "O": "String"}.get(column.dtype.kind, str(column.dtype))


class BiallelicView:
    """A biallelic view of one ALT of a (possibly multi-allelic) :class:`VcfRecord`.

    ``gt`` codes: ``0`` REF, ``1`` this ALT, ``OTHER_ALT`` (-3) another ALT of the same record,
    ``MISSING`` (-1), ``HAPLOID_PAD`` (-2). ``alt_index`` is the ALT's 1-based index in the
    parent record (0 for a record without ALT, whose ``alt`` is ``None``).
    """

    __slots__ = ("_gt", "alt_index", "parent")

    def __init__(self, parent: VcfRecord, alt_index: int) -> None:
        self.parent = parent
        self.alt_index = alt_index
        self._gt: np.ndarray | None = None

    chrom = property(lambda self: self.parent.chrom)
    pos = property(lambda self: self.parent.pos)
    end = property(lambda self: self.parent.end)
    locus = property(lambda self: self.parent.locus)
    id = property(lambda self: self.parent.id)
    ref = property(lambda self: self.parent.ref)
    qual = property(lambda self: self.parent.qual)
    filters = property(lambda self: self.parent.filters)
    is_pass = property(lambda self: self.parent.is_pass)
    phased = property(lambda self: self.parent.phased)
    phase_set = property(lambda self: self.parent.phase_set)
    dp = property(lambda self: self.parent.dp)
    gq = property(lambda self: self.parent.gq)
    has_gt = property(lambda self: self.parent.has_gt)

    @property
    def alt(self) -> str | None:
        return self.parent.alts[self.alt_index - 1] if self.alt_index else None

    @property
    def alts(self) -> tuple[str, ...]:
        alt = self.alt
        return () if alt is None else (alt,)

    @property
    def symbolic(self) -> bool:
        alt = self.alt
        return alt is not None and is_symbolic(alt)

    @property
    def is_split(self) -> bool:
        """Was this view split out of a multi-allelic record?"""
        return self.parent.is_multiallelic

    @property
    def is_snv(self) -> bool:
        alt = self.alt
        ref = self.parent.ref
        return alt is not None and len(ref) == 1 and len(alt) == 1 and ref.upper() in _ACGT and alt.upper() in _ACGT

    @property
    def gt(self) -> np.ndarray:
        gt = self._gt
        if gt is None:
            parent_gt = self.parent.gt
            if not self.parent.is_multiallelic:
                gt = parent_gt
            else:
                gt = parent_gt.copy()
                this = parent_gt == self.alt_index
                other = (parent_gt > 0) & ~this
                gt[this] = 1
                gt[other] = OTHER_ALT
            self._gt = gt
        return gt

    @property
    def alt_dosage(self) -> np.ndarray:
        """Copies of this ALT per sample (``int8``; -1 when the call is missing)."""
        gt = self.gt
        dosage = (gt == 1).sum(axis=1).astype(np.int8)
        dosage[gt[:, 0] == MISSING] = -1
        return dosage

    def __repr__(self) -> str:
        return f"BiallelicView({self.locus} {self.ref}>{self.alt} of {len(self.parent.alts)})"
