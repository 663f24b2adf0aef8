"""The patient data model used everywhere (pydantic v2, frozen, JSON round-trip).

One :class:`Patient` carries demographics, diagnosis, history (comorbidities, prior lines, labs),
current medications, lifestyle, a reference to the germline VCF sample, optional tumour variants,
candidate treatments and observed outcomes. Codes are checked against :mod:`recommender.vocab`
(OncoTree, CTCAE v5, drug names, regimens, lab units).

Validation errors become :class:`PatientRecordError` (an :class:`~genomics.errors.InputFileError`)
at the boundary (:func:`load_patient`, :func:`patient_from_json`, :func:`patient_from_dict`),
naming the file, the record (patient id), the field and the fix.

Examples
--------
>>> p = Patient(patient_id="P1", demographics=Demographics(age=61, sex="female"),
...             diagnosis=Diagnosis(cancer_type="coad", ecog=1))
>>> p.diagnosis.cancer_type
'COAD'
>>> Patient.model_validate_json(p.model_dump_json()) == p
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.types import AllowInfNan

from genomics.errors import InputFileError
from recommender import vocab

__all__ = [
    "SCHEMA_VERSION",
    "AdverseEvent",
    "Demographics",
    "Diagnosis",
    "GermlineVcfRef",
    "History",
    "LabValue",
    "Lifestyle",
    "Outcome",
    "Patient",
    "PatientRecordError",
    "PriorToxicity",
    "PriorTreatment",
    "SurvivalTime",
    "TreatmentOption",
    "TumourVariant",
    "format_validation_error",
    "load_patient",
    "load_patients",
    "patient_from_dict",
    "patient_from_json",
    "save_patient",
]

#: Version of the patient JSON schema (``Patient.schema_version``).
SCHEMA_VERSION = "patient/1.0"

Sex = Literal["female", "male", "other", "unknown"]
GenomeBuild = Literal["GRCh38", "GRCh37"]

def _refuse_bool(value: Any) -> Any:
    """Booleans are not numbers (JSON ``true`` must not become 1.0): issue 16."""
    if isinstance(value, bool):
        raise ValueError("a boolean (true/false) is not a number")
    return value


#: Numeric field types that refuse booleans (pydantic's lax mode would read ``true`` as 1).
#: ``AllowInfNan(False)``: NaN / infinity are refused (a Phenopacket's protobuf JSON reads the strings "NaN" and
#: "Infinity" as doubles, and a survival time of infinity is never a measurement).
Number = Annotated[float, BeforeValidator(_refuse_bool), AllowInfNan(False)]
Integer = Annotated[int, BeforeValidator(_refuse_bool)]

_GENE_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-\.]*$")
_PROTEIN_RE = re.compile(r"^(p\.)?[A-Za-z*]{1,3}\d+[A-Za-z0-9_*>\-+=?]*$|^(p\.)?\S+$")
_STAGE_RE = re.compile(r"^(0|I{1,3}|IV)([A-C][1-3]?)?$")
_CONTIG_RE = re.compile(r"^(chr)?([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$")


_AA3 = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*", "Sec": "U",
}
_AA3_RE = re.compile("|".join(_AA3))


def _one_letter(change: str) -> str:
    """``Leu858Arg`` -> ``L858R`` (HGVS three-letter to one-letter amino acids)."""
    if re.match(r"^[A-Z][a-z]{2}\d", change):
        return _AA3_RE.sub(lambda m: _AA3[m.group(0)], change)
    return change


class PatientRecordError(InputFileError):
    """A patient record (JSON, Phenopacket, cohort row) does not fit the schema."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------------


class Demographics(_Model):
    """Age at the time of the record (years), sex and self-reported ancestry (free text)."""

    age: Number | None = Field(default=None, ge=0, le=120)
    sex: Sex = "unknown"
    ancestry: str | None = Field(default=None, max_length=100, description="self-reported ancestry")

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().lower()
            return {"f": "female", "m": "male", "": "unknown"}.get(v, v)
        return v


class Diagnosis(_Model):
    """Cancer type (OncoTree code), stage (AJCC roman numerals), histology, ECOG 0-4."""

    cancer_type: str
    stage: str | None = None
    histology: str | None = None
    ecog: Integer | None = Field(default=None, ge=0, le=4)

    @field_validator("cancer_type", mode="before")
    @classmethod
    def _oncotree(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        code = v.strip().upper()
        if code not in vocab.ONCOTREE:
            close = vocab.suggest(code, vocab.ONCOTREE)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown OncoTree code {v!r}{hint} (known: recommender.vocab.ONCOTREE)")
        return code

    @field_validator("stage", mode="before")
    @classmethod
    def _stage(cls, v: Any) -> Any:
        if v is None or not isinstance(v, str):
            return v
        s = v.strip().upper().removeprefix("STAGE").strip()
        if s in {"", "NA", "UNKNOWN", "[NOT AVAILABLE]", "[UNKNOWN]", "[DISCREPANCY]", "[NOT APPLICABLE]"}:
            return None
        if s == "X":
            return None
        if not _STAGE_RE.match(s):
            raise ValueError(f"stage {v!r} is not an AJCC stage (0, I-IV with optional A-C suffix)")
        return s


class LabValue(_Model):
    """One laboratory value with its unit (checked against :data:`recommender.vocab.LABS`)."""

    name: str
    value: Number = Field(ge=0)
    unit: str

    @model_validator(mode="after")
    def _known(self) -> LabValue:
        spec = vocab.LABS.get(self.name)
        if spec is None:
            raise ValueError(f"unknown lab {self.name!r}; known: {', '.join(vocab.LABS)}")
        if self.unit not in spec.units:
            raise ValueError(f"unit {self.unit!r} not accepted for {self.name}; use one of {', '.join(spec.units)}")
        canonical = self.canonical_value
        if not spec.low <= canonical <= spec.high:
            raise ValueError(
                f"{self.name} = {self.value} {self.unit} is outside the plausible range "
                f"{spec.low}-{spec.high} {spec.unit}"
            )
        return self

    @property
    def canonical_value(self) -> float:
        """The value in the lab's canonical unit (``vocab.LABS[name].unit``)."""
        return self.value * vocab.LABS[self.name].units[self.unit]


def _check_drugs(drugs: Any) -> Any:
    if isinstance(drugs, str):
        drugs = [drugs]
    if not isinstance(drugs, (list, tuple)):
        return drugs
    out = []
    for d in drugs:
        name = vocab.normalise_drug(d)
        if name not in vocab.DRUGS:
            close = vocab.suggest(name, vocab.DRUGS)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown drug {d!r}{hint} (use lower-case CPIC generic names)")
        out.append(name)
    return tuple(out)


class TreatmentOption(_Model):
    """A treatment: regimen name and its drugs (drug names from :data:`recommender.vocab.DRUGS`).

    A known regimen (``vocab.REGIMENS``) given without drugs gets its drugs filled in; a known
    regimen given with different drugs is refused. ``"A + B"`` names a course of known regimens
    given together (e.g. ``"chemotherapy (unspecified) + radiotherapy"``). Unknown regimen names
    need explicit drugs.
    """

    regimen: str = Field(min_length=1)
    drugs: tuple[str, ...] = ()

    _check = field_validator("drugs", mode="before")(lambda cls, v: _check_drugs(v))

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"regimen": data}
        if isinstance(data, dict) and isinstance(data.get("regimen"), str) and data["regimen"].strip():
            parts = vocab.resolve_course(data["regimen"])
            if parts is not None:
                data = {**data, "regimen": " + ".join(p.name for p in parts)}
                if not data.get("drugs"):
                    data["drugs"] = tuple(dict.fromkeys(d for p in parts for d in p.drugs))
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TreatmentOption:
        parts = vocab.resolve_course(self.regimen)
        if parts is not None:
            expected = {d for p in parts for d in p.drugs}
            if all(p.drugs for p in parts) and set(self.drugs) != expected:
                raise ValueError(
                    f"regimen {self.regimen} is {', '.join(sorted(expected))}, not {', '.join(self.drugs)}; "
                    "give another regimen name for a modified regimen"
                )
        elif not self.drugs:
            raise ValueError(f"unknown regimen {self.regimen!r} given without drugs; list its drugs")
        return self

    @property
    def drug_classes(self) -> tuple[str, ...]:
        """Sorted union of the classes of the regimen's drugs."""
        return tuple(sorted({c for d in self.drugs for c in vocab.DRUGS[d].classes}))


class PriorTreatment(_Model):
    """One prior line of systemic treatment."""

    line: Integer = Field(ge=1, le=20)
    treatment: TreatmentOption
    best_response: Literal["CR", "PR", "SD", "PD", "NE"] | None = None


class PriorToxicity(_Model):
    """A toxicity of an earlier treatment: CTCAE v5 term, grade (when known) and the drug or regimen."""

    term: str
    grade: Integer | None = Field(default=None, ge=1, le=5)
    drug: str | None = Field(default=None, max_length=100)

    @field_validator("term", mode="before")
    @classmethod
    def _ctcae(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not vocab.is_ctcae_term(v):
                raise ValueError(f"{v!r} is not a CTCAE v5 term of the vocabulary")
            return vocab.canonical_ctcae_term(v)
        return v


class History(_Model):
    """Comorbidities (free-text terms), prior treatment lines, laboratory values, earlier toxicities, allergies."""

    comorbidities: tuple[str, ...] = ()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    labs: tuple[LabValue, ...] = ()
    prior_toxicities: tuple[PriorToxicity, ...] = ()
    allergies: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique_labs(self) -> History:
        names = [lab.name for lab in self.labs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"lab value(s) given twice: {', '.join(dup)}")
        return self

    def lab(self, name: str) -> float | None:
        """The lab value ``name`` in its canonical unit, or ``None`` if not measured."""
        for lab in self.labs:
            if lab.name == name:
                return lab.canonical_value
        return None


class Lifestyle(_Model):
    """Smoking (status + pack-years), alcohol, BMI and physical activity."""

    smoking: Literal["never", "former", "current", "unknown"] = "unknown"
    pack_years: Number | None = Field(default=None, ge=0, le=300)
    alcohol: Literal["none", "moderate", "heavy", "unknown"] = "unknown"
    alcohol_units_per_week: Number | None = Field(default=None, ge=0, le=500)
    bmi: Number | None = Field(default=None, ge=10, le=90)
    physical_activity: Literal["sedentary", "low", "moderate", "high", "unknown"] = "unknown"

    @model_validator(mode="after")
    def _never_smoked(self) -> Lifestyle:
        if self.smoking == "never" and self.pack_years not in (None, 0):
            raise ValueError("pack_years > 0 contradicts smoking = 'never'")
        return self


class GermlineVcfRef(_Model):
    """Where the patient's germline genotypes are: VCF path, sample id, genome build."""

    path: str = Field(min_length=1)
    sample_id: str = Field(min_length=1)
    genome_build: GenomeBuild = "GRCh38"


class TumourVariant(_Model):
    """A somatic alteration, build-independent by default (gene + protein change).

    ``chrom``/``pos``/``ref``/``alt`` are GRCh38 coordinates and are given only when known
    reliably on GRCh38 (never lifted silently from GRCh37).
    """

    gene: str = Field(min_length=1, max_length=30)
    protein_change: str | None = None
    variant_type: Literal[
        "missense", "nonsense", "frameshift", "inframe_indel", "splice", "silent", "other_snv",
        "amplification", "deletion", "fusion", "loss_of_function",
    ] = "missense"
    fusion_partner: str | None = None
    chrom: str | None = None
    pos: Integer | None = Field(default=None, ge=1, le=2**31 - 1)  # htslib positions are 32-bit
    ref: str | None = None
    alt: str | None = None
    vaf: Number | None = Field(default=None, ge=0, le=1)

    @field_validator("gene", "fusion_partner", mode="before")
    @classmethod
    def _gene(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            if not _GENE_RE.match(v):
                raise ValueError(f"{v!r} is not an HGNC gene symbol")
        return v

    @field_validator("protein_change", mode="before")
    @classmethod
    def _protein(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = _one_letter(v.strip().removeprefix("p.").strip("()"))
            if not v or v.upper() in {"NA", "NAN"}:
                return None
            if not _PROTEIN_RE.match(v) or " " in v:
                raise ValueError(f"{v!r} is not a protein change such as V600E")
        return v

    @model_validator(mode="after")
    def _coords(self) -> TumourVariant:
        given = [x is not None for x in (self.chrom, self.pos)]
        if any(given) and not all(given):
            raise ValueError("give chrom and pos together (GRCh38) or neither")
        if self.chrom is not None and not _CONTIG_RE.match(self.chrom):
            raise ValueError(f"chrom {self.chrom!r} is not a GRCh38 primary contig")
        if self.variant_type == "fusion" and not self.fusion_partner:
            raise ValueError("a fusion needs fusion_partner")
        return self

    @property
    def label(self) -> str:
        """``GENE change`` (e.g. ``BRAF V600E``, ``ERBB2 amplification``)."""
        if self.variant_type == "fusion":
            return f"{self.gene}-{self.fusion_partner} fusion"
        if self.protein_change:
            return f"{self.gene} {self.protein_change}"
        return f"{self.gene} {self.variant_type}"


class SurvivalTime(_Model):
    """A time-to-event endpoint: ``time`` in days from start of treatment (or diagnosis), ``event``."""

    time_days: Number = Field(ge=0)
    event: bool
    cause: str | None = Field(default=None, description="e.g. 'died of disease', 'died of other causes'")


class AdverseEvent(_Model):
    """A toxicity: CTCAE v5 term and grade 1-5 (severe = grade >= 3)."""

    term: str
    grade: Integer = Field(ge=1, le=5)
    drug: str | None = None

    @field_validator("term", mode="before")
    @classmethod
    def _term(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not vocab.is_ctcae_term(v):
                close = vocab.suggest(v, vocab.CTCAE_TERMS)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ValueError(f"{v!r} is not a CTCAE v5 term known to the product{hint}")
            return vocab.canonical_ctcae_term(v)
        return v

    @field_validator("drug", mode="before")
    @classmethod
    def _drug(cls, v: Any) -> Any:
        return None if v is None else _check_drugs([v])[0]

    @model_validator(mode="after")
    def _grade_defined(self) -> AdverseEvent:
        max_grade = vocab.CTCAE_TERMS[self.term].max_grade
        if self.grade > max_grade:
            raise ValueError(f"CTCAE v5 defines {self.term} only up to grade {max_grade}")
        return self

    @property
    def severe(self) -> bool:
        """Grade >= 3 (:data:`recommender.vocab.SEVERE_GRADE`)."""
        return self.grade >= vocab.SEVERE_GRADE


class Outcome(_Model):
    """What happened on one treatment: best response, PFS, OS, adverse events."""

    treatment: TreatmentOption
    best_response: Literal["CR", "PR", "SD", "PD", "NE"] | None = None
    pfs: SurvivalTime | None = None
    os: SurvivalTime | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()

    @field_validator("best_response", mode="before")
    @classmethod
    def _resp(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _pfs_before_os(self) -> Outcome:
        if self.pfs is not None and self.os is not None and self.pfs.time_days > self.os.time_days + 1e-9:
            raise ValueError("pfs.time_days is later than os.time_days")
        return self


class Patient(_Model):
    """One patient's clinical and genomic record (schema :data:`SCHEMA_VERSION`)."""

    schema_version: Literal["patient/1.0"] = SCHEMA_VERSION
    patient_id: str = Field(min_length=1, max_length=200)
    demographics: Demographics = Demographics()
    diagnosis: Diagnosis | None = None
    history: History = History()
    medications: tuple[str, ...] = ()
    lifestyle: Lifestyle = Lifestyle()
    germline: GermlineVcfRef | None = None
    tumour_variants: tuple[TumourVariant, ...] = ()
    tumour_tested_genes: tuple[str, ...] = Field(
        default=(), description="genes the tumour test covered (a panel report): a gene listed here with no "
                                "variant in tumour_variants is wild type for it; genes not listed are unknown")
    candidate_treatments: tuple[TreatmentOption, ...] = ()

    @field_validator("tumour_tested_genes", mode="before")
    @classmethod
    def _tested_genes(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, (list, tuple)):
            out = []
            for gene in v:
                if not isinstance(gene, str) or not _GENE_RE.match(gene.strip().upper()):
                    raise ValueError(f"{gene!r} is not an HGNC gene symbol")
                out.append(gene.strip().upper())
            return tuple(dict.fromkeys(out))
        return v
    outcomes: tuple[Outcome, ...] = ()

    _meds = field_validator("medications", mode="before")(lambda cls, v: _check_drugs(v))

    @model_validator(mode="after")
    def _unique(self) -> Patient:
        names = [t.regimen for t in self.candidate_treatments]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"candidate treatment(s) listed twice: {', '.join(dup)}")
        return self

    def cyp_inhibitors(self, enzyme: str) -> dict[str, str]:
        """Current medications that inhibit ``enzyme`` (``{drug: 'strong'|'moderate'}``)."""
        return vocab.phenoconversion_inhibitors(self.medications, enzyme)


# ---------------------------------------------------------------------------------------------
# Boundary: files and JSON -> Patient, with the project's errors
# ---------------------------------------------------------------------------------------------


def format_validation_error(err: ValidationError) -> tuple[str, str]:
    """``(field, message)`` of the first problem in a pydantic error (field as a dotted path)."""
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first.get("loc", ()) if x != "__root__")
    msg = first.get("msg", str(err)).removeprefix("Value error, ")
    more = len(err.errors()) - 1
    if more:
        msg = f"{msg} (and {more} more problem{'s' if more > 1 else ''})"
    return loc or "(record)", msg


def _fix_for(field: str) -> str:
    if "cancer_type" in field:
        return "use an OncoTree code such as COAD, LUAD or BRCA (see recommender.vocab.ONCOTREE)"
    if "drugs" in field or "medications" in field or field.endswith("drug"):
        return "use lower-case CPIC generic drug names (see recommender.vocab.DRUGS)"
    if "term" in field:
        return "use a CTCAE v5 term such as 'Neutrophil count decreased' (see recommender.vocab.CTCAE_TERMS)"
    if "labs" in field:
        return "use a lab name and unit from recommender.vocab.LABS"
    return "correct the value named in this message and load the record again"


def patient_from_dict(data: Any, *, file: str | os.PathLike[str] | None = None, record: str | None = None) -> Patient:
    """Validate a mapping as a :class:`Patient`; raises :class:`PatientRecordError`."""
    if record is None and isinstance(data, dict):
        record = data.get("patient_id") or None
    try:
        return Patient.model_validate(data)
    except ValidationError as err:
        field, msg = format_validation_error(err)
        shown = None if record is None else str(record)[:64]  # shown back: never a 20,000-character id
        raise PatientRecordError(
            msg, file=file, record=None if shown is None else f"patient {shown}", field=field, fix=_fix_for(field)
        ) from None


def patient_from_json(text: str | bytes, *, file: str | os.PathLike[str] | None = None) -> Patient:
    """Parse (strictly: :func:`genomics.fileio.parse_json_strict`) and validate one patient from JSON text."""
    from genomics.fileio import parse_json_strict

    data = parse_json_strict(text, file=file, error=PatientRecordError)
    if not isinstance(data, dict):
        raise PatientRecordError("expected one JSON object (a patient)", file=file, fix="wrap the record in {...}")
    return patient_from_dict(data, file=file)


def load_patient(path: str | os.PathLike[str]) -> Patient:
    """Read one patient from a JSON file (our schema) or a GA4GH Phenopacket v2 JSON file."""
    from genomics.fileio import parse_json_strict, read_text_input

    path = Path(path)
    text = read_text_input(path, error=PatientRecordError, what="JSON file")
    data = parse_json_strict(text, file=path, error=PatientRecordError)
    if isinstance(data, dict) and ("metaData" in data or "meta_data" in data):
        from recommender.phenopackets_io import patient_from_phenopacket_dict

        return patient_from_phenopacket_dict(data, file=path)
    if not isinstance(data, dict):
        raise PatientRecordError("expected one JSON object (a patient)", file=path, fix="wrap the record in {...}")
    return patient_from_dict(data, file=path)


def load_patients(path: str | os.PathLike[str]) -> list[Patient]:
    """Read patients from a JSON array file or a JSON-lines file (one patient per line)."""
    from genomics.fileio import parse_json_strict, read_text_input

    path = Path(path)
    text = read_text_input(path, error=PatientRecordError, what="JSON or JSON-lines file")
    stripped = text.lstrip()
    if stripped.startswith("["):
        items = parse_json_strict(text, file=path, error=PatientRecordError)
        return [patient_from_dict(item, file=path, record=f"item {i}") if not isinstance(item, dict)
                else patient_from_dict(item, file=path) for i, item in enumerate(items, start=1)]
    patients = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data = parse_json_strict(line, file=path, record=f"line {lineno}", error=PatientRecordError)
        if not isinstance(data, dict):
            raise PatientRecordError(f"a JSON {type(data).__name__} where a patient object belongs", file=path,
                                     record=f"line {lineno}", fix="one JSON object per line ({...})")
        patients.append(patient_from_dict(data, file=path, record=data.get("patient_id") or f"line {lineno}"))
    return patients


def save_patient(patient: Patient, path: str | os.PathLike[str]) -> Path:
    """Write a patient as indented JSON, atomically."""
    from recommender.commands._output import write_atomic

    return write_atomic(path, patient.model_dump_json(indent=2) + "\n")
