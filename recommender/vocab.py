"""The shared vocabularies: one definition each, used by every module (DESIGN.md).

Guidance actions, drugs, regimens, drug classes, CYP inhibitors and inducers (for
phenoconversion), CTCAE v5 toxicity terms, OncoTree cancer types, laboratory values and
their units, tumour-variant types, RECIST responses.

Sources (cited again beside each table):

* Drug names: lower-case generic names as CPIC writes them (CPIC drug list,
  https://cpicpgx.org/genes-drugs/, accessed 2026-11-24).
* CYP inhibitors and inducers: U.S. Food and Drug Administration, "Drug Development and Drug
  Interactions: Table of Substrates, Inhibitors and Inducers" and "For Healthcare Professionals:
  FDA's Examples of Drugs that Interact with CYP Enzymes and Transporter Systems",
  https://www.fda.gov/drugs/drug-interactions-labeling/drug-development-and-drug-interactions-table-substrates-inhibitors-and-inducers
  (accessed 2026-11-24). The FDA lists CYP3A4/5 together as "CYP3A".
* Toxicities: Common Terminology Criteria for Adverse Events (CTCAE) v5.0, U.S. DHHS / NCI,
  27 November 2017, https://ctep.cancer.gov/protocoldevelopment/electronic_applications/ctc.htm
  (terms are MedDRA v20.1 lowest-level terms). MedDRA codes are given only where checked
  against a public CTCAE-v5 / PRO-CTCAE mapping table; others are ``None``.
* Cancer types: OncoTree (Memorial Sloan Kettering, https://oncotree.mskcc.org); codes, names
  and tissues checked against an OncoTree tumour-type export that already contains the 2021
  code ``GB`` (release ``oncotree_2021_11_02`` or later). OncoTree has no code ``OV`` (TCGA's
  ovarian serous study maps to ``HGSOC``) nor ``ALL`` (use ``BLL``/``TLL``).
* Regimens: each cites the trial or guideline paper that defines it (``Regimen.citation``).
* RECIST 1.1: Eisenhauer EA et al., Eur J Cancer 2009;45:228-47.
* ECOG performance status: Oken MM et al., Am J Clin Oncol 1982;5:649-55.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "COMORBIDITIES",
    "COMORBIDITY_SOURCE",
    "CTCAE_TERMS",
    "CTCAE_VERSION",
    "CYP_MODULATORS",
    "CYP_SOURCE",
    "DRUGS",
    "DRUG_CLASSES",
    "COLOUR_HEX",
    "GUIDANCE_ACTIONS",
    "GUIDANCE_COLOURS",
    "GUIDANCE_DESCRIPTIONS",
    "GUIDANCE_LABELS",
    "GUIDANCE_SEVERITY",
    "LABS",
    "ONCOTREE",
    "ONCOTREE_VERSION",
    "RECIST_RESPONSES",
    "REGIMENS",
    "SEVERE_GRADE",
    "TCGA_TO_ONCOTREE",
    "TUMOUR_VARIANT_TYPES",
    "VOCAB_VERSION",
    "CancerType",
    "CtcaeTerm",
    "CypModulator",
    "Drug",
    "GuidanceAction",
    "LabSpec",
    "Regimen",
    "cancer_type",
    "canonical_comorbidity",
    "canonical_ctcae_term",
    "cyp_modulators_for",
    "drug_class",
    "is_ctcae_term",
    "is_drug",
    "is_oncotree",
    "normalise_drug",
    "phenoconversion_inhibitors",
    "regimen",
    "resolve_course",
    "resolve_regimen",
    "suggest",
    "worst_action",
]

#: Bumped whenever a table below changes (recorded in cohort manifests and outputs).
VOCAB_VERSION = "2026.11.24"

# ---------------------------------------------------------------------------------------------
# Guidance actions (DESIGN.md "Shared vocabularies")
# ---------------------------------------------------------------------------------------------

# One definition, in genomics.pgx.actions (genomics needs it too; imports flow genomics <- recommender):
# the six actions least to most severe (no_guidance < standard < not_assessed < caution < adjust_dose
# < avoid), their colours (only standard is green; not_assessed is amber), labels and worst_action().
from genomics.pgx.actions import ACTION_DESCRIPTIONS as GUIDANCE_DESCRIPTIONS  # noqa: E402
from genomics.pgx.actions import ACTION_LABELS as GUIDANCE_LABELS  # noqa: E402
from genomics.pgx.actions import ACTION_SEVERITY as GUIDANCE_SEVERITY  # noqa: E402
from genomics.pgx.actions import ACTIONS as GUIDANCE_ACTIONS  # noqa: E402
from genomics.pgx.actions import COLOUR_HEX, GuidanceAction, worst_action  # noqa: E402
from genomics.pgx.actions import ACTION_COLOURS as GUIDANCE_COLOURS  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Drugs and drug classes
# ---------------------------------------------------------------------------------------------

#: Drug classes used by features, the knowledge overlay and the simulator.
DRUG_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "fluoropyrimidine": "fluoropyrimidines (DPYD)",
        "thiopurine": "thiopurines (TPMT, NUDT15)",
        "topoisomerase_inhibitor": "topoisomerase I/II inhibitors",
        "platinum": "platinum compounds",
        "taxane": "taxanes",
        "anthracycline": "anthracyclines",
        "alkylating_agent": "alkylating agents",
        "antimetabolite": "other antimetabolites",
        "vinca_alkaloid": "vinca alkaloids",
        "folate_modulator": "folate modulators (leucovorin)",
        "serm": "selective oestrogen receptor modulators",
        "aromatase_inhibitor": "aromatase inhibitors",
        "antiandrogen": "androgen-receptor pathway inhibitors",
        "her2_antibody": "anti-HER2 antibodies",
        "her2_tki": "HER2 tyrosine-kinase inhibitors",
        "egfr_tki": "EGFR tyrosine-kinase inhibitors",
        "anti_egfr_antibody": "anti-EGFR antibodies",
        "vegf_inhibitor": "VEGF pathway inhibitors",
        "braf_inhibitor": "BRAF inhibitors",
        "mek_inhibitor": "MEK inhibitors",
        "parp_inhibitor": "PARP inhibitors",
        "cdk46_inhibitor": "CDK4/6 inhibitors",
        "immune_checkpoint_inhibitor": "PD-1 / PD-L1 / CTLA-4 antibodies",
        "kinase_inhibitor_other": "other kinase inhibitors",
        "antidepressant": "antidepressants (SSRI, SNRI, bupropion, ...)",
        "antifungal": "azole and allylamine antifungals",
        "antibiotic": "antibiotics",
        "antiretroviral": "antiretrovirals and boosters",
        "anticonvulsant": "anticonvulsants",
        "cardiovascular": "antiarrhythmics, calcium-channel blockers, anticoagulants",
        "antiplatelet": "antiplatelet agents",
        "proton_pump_inhibitor": "proton-pump inhibitors",
        "antiemetic": "antiemetics",
        "opioid": "opioid analgesics",
        "statin": "statins",
        "other": "other",
    }
)


@dataclass(frozen=True)
class Drug:
    """One drug: lower-case generic name (as CPIC writes it) and its classes."""

    name: str
    classes: tuple[str, ...]
    oncology: bool = False


def _drugs(rows: list[tuple[str, tuple[str, ...], bool]]) -> Mapping[str, Drug]:
    table = {}
    for name, classes, onc in rows:
        assert name == name.lower().strip(), name
        assert all(c in DRUG_CLASSES for c in classes), (name, classes)
        assert name not in table, name
        table[name] = Drug(name=name, classes=classes, oncology=onc)
    return MappingProxyType(table)


#: Every drug the product knows (oncology drugs, then drugs that matter as co-medication).
DRUGS: Mapping[str, Drug] = _drugs(
    [
        # oncology
        ("fluorouracil", ("fluoropyrimidine",), True),
        ("capecitabine", ("fluoropyrimidine",), True),
        ("tegafur", ("fluoropyrimidine",), True),
        ("leucovorin", ("folate_modulator",), True),
        ("irinotecan", ("topoisomerase_inhibitor",), True),
        ("etoposide", ("topoisomerase_inhibitor",), True),
        ("mercaptopurine", ("thiopurine",), True),
        ("thioguanine", ("thiopurine",), True),
        ("azathioprine", ("thiopurine",), False),
        ("methotrexate", ("antimetabolite",), True),
        ("gemcitabine", ("antimetabolite",), True),
        ("pemetrexed", ("antimetabolite",), True),
        ("cytarabine", ("antimetabolite",), True),
        ("cisplatin", ("platinum",), True),
        ("carboplatin", ("platinum",), True),
        ("oxaliplatin", ("platinum",), True),
        ("paclitaxel", ("taxane",), True),
        ("docetaxel", ("taxane",), True),
        ("doxorubicin", ("anthracycline",), True),
        ("epirubicin", ("anthracycline",), True),
        ("daunorubicin", ("anthracycline",), True),
        ("cyclophosphamide", ("alkylating_agent",), True),
        ("vincristine", ("vinca_alkaloid",), True),
        ("tamoxifen", ("serm",), True),
        ("letrozole", ("aromatase_inhibitor",), True),
        ("anastrozole", ("aromatase_inhibitor",), True),
        ("exemestane", ("aromatase_inhibitor",), True),
        ("abiraterone", ("antiandrogen",), True),
        ("enzalutamide", ("antiandrogen",), True),
        ("apalutamide", ("antiandrogen",), True),
        ("trastuzumab", ("her2_antibody",), True),
        ("pertuzumab", ("her2_antibody",), True),
        ("neratinib", ("her2_tki",), True),
        ("lapatinib", ("her2_tki",), True),
        ("tucatinib", ("her2_tki",), True),
        ("osimertinib", ("egfr_tki",), True),
        ("gefitinib", ("egfr_tki",), True),
        ("erlotinib", ("egfr_tki",), True),
        ("afatinib", ("egfr_tki",), True),
        ("cetuximab", ("anti_egfr_antibody",), True),
        ("panitumumab", ("anti_egfr_antibody",), True),
        ("bevacizumab", ("vegf_inhibitor",), True),
        ("dabrafenib", ("braf_inhibitor",), True),
        ("vemurafenib", ("braf_inhibitor",), True),
        ("encorafenib", ("braf_inhibitor",), True),
        ("trametinib", ("mek_inhibitor",), True),
        ("binimetinib", ("mek_inhibitor",), True),
        ("olaparib", ("parp_inhibitor",), True),
        ("niraparib", ("parp_inhibitor",), True),
        ("talazoparib", ("parp_inhibitor",), True),
        ("palbociclib", ("cdk46_inhibitor",), True),
        ("ribociclib", ("cdk46_inhibitor",), True),
        ("abemaciclib", ("cdk46_inhibitor",), True),
        ("pembrolizumab", ("immune_checkpoint_inhibitor",), True),
        ("nivolumab", ("immune_checkpoint_inhibitor",), True),
        ("atezolizumab", ("immune_checkpoint_inhibitor",), True),
        ("durvalumab", ("immune_checkpoint_inhibitor",), True),
        ("ipilimumab", ("immune_checkpoint_inhibitor",), True),
        ("imatinib", ("kinase_inhibitor_other",), True),
        ("crizotinib", ("kinase_inhibitor_other",), True),
        ("idelalisib", ("kinase_inhibitor_other",), True),
        ("mitotane", ("other",), True),
        # co-medication: antidepressants and CNS
        ("bupropion", ("antidepressant",), False),
        ("fluoxetine", ("antidepressant",), False),
        ("paroxetine", ("antidepressant",), False),
        ("sertraline", ("antidepressant",), False),
        ("citalopram", ("antidepressant",), False),
        ("escitalopram", ("antidepressant",), False),
        ("fluvoxamine", ("antidepressant",), False),
        ("duloxetine", ("antidepressant",), False),
        ("venlafaxine", ("antidepressant",), False),
        ("nefazodone", ("antidepressant",), False),
        ("amitriptyline", ("antidepressant",), False),
        # antifungals, antibiotics, antivirals
        ("terbinafine", ("antifungal",), False),
        ("fluconazole", ("antifungal",), False),
        ("itraconazole", ("antifungal",), False),
        ("ketoconazole", ("antifungal",), False),
        ("posaconazole", ("antifungal",), False),
        ("voriconazole", ("antifungal",), False),
        ("miconazole", ("antifungal",), False),
        ("clarithromycin", ("antibiotic",), False),
        ("erythromycin", ("antibiotic",), False),
        ("telithromycin", ("antibiotic",), False),
        ("ciprofloxacin", ("antibiotic",), False),
        ("rifampin", ("antibiotic",), False),
        ("ritonavir", ("antiretroviral",), False),
        ("cobicistat", ("antiretroviral",), False),
        ("indinavir", ("antiretroviral",), False),
        ("nelfinavir", ("antiretroviral",), False),
        ("saquinavir", ("antiretroviral",), False),
        ("lopinavir", ("antiretroviral",), False),
        ("efavirenz", ("antiretroviral",), False),
        ("etravirine", ("antiretroviral",), False),
        # anticonvulsants
        ("carbamazepine", ("anticonvulsant",), False),
        ("phenytoin", ("anticonvulsant",), False),
        ("phenobarbital", ("anticonvulsant",), False),
        ("primidone", ("anticonvulsant",), False),
        ("felbamate", ("anticonvulsant",), False),
        # cardiovascular and others
        ("quinidine", ("cardiovascular",), False),
        ("amiodarone", ("cardiovascular",), False),
        ("dronedarone", ("cardiovascular",), False),
        ("diltiazem", ("cardiovascular",), False),
        ("verapamil", ("cardiovascular",), False),
        ("warfarin", ("cardiovascular",), False),
        ("bosentan", ("cardiovascular",), False),
        ("conivaptan", ("other",), False),
        ("clopidogrel", ("antiplatelet",), False),
        ("ticlopidine", ("antiplatelet",), False),
        ("omeprazole", ("proton_pump_inhibitor",), False),
        ("pantoprazole", ("proton_pump_inhibitor",), False),
        ("aprepitant", ("antiemetic",), False),
        ("ondansetron", ("antiemetic",), False),
        ("cinacalcet", ("other",), False),
        ("mirabegron", ("other",), False),
        ("cyclosporine", ("other",), False),
        ("st. john's wort", ("other",), False),
        ("grapefruit juice", ("other",), False),
        ("codeine", ("opioid",), False),
        ("tramadol", ("opioid",), False),
        ("simvastatin", ("statin",), False),
        ("atorvastatin", ("statin",), False),
        ("metformin", ("other",), False),
        ("lisinopril", ("cardiovascular",), False),
        ("amlodipine", ("cardiovascular",), False),
        ("levothyroxine", ("other",), False),
        ("dexamethasone", ("antiemetic",), False),
    ]
)

#: Spellings met in real records, mapped to the CPIC name.
_DRUG_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {
        "5-fu": "fluorouracil",
        "5-fluorouracil": "fluorouracil",
        "5fu": "fluorouracil",
        "6-mp": "mercaptopurine",
        "6-mercaptopurine": "mercaptopurine",
        "6-tg": "thioguanine",
        "folinic acid": "leucovorin",
        "rifampicin": "rifampin",
        "ciclosporin": "cyclosporine",
        "nab-paclitaxel": "paclitaxel",
        "st john's wort": "st. john's wort",
    }
)


def normalise_drug(name: str) -> str:
    """Lower-case, trim and map known synonyms (``5-FU`` -> ``fluorouracil``)."""
    key = " ".join(str(name).strip().lower().split())
    return _DRUG_SYNONYMS.get(key, key)


def is_drug(name: str) -> bool:
    """True if ``name`` (after :func:`normalise_drug`) is in :data:`DRUGS`."""
    return normalise_drug(name) in DRUGS


def drug_class(name: str) -> tuple[str, ...]:
    """The classes of a drug; raises ``KeyError`` for an unknown drug."""
    return DRUGS[normalise_drug(name)].classes


def suggest(value: str, choices, n: int = 3) -> list[str]:
    """Up to ``n`` close matches of ``value`` among ``choices`` (for error messages)."""
    return difflib.get_close_matches(str(value), list(choices), n=n, cutoff=0.6)


# ---------------------------------------------------------------------------------------------
# Regimens
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regimen:
    """A named treatment: its drugs (empty when the record does not say which) and a citation."""

    name: str
    drugs: tuple[str, ...]
    modality: Literal["chemotherapy", "endocrine", "targeted", "immunotherapy", "radiotherapy", "combination", "none",
                      "unspecified"]
    citation: str
    unspecified: bool = False


def _regimens(rows: list[Regimen]) -> Mapping[str, Regimen]:
    table = {}
    for reg in rows:
        assert all(d in DRUGS for d in reg.drugs), reg
        assert reg.name not in table, reg.name
        table[reg.name] = reg
    return MappingProxyType(table)


#: Named regimens. Single-drug regimens use the drug's name.
REGIMENS: Mapping[str, Regimen] = _regimens(
    [
        Regimen("FOLFOX", ("fluorouracil", "leucovorin", "oxaliplatin"), "chemotherapy",
                "de Gramont A et al. J Clin Oncol 2000;18:2938-47 (FOLFOX4)"),
        Regimen("FOLFIRI", ("fluorouracil", "leucovorin", "irinotecan"), "chemotherapy",
                "Tournigand C et al. J Clin Oncol 2004;22:229-37"),
        Regimen("FOLFIRINOX", ("fluorouracil", "leucovorin", "irinotecan", "oxaliplatin"), "chemotherapy",
                "Conroy T et al. N Engl J Med 2011;364:1817-25"),
        Regimen("CAPOX", ("capecitabine", "oxaliplatin"), "chemotherapy",
                "Cassidy J et al. J Clin Oncol 2008;26:2006-12 (XELOX)"),
        Regimen("capecitabine", ("capecitabine",), "chemotherapy",
                "Twelves C et al. N Engl J Med 2005;352:2696-704 (X-ACT)"),
        Regimen("FOLFOX+panitumumab", ("fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"), "combination",
                "Douillard JY et al. J Clin Oncol 2010;28:4697-705 (PRIME)"),
        Regimen("FOLFIRI+cetuximab", ("fluorouracil", "leucovorin", "irinotecan", "cetuximab"), "combination",
                "Van Cutsem E et al. N Engl J Med 2009;360:1408-17 (CRYSTAL)"),
        Regimen("FOLFOX+bevacizumab", ("fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"), "combination",
                "Saltz LB et al. J Clin Oncol 2008;26:2013-9"),
        Regimen("AC-T", ("doxorubicin", "cyclophosphamide", "paclitaxel"), "chemotherapy",
                "Citron ML et al. J Clin Oncol 2003;21:1431-9 (CALGB 9741)"),
        Regimen("TC", ("docetaxel", "cyclophosphamide"), "chemotherapy",
                "Jones S et al. J Clin Oncol 2006;24:5381-7"),
        Regimen("THP", ("docetaxel", "trastuzumab", "pertuzumab"), "combination",
                "Baselga J et al. N Engl J Med 2012;366:109-19 (CLEOPATRA)"),
        Regimen("tamoxifen", ("tamoxifen",), "endocrine",
                "EBCTCG. Lancet 2011;378:771-84"),
        Regimen("letrozole", ("letrozole",), "endocrine",
                "Thurlimann B et al. N Engl J Med 2005;353:2747-57 (BIG 1-98)"),
        Regimen("carboplatin-paclitaxel", ("carboplatin", "paclitaxel"), "chemotherapy",
                "Schiller JH et al. N Engl J Med 2002;346:92-8"),
        Regimen("cisplatin-pemetrexed", ("cisplatin", "pemetrexed"), "chemotherapy",
                "Scagliotti GV et al. J Clin Oncol 2008;26:3543-51"),
        Regimen("gemcitabine-nab-paclitaxel", ("gemcitabine", "paclitaxel"), "chemotherapy",
                "Von Hoff DD et al. N Engl J Med 2013;369:1691-703 (MPACT)"),
        Regimen("osimertinib", ("osimertinib",), "targeted",
                "Soria JC et al. N Engl J Med 2018;378:113-25 (FLAURA)"),
        Regimen("gefitinib", ("gefitinib",), "targeted",
                "Mok TS et al. N Engl J Med 2009;361:947-57 (IPASS)"),
        Regimen("erlotinib", ("erlotinib",), "targeted",
                "Rosell R et al. Lancet Oncol 2012;13:239-46 (EURTAC)"),
        Regimen("neratinib", ("neratinib",), "targeted",
                "Hyman DM et al. Nature 2018;554:189-94 (SUMMIT)"),
        Regimen("olaparib", ("olaparib",), "targeted",
                "Robson M et al. N Engl J Med 2017;377:523-33 (OlympiAD)"),
        Regimen("dabrafenib-trametinib", ("dabrafenib", "trametinib"), "targeted",
                "Long GV et al. N Engl J Med 2014;371:1877-88 (COMBI-d)"),
        Regimen("pembrolizumab", ("pembrolizumab",), "immunotherapy",
                "Reck M et al. N Engl J Med 2016;375:1823-33 (KEYNOTE-024)"),
        Regimen("nivolumab", ("nivolumab",), "immunotherapy",
                "Robert C et al. N Engl J Med 2015;372:320-30 (CheckMate 066)"),
        Regimen("mercaptopurine-methotrexate", ("mercaptopurine", "methotrexate"), "chemotherapy",
                "Pui CH, Evans WE. N Engl J Med 2006;354:166-78 (ALL maintenance)"),
        Regimen("7+3", ("cytarabine", "daunorubicin"), "chemotherapy",
                "Dohner H et al. Blood 2017;129:424-47 (ELN 2017)"),
        # Treatments whose drugs the record does not name (real cohorts: METABRIC, TCGA).
        Regimen("chemotherapy (unspecified)", (), "chemotherapy", "as recorded by the source cohort", True),
        Regimen("endocrine therapy (unspecified)", (), "endocrine", "as recorded by the source cohort", True),
        Regimen("radiotherapy", (), "radiotherapy", "as recorded by the source cohort", True),
        Regimen("observation", (), "none", "no systemic treatment recorded by the source cohort", True),
        Regimen("treatment (unspecified)", (), "unspecified", "treatment not recorded by the source cohort", True),
    ]
)

_REGIMEN_LOWER = {name.lower(): name for name in REGIMENS}


def regimen(name: str) -> Regimen:
    """The :class:`Regimen` called ``name`` (case-insensitive); ``KeyError`` if unknown."""
    key = str(name).strip()
    if key in REGIMENS:
        return REGIMENS[key]
    return REGIMENS[_REGIMEN_LOWER[key.lower()]]


def resolve_regimen(name: str) -> Regimen | None:
    """Like :func:`regimen` but returns ``None`` for an unknown name."""
    try:
        return regimen(name)
    except KeyError:
        return None


def resolve_course(name: str) -> list[Regimen] | None:
    """The known regimens of a course ``"A + B"`` (one or more); ``None`` if any part is unknown."""
    parts = [resolve_regimen(part) for part in str(name).split(" + ")]
    return None if any(p is None for p in parts) else parts  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# CYP inhibitors and inducers (phenoconversion)
# ---------------------------------------------------------------------------------------------

CYP_SOURCE = (
    "U.S. FDA, Drug Development and Drug Interactions: Table of Substrates, Inhibitors and Inducers; "
    "https://www.fda.gov/drugs/drug-interactions-labeling/"
    "drug-development-and-drug-interactions-table-substrates-inhibitors-and-inducers (accessed 2026-11-24)"
)


@dataclass(frozen=True)
class CypModulator:
    """One row of the FDA table: ``drug`` is a ``strength`` ``effect`` of ``enzyme``."""

    enzyme: Literal["CYP2D6", "CYP2C19", "CYP2C9", "CYP3A"]
    drug: str
    effect: Literal["inhibitor", "inducer"]
    strength: Literal["strong", "moderate"]
    source: str = field(default=CYP_SOURCE, repr=False)


def _cyp(enzyme: str, effect: str, strength: str, drugs: str) -> list[CypModulator]:
    rows = []
    for drug in drugs.split(","):
        drug = drug.strip()
        assert drug in DRUGS, drug
        rows.append(CypModulator(enzyme=enzyme, drug=drug, effect=effect, strength=strength))  # type: ignore[arg-type]
    return rows


#: Strong and moderate clinical inhibitors and inducers (FDA, see :data:`CYP_SOURCE`). Combination
#: products (e.g. "lopinavir and ritonavir") are listed under their CYP-active component.
#: CYP2D6 is not considered inducible (no inducers listed).
CYP_MODULATORS: tuple[CypModulator, ...] = tuple(
    _cyp("CYP2D6", "inhibitor", "strong", "bupropion, fluoxetine, paroxetine, quinidine, terbinafine")
    + _cyp("CYP2D6", "inhibitor", "moderate", "abiraterone, cinacalcet, duloxetine, mirabegron")
    + _cyp("CYP2C19", "inhibitor", "strong", "fluconazole, fluoxetine, fluvoxamine, ticlopidine")
    + _cyp("CYP2C19", "inhibitor", "moderate", "felbamate")
    + _cyp("CYP2C19", "inducer", "strong", "rifampin")
    + _cyp("CYP2C19", "inducer", "moderate", "apalutamide, efavirenz, enzalutamide, phenytoin")
    + _cyp("CYP2C9", "inhibitor", "moderate", "amiodarone, felbamate, fluconazole, miconazole")
    + _cyp("CYP2C9", "inducer", "moderate", "enzalutamide, rifampin")
    + _cyp(
        "CYP3A", "inhibitor", "strong",
        "clarithromycin, cobicistat, grapefruit juice, idelalisib, indinavir, itraconazole, ketoconazole, "
        "lopinavir, nefazodone, nelfinavir, posaconazole, ritonavir, saquinavir, telithromycin, voriconazole",
    )
    + _cyp(
        "CYP3A", "inhibitor", "moderate",
        "aprepitant, ciprofloxacin, conivaptan, crizotinib, cyclosporine, diltiazem, dronedarone, "
        "erythromycin, fluconazole, fluvoxamine, imatinib, verapamil",
    )
    + _cyp(
        "CYP3A", "inducer", "strong",
        "apalutamide, carbamazepine, enzalutamide, mitotane, phenytoin, rifampin, st. john's wort",
    )
    + _cyp("CYP3A", "inducer", "moderate", "bosentan, efavirenz, etravirine, phenobarbital, primidone")
)


def cyp_modulators_for(drug: str) -> tuple[CypModulator, ...]:
    """Every row of :data:`CYP_MODULATORS` for ``drug`` (empty when it modulates none)."""
    key = normalise_drug(drug)
    return tuple(row for row in CYP_MODULATORS if row.drug == key)


def phenoconversion_inhibitors(medications, enzyme: str) -> dict[str, str]:
    """``{drug: strength}`` of the inhibitors of ``enzyme`` among ``medications``."""
    meds = {normalise_drug(m) for m in medications}
    return {
        row.drug: row.strength
        for row in CYP_MODULATORS
        if row.enzyme == enzyme and row.effect == "inhibitor" and row.drug in meds
    }


# ---------------------------------------------------------------------------------------------
# Toxicities: CTCAE v5.0
# ---------------------------------------------------------------------------------------------

CTCAE_VERSION = "5.0"
#: A toxicity is severe at this grade or above.
SEVERE_GRADE = 3


@dataclass(frozen=True)
class CtcaeTerm:
    """A CTCAE v5.0 term, its system organ class and (where checked) its MedDRA LLT code."""

    term: str
    soc: str
    meddra_code: int | None = None
    max_grade: int = 5


def _ctcae(rows: list[tuple[str, str, int | None, int]]) -> Mapping[str, CtcaeTerm]:
    return MappingProxyType({t: CtcaeTerm(t, soc, code, g) for t, soc, code, g in rows})


_BLOOD = "Blood and lymphatic system disorders"
_INV = "Investigations"
_GI = "Gastrointestinal disorders"
_SKIN = "Skin and subcutaneous tissue disorders"
_GEN = "General disorders and administration site conditions"
_NERV = "Nervous system disorders"
_CARD = "Cardiac disorders"
_RESP = "Respiratory, thoracic and mediastinal disorders"

#: CTCAE v5.0 terms used by the product. MedDRA codes from a public CTCAE v5 / PRO-CTCAE mapping
#: table; ``None`` where not checked. ``max_grade`` is the highest grade CTCAE defines for the term.
CTCAE_TERMS: Mapping[str, CtcaeTerm] = _ctcae(
    [
        ("Neutrophil count decreased", _INV, None, 4),
        ("White blood cell decreased", _INV, None, 4),
        ("Platelet count decreased", _INV, None, 4),
        ("Anemia", _BLOOD, None, 5),
        ("Febrile neutropenia", _BLOOD, None, 5),
        ("Blood bilirubin increased", _INV, None, 4),
        ("Alanine aminotransferase increased", _INV, None, 4),
        ("Aspartate aminotransferase increased", _INV, None, 4),
        ("Creatinine increased", _INV, None, 4),
        ("Ejection fraction decreased", _INV, None, 4),
        ("Heart failure", _CARD, None, 5),
        ("Diarrhea", _GI, 10012727, 5),
        ("Nausea", _GI, 10028813, 3),
        ("Vomiting", _GI, 10047700, 5),
        ("Mucositis oral", _GI, 10028130, 5),
        ("Colitis", _GI, None, 5),
        ("Palmar-plantar erythrodysesthesia syndrome", _SKIN, 10054524, 3),
        ("Rash acneiform", _SKIN, 10037847, 5),
        ("Rash maculo-papular", _SKIN, 10037868, 3),
        ("Alopecia", _SKIN, 10001760, 2),
        ("Fatigue", _GEN, 10016256, 3),
        ("Peripheral sensory neuropathy", _NERV, 10034620, 5),
        ("Pneumonitis", _RESP, None, 5),
        ("Hypertension", "Vascular disorders", None, 5),
        ("Tinnitus", "Ear and labyrinth disorders", 10043882, 3),
        ("Hearing impaired", "Ear and labyrinth disorders", None, 4),
        ("Acute kidney injury", "Renal and urinary disorders", None, 5),
        ("Hot flashes", "Vascular disorders", 10020407, 3),
        ("Arthralgia", "Musculoskeletal and connective tissue disorders", 10003239, 3),
        ("Thromboembolic event", "Vascular disorders", None, 5),
        ("Anorexia", "Metabolism and nutrition disorders", 10002646, 5),
    ]
)

_CTCAE_LOWER = {t.lower(): t for t in CTCAE_TERMS}


def canonical_ctcae_term(term: str) -> str:
    """The CTCAE spelling of ``term`` (case-insensitive); ``KeyError`` if unknown."""
    return _CTCAE_LOWER[" ".join(str(term).strip().split()).lower()]


def is_ctcae_term(term: str) -> bool:
    """True if ``term`` is a known CTCAE v5 term (case-insensitive)."""
    return " ".join(str(term).strip().split()).lower() in _CTCAE_LOWER


# ---------------------------------------------------------------------------------------------
# Cancer types: OncoTree
# ---------------------------------------------------------------------------------------------

ONCOTREE_VERSION = "oncotree_2021_11_02"


@dataclass(frozen=True)
class CancerType:
    """An OncoTree code with its name and tissue."""

    code: str
    name: str
    tissue: str


_ONCOTREE_ROWS = [
    ("ACC", "Adrenocortical Carcinoma", "Adrenal Gland"),
    ("AML", "Acute Myeloid Leukemia", "Myeloid"),
    ("BLCA", "Bladder Urothelial Carcinoma", "Bladder/Urinary Tract"),
    ("BLL", "B-Lymphoblastic Leukemia/Lymphoma", "Lymphoid"),
    ("BRCA", "Invasive Breast Carcinoma", "Breast"),
    ("IDC", "Breast Invasive Ductal Carcinoma", "Breast"),
    ("ILC", "Breast Invasive Lobular Carcinoma", "Breast"),
    ("MDLC", "Breast Mixed Ductal and Lobular Carcinoma", "Breast"),
    ("BRCNOS", "Breast Invasive Carcinoma, NOS", "Breast"),
    ("BREAST", "Breast", "Breast"),
    ("BILIARY_TRACT", "Biliary Tract", "Biliary Tract"),
    ("AMPCA", "Ampullary Carcinoma", "Ampulla of Vater"),
    ("CHOL", "Cholangiocarcinoma", "Biliary Tract"),
    ("IHCH", "Intrahepatic Cholangiocarcinoma", "Biliary Tract"),
    ("EHCH", "Extrahepatic Cholangiocarcinoma", "Biliary Tract"),
    ("GBC", "Gallbladder Cancer", "Biliary Tract"),
    ("CESC", "Cervical Squamous Cell Carcinoma", "Cervix"),
    ("CCRCC", "Renal Clear Cell Carcinoma", "Kidney"),
    ("CHRCC", "Chromophobe Renal Cell Carcinoma", "Kidney"),
    ("PRCC", "Papillary Renal Cell Carcinoma", "Kidney"),
    ("COAD", "Colon Adenocarcinoma", "Bowel"),
    ("READ", "Rectal Adenocarcinoma", "Bowel"),
    ("COADREAD", "Colorectal Adenocarcinoma", "Bowel"),
    ("DLBCLNOS", "Diffuse Large B-Cell Lymphoma, NOS", "Lymphoid"),
    ("ESCA", "Esophageal Adenocarcinoma", "Esophagus/Stomach"),
    ("ESCC", "Esophageal Squamous Cell Carcinoma", "Esophagus/Stomach"),
    ("STAD", "Stomach Adenocarcinoma", "Esophagus/Stomach"),
    ("GB", "Glioblastoma", "CNS/Brain"),
    ("GBM", "Glioblastoma Multiforme", "CNS/Brain"),
    ("DIFG", "Diffuse Glioma", "CNS/Brain"),
    ("LGGNOS", "Low-Grade Glioma, NOS", "CNS/Brain"),
    ("HNSC", "Head and Neck Squamous Cell Carcinoma", "Head and Neck"),
    ("HCC", "Hepatocellular Carcinoma", "Liver"),
    ("NSCLC", "Non-Small Cell Lung Cancer", "Lung"),
    ("LUAD", "Lung Adenocarcinoma", "Lung"),
    ("LUSC", "Lung Squamous Cell Carcinoma", "Lung"),
    ("SCLC", "Small Cell Lung Cancer", "Lung"),
    ("PLMESO", "Pleural Mesothelioma", "Pleura"),
    ("HGSOC", "High-Grade Serous Ovarian Cancer", "Ovary/Fallopian Tube"),
    ("SOC", "Serous Ovarian Cancer", "Ovary/Fallopian Tube"),
    ("OVT", "Ovarian Epithelial Tumor", "Ovary/Fallopian Tube"),
    ("PAAD", "Pancreatic Adenocarcinoma", "Pancreas"),
    ("PHC", "Pheochromocytoma", "Adrenal Gland"),
    ("PGNG", "Paraganglioma", "Soft Tissue"),
    ("PRAD", "Prostate Adenocarcinoma", "Prostate"),
    ("SARCNOS", "Sarcoma, NOS", "Soft Tissue"),
    ("SKCM", "Cutaneous Melanoma", "Skin"),
    ("MEL", "Melanoma", "Skin"),
    ("UM", "Uveal Melanoma", "Eye"),
    ("NSGCT", "Non-Seminomatous Germ Cell Tumor", "Testis"),
    ("SEM", "Seminoma", "Testis"),
    ("THPA", "Papillary Thyroid Cancer", "Thyroid"),
    ("TET", "Thymic Epithelial Tumor", "Thymus"),
    ("THYM", "Thymoma", "Thymus"),
    ("UCEC", "Endometrial Carcinoma", "Uterus"),
    ("UEC", "Uterine Endometrioid Carcinoma", "Uterus"),
    ("UCS", "Uterine Carcinosarcoma/Uterine Malignant Mixed Mullerian Tumor", "Uterus"),
    ("TLL", "T-Lymphoblastic Leukemia/Lymphoma", "Lymphoid"),
    ("CUP", "Cancer of Unknown Primary", "Other"),
    ("OTHER", "Other", "Other"),
]

#: The OncoTree subset the product knows (code -> :class:`CancerType`).
ONCOTREE: Mapping[str, CancerType] = MappingProxyType({c: CancerType(c, n, t) for c, n, t in _ONCOTREE_ROWS})

#: TCGA study abbreviation -> OncoTree code (TCGA-CDR ``type`` column). The TCGA study is the
#: closest OncoTree node, sometimes a parent (LGG -> DIFG) or a specific child (OV -> HGSOC).
TCGA_TO_ONCOTREE: Mapping[str, str] = MappingProxyType(
    {
        "ACC": "ACC", "BLCA": "BLCA", "BRCA": "BRCA", "CESC": "CESC", "CHOL": "CHOL", "COAD": "COAD",
        "DLBC": "DLBCLNOS", "ESCA": "ESCA", "GBM": "GBM", "HNSC": "HNSC", "KICH": "CHRCC",
        "KIRC": "CCRCC", "KIRP": "PRCC", "LAML": "AML", "LGG": "DIFG", "LIHC": "HCC", "LUAD": "LUAD",
        "LUSC": "LUSC", "MESO": "PLMESO", "OV": "HGSOC", "PAAD": "PAAD", "PCPG": "PHC", "PRAD": "PRAD",
        "READ": "READ", "SARC": "SARCNOS", "SKCM": "SKCM", "STAD": "STAD", "TGCT": "NSGCT",
        "THCA": "THPA", "THYM": "THYM", "UCEC": "UCEC", "UCS": "UCS", "UVM": "UM",
    }
)


def is_oncotree(code: str) -> bool:
    """True if ``code`` (case-insensitive) is in :data:`ONCOTREE`."""
    return str(code).strip().upper() in ONCOTREE


def cancer_type(code: str) -> CancerType:
    """The :class:`CancerType` of an OncoTree code; ``KeyError`` if unknown."""
    return ONCOTREE[str(code).strip().upper()]


# ---------------------------------------------------------------------------------------------
# Laboratory values and their units
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabSpec:
    """A laboratory value: canonical unit, accepted units (factor to canonical), plausible range."""

    name: str
    unit: str
    units: Mapping[str, float]
    low: float
    high: float
    description: str


def _lab(name: str, unit: str, units: dict[str, float], low: float, high: float, desc: str) -> LabSpec:
    return LabSpec(name, unit, MappingProxyType({unit: 1.0, **units}), low, high, desc)


#: Laboratory values used by the model features and the simulator (range in the canonical unit).
LABS: Mapping[str, LabSpec] = MappingProxyType(
    {
        lab.name: lab
        for lab in (
            _lab("creatinine_clearance", "mL/min", {"ml/min": 1.0}, 0, 250, "creatinine clearance (Cockcroft-Gault)"),
            _lab("creatinine", "umol/L", {"µmol/L": 1.0, "mg/dL": 88.42}, 5, 2000, "serum creatinine"),
            _lab("bilirubin", "umol/L", {"µmol/L": 1.0, "mg/dL": 17.1}, 0, 1000, "total bilirubin"),
            _lab("albumin", "g/L", {"g/dL": 10.0}, 5, 70, "serum albumin"),
            _lab("alt", "U/L", {"IU/L": 1.0}, 0, 5000, "alanine aminotransferase"),
            _lab("ast", "U/L", {"IU/L": 1.0}, 0, 5000, "aspartate aminotransferase"),
            _lab("neutrophils", "10^9/L", {"10*9/L": 1.0, "/uL": 0.001, "cells/uL": 0.001}, 0, 100,
                 "absolute neutrophil count"),
            _lab("leukocytes", "10^9/L", {"10*9/L": 1.0, "/uL": 0.001, "cells/uL": 0.001}, 0, 500,
                 "white blood cell count"),
            _lab("platelets", "10^9/L", {"10*9/L": 1.0, "/uL": 0.001}, 0, 2000, "platelet count"),
            _lab("hemoglobin", "g/dL", {"g/L": 0.1}, 1, 25, "haemoglobin"),
            _lab("lvef", "%", {}, 5, 90, "left-ventricular ejection fraction"),
            _lab("sodium", "mmol/L", {"mEq/L": 1.0}, 90, 200, "serum sodium"),
        )
    }
)

# ---------------------------------------------------------------------------------------------
# Outcomes and tumour variants
# ---------------------------------------------------------------------------------------------

#: RECIST 1.1 best overall response (+ NE, not evaluable).
RECIST_RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")

#: Tumour-variant types (small variants and the copy-number/structural events that matter).
TUMOUR_VARIANT_TYPES: tuple[str, ...] = (
    "missense", "nonsense", "frameshift", "inframe_indel", "splice", "silent", "other_snv",
    "amplification", "deletion", "fusion", "loss_of_function",
)

# ---------------------------------------------------------------------------------------------
# Comorbidities (clinical notes -> History.comorbidities)
# ---------------------------------------------------------------------------------------------

#: Source of the comorbidity vocabulary: the Charlson comorbidity index categories (Charlson ME et al.,
#: J Chronic Dis 1987;40:373-83; Quan H et al., Med Care 2005;43:1130-9 for the ICD-10 coding), plus common
#: conditions that change oncology drug choice (hypertension, atrial fibrillation, venous thromboembolism,
#: peripheral neuropathy, hypothyroidism, depression, obesity, osteoporosis, epilepsy).
COMORBIDITY_SOURCE = "Charlson comorbidity index categories (Charlson 1987; Quan 2005 ICD-10 coding) + listed additions"

#: Canonical comorbidity term -> spellings met in notes (lower case; abbreviations included).
COMORBIDITIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "myocardial infarction": ("myocardial infarction", "mi", "heart attack", "nstemi", "stemi"),
        "congestive heart failure": ("congestive heart failure", "heart failure", "chf", "hfref", "hfpef",
                                     "cardiac failure"),
        "coronary artery disease": ("coronary artery disease", "cad", "ischaemic heart disease",
                                    "ischemic heart disease", "ihd", "angina"),
        "peripheral vascular disease": ("peripheral vascular disease", "pvd", "peripheral arterial disease",
                                        "pad", "claudication"),
        "cerebrovascular disease": ("cerebrovascular disease", "stroke", "cva", "tia",
                                    "transient ischaemic attack", "transient ischemic attack"),
        "dementia": ("dementia", "alzheimer's disease", "alzheimers"),
        "chronic pulmonary disease": ("copd", "chronic obstructive pulmonary disease", "emphysema",
                                      "chronic bronchitis", "asthma", "chronic pulmonary disease"),
        "connective tissue disease": ("rheumatoid arthritis", "systemic lupus erythematosus", "sle", "lupus",
                                      "scleroderma", "connective tissue disease", "polymyalgia rheumatica"),
        "peptic ulcer disease": ("peptic ulcer disease", "peptic ulcer", "pud", "gastric ulcer",
                                 "duodenal ulcer"),
        "liver disease": ("cirrhosis", "liver cirrhosis", "chronic liver disease", "hepatitis b", "hepatitis c",
                          "hbv", "hcv", "fatty liver", "nafld", "masld", "liver disease"),
        "diabetes": ("diabetes", "diabetes mellitus", "type 2 diabetes", "type 1 diabetes", "t2dm", "t1dm",
                     "dm2", "dm", "niddm", "iddm", "diabetic"),
        "chronic kidney disease": ("chronic kidney disease", "ckd", "renal impairment", "renal failure",
                                   "chronic renal failure", "ckd stage 3", "ckd3"),
        "hiv": ("hiv", "hiv infection", "aids"),
        "hypertension": ("hypertension", "htn", "high blood pressure", "hypertensive"),
        "atrial fibrillation": ("atrial fibrillation", "af", "afib", "a-fib", "paroxysmal af"),
        "venous thromboembolism": ("deep vein thrombosis", "dvt", "pulmonary embolism", "pe",
                                   "venous thromboembolism", "vte"),
        "peripheral neuropathy": ("peripheral neuropathy", "neuropathy"),
        "hypothyroidism": ("hypothyroidism", "underactive thyroid", "hashimoto's"),
        "depression": ("depression", "major depressive disorder", "depressive disorder", "low mood"),
        "obesity": ("obesity", "obese", "morbid obesity"),
        "osteoporosis": ("osteoporosis", "osteopenia"),
        "epilepsy": ("epilepsy", "seizure disorder", "seizures"),
    }
)

_COMORBIDITY_LOWER = {syn: term for term, syns in COMORBIDITIES.items() for syn in syns}


def canonical_comorbidity(term: str) -> str | None:
    """The canonical comorbidity for a spelling met in a note (``"T2DM"`` -> ``"diabetes"``), else ``None``."""
    return _COMORBIDITY_LOWER.get(" ".join(str(term).strip().lower().split()))
