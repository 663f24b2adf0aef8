"""GA4GH Phenopackets v2 import and export of :class:`~recommender.schema.Patient`.

Uses the ``phenopackets`` package (the schema's official protobuf classes) and protobuf's JSON
mapping, so the JSON we write is the standard Phenopacket JSON that other tools read.

Mapping (Patient -> Phenopacket v2)
-----------------------------------
===========================  ================================================================
Patient                      Phenopacket
===========================  ================================================================
patient_id                   ``id`` and ``subject.id``
demographics.sex / age       ``subject.sex``; ``subject.timeAtLastEncounter.age`` (ISO 8601, to the month)
demographics.ancestry        measurement ``gtr:self_reported_ancestry`` (no v2 field exists)
diagnosis.cancer_type        first ``diseases[]`` term ``oncotree:CODE``; stage in ``diseaseStage``
diagnosis.histology          tumour ``biosamples[].histologicalDiagnosis``
diagnosis.ecog               measurement ``LOINC:89247-1`` (ECOG performance status)
history.comorbidities        further ``diseases[]`` (label = the comorbidity)
history.labs                 ``measurements[]`` with LOINC assay and UCUM unit
lifestyle                    measurements: smoking ``LOINC:72166-2`` (SNOMED answers), BMI
                             ``LOINC:39156-5``; pack-years, alcohol, activity as ``gtr:`` terms
medications                  ``medicalActions[].treatment`` (drugType EHR_MEDICATION_LIST)
candidate / prior / received ``medicalActions[].therapeuticRegimen`` with ``treatmentIntent``
treatments                   ``gtr:candidate_treatment`` / ``gtr:prior_line_N`` / ``gtr:received_treatment_N``
best response                ``responseToTreatment`` (label = RECIST term)
adverse events               ``medicalActions[].adverseEvents`` + ``phenotypicFeatures[]`` with
                             ``severity`` = CTCAE grade and a modifier naming the treatment
PFS / OS                     measurements ``gtr:pfs_days`` / ``gtr:os_days``; OS also in
                             ``subject.vitalStatus`` (whole days)
germline VCF                 ``files[]`` (uri, individualToFileIdentifiers, genomeAssembly)
tumour variants              ``interpretations[].diagnosis.genomicInterpretations[]``
                             (gene symbol, ``hgvs.p`` expression, SO structural type, GRCh38
                             ``vcfRecord`` when known, VAF as an extension)
===========================  ================================================================

``gtr:`` is this product's local namespace (declared in ``metaData.resources``) for things that
have no standard Phenopacket field. Round trip Patient -> Phenopacket -> Patient is exact except
age, which a Phenopacket stores to the month.

Import also reads Phenopackets written by other tools: diseases by OncoTree CURIE or by an
OncoTree/NCIT label, drugs by label, responses and adverse events by label; adverse events
without a CTCAE grade are dropped with a :class:`~genomics.errors.DegradedResultWarning`.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import phenopackets as pps
from google.protobuf.json_format import MessageToDict, MessageToJson, ParseDict, ParseError

from genomics.errors import DegradedResultWarning
from recommender import vocab
from recommender.schema import (
    Patient,
    PatientRecordError,
    TreatmentOption,
    patient_from_dict,
)

__all__ = [
    "load_phenopacket",
    "patient_from_phenopacket",
    "patient_from_phenopacket_dict",
    "patient_from_phenopacket_json",
    "patient_to_phenopacket",
    "phenopacket_json",
    "save_phenopacket",
]

GTR = "gtr"
_OC = pps.OntologyClass

#: LOINC codes of the lab values (LOINC, https://loinc.org).
_LAB_LOINC = {
    "creatinine_clearance": ("LOINC:2164-2", "Creatinine renal clearance"),
    "creatinine": ("LOINC:2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    "bilirubin": ("LOINC:1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    "albumin": ("LOINC:1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "alt": ("LOINC:1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "ast": ("LOINC:1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "neutrophils": ("LOINC:751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    "leukocytes": ("LOINC:6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
    "platelets": ("LOINC:777-3", "Platelets [#/volume] in Blood by Automated count"),
    "hemoglobin": ("LOINC:718-7", "Hemoglobin [Mass/volume] in Blood"),
    "lvef": ("LOINC:10230-1", "Left ventricular Ejection fraction"),
    "sodium": ("LOINC:2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
}
_LOINC_TO_LAB = {code: name for name, (code, _) in _LAB_LOINC.items()}

#: Our unit spelling -> UCUM code.
_UCUM = {
    "mL/min": "mL/min", "ml/min": "mL/min", "umol/L": "umol/L", "µmol/L": "umol/L", "mg/dL": "mg/dL",
    "g/L": "g/L", "g/dL": "g/dL", "U/L": "U/L", "IU/L": "[IU]/L", "10^9/L": "10*9/L", "10*9/L": "10*9/L",
    "/uL": "/uL", "cells/uL": "/uL", "%": "%", "mmol/L": "mmol/L", "mEq/L": "meq/L",
}

_ECOG = ("LOINC:89247-1", "ECOG Performance Status score")
_SMOKING = ("LOINC:72166-2", "Tobacco smoking status")
_SMOKING_ANSWERS = {
    "never": ("SNOMED:266919005", "Never smoked tobacco"),
    "former": ("SNOMED:8517006", "Ex-smoker"),
    "current": ("SNOMED:77176002", "Smoker"),
}
_BMI = ("LOINC:39156-5", "Body mass index (BMI) [Ratio]")
_RECIST_LABELS = {"CR": "Complete Response", "PR": "Partial Response", "SD": "Stable Disease",
                  "PD": "Progressive Disease", "NE": "Not Evaluable"}
_LABEL_TO_RECIST = {v.lower(): k for k, v in _RECIST_LABELS.items()} | {k.lower(): k for k in _RECIST_LABELS}
_SO = {
    "missense": ("SO:0001583", "missense_variant"), "nonsense": ("SO:0001587", "stop_gained"),
    "frameshift": ("SO:0001589", "frameshift_variant"), "inframe_indel": ("SO:0001820", "inframe_indel"),
    "splice": ("SO:0001629", "splice_site_variant"), "silent": ("SO:0001819", "synonymous_variant"),
    "other_snv": ("SO:0001483", "SNV"), "amplification": ("SO:0001742", "copy_number_gain"),
    "deletion": ("SO:0001743", "copy_number_loss"), "fusion": ("SO:0001565", "gene_fusion"),
    "loss_of_function": ("SO:0002054", "loss_of_function_variant"),
}
_SO_TO_TYPE = {code: t for t, (code, _) in _SO.items()} | {label: t for t, (_, label) in _SO.items()}
#: Cancer names met in other tools' Phenopackets (NCIT labels) -> OncoTree.
_CANCER_SYNONYMS = {
    "colon carcinoma": "COAD", "colon cancer": "COAD", "colon adenocarcinoma": "COAD",
    "rectal carcinoma": "READ", "rectal adenocarcinoma": "READ", "colorectal carcinoma": "COADREAD",
    "colorectal cancer": "COADREAD", "breast carcinoma": "BRCA", "breast cancer": "BRCA",
    "invasive breast carcinoma": "BRCA", "lung adenocarcinoma": "LUAD", "non-small cell lung carcinoma": "NSCLC",
    "lung squamous cell carcinoma": "LUSC", "small cell lung carcinoma": "SCLC",
    "pancreatic ductal adenocarcinoma": "PAAD", "pancreatic adenocarcinoma": "PAAD",
    "cutaneous melanoma": "SKCM", "melanoma": "MEL", "acute myeloid leukemia": "AML",
    "high grade ovarian serous adenocarcinoma": "HGSOC", "prostate adenocarcinoma": "PRAD",
    "cholangiocarcinoma": "CHOL",
}
_ONCOTREE_BY_NAME = {ct.name.lower(): code for code, ct in vocab.ONCOTREE.items()}


def _oc(curie: str, label: str) -> pps.OntologyClass:
    return _OC(id=curie, label=label)


def _local(term: str, label: str) -> pps.OntologyClass:
    return _OC(id=f"{GTR}:{term}", label=label)


def _quantity_measurement(assay: pps.OntologyClass, value: float, unit_id: str, unit_label: str,
                          description: str = "") -> pps.Measurement:
    return pps.Measurement(
        assay=assay, description=description,
        value=pps.Value(quantity=pps.Quantity(unit=_oc(unit_id, unit_label), value=float(value))),
    )


def _class_measurement(assay: pps.OntologyClass, value: pps.OntologyClass) -> pps.Measurement:
    return pps.Measurement(assay=assay, value=pps.Value(ontology_class=value))


def _age_iso(age: float) -> str:
    months = round(age * 12)
    years, rest = divmod(months, 12)
    return f"P{years}Y{rest}M" if rest else f"P{years}Y"


def _age_from_iso(text: str) -> float | None:
    m = re.fullmatch(r"P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", text.strip())
    if not m or not any(m.groups()):
        return None
    years, months, weeks, days = (float(g) if g else 0.0 for g in m.groups())
    return round(years + months / 12 + (weeks * 7 + days) / 365.25, 4)


def _regimen_action(t: TreatmentOption, intent: pps.OntologyClass) -> pps.MedicalAction:
    ref = pps.ExternalReference(
        id=f"{GTR}:regimen/{quote(t.regimen, safe='')}", description=f"{t.regimen} [{'+'.join(t.drugs)}]"
    )
    return pps.MedicalAction(
        therapeutic_regimen=pps.TherapeuticRegimen(external_reference=ref), treatment_intent=intent
    )


def _metadata() -> pps.MetaData:
    try:
        from importlib.metadata import version

        ver = version("genomics-treatment-recommender")
    except Exception:  # noqa: BLE001 - running from a source tree
        ver = "0.0.0+unknown"
    md = pps.MetaData(created_by=f"genomics-treatment-recommender {ver}", phenopacket_schema_version="2.0")
    md.created.FromDatetime(datetime.now(UTC).replace(microsecond=0))
    md.resources.extend(
        [
            pps.Resource(id="oncotree", name="OncoTree", url="https://oncotree.mskcc.org",
                         version=vocab.ONCOTREE_VERSION, namespace_prefix="oncotree",
                         iri_prefix="https://oncotree.mskcc.org/#/home?search_term="),
            pps.Resource(id="loinc", name="Logical Observation Identifiers Names and Codes", url="https://loinc.org",
                         version="2.77", namespace_prefix="LOINC", iri_prefix="https://loinc.org/"),
            pps.Resource(id="ucum", name="Unified Code for Units of Measure", url="https://ucum.org",
                         version="2.1", namespace_prefix="UCUM", iri_prefix="https://ucum.org/"),
            pps.Resource(id="snomedct", name="SNOMED CT", url="https://www.snomed.org", version="2023-09",
                         namespace_prefix="SNOMED", iri_prefix="http://snomed.info/id/"),
            pps.Resource(id="so", name="Sequence types and features ontology",
                         url="http://purl.obolibrary.org/obo/so.owl", version="2.6", namespace_prefix="SO",
                         iri_prefix="http://purl.obolibrary.org/obo/SO_"),
            pps.Resource(id="meddra", name="MedDRA (CTCAE v5.0 terms)", url="https://ctep.cancer.gov",
                         version="CTCAE 5.0", namespace_prefix="MedDRA", iri_prefix="https://www.meddra.org/"),
            pps.Resource(id=GTR, name="genomics-treatment-recommender local terms",
                         url="https://example.invalid/gtr", version=vocab.VOCAB_VERSION, namespace_prefix=GTR,
                         iri_prefix="https://example.invalid/gtr#"),
        ]
    )
    return md


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


def patient_to_phenopacket(patient: Patient) -> pps.Phenopacket:
    """Build a GA4GH Phenopacket v2 (protobuf message) from a :class:`Patient`."""
    pid = patient.patient_id
    subject = pps.Individual(id=pid, sex=pps.Sex.Value({"female": "FEMALE", "male": "MALE", "other": "OTHER_SEX"}
                                                       .get(patient.demographics.sex, "UNKNOWN_SEX")))
    if patient.demographics.age is not None:
        subject.time_at_last_encounter.CopyFrom(
            pps.TimeElement(age=pps.Age(iso8601duration=_age_iso(patient.demographics.age)))
        )
    packet = pps.Phenopacket(id=pid, subject=subject, meta_data=_metadata())
    measurements: list[pps.Measurement] = []

    if patient.demographics.ancestry:
        measurements.append(_class_measurement(_local("self_reported_ancestry", "self-reported ancestry"),
                                               _local("ancestry", patient.demographics.ancestry)))
    dx = patient.diagnosis
    if dx is not None:
        disease = pps.Disease(term=_oc(f"oncotree:{dx.cancer_type}", vocab.ONCOTREE[dx.cancer_type].name))
        if dx.stage:
            disease.disease_stage.append(_local(f"ajcc_stage_{dx.stage}", f"Stage {dx.stage}"))
        packet.diseases.append(disease)
        if dx.ecog is not None:
            measurements.append(_quantity_measurement(_oc(*_ECOG), dx.ecog, "UCUM:{score}", "score"))
    for comorbidity in patient.history.comorbidities:
        packet.diseases.append(pps.Disease(term=_local(f"comorbidity/{quote(comorbidity, safe='')}", comorbidity)))

    tumour_id = f"{pid}-tumour"
    if (dx is not None and dx.histology) or patient.tumour_variants:
        sample = pps.Biosample(id=tumour_id, individual_id=pid)
        if dx is not None:
            sample.sampled_tissue.CopyFrom(_local(f"tissue/{quote(vocab.ONCOTREE[dx.cancer_type].tissue, safe='')}",
                                                  vocab.ONCOTREE[dx.cancer_type].tissue))
            if dx.histology:
                sample.histological_diagnosis.CopyFrom(_local("histology", dx.histology))
        packet.biosamples.append(sample)

    for lab in patient.history.labs:
        code, label = _LAB_LOINC[lab.name]
        measurements.append(_quantity_measurement(_oc(code, label), lab.value, f"UCUM:{_UCUM.get(lab.unit, lab.unit)}",
                                                  lab.unit))
    ls = patient.lifestyle
    if ls.smoking != "unknown":
        measurements.append(_class_measurement(_oc(*_SMOKING), _oc(*_SMOKING_ANSWERS[ls.smoking])))
    if ls.pack_years is not None:
        measurements.append(_quantity_measurement(_local("pack_years", "Cigarette pack-years"), ls.pack_years,
                                                  "UCUM:{pack-years}", "pack-years"))
    if ls.alcohol != "unknown":
        measurements.append(_class_measurement(_local("alcohol_use", "alcohol use"),
                                               _local(f"alcohol_{ls.alcohol}", ls.alcohol)))
    if ls.alcohol_units_per_week is not None:
        measurements.append(_quantity_measurement(_local("alcohol_units_per_week", "alcohol units per week"),
                                                  ls.alcohol_units_per_week, "UCUM:{units}/wk", "units/week"))
    if ls.bmi is not None:
        measurements.append(_quantity_measurement(_oc(*_BMI), ls.bmi, "UCUM:kg/m2", "kg/m2"))
    if ls.physical_activity != "unknown":
        measurements.append(_class_measurement(_local("physical_activity", "physical activity"),
                                               _local(f"activity_{ls.physical_activity}", ls.physical_activity)))

    for drug in patient.medications:
        packet.medical_actions.append(pps.MedicalAction(
            treatment=pps.Treatment(agent=_local(f"drug/{quote(drug, safe='')}", drug),
                                    drug_type=pps.DrugType.Value("EHR_MEDICATION_LIST")),
            treatment_intent=_local("current_medication", "current medication"),
        ))
    for option in patient.candidate_treatments:
        packet.medical_actions.append(_regimen_action(option, _local("candidate_treatment", "candidate treatment")))
    for prior in patient.history.prior_treatments:
        action = _regimen_action(prior.treatment, _local(f"prior_line_{prior.line}", f"prior line {prior.line}"))
        if prior.best_response:
            action.response_to_treatment.CopyFrom(_local(f"recist_{prior.best_response}",
                                                         _RECIST_LABELS[prior.best_response]))
        packet.medical_actions.append(action)

    vital_done = False
    for i, outcome in enumerate(patient.outcomes):
        action = _regimen_action(outcome.treatment, _local(f"received_treatment_{i}", f"received treatment {i}"))
        if outcome.best_response:
            action.response_to_treatment.CopyFrom(_local(f"recist_{outcome.best_response}",
                                                         _RECIST_LABELS[outcome.best_response]))
        for ae in outcome.adverse_events:
            term = vocab.CTCAE_TERMS[ae.term]
            term_oc = (_oc(f"MedDRA:{term.meddra_code}", ae.term) if term.meddra_code
                       else _local(f"ctcae/{quote(ae.term, safe='')}", ae.term))
            action.adverse_events.append(term_oc)
            feature = pps.PhenotypicFeature(
                type=term_oc, severity=_local(f"ctcae_grade_{ae.grade}", f"CTCAE grade {ae.grade}"),
                description=f"drug:{ae.drug}" if ae.drug else "",
            )
            feature.modifiers.append(_local(f"received_treatment_{i}", outcome.treatment.regimen))
            packet.phenotypic_features.append(feature)
        for name, surv in (("pfs", outcome.pfs), ("os", outcome.os)):
            if surv is None:
                continue
            label = "progression-free survival" if name == "pfs" else "overall survival"
            desc = f"outcome:{i};event:{int(surv.event)}" + (f";cause:{surv.cause}" if surv.cause else "")
            measurements.append(_quantity_measurement(_local(f"{name}_days", f"{label} (days)"), surv.time_days,
                                                      "UCUM:d", "days", description=desc))
        if outcome.os is not None and not vital_done:
            vital = pps.VitalStatus(status=pps.VitalStatus.Status.Value("DECEASED" if outcome.os.event else "ALIVE"),
                                    survival_time_in_days=int(outcome.os.time_days))
            if outcome.os.cause:
                vital.cause_of_death.CopyFrom(_local("cause_of_death", outcome.os.cause))
            packet.subject.vital_status.CopyFrom(vital)
            vital_done = True
        packet.medical_actions.append(action)

    if patient.germline is not None:
        g = patient.germline
        packet.files.append(pps.File(uri=g.path, individual_to_file_identifiers={pid: g.sample_id},
                                     file_attributes={"genomeAssembly": g.genome_build, "fileFormat": "VCF"}))

    if patient.tumour_variants:
        disease_oc = (packet.diseases[0].term if dx is not None else _local("cancer", "cancer"))
        diag = pps.Diagnosis(disease=disease_oc)
        for j, tv in enumerate(patient.tumour_variants):
            desc = pps.VariationDescriptor(
                id=f"{pid}-tv{j}", label=tv.label,
                gene_context=pps.GeneDescriptor(value_id=f"{GTR}:gene/{tv.gene}", symbol=tv.gene),
                molecule_context=pps.MoleculeContext.Value("protein" if tv.protein_change else
                                                           "unspecified_molecule_context"),
                structural_type=_oc(*_SO[tv.variant_type]),
            )
            if tv.protein_change:
                desc.expressions.append(pps.Expression(syntax="hgvs.p", value=f"{tv.gene}:p.{tv.protein_change}"))
            if tv.chrom is not None:
                desc.vcf_record.CopyFrom(pps.VcfRecord(genome_assembly="GRCh38", chrom=tv.chrom, pos=tv.pos,
                                                       ref=tv.ref or "", alt=tv.alt or ""))
            if tv.vaf is not None:
                desc.extensions.append(pps.Extension(name="vaf", value=repr(tv.vaf)))
            if tv.fusion_partner:
                desc.extensions.append(pps.Extension(name="fusion_partner", value=tv.fusion_partner))
            diag.genomic_interpretations.append(pps.GenomicInterpretation(
                subject_or_biosample_id=tumour_id,
                interpretation_status=pps.GenomicInterpretation.InterpretationStatus.Value("UNKNOWN_STATUS"),
                variant_interpretation=pps.VariantInterpretation(variation_descriptor=desc),
            ))
        packet.interpretations.append(pps.Interpretation(
            id=f"{pid}-somatic", progress_status=pps.Interpretation.ProgressStatus.Value("IN_PROGRESS"),
            diagnosis=diag, summary="somatic tumour variants"))

    packet.measurements.extend(measurements)
    return packet


def phenopacket_json(patient: Patient) -> str:
    """The patient as standard Phenopacket v2 JSON (camelCase field names)."""
    return MessageToJson(patient_to_phenopacket(patient), indent=2)


def save_phenopacket(patient: Patient, path: str | os.PathLike[str]) -> Path:
    """Write the patient as a Phenopacket v2 JSON file (atomically)."""
    from recommender.commands._output import write_atomic

    return write_atomic(path, phenopacket_json(patient) + "\n")


# ---------------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------------


def _suffix(curie: str, prefix: str) -> str | None:
    head = f"{GTR}:{prefix}"
    return curie[len(head):] if curie.startswith(head) else None


def _cancer_code(term: pps.OntologyClass) -> str | None:
    if term.id.lower().startswith("oncotree:"):
        return term.id.split(":", 1)[1].upper()
    label = term.label.strip().lower()
    return _ONCOTREE_BY_NAME.get(label) or _CANCER_SYNONYMS.get(label)


def _parse_regimen(action: pps.MedicalAction) -> dict[str, Any] | None:
    if action.HasField("therapeutic_regimen"):
        reg = action.therapeutic_regimen
        if reg.HasField("external_reference"):
            ref = reg.external_reference
            m = re.fullmatch(r"(.*) \[(.*)\]", ref.description or "")
            if m:
                drugs = [d for d in m.group(2).split("+") if d]
                return {"regimen": m.group(1), "drugs": drugs}
            name = unquote(ref.id.split("/", 1)[1]) if "/" in ref.id else (ref.description or ref.id)
            return {"regimen": name}
        if reg.HasField("ontology_class"):
            return {"regimen": reg.ontology_class.label or reg.ontology_class.id}
    if action.HasField("treatment"):
        drug = action.treatment.agent.label or action.treatment.agent.id.split(":", 1)[-1]
        known = vocab.resolve_regimen(drug)
        return {"regimen": known.name} if known else {"regimen": vocab.normalise_drug(drug), "drugs": [drug]}
    return None


def _response(oc: pps.OntologyClass) -> str | None:
    if not (oc.id or oc.label):
        return None
    suffix = _suffix(oc.id, "recist_")
    if suffix:
        return suffix
    return _LABEL_TO_RECIST.get(oc.label.strip().lower())


def _whole(text: str, *, file: str | os.PathLike[str] | None, record: str, field: str) -> int:
    """The small whole number a ``gtr:`` code carries (``prior_line_2``, ``outcome:0``); a product error otherwise."""
    t = str(text).strip()
    if not (t.isascii() and t.isdigit() and len(t) <= 6):
        raise PatientRecordError(f"{t[:20]!r} is not a whole number", file=file, record=record, field=field,
                                 fix="write the index as digits (e.g. gtr:prior_line_2, outcome:0)")
    return int(t)


def _enum_name(enum: Any, value: int, *, file: str | os.PathLike[str] | None, record: str, field: str) -> str:
    """The name of a protobuf enum value; protobuf JSON keeps unknown numbers (``"sex": -61``), refused here."""
    try:
        return enum.Name(value)
    except ValueError:
        raise PatientRecordError(f"{value} is not a value of this field", file=file, record=record, field=field,
                                 fix=f"use one of: {', '.join(enum.keys())}") from None


def _grade(oc: pps.OntologyClass) -> int | None:
    m = re.search(r"grade[ _]?([1-5])\b", f"{oc.id} {oc.label}", flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


def patient_from_phenopacket(packet: pps.Phenopacket, *, file: str | os.PathLike[str] | None = None) -> Patient:
    """Read a :class:`Patient` from a Phenopacket v2 message; raises :class:`PatientRecordError`."""
    pid = packet.subject.id or packet.id
    if not pid:
        raise PatientRecordError("phenopacket has neither id nor subject.id", file=file, field="subject.id",
                                 fix="give the phenopacket an id")
    record = f"patient {pid[:64]}"  # shown back in messages: bounded
    data: dict[str, Any] = {"patient_id": pid}

    sex = _enum_name(pps.Sex, packet.subject.sex, file=file, record=record, field="subject.sex")
    demo: dict[str, Any] = {"sex": {"FEMALE": "female", "MALE": "male", "OTHER_SEX": "other"}.get(sex, "unknown")}
    if packet.subject.time_at_last_encounter.HasField("age"):
        demo["age"] = _age_from_iso(packet.subject.time_at_last_encounter.age.iso8601duration)

    cancer, comorbidities = None, []
    for disease in packet.diseases:
        if disease.excluded:
            continue
        code = _cancer_code(disease.term) if cancer is None else None
        if code is not None:
            cancer = {"cancer_type": code}
            for stage in disease.disease_stage:
                s = _suffix(stage.id, "ajcc_stage_") or re.sub(r"(?i)^stage\s*", "", stage.label).strip()
                if s:
                    cancer["stage"] = s
                    break
        else:
            comorbidities.append(disease.term.label or disease.term.id)
    for sample in packet.biosamples:
        if sample.HasField("histological_diagnosis") and cancer is not None:
            cancer["histology"] = sample.histological_diagnosis.label or sample.histological_diagnosis.id

    labs, lifestyle, outcomes_extra = [], {}, {}
    for m in packet.measurements:
        assay = m.assay.id
        q = m.value.quantity if m.value.HasField("quantity") else None
        oc = m.value.ontology_class if m.value.HasField("ontology_class") else None
        if assay == _ECOG[0] or "ecog" in m.assay.label.lower():
            if q is not None and cancer is not None:
                cancer["ecog"] = round(q.value) if math.isfinite(q.value) else q.value  # NaN: the schema refuses
        elif assay in _LOINC_TO_LAB and q is not None:
            name = _LOINC_TO_LAB[assay]
            unit = q.unit.label if q.unit.label in vocab.LABS[name].units else None
            if unit is None:
                ucum = q.unit.id.split(":", 1)[-1]
                unit = next((u for u in vocab.LABS[name].units if _UCUM.get(u) == ucum), q.unit.label or ucum)
            labs.append({"name": name, "value": q.value, "unit": unit})
        elif assay == _SMOKING[0] and oc is not None:
            lifestyle["smoking"] = next((k for k, (c, _) in _SMOKING_ANSWERS.items() if c == oc.id), "unknown")
        elif assay == _BMI[0] and q is not None:
            lifestyle["bmi"] = q.value
        elif assay == f"{GTR}:pack_years" and q is not None:
            lifestyle["pack_years"] = q.value
        elif assay == f"{GTR}:alcohol_use" and oc is not None:
            lifestyle["alcohol"] = oc.label
        elif assay == f"{GTR}:alcohol_units_per_week" and q is not None:
            lifestyle["alcohol_units_per_week"] = q.value
        elif assay == f"{GTR}:physical_activity" and oc is not None:
            lifestyle["physical_activity"] = oc.label
        elif assay == f"{GTR}:self_reported_ancestry" and oc is not None:
            demo["ancestry"] = oc.label
        elif assay in (f"{GTR}:pfs_days", f"{GTR}:os_days") and q is not None:
            fields = dict(part.split(":", 1) for part in m.description.split(";") if ":" in part)
            idx = _whole(fields.get("outcome", "0"), file=file, record=record, field=f"measurements.{assay}.description")
            surv = {"time_days": q.value, "event": fields.get("event", "0") == "1"}
            if fields.get("cause"):
                surv["cause"] = fields["cause"]
            outcomes_extra.setdefault(idx, {})["pfs" if assay.endswith("pfs_days") else "os"] = surv

    medications, candidates, priors, received = [], [], [], []
    for action in packet.medical_actions:
        intent = action.treatment_intent.id
        if intent == f"{GTR}:current_medication" or (
            action.HasField("treatment")
            and action.treatment.drug_type == pps.DrugType.Value("EHR_MEDICATION_LIST")
        ):
            agent = action.treatment.agent
            medications.append(agent.label or agent.id.split(":", 1)[-1])
            continue
        treatment = _parse_regimen(action)
        if treatment is None:
            continue
        if intent == f"{GTR}:candidate_treatment":
            candidates.append(treatment)
        elif intent.startswith(f"{GTR}:prior_line_"):
            line = _whole(intent.rsplit("_", 1)[1], file=file, record=record, field="medicalActions.treatmentIntent")
            prior: dict[str, Any] = {"line": line, "treatment": treatment}
            if resp := _response(action.response_to_treatment):
                prior["best_response"] = resp
            priors.append(prior)
        else:
            idx = (_whole(intent.rsplit("_", 1)[1], file=file, record=record, field="medicalActions.treatmentIntent")
                   if intent.startswith(f"{GTR}:received_treatment_") else len(received))
            outcome: dict[str, Any] = {"treatment": treatment, "_idx": idx, "adverse_events": [],
                                       "_ae_terms": [a.label for a in action.adverse_events]}
            if resp := _response(action.response_to_treatment):
                outcome["best_response"] = resp
            received.append(outcome)

    by_idx = {o["_idx"]: o for o in received}
    for feature in packet.phenotypic_features:
        term = feature.type.label
        if not vocab.is_ctcae_term(term):
            continue
        grade = _grade(feature.severity)
        target = None
        for mod in feature.modifiers:
            suffix = _suffix(mod.id, "received_treatment_")
            if suffix is not None:
                n = _whole(suffix, file=file, record=record, field="phenotypicFeatures.modifiers")
                target = by_idx.get(n, target)
        if target is None and len(received) == 1:
            target = received[0]
        if target is None or grade is None:
            warnings.warn(f"{record}: adverse event {term!r} without CTCAE grade or treatment skipped",
                          DegradedResultWarning, stacklevel=2)
            continue
        ae: dict[str, Any] = {"term": term, "grade": grade}
        if feature.description.startswith("drug:"):
            ae["drug"] = feature.description[5:]
        target["adverse_events"].append(ae)
    for o in received:
        graded = {vocab.canonical_ctcae_term(a["term"]) for a in o["adverse_events"]}
        for term in o.pop("_ae_terms"):
            if vocab.is_ctcae_term(term) and vocab.canonical_ctcae_term(term) not in graded:
                warnings.warn(f"{record}: adverse event {term!r} has no CTCAE grade; skipped",
                              DegradedResultWarning, stacklevel=2)
        o.update(outcomes_extra.get(o["_idx"], {}))
    if received and 0 not in outcomes_extra and packet.subject.HasField("vital_status"):
        vs = packet.subject.vital_status
        status = _enum_name(pps.VitalStatus.Status, vs.status, file=file, record=record,
                            field="subject.vitalStatus.status")
        if status in ("ALIVE", "DECEASED") and vs.survival_time_in_days:
            os_ = {"time_days": float(vs.survival_time_in_days), "event": status == "DECEASED"}
            if vs.HasField("cause_of_death"):
                os_["cause"] = vs.cause_of_death.label
            received[0].setdefault("os", os_)
    for o in received:
        o.pop("_idx")

    germline = None
    for f in packet.files:
        fmt = f.file_attributes.get("fileFormat", "").upper()
        if fmt in ("VCF", "BCF") or re.search(r"\.(vcf|bcf)(\.gz)?$", f.uri):
            sample = f.individual_to_file_identifiers.get(pid)
            if sample is None:
                raise PatientRecordError(
                    "VCF file entry does not map this individual to a sample", file=file, record=record,
                    field="files.individualToFileIdentifiers", fix=f"add {{\"{pid}\": \"SAMPLE_ID\"}}",
                )
            build = f.file_attributes.get("genomeAssembly", "GRCh38")
            build = {"hg38": "GRCh38", "hg19": "GRCh37", "GRCH38": "GRCh38", "GRCH37": "GRCh37"}.get(build, build)
            germline = {"path": f.uri.removeprefix("file://"), "sample_id": sample, "genome_build": build}
            break

    variants = []
    for interp in packet.interpretations:
        for gi in interp.diagnosis.genomic_interpretations:
            if not gi.HasField("variant_interpretation"):
                continue
            d = gi.variant_interpretation.variation_descriptor
            tv: dict[str, Any] = {"gene": d.gene_context.symbol}
            for expr in d.expressions:
                if expr.syntax == "hgvs.p":
                    tv["protein_change"] = expr.value.split(":", 1)[-1]
            if d.structural_type.id or d.structural_type.label:
                tv["variant_type"] = (_SO_TO_TYPE.get(d.structural_type.id)
                                      or _SO_TO_TYPE.get(d.structural_type.label, "other_snv"))
            if d.HasField("vcf_record"):
                if d.vcf_record.genome_assembly.upper() not in ("GRCH38", "HG38"):
                    warnings.warn(f"{record}: tumour variant {d.label or d.id} on {d.vcf_record.genome_assembly}; "
                                  "position dropped, gene and protein change kept", DegradedResultWarning,
                                  stacklevel=2)
                else:
                    tv.update(chrom=d.vcf_record.chrom, pos=d.vcf_record.pos, ref=d.vcf_record.ref or None,
                              alt=d.vcf_record.alt or None)
            for ext in d.extensions:
                if ext.name == "vaf":
                    try:
                        tv["vaf"] = float(ext.value)
                    except ValueError:
                        raise PatientRecordError(
                            f"vaf {ext.value[:20]!r} is not a number", file=file, record=record,
                            field="interpretations.variationDescriptor.extensions.vaf",
                            fix="write the variant allele fraction as a number between 0 and 1") from None
                elif ext.name == "fusion_partner":
                    tv["fusion_partner"] = ext.value
            variants.append(tv)

    data.update(
        demographics=demo,
        diagnosis=cancer,
        history={"comorbidities": comorbidities, "prior_treatments": priors, "labs": labs},
        medications=medications,
        lifestyle=lifestyle,
        germline=germline,
        tumour_variants=variants,
        candidate_treatments=candidates,
        outcomes=received,
    )
    return patient_from_dict(data, file=file, record=pid)


def patient_from_phenopacket_dict(data: dict[str, Any], *, file: str | os.PathLike[str] | None = None) -> Patient:
    """Read a patient from a Phenopacket v2 JSON object (already parsed)."""
    try:
        packet = ParseDict(data, pps.Phenopacket(), ignore_unknown_fields=False)
    except (ParseError, SystemError, UnicodeError, TypeError, ValueError) as err:  # upb raises SystemError too
        # protobuf's message is several lines (it lists every allowed field): keep its first sentence and
        # name the field from its 'at "Phenopacket.x.y"' path.
        text = " ".join(str(err).split())
        at = re.search(r'at "?Phenopacket\.([\w.\[\]]{1,200})', text)
        first = text.split(". Available Fields", 1)[0][:300]
        record_id = data.get("id") if isinstance(data.get("id"), str) else None
        raise PatientRecordError(
            f"not a valid Phenopacket v2: {first}", file=file, record=record_id[:80] if record_id else None,
            field=at.group(1).rstrip(".") if at else None,
            fix="validate the file against the Phenopacket v2 schema (phenopacket-tools validate)",
        ) from None
    return patient_from_phenopacket(packet, file=file)


def patient_from_phenopacket_json(text: str | bytes, *, file: str | os.PathLike[str] | None = None) -> Patient:
    """Read a patient from Phenopacket v2 JSON text."""
    from genomics.fileio import parse_json_strict

    data = parse_json_strict(text, file=file, error=PatientRecordError)  # duplicate keys, depth, non-UTF-8...
    if not isinstance(data, dict):
        raise PatientRecordError("expected one Phenopacket JSON object", file=file, fix="wrap it in {...}")
    return patient_from_phenopacket_dict(data, file=file)


def load_phenopacket(path: str | os.PathLike[str]) -> Patient:
    """Read one Phenopacket v2 JSON file as a :class:`Patient`."""
    from genomics.fileio import read_text_input

    path = Path(path)
    text = read_text_input(path, error=PatientRecordError, what="Phenopacket JSON file")  # not UTF-8: named line
    return patient_from_phenopacket_json(text, file=path)


def phenopacket_dict(patient: Patient) -> dict[str, Any]:
    """The Phenopacket as a JSON-ready dict."""
    return MessageToDict(patient_to_phenopacket(patient))
