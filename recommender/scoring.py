"""One scoring API: a patient (+ germline VCF, tumour) -> a ranked, explained :class:`Recommendation`.

:func:`score_patient` is the single call behind the CLI (``recommender score``), the HTTP service and
the app; :func:`score_patients` is its batch form (the model bundle and knowledge tables load once).

Steps
-----
1. Candidate options: ``treatments`` or ``Patient.candidate_treatments``.
2. Germline: ``germline_vcf``/``sample`` or the record's ``germline`` reference (a relative path is taken
   relative to the patient file's folder, then the working directory) -> :func:`genomics.pgx.call_pgx`
   -> :func:`genomics.pgx.guidance_for_profile` for every drug of every option.
3. Tumour: ``tumour`` (a VCF/MAF path, a :class:`~genomics.biomarkers.TumourProfile` or a
   :class:`~genomics.biomarkers.BiomarkerReport`) or the record's ``tumour_variants`` ->
   :func:`genomics.biomarkers.match_biomarkers` for the patient's cancer type.
4. Model numbers: ``bundle`` (a :class:`~recommender.models.ModelBundle` or its directory; default: the
   bundle shipped in the package) -> :meth:`ModelBundle.predict_options`. When no bundle can be loaded,
   the result still carries the guidance and biomarker overlay, with the model numbers marked
   unavailable and the reason -- never made-up numbers. ``bundle=False`` skips the model on purpose.
5. Overlay (:mod:`recommender.knowledge_overlay`) and ranking (:mod:`recommender.rank`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomics.errors import (
    DegradedResultWarning,
    GenomeBuildError,
    InputFileError,
    ModelError,
    RecommenderError,
    UsageError,
)
from recommender.knowledge_overlay import (
    biomarker_evidence,
    biomarker_evidence_for_option,
    eligibility_checks,
    gene_note_text,
    pgx_flags_for_option,
    phenoconversion_notes,
)
from recommender.library_warnings import ignore_library_noise
from recommender.rank import OptionInput, RankingWeights, rank_options
from recommender.recommendation import (
    GeneSummary,
    GermlineGeneState,
    ModelPrediction,
    ModelStatus,
    OodStatus,
    Provenance,
    Recommendation,
    ResponsePrediction,
    SurvivalPrediction,
    ToxicityRisk,
    VariantEvidence,
    package_version,
)
from recommender.requests import PatientInputs, RankingOptions, split_legacy_keywords
from recommender.schema import Patient, TreatmentOption, TumourVariant, patient_from_dict

__all__ = ["DEMO_PATIENT", "PatientInputs", "RankingOptions", "ScoringContext", "StageTimer", "load_bundle",
           "score_patient", "score_patients"]

#: The demo patient shipped in the package (colon cancer, KRAS p.G12D, germline sample from the demo VCF).
DEMO_PATIENT = Path(__file__).resolve().parent / "data" / "demo" / "demo_patient.json"

_NO_BUNDLE = object()


class ScoringContext:
    """Things loaded once and shared by many calls (model bundle, its load error)."""

    def __init__(self, bundle: Any = None) -> None:
        self.bundle, self.bundle_error = load_bundle(bundle)
        self._biomarker_prov: dict[str, Any] | None = None
        self._reports: dict[Any, Any] = {}  # record-based tumour profile -> BiomarkerReport (see _biomarkers)

    def biomarker_table_provenance(self) -> dict[str, Any]:
        """Provenance of the bundled biomarker table (read once per context)."""
        if self._biomarker_prov is None:
            from genomics.biomarkers import load_knowledge_base

            self._biomarker_prov = load_knowledge_base().provenance()
        return self._biomarker_prov


def load_bundle(bundle: Any = None) -> tuple[Any, str | None]:
    """``(bundle or None, reason it is unavailable or None)``.

    ``None``: the default bundle shipped in the package (missing -> unavailable with the reason);
    ``False``: no model on purpose; a path: that bundle (a load error is raised: the caller asked for it);
    a :class:`~recommender.models.ModelBundle`: used as is.
    """
    if bundle is False:
        return None, "model scoring switched off by the caller"
    if bundle is None:
        try:
            from recommender.models.defaults import load_default_bundle

            return load_default_bundle(), None
        except RecommenderError as err:
            return None, f"no model bundle available: {err.one_line()}"
        except ImportError as err:  # pragma: no cover - models package absent
            return None, f"no model bundle available: the models package cannot be imported ({err})"
    if isinstance(bundle, (str, os.PathLike)):
        from recommender.models import ModelBundle

        return ModelBundle.load(bundle), None
    if hasattr(bundle, "predict_options"):
        return bundle, None
    raise UsageError(f"bundle must be a ModelBundle, a bundle directory, None or False, not {type(bundle).__name__}",
                     field="bundle", fix="pass a bundle directory (--bundle DIR) or leave it out for the default")


# ------------------------------------------------------------------------------------------------ inputs
def _as_patient(patient: Any) -> tuple[Patient, Path | None]:
    if isinstance(patient, Patient):
        return patient, None
    if isinstance(patient, (str, os.PathLike)):
        from recommender.inputs import read_patient_file  # the one patient reader of every front end

        path = Path(patient)
        return read_patient_file(path), path.resolve().parent
    if isinstance(patient, Mapping):
        return patient_from_dict(dict(patient)), None
    raise UsageError(f"patient must be a Patient, a mapping or a file path, not {type(patient).__name__}",
                     field="patient", fix="load the record with recommender.schema.load_patient")


def _options(patient: Patient, treatments: Sequence[Any] | None) -> list[TreatmentOption]:
    from pydantic import ValidationError

    items = list(treatments) if treatments is not None else list(patient.candidate_treatments)
    if not items:
        raise UsageError("no candidate treatment to score", record=f"patient {patient.patient_id}",
                         field="candidate_treatments",
                         fix="list candidate_treatments in the record or pass treatments (CLI: --treatments A B)")
    out: list[TreatmentOption] = []
    for t in items:
        try:
            if isinstance(t, TreatmentOption):
                out.append(t)
            elif isinstance(t, str):
                out.append(TreatmentOption(regimen=t))
            else:
                out.append(TreatmentOption.model_validate(t))
        except ValidationError as err:
            from recommender.schema import format_validation_error

            _, msg = format_validation_error(err)
            raise UsageError(f"treatment {t!r}: {msg}", field="treatments",
                             fix="use a regimen of recommender.vocab.REGIMENS or give its drugs") from None
    names = [o.regimen for o in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"treatment(s) listed twice: {', '.join(dup)}", field="treatments", fix="list each once")
    return out


def _resolve(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if base_dir is not None and (base_dir / p).exists():
        return base_dir / p
    return p


def _germline(patient: Patient, germline_vcf: Any, sample: str | None, base_dir: Path | None,
              allow_record_paths: bool) -> tuple[str | None, str | None, str]:
    """``(vcf path, sample, genome build)`` after argument overrides."""
    ref = patient.germline
    build = ref.genome_build if ref is not None else "GRCh38"
    if germline_vcf is not None:  # an argument overrides the record (the reader checks the build itself)
        return str(germline_vcf), sample or (ref.sample_id if ref is not None else None), "GRCh38"
    if ref is None or not allow_record_paths:
        return None, sample, build
    vcf = _resolve(ref.path, base_dir)
    if not vcf.exists():
        raise InputFileError("the germline VCF named in the patient record is not found", file=str(vcf),
                             record=f"patient {patient.patient_id}", field="germline.path",
                             fix="correct germline.path (relative paths are read from the patient file's folder) "
                                 "or pass the VCF (--vcf FILE)")
    return str(vcf), sample or ref.sample_id, build


def _gene_summaries(profile: Any, notes: Mapping[str, str]) -> tuple[GeneSummary, ...]:
    out = []
    for gene, c in sorted(profile.genes.items()):
        note = None
        if c.status not in ("called", "outside_call"):
            note = ", ".join(c.reasons) or c.status
        functional = None
        if gene in notes:
            functional = notes[gene].split("functional phenotype is ", 1)[-1].split(".", 1)[0]
        status_text, note_text = gene_note_text(c.status, c.reasons)
        out.append(GeneSummary(gene=gene, status=c.status, diplotype="; ".join(d.name for d in c.diplotypes) or None,
                               phenotype=c.phenotype, activity_score=c.activity_score, functional_phenotype=functional,
                               note=note, status_text=status_text, note_text=note_text))
    return tuple(out)


def _cyp2d6_accepted(profile: Any, requested: bool, *, precomputed: bool) -> bool:
    """Whether the CYP2D6 SNV/indel-only call was used for guidance on request (the provenance value).

    For a precomputed profile the profile's own calling options decide (the opt-in cannot change it now)."""
    if not precomputed or profile is None:
        return bool(requested)
    return "opt-in" in str(getattr(profile.provenance, "options", {}).get("cyp2d6", ""))


def _cyp2d6_copy_number_warnings(profile: Any, requested: bool, *, precomputed: bool) -> list[str]:
    """Say in words when CYP2D6 is provisional (copy number not assessed) or used without copy number on request,
    and name the test that settles it (issue 12)."""
    call = None if profile is None else profile.genes.get("CYP2D6")
    if call is None or "cyp2d6_copy_number_not_assessed" not in call.reasons:
        return []
    from genomics.pgx.genes.cyp2d6 import SETTLE_TEST

    dip = "; ".join(d.name for d in call.diplotypes) or "no diplotype"
    unseen = "a VCF of SNVs/indels cannot see the *5 deletion, duplications or CYP2D6/2D7 hybrids"
    if call.status == "provisional":
        how = ("call the VCF with accept_cyp2d6_without_copy_number=True" if precomputed else
               "--cyp2d6-without-copy-number (PatientInputs(cyp2d6_without_copy_number=True), service form field "
               "cyp2d6_without_copy_number=true)")
        return [f"CYP2D6 {dip} is provisional: copy number not assessed ({unseen}); its phenotype is not used for "
                f"guidance. Settle it with {SETTLE_TEST}. To use the SNV/indel call anyway: {how}"]
    if "cyp2d6_accepted_without_copy_number" in call.reasons:
        return [f"CYP2D6 {dip} is used for guidance without copy number, on request (cyp2d6_without_copy_number): "
                f"copy number not assessed ({unseen}: any of them would change the phenotype). Settle it with "
                f"{SETTLE_TEST}"]
    return []


def _tested_genes(patient: Patient, report: Any) -> tuple[str, ...] | None:
    """Genes the tumour data cover, for biomarker eligibility: a record's tumour variants cover only the
    genes they name plus the record's ``tumour_tested_genes`` (a panel report: tested, no variant = wild type);
    a tumour file (VCF/MAF) is taken to cover every gene (``None``)."""
    if report is None or (report.tumour or {}).get("format") != "record":
        return None
    return tuple(dict.fromkeys([v.gene for v in patient.tumour_variants] + list(patient.tumour_tested_genes)))


def _tumour_profile_from_record(patient: Patient) -> Any:
    from genomics.biomarkers import CopyNumberCall, FusionCall, SomaticVariant, TumourProfile
    from genomics.biomarkers.protein_change import parse_protein_change

    variants, cnvs, fusions = [], [], []
    cons_for = {"loss_of_function": ("stop_gained",), "nonsense": ("stop_gained",), "frameshift": ("frameshift_variant",),
                "splice": ("splice_donor_variant",), "inframe_indel": ("inframe_deletion",),
                "missense": ("missense_variant",), "silent": ("synonymous_variant",)}
    for i, v in enumerate(patient.tumour_variants):
        record = f"tumour_variants[{i}] {v.label}"
        if v.variant_type in ("amplification", "deletion"):
            cnvs.append(CopyNumberCall(gene=v.gene, alteration=v.variant_type, record=record))
        elif v.variant_type == "fusion":
            fusions.append(FusionCall(gene=v.gene, partner=v.fusion_partner, record=record))
        else:
            protein = parse_protein_change(v.protein_change) if v.protein_change else None
            variants.append(SomaticVariant(gene=v.gene, protein=protein, consequences=cons_for.get(v.variant_type, ()),
                                           record=record))
    return TumourProfile(variants=tuple(variants), copy_number=tuple(cnvs), fusions=tuple(fusions),
                         source_file="patient record", file_format="record")


def _biomarkers(patient: Patient, tumour: Any, base_dir: Path | None, cache: dict[Any, Any] | None = None) -> Any:
    """The patient's :class:`~genomics.biomarkers.BiomarkerReport` (``None`` without tumour data).

    ``cache`` (a dict kept by the caller) reuses the report of an identical record-based tumour profile and
    cancer type: cohorts repeat the same hotspot sets many times, and the report depends on nothing else.
    """
    from genomics.biomarkers import BiomarkerReport, TumourProfile, match_biomarkers, read_tumour

    if isinstance(tumour, BiomarkerReport):
        return tumour
    if tumour is None:
        if not patient.tumour_variants and not patient.tumour_tested_genes:
            return None
        if cache is not None:
            key = (patient.diagnosis.cancer_type if patient.diagnosis else None,
                   tuple(v.model_dump_json() for v in patient.tumour_variants))
            if key not in cache:
                if len(cache) >= 4096:
                    cache.clear()
                cache[key] = _biomarkers(patient, None, base_dir)
            return cache[key]
        profile = _tumour_profile_from_record(patient)
    elif isinstance(tumour, TumourProfile):
        profile = tumour
    elif isinstance(tumour, (str, os.PathLike)):
        profile = read_tumour(_resolve(str(tumour), base_dir))
    else:
        raise UsageError(f"tumour must be a file path, a TumourProfile or a BiomarkerReport, not {type(tumour).__name__}",
                         field="tumour", fix="pass a tumour VCF or MAF path")
    cancer = patient.diagnosis.cancer_type if patient.diagnosis else None
    try:
        return match_biomarkers(profile, cancer)
    except UsageError:  # an OncoTree code the biomarker table does not know
        report = match_biomarkers(profile, None)
        return report


def _phrases(drivers: Iterable[Any], key: str = "clinical") -> tuple[str, ...]:
    """Driver phrases: the clinician wording (``clinical``), or with ``key="phrase"`` the model's own
    wording with its units (the result's ``driver_details``)."""
    out = []
    for d in drivers or ():
        if isinstance(d, Mapping):
            out.append(str(d.get(key) or d.get("phrase") or d.get("driver") or d))
        else:
            out.append(str(getattr(d, key, None) or getattr(d, "phrase", d)))
    return tuple(out)


def _clip01(x: Any) -> float | None:
    if x is None:
        return None
    return min(1.0, max(0.0, float(x)))


def model_prediction_from(pred: Any) -> ModelPrediction:
    """A :class:`ModelPrediction` from a :class:`recommender.models.OptionPrediction` (or its ``to_dict``)."""
    if dataclasses.is_dataclass(pred) and not isinstance(pred, type):  # read-only use: no deep copy needed
        d = {f.name: getattr(pred, f.name) for f in dataclasses.fields(pred)}
    else:
        d = pred.to_dict() if hasattr(pred, "to_dict") else dict(pred)
    response = None
    r = d.get("response")
    if r and r.get("p") is not None:
        response = ResponsePrediction(probability=_clip01(r["p"]), low=_clip01(r.get("low")),
                                      high=_clip01(r.get("high")), drivers=_phrases(r.get("drivers")),
                                      driver_details=_phrases(r.get("drivers"), "phrase"))
    survival = tuple(SurvivalPrediction(
        endpoint=ep, median_days=s.get("median_days"), low=s.get("low"), high=s.get("high"),
        cox_median_days=s.get("cox_median_days"), times=tuple(float(t) for t in s.get("times", ())),
        survival=tuple(float(v) for v in s.get("survival", ())), drivers=_phrases(s.get("drivers")),
        driver_details=_phrases(s.get("drivers"), "phrase"),
        risk=s.get("risk"))
        for ep, s in (d.get("survival") or {}).items())
    toxicity = tuple(ToxicityRisk(term=term, probability=_clip01(t["p"]), low=_clip01(t.get("low")),
                                  high=_clip01(t.get("high")), drivers=_phrases(t.get("drivers")),
                                  driver_details=_phrases(t.get("drivers"), "phrase"))
                     for term, t in (d.get("toxicity") or {}).items() if t.get("p") is not None)
    ood = d.get("ood") or {}
    return ModelPrediction(available=True, response=response, survival=survival, toxicity=toxicity,
                           ood=OodStatus(flag=ood.get("flag"), reasons=tuple(str(x) for x in ood.get("reasons", ()))),
                           propensity=d.get("propensity"), not_modelled=dict(d.get("not_modelled") or {}))


def _interval_warnings(model: ModelPrediction) -> list[str]:
    """Say so when a point estimate lies outside its own interval (shown as is, never adjusted)."""
    out = []

    def check(name: str, value: float | None, lo: float | None, hi: float | None) -> None:
        if value is not None and lo is not None and hi is not None and not (lo - 1e-9 <= value <= hi + 1e-9):
            out.append(f"{name}: the point estimate ({value:.3g}) lies outside its bootstrap interval "
                       f"({lo:.3g}-{hi:.3g}); read both with care")

    if model.response is not None:
        check("response probability", model.response.probability, model.response.low, model.response.high)
    for s in model.survival:
        check(f"{s.endpoint.upper()} median", s.median_days, s.low, s.high)
    return out


def _bundle_sha(bundle: Any) -> str | None:
    meta = getattr(bundle, "metadata", {}) or {}
    return meta.get("_manifest_sha256")


# ------------------------------------------------------------------------------------------------ timing
class StageTimer:
    """Seconds per scoring stage, summed over calls (the timing hook of :func:`score_patients`).

    Examples
    --------
    >>> t = StageTimer()
    >>> with t.stage("models"):
    ...     pass
    >>> sorted(t.seconds)
    ['models']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``seconds[name]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to stage ``name``."""
        self.seconds[name] = self.seconds.get(name, 0.0) + float(seconds)


def _stage(timer: Any, name: str) -> Any:
    return contextlib.nullcontext() if timer is None else timer.stage(name)


@functools.lru_cache(maxsize=1)
def _package_version() -> str:
    return package_version()


@dataclass
class _Prepared:
    """One patient after PGx, biomarkers and DNA LM features: what the model and the overlay need."""

    patient: Patient
    options: list[TreatmentOption]
    ctx: ScoringContext
    vcf: str | None
    profile: Any
    guidance_list: list[Any]
    guidance: dict[str, Any] | None
    no_pgx_reason: str
    kb_prov: dict[str, Any]
    pheno_notes: Any
    report: Any
    lm_features: Any
    notes: list[str]
    warn_list: list[str]
    covariates: Any = None
    cyp2d6_without_copy_number: bool = False
    germline_genes: Any = None  # genomics.biomarkers.germline.GermlineGenes (BRCA1/2 for PARP eligibility)
    reference: Any = None  # the GRCh38 reference the caller gave (DNA LM part of a VUS)


# ------------------------------------------------------------------------------------------------ the call
def score_patient(
    patient: Patient | Mapping[str, Any] | str | os.PathLike[str],
    treatments: Sequence[TreatmentOption | str | Mapping[str, Any]] | None = None,
    *,
    inputs: PatientInputs | None = None,
    ranking: RankingOptions | None = None,
    context: ScoringContext | None = None,
    timer: Any = None,
    **legacy: Any,
) -> Recommendation:
    """Score one patient's candidate treatments.

    Parameters
    ----------
    patient
        A :class:`~recommender.schema.Patient`, a mapping, or a patient JSON / Phenopacket file path.
    treatments
        Options to compare (regimen names, :class:`TreatmentOption`, mappings); default: the record's
        ``candidate_treatments``.
    inputs
        :class:`~recommender.requests.PatientInputs`: germline VCF and sample, tumour file, outside PGx calls,
        reference, relative-path folder, a precomputed PGx profile or DNA LM features (default: what the record
        names).
    ranking
        :class:`~recommender.requests.RankingOptions`: weights, ``allow_avoid_first``, ``explain``.
    context
        A :class:`ScoringContext` (the model bundle, loaded once; ``ScoringContext(False)`` for no model).
        Default: the bundle shipped in the package (unavailable -> overlay only, with the reason).
    timer
        Optional timing hook with a ``stage(name)`` context manager (:class:`StageTimer`): seconds spent in
        ``pgx``, ``biomarkers``, ``dnalm``, ``models`` (feature frame included here) and ``overlay``.

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> from recommender import score_patient, PatientInputs, ScoringContext
    >>> from recommender.scoring import DEMO_PATIENT
    >>> rec = score_patient(DEMO_PATIENT, context=ScoringContext(False))  # guidance and evidence, no model
    >>> rec.patient_id
    'DEMO-COAD-001'

    The keywords of the previous signature (``germline_vcf=``, ``sample=``, ``tumour=``, ``bundle=``,
    ``weights=``, ``explain=``, ...) still work for one release, with a ``DeprecationWarning``.
    """
    inputs, ranking, old = split_legacy_keywords("score_patient", legacy, inputs, ranking)
    bundle = old.get("bundle")
    if "bundle" in old and context is not None:
        raise UsageError("give bundle= or context=, not both", field="bundle",
                         fix="pass context=ScoringContext(bundle)")
    prep = _prepare(patient, treatments, **_prepare_kwargs(inputs), bundle=bundle, context=context, timer=timer)
    strict = bundle is not None and bundle is not False and context is None
    preds, model_reason = _predict_one(prep, explain=ranking.explain, strict=strict, timer=timer)
    return _finish(prep, preds, model_reason, weights=ranking.weights, allow_avoid_first=ranking.allow_avoid_first,
                   fill_missing_with_reference=inputs.fill_missing_with_reference, timer=timer)


def _prepare_kwargs(inputs: PatientInputs) -> dict[str, Any]:
    """The :func:`_prepare` keywords: every field of ``inputs`` (one name each, no hand-kept list)."""
    return {f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs)}


def _prepare(
    patient: Any,
    treatments: Sequence[Any] | None,
    *,
    germline_vcf: Any = None,
    sample: str | None = None,
    tumour: Any = None,
    bundle: Any = None,
    reference: Any = None,
    outside_calls: Any = None,
    fill_missing_with_reference: bool = False,
    base_dir: Any = None,
    allow_record_paths: bool = True,
    cyp2d6_without_copy_number: bool = False,
    context: ScoringContext | None = None,
    pgx_profile: Any = None,
    dnalm_features: Any = None,
    timer: Any = None,
    covariates: Any = None,
    germline_genes: Any = None,
    fill_missing_covariates: bool = False,
) -> _Prepared:
    """Steps 1-3 of :func:`score_patient` (options, germline PGx, tumour biomarkers) and the DNA LM features."""
    patient, file_dir = _as_patient(patient)
    base = Path(base_dir) if base_dir is not None else file_dir
    options = _options(patient, treatments)
    notes: list[str] = []
    warn_list: list[str] = []

    # -- germline -> PGx guidance
    with _stage(timer, "pgx"):
        if pgx_profile is not None:
            vcf, smp, build = None, pgx_profile.sample, "GRCh38"
        else:
            vcf, smp, build = _germline(patient, germline_vcf, sample, base, allow_record_paths)
        if build != "GRCh38":
            raise GenomeBuildError(f"the germline VCF is declared {build}; pharmacogenomic calling needs GRCh38",
                                   file=vcf, record=f"patient {patient.patient_id}", field="germline.genome_build",
                                   fix="give a GRCh38 VCF (lift over with bcftools +liftover or CrossMap first)")
        profile = None
        guidance_list: list[Any] = []
        guidance: dict[str, Any] | None = None
        no_pgx_reason = ""
        kb_prov: dict[str, Any] = {}
        all_drugs = list(dict.fromkeys(d for o in options for d in o.drugs))
        from genomics.pgx import active_knowledge_base, call_pgx, guidance_for_profile

        kb = active_knowledge_base()
        kb_prov = kb.provenance()
        if pgx_profile is not None:
            profile = pgx_profile
            guidance_list = guidance_for_profile(profile, all_drugs, kb=kb)
            guidance = {g.drug: g for g in guidance_list}
        elif vcf is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DegradedResultWarning)
                profile = call_pgx(vcf, sample=smp, outside_calls=outside_calls,
                                   fill_missing_with_reference=fill_missing_with_reference, include_positions=False,
                                   accept_cyp2d6_without_copy_number=cyp2d6_without_copy_number)
            warn_list.extend(str(w.message) for w in caught if issubclass(w.category, DegradedResultWarning))
            guidance_list = guidance_for_profile(profile, all_drugs, kb=kb)
            guidance = {g.drug: g for g in guidance_list}
        else:
            no_pgx_reason = ("no germline VCF given: pharmacogenomic guidance was not assessed (give --vcf FILE "
                             "--sample S or a germline reference in the record)")
            warn_list.append(no_pgx_reason)
        warn_list.extend(_cyp2d6_copy_number_warnings(profile, cyp2d6_without_copy_number,
                                                      precomputed=pgx_profile is not None))
        pheno_notes = phenoconversion_notes(profile, patient.medications)
        if kb_prov.get("staleness_warning"):
            notes.append(kb_prov["staleness_warning"])

    # -- germline BRCA1/2 (PARP-inhibitor eligibility, evidence beside PARP / platinum options)
    if germline_genes is None:
        from recommender.variant_evidence import germline_genes_for_patient

        with _stage(timer, "germline_genes"):
            germline_genes = germline_genes_for_patient(vcf, None if profile is None else profile.sample,
                                                        reference=reference)

    # -- tumour -> biomarker evidence
    with _stage(timer, "biomarkers"):
        report = _biomarkers(patient, tumour, base if allow_record_paths else None,
                             cache=None if context is None else context._reports)
        if report is not None:
            warn_list.extend(report.warnings)

    # -- DNA LM gene features (the model bundle's DNA LM genes)
    ctx = context or ScoringContext(bundle)
    if ctx.bundle is not None:  # the bundle's covariates: read, checked, refused when missing (unless filled)
        from recommender.covariate_inputs import patient_covariate_block

        covariates, cov_notes = patient_covariate_block(covariates, ctx.bundle, fill=fill_missing_covariates)
        warn_list.extend(cov_notes)
    lm_features = None
    if ctx.bundle is not None:
        lm_genes = tuple(getattr(getattr(ctx.bundle, "schema", None), "dnalm_genes", ()) or ())
        if lm_genes and dnalm_features is not None:
            lm_features = dnalm_features
        elif lm_genes and vcf is not None:
            from recommender.dnalm_features import dnalm_gene_features

            with _stage(timer, "dnalm"):
                lm_features = dnalm_gene_features(vcf, None if profile is None else profile.sample, lm_genes,
                                                  reference=reference)
        if lm_features is not None:
            notes.extend(lm_features.notes)
    return _Prepared(patient=patient, options=options, ctx=ctx, vcf=vcf, profile=profile,
                     guidance_list=guidance_list, guidance=guidance, no_pgx_reason=no_pgx_reason, kb_prov=kb_prov,
                     pheno_notes=pheno_notes, report=report, lm_features=lm_features, notes=notes,
                     warn_list=warn_list, covariates=covariates, germline_genes=germline_genes, reference=reference,
                     cyp2d6_without_copy_number=_cyp2d6_accepted(profile, cyp2d6_without_copy_number,
                                                                 precomputed=pgx_profile is not None))


def _model_error_reason(err: ModelError) -> str:
    return f"the model bundle could not score this patient: {err.one_line()}"


def _model_view(prep: _Prepared) -> tuple[Patient, Any, dict[str, Any] | None]:
    """The patient, biomarker report and covariates the models see.

    The models were trained on cohorts whose germline BRCA1/2 carriers appear as tumour loss-of-function findings
    (the simulator's tumour tables, like a clinical report that lists a germline finding), so a germline BRCA1/2
    loss of function read from the VCF enters the models as that finding: the BRCA flag and the biomarker-match
    level of the drugs it makes eligible. A variant of uncertain significance never does. What is *shown* is not
    changed: the result keeps the germline finding as germline evidence.
    """
    patient, report, covariates = prep.patient, prep.report, prep.covariates
    germ = prep.germline_genes
    lof = tuple(getattr(germ, "pathogenic", ()) or ()) if germ is not None else ()
    if not lof:
        return patient, report, covariates
    present = {v.gene for v in patient.tumour_variants if v.variant_type == "loss_of_function"}
    extra = tuple(TumourVariant(gene=g, variant_type="loss_of_function")
                  for g in dict.fromkeys(v.gene for v in lof) if g not in present)
    covariates = {**(covariates or {}), "brca_lof": True}
    if not extra:
        return patient, report, covariates
    germ_report = _biomarkers(patient.model_copy(update={"tumour_variants": extra, "tumour_tested_genes": ()}),
                              None, None, cache=prep.ctx._reports)  # same report for every carrier of a type
    if report is None:
        report = germ_report
    elif germ_report is not None:
        report = dataclasses.replace(report, matches=tuple(report.matches) + tuple(germ_report.matches))
    patient = patient.model_copy(update={"tumour_variants": tuple(patient.tumour_variants) + extra})
    return patient, report, covariates


def _predict_one(prep: _Prepared, *, explain: bool, strict: bool,
                 timer: Any = None) -> tuple[list[Any] | None, str | None]:
    """Step 4 for one patient: ``(predictions or None, reason they are unavailable or None)``."""
    model_bundle, model_reason = prep.ctx.bundle, prep.ctx.bundle_error
    if model_bundle is None:
        return None, model_reason
    try:
        with _stage(timer, "models"), ignore_library_noise():  # numeric libraries' noise only, by category
            extra = {} if prep.lm_features is None else {"dnalm": prep.lm_features.genes}
            patient, report, covariates = _model_view(prep)
            if covariates is not None:
                extra["covariates"] = covariates
            preds = model_bundle.predict_options(patient, prep.options, pgx=prep.profile, biomarkers=report,
                                                 explain=explain, **extra)
        return preds, model_reason
    except ModelError as err:
        if strict:
            raise
        return None, _model_error_reason(err)


def _predict_many(preps: list[_Prepared], ctx: ScoringContext, *, explain: bool,
                  timer: Any = None) -> list[tuple[list[Any] | None, str | None]]:
    """Step 4 for many patients: one feature frame and one pass of every model (same numbers as one by one)."""
    model_bundle = ctx.bundle
    pids = [p.patient.patient_id for p in preps]
    if (model_bundle is None or not hasattr(model_bundle, "predict_options_many") or len(preps) < 2
            or len(set(pids)) != len(pids)):
        return [_predict_one(p, explain=explain, strict=False, timer=timer) for p in preps]
    items = []
    for p in preps:
        patient, report, covariates = _model_view(p)
        item: dict[str, Any] = {"patient": patient, "options": p.options, "pgx": p.profile, "biomarkers": report}
        if p.lm_features is not None:
            item["dnalm"] = p.lm_features.genes
        if covariates is not None:
            item["covariates"] = covariates
        items.append(item)
    try:
        with ignore_library_noise():
            many = model_bundle.predict_options_many(items, explain=explain, timer=timer)
    except ModelError:  # find the patient(s) the bundle cannot score; the others keep their numbers
        return [_predict_one(p, explain=explain, strict=False, timer=timer) for p in preps]
    return [(preds, ctx.bundle_error) for preds in many]


def _finish(prep: _Prepared, preds: list[Any] | None, model_reason: str | None, *, weights: RankingWeights,
            allow_avoid_first: bool, fill_missing_with_reference: bool, timer: Any = None) -> Recommendation:
    """Step 5 (overlay, ranking) and the result with its provenance."""
    with _stage(timer, "overlay"):
        return _finish_untimed(prep, preds, model_reason, weights=weights, allow_avoid_first=allow_avoid_first,
                               fill_missing_with_reference=fill_missing_with_reference)


def _finish_untimed(prep: _Prepared, preds: list[Any] | None, model_reason: str | None, *, weights: RankingWeights,
                    allow_avoid_first: bool, fill_missing_with_reference: bool) -> Recommendation:
    patient, options, profile, report = prep.patient, prep.options, prep.profile, prep.report
    guidance, guidance_list, no_pgx_reason = prep.guidance, prep.guidance_list, prep.no_pgx_reason
    kb_prov, pheno_notes, lm_features, vcf = prep.kb_prov, prep.pheno_notes, prep.lm_features, prep.vcf
    notes, warn_list = list(prep.notes), list(prep.warn_list)
    model_bundle = prep.ctx.bundle
    if model_reason:
        warn_list.append(f"model numbers unavailable: {model_reason}")

    # -- overlay + rank
    kb_version = kb_prov.get("recommendation_tables_version")
    from recommender.variant_evidence import evidence_for_option, patient_variant_evidence

    lm_scorer = None
    if lm_features is not None and lm_features.model is not None:  # the DNA LM is loaded for this patient anyway
        from genomics.biomarkers.variant_evidence import dnalm_llr_scorer

        lm_scorer = dnalm_llr_scorer(reference=None if prep.reference is None else str(prep.reference))
    germline = prep.germline_genes
    variant_ev = patient_variant_evidence(germline, report, lm_scorer=lm_scorer)
    inputs = []
    for i, opt in enumerate(options):
        if preds is not None:
            model = model_prediction_from(preds[i])
        else:
            model = ModelPrediction(available=False, reason=model_reason or "no model bundle")
        opt_warnings = _interval_warnings(model)
        if model.ood.flag:
            opt_warnings.append("outside the model's training data: " + "; ".join(model.ood.reasons))
        inputs.append(OptionInput(
            regimen=opt.regimen, drugs=tuple(opt.drugs), model=model,
            pgx=pgx_flags_for_option(opt.drugs, guidance, reason_if_none=no_pgx_reason, notes=pheno_notes,
                                     kb_version=kb_version),
            biomarkers=biomarker_evidence_for_option(opt.drugs, report), warnings=tuple(opt_warnings),
            eligibility=eligibility_checks(opt.drugs, patient.diagnosis.cancer_type if patient.diagnosis else None,
                                           report, tested_genes=_tested_genes(patient, report), germline=germline,
                                           lm_scorer=lm_scorer, receptors=prep.covariates)))
    ranked, rule = rank_options(inputs, weights=weights, allow_avoid_first=allow_avoid_first)
    ranked = tuple(o.model_copy(update={"variant_evidence": tuple(
        VariantEvidence.model_validate(e) for e in evidence_for_option(o.drugs, variant_ev))}) for o in ranked)

    # -- provenance
    bprov = model_bundle.provenance() if model_bundle is not None and hasattr(model_bundle, "provenance") else {}
    biomarker_tables: tuple[dict[str, Any], ...] = ()
    if report is not None:
        biomarker_tables = tuple(dict(t) for t in report.provenance.get("biomarker_tables", ()))
    else:
        biomarker_tables = (dict(prep.ctx.biomarker_table_provenance()),)
    dna_lm = None if lm_features is None else lm_features.model
    if lm_features is None:
        notes.append("DNA LM features not computed for this patient (no germline VCF path, a precomputed PGx "
                     "profile, or no model bundle): treated as missing by the model")
    elif lm_features.model is not None:
        notes.append(f"DNA LM features from {lm_features.n_variants} variant(s) in "
                     f"{', '.join(sorted(lm_features.genes)) or 'no gene'} scored with {lm_features.model}")
    provenance = Provenance(
        package_version=_package_version(),
        genome_build="GRCh38",
        model_bundle_id=bprov.get("bundle_id") or None,
        model_bundle_sha256=(bprov.get("manifest_sha256") or _bundle_sha(model_bundle)) if model_bundle is not None else None,
        model_trained_on=bprov.get("trained_on"), feature_schema_hash=bprov.get("feature_schema_hash"),
        pgx_knowledge_base=kb_prov, biomarker_tables=biomarker_tables, dna_lm=dna_lm,
        inputs={"germline_vcf": None if vcf is None else Path(vcf).name, "sample": None if profile is None else profile.sample,
                "tumour": None if report is None else report.tumour.get("format"),
                "fill_missing_with_reference": fill_missing_with_reference,
                "cyp2d6_without_copy_number": prep.cyp2d6_without_copy_number,
                "ranking_weights": {"response": weights.response, "survival": weights.survival,
                                    "toxicity": weights.toxicity, "horizon_days": weights.horizon_days,
                                    "endpoint": weights.endpoint},
                "allow_avoid_first": allow_avoid_first},
        notes=tuple(notes))
    disagreements = tuple(d for o in ranked for d in o.disagreements)
    rec = Recommendation(
        patient_id=patient.patient_id, cancer_type=patient.diagnosis.cancer_type if patient.diagnosis else None,
        options=ranked, ranking_rule=rule,
        model_status=ModelStatus(available=preds is not None, reason=None if preds is not None else model_reason,
                                 bundle_id=bprov.get("bundle_id"), trained_on=bprov.get("trained_on")),
        pharmacogenes=() if profile is None else _gene_summaries(profile, pheno_notes),
        pgx_sample=None if profile is None else profile.sample,
        pgx_profile=None if profile is None else profile.to_dict(),
        tumour_findings=() if report is None else tuple(biomarker_evidence(m) for m in report.matches),
        tumour_vus=() if report is None else tuple(v.to_dict() for v in report.vus),
        germline_genes=() if germline is None else tuple(GermlineGeneState(**g.to_dict()) for g in germline.genes),
        disagreements=disagreements, warnings=tuple(dict.fromkeys(warn_list)), provenance=provenance,
        missing_genes=tuple(dict.fromkeys(g for o in ranked for g in o.missing_genes)))
    rec._guidance = guidance_list if profile is not None else None
    return rec


def score_patients(
    patients: Iterable[Patient | Mapping[str, Any] | str | os.PathLike[str]],
    treatments: Sequence[Any] | None = None,
    *,
    inputs: PatientInputs | None = None,
    ranking: RankingOptions | None = None,
    context: ScoringContext | None = None,
    on_error: str = "raise",
    pgx_profiles: Mapping[str, Any] | None = None,
    dnalm_features: Mapping[str, Any] | None = None,
    batch_size: int = 1,
    timer: Any = None,
    covariates: Mapping[str, Any] | None = None,
    germline_genes: Mapping[str, Any] | None = None,
    **legacy: Any,
) -> Iterator[Recommendation | RecommenderError]:
    """Score many patients, loading the model bundle once.

    Parameters
    ----------
    patients
        Patients (or records / file paths), each scored as by :func:`score_patient`.
    treatments
        Options for every patient (default: each record's own candidates).
    inputs, ranking
        As for :func:`score_patient`, applied to every patient (the per-patient PGx profile and DNA LM
        features come from ``pgx_profiles`` / ``dnalm_features``).
    context
        A :class:`ScoringContext` (default: one built here, loading the default bundle once).
    on_error
        ``"raise"`` (default) stops at the first bad record; ``"yield"`` yields the
        :class:`~genomics.errors.RecommenderError` in the patient's place and goes on.
    pgx_profiles
        ``patient_id -> PgxProfile`` called beforehand (``genomics.pgx.call_pgx_cohort`` reads each gene of
        a multi-sample VCF once for everyone: much faster than one VCF read per patient).
    dnalm_features
        ``patient_id -> DnaLmFeatures`` computed beforehand (e.g.
        :func:`recommender.dnalm_features.dnalm_features_for_samples` over a cohort VCF); passed to
        :func:`score_patient` as ``dnalm_features``.
    covariates
        ``patient_id -> covariates block`` (e.g. ER status and a bundle's declared covariates read from a
        cohort's patients table); passed to :func:`score_patient` as ``inputs.covariates``.
    germline_genes
        ``patient_id -> GermlineGenes`` read beforehand (:func:`genomics.biomarkers.germline.read_germline_genes_cohort`
        over a cohort VCF: germline BRCA1/2 for PARP-inhibitor eligibility); passed as ``inputs.germline_genes``.
    batch_size
        Patients whose model numbers are computed together (one feature frame and one pass of every model
        per batch, :meth:`~recommender.models.ModelBundle.predict_options_many`): the same results, many
        times faster for cohorts. ``1`` (default) scores one patient at a time.
    timer
        Optional timing hook (:class:`StageTimer`): seconds per stage, with the feature frame timed apart
        from the models when ``batch_size > 1``.
    """
    inputs, ranking, old = split_legacy_keywords("score_patients", legacy, inputs, ranking)
    if on_error not in ("raise", "yield"):
        raise UsageError(f"on_error must be 'raise' or 'yield', not {on_error!r}", field="on_error")
    if batch_size < 1:
        raise UsageError(f"batch_size must be >= 1, not {batch_size}", field="batch_size")
    if "bundle" in old and context is not None:
        raise UsageError("give bundle= or context=, not both", field="bundle",
                         fix="pass context=ScoringContext(bundle)")
    ctx = context if context is not None else ScoringContext(old.get("bundle"))

    def pid_of(p: Any) -> Any:
        return p.patient_id if isinstance(p, Patient) else (p.get("patient_id") if isinstance(p, Mapping) else None)

    def lookup(table: Mapping[str, Any] | None, p: Any) -> Any:
        if table is None:
            return None
        pid = pid_of(p)
        return table.get(pid) if pid is not None else None

    def inputs_for(p: Any) -> PatientInputs:
        return inputs.replace(pgx_profile=lookup(pgx_profiles, p), dnalm_features=lookup(dnalm_features, p),
                              covariates=lookup(covariates, p), germline_genes=lookup(germline_genes, p))

    if batch_size == 1:
        for p in patients:
            try:
                yield score_patient(p, treatments, inputs=inputs_for(p), ranking=ranking, context=ctx, timer=timer)
            except RecommenderError as err:
                if on_error == "raise":
                    raise
                yield err
        return

    it = iter(patients)
    while True:
        batch = list(itertools.islice(it, batch_size))
        if not batch:
            return
        prepared: list[_Prepared | RecommenderError] = []
        for p in batch:
            try:
                prepared.append(_prepare(p, treatments, **_prepare_kwargs(inputs_for(p)), context=ctx,
                                         timer=timer))
            except RecommenderError as err:
                prepared.append(err)
        ok = [x for x in prepared if isinstance(x, _Prepared)]
        predicted = dict(zip(map(id, ok), _predict_many(ok, ctx, explain=ranking.explain, timer=timer),
                             strict=True))
        for x in prepared:
            try:
                if isinstance(x, RecommenderError):
                    raise x
                preds, reason = predicted[id(x)]
                yield _finish(x, preds, reason, weights=ranking.weights,
                              allow_avoid_first=ranking.allow_avoid_first,
                              fill_missing_with_reference=inputs.fill_missing_with_reference, timer=timer)
            except RecommenderError as err:
                if on_error == "raise":
                    raise
                yield err
