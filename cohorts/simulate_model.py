"""The simulator's causal model: what causes what, with which sizes (documented, versioned).

Everything the simulator draws follows the graph below; the effect sizes are in the tables of
this module so that a reviewer can read (and a test can check) them in one place.

::

    population ──► germline PGx phenotypes (DPYD, UGT1A1, TPMT/NUDT15, CYP2D6), germline BRCA1/2
        │                                   │
        ▼                                   ▼
    cancer type ─► age, sex, smoking ─► tumour drivers (EGFR, KRAS, BRAF, PIK3CA, ERBB2 amp, ALK fusion)
        │              │                    │
        ▼              ▼                    │
    ECOG, BMI, labs, comorbidities ─► medications (incl. CYP2D6 inhibitors ─► phenoconversion)
        │                                   │
        └──────► treatment assignment ◄─────┘   (confounding by indication; or randomised)
                          │
                          ▼
    response (logistic), PFS (Weibull), OS = PFS + post-progression survival (exponential),
    severe toxicity per CTCAE term (logistic; grade drawn given severity), censoring (uniform)

Efficacy of treatment k for patient i is a score ``eta[i, k]`` = regimen base for the cancer type
+ biomarker effects (:data:`EFFICACY_EFFECTS`). It raises the response log-odds one for one and
lowers the PFS hazard by ``exp(-PFS_EFFICACY * (eta - eta_ref))`` and the post-progression
hazard not at all. A patient prognosis score ``u[i]`` (ECOG, age, smoking, albumin, BRAF V600E)
raises every hazard by ``exp(u)`` and lowers the response log-odds by ``RESPONSE_PROGNOSIS * u``.
Severe toxicity log-odds per drug and CTCAE term (:data:`TOXICITY_BASE`) are shifted by
pharmacogenomic and clinical modifiers (:data:`TOXICITY_MODIFIERS`); a regimen's probability for
a term combines its drugs as independent causes (``1 - prod(1 - p)``).

Effect directions follow published biology (citations beside each table); sizes are round,
illustrative values of the published order of magnitude, not estimates to be reported.
``MODEL_VERSION`` changes whenever a number here changes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ASSIGNMENT",
    "CANCER_MIX",
    "CANCER_SETTINGS",
    "CANDIDATES",
    "DRIVER_GROUPS",
    "EFFICACY_BASE",
    "EFFICACY_EFFECTS",
    "HOTSPOTS",
    "MODEL_VERSION",
    "PFS_EFFICACY",
    "RESPONSE_PROGNOSIS",
    "TOXICITY_BASE",
    "TOXICITY_MODIFIERS",
    "UTILITY_TOX_PENALTY_YEARS",
    "VUS_LOF_EFFECTS",
    "VUS_STREAM",
    "WEIBULL_SHAPE",
    "CancerSetting",
    "Hotspot",
]

MODEL_VERSION = "sim-1.0"

#: Default mix of cancer types (OncoTree) in a simulated cohort.
CANCER_MIX: dict[str, float] = {"COAD": 0.22, "READ": 0.05, "LUAD": 0.25, "BRCA": 0.28, "PAAD": 0.08,
                                "HGSOC": 0.07, "BLL": 0.05}


@dataclass(frozen=True)
class CancerSetting:
    """Per cancer type: age distribution, share female, smoking mix, PFS and post-progression medians."""

    age_mean: float
    age_sd: float
    female: float
    smoking: tuple[float, float, float]  # current, former, never
    pfs_median_days: float  # on the reference regimen (eta = eta_ref)
    pps_median_days: float  # post-progression survival
    germline_brca: float  # share with a germline BRCA1/2 loss-of-function variant (enriched in these cancers)


#: Medians of the order seen in first-line advanced-disease trials (e.g. Tournigand 2004, Schiller 2002,
#: Conroy 2011, Robson 2017); BLL stands for maintenance therapy of ALL.
CANCER_SETTINGS: dict[str, CancerSetting] = {
    "COAD": CancerSetting(66, 11, 0.47, (0.15, 0.35, 0.50), 270, 365, 0.01),
    "READ": CancerSetting(63, 11, 0.40, (0.15, 0.35, 0.50), 270, 365, 0.01),
    "LUAD": CancerSetting(67, 9, 0.52, (0.25, 0.55, 0.20), 180, 240, 0.01),
    "BRCA": CancerSetting(58, 12, 0.99, (0.12, 0.30, 0.58), 365, 540, 0.05),
    "PAAD": CancerSetting(68, 9, 0.48, (0.20, 0.35, 0.45), 180, 120, 0.05),
    "HGSOC": CancerSetting(62, 10, 1.00, (0.10, 0.30, 0.60), 450, 540, 0.15),
    "BLL": CancerSetting(35, 14, 0.45, (0.15, 0.15, 0.70), 1100, 365, 0.00),
}

#: Candidate regimens per cancer type (names in :data:`recommender.vocab.REGIMENS`).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "COAD": ("FOLFOX", "FOLFIRI", "CAPOX", "FOLFOX+panitumumab"),
    "READ": ("FOLFOX", "FOLFIRI", "CAPOX", "FOLFOX+panitumumab"),
    "LUAD": ("carboplatin-paclitaxel", "cisplatin-pemetrexed", "pembrolizumab", "osimertinib"),
    "BRCA": ("AC-T", "tamoxifen", "THP", "olaparib"),
    "PAAD": ("FOLFIRINOX", "gemcitabine-nab-paclitaxel", "olaparib"),
    "HGSOC": ("carboplatin-paclitaxel", "olaparib"),
    "BLL": ("mercaptopurine-methotrexate",),
}


@dataclass(frozen=True)
class Hotspot:
    """A tumour driver: gene, protein change, type and (where known) GRCh38 position."""

    gene: str
    protein_change: str | None
    variant_type: str
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None
    fusion_partner: str | None = None


#: Hand-curated hotspots. GRCh38 positions (forward strand) from the HGVS definitions
#: (KRAS NM_004985, BRAF NM_004333, EGFR NM_005228, PIK3CA NM_006218); checked against the
#: GRCh37 coordinates in the Cancer Genome Interpreter biomarker table (Tamborero et al.,
#: Genome Med 2018;10:25) with the locus' constant GRCh37->GRCh38 offset (KRAS -152,934;
#: BRAF +300,200; EGFR -67,693; PIK3CA +282,212). Indels, fusions and copy-number events have
#: no position here.
HOTSPOTS: dict[str, Hotspot] = {
    "KRAS G12D": Hotspot("KRAS", "G12D", "missense", "chr12", 25245350, "C", "T"),
    "KRAS G12V": Hotspot("KRAS", "G12V", "missense", "chr12", 25245350, "C", "A"),
    "KRAS G12C": Hotspot("KRAS", "G12C", "missense", "chr12", 25245351, "C", "A"),
    "KRAS G12R": Hotspot("KRAS", "G12R", "missense", "chr12", 25245351, "C", "G"),
    "KRAS G13D": Hotspot("KRAS", "G13D", "missense", "chr12", 25245347, "C", "T"),
    "BRAF V600E": Hotspot("BRAF", "V600E", "missense", "chr7", 140753336, "A", "T"),
    "EGFR L858R": Hotspot("EGFR", "L858R", "missense", "chr7", 55191822, "T", "G"),
    "EGFR E746_A750del": Hotspot("EGFR", "E746_A750del", "inframe_indel"),
    "PIK3CA H1047R": Hotspot("PIK3CA", "H1047R", "missense", "chr3", 179234297, "A", "G"),
    "PIK3CA E545K": Hotspot("PIK3CA", "E545K", "missense", "chr3", 179218303, "G", "A"),
    "ERBB2 amplification": Hotspot("ERBB2", None, "amplification"),
    "ALK fusion": Hotspot("ALK", None, "fusion", fusion_partner="EML4"),
}

#: Mutually exclusive driver groups per cancer type: ``(hotspot, base probability)``. Modifiers
#: applied by the simulator: EGFR x2.7 in East Asian ancestry and x1.8 in never-smokers (x0.6
#: in current smokers); KRAS G12C x1.5 in ever-smokers and x0.3 in never-smokers; ALK x2 in
#: never-smokers. Frequencies of the order reported by TCGA / cBioPortal pan-cancer studies
#: (e.g. TCGA Nature 2012;487:330 colorectal; Nature 2014;511:543 lung adenocarcinoma).
DRIVER_GROUPS: dict[str, tuple[tuple[tuple[str, float], ...], ...]] = {
    "COAD": ((("KRAS G12D", 0.14), ("KRAS G12V", 0.09), ("KRAS G13D", 0.07), ("KRAS G12C", 0.03),
              ("BRAF V600E", 0.09)),
             (("PIK3CA E545K", 0.08), ("PIK3CA H1047R", 0.06))),
    "READ": ((("KRAS G12D", 0.14), ("KRAS G12V", 0.09), ("KRAS G13D", 0.07), ("KRAS G12C", 0.03),
              ("BRAF V600E", 0.02)),
             (("PIK3CA E545K", 0.08), ("PIK3CA H1047R", 0.06))),
    "LUAD": ((("EGFR L858R", 0.07), ("EGFR E746_A750del", 0.08), ("KRAS G12C", 0.13), ("KRAS G12D", 0.04),
              ("KRAS G12V", 0.05), ("BRAF V600E", 0.02), ("ALK fusion", 0.04)),),
    "BRCA": ((("PIK3CA H1047R", 0.15), ("PIK3CA E545K", 0.09)),
             (("ERBB2 amplification", 0.15),)),
    "PAAD": ((("KRAS G12D", 0.40), ("KRAS G12V", 0.30), ("KRAS G12R", 0.15)),),
    "HGSOC": (),
    "BLL": (),
}

#: Response log-odds of each regimen in each cancer type for a patient without the biomarkers below
#: (ORR of the order of the trials cited in :data:`recommender.vocab.REGIMENS`).
EFFICACY_BASE: dict[str, dict[str, float]] = {
    "COAD": {"FOLFOX": 0.0, "FOLFIRI": -0.1, "CAPOX": -0.15, "FOLFOX+panitumumab": 0.0},
    "READ": {"FOLFOX": 0.0, "FOLFIRI": -0.1, "CAPOX": -0.15, "FOLFOX+panitumumab": 0.0},
    "LUAD": {"carboplatin-paclitaxel": -1.1, "cisplatin-pemetrexed": -0.9, "pembrolizumab": -1.0,
             "osimertinib": -2.5},
    "BRCA": {"AC-T": 0.3, "tamoxifen": -1.5, "THP": -1.6, "olaparib": -2.6},
    "PAAD": {"FOLFIRINOX": -0.6, "gemcitabine-nab-paclitaxel": -1.1, "olaparib": -3.0},
    "HGSOC": {"carboplatin-paclitaxel": 0.8, "olaparib": -2.0},
    "BLL": {"mercaptopurine-methotrexate": 1.5},
}

#: Biomarker effects on the efficacy score (log-odds of response; PFS via ``PFS_EFFICACY``).
#: Keys are ``(regimen, feature)``; features are computed by the simulator:
#: ``egfr_sensitising`` (EGFR L858R / exon 19 deletion), ``kras_mut``, ``ras_raf_wt`` (no KRAS or
#: BRAF V600E), ``erbb2_amp``, ``brca_lof`` (germline or somatic BRCA1/2), ``er_positive``,
#: ``er_negative``, ``cyp2d6_function`` (effective CYP2D6 activity after phenoconversion, scaled 0-1),
#: ``ever_smoker``.
EFFICACY_EFFECTS: dict[tuple[str, str], float] = {
    # EGFR-mutant NSCLC responds to EGFR TKIs (Mok 2009; Soria 2018).
    ("osimertinib", "egfr_sensitising"): 4.0,
    # Anti-EGFR antibodies help only RAS/RAF wild-type colorectal cancer, may harm KRAS-mutant (Douillard 2010).
    ("FOLFOX+panitumumab", "ras_raf_wt"): 0.7,
    ("FOLFOX+panitumumab", "kras_mut"): -0.3,
    # Trastuzumab/pertuzumab need ERBB2 amplification (Baselga 2012).
    ("THP", "erbb2_amp"): 3.2,
    # PARP inhibitors in BRCA1/2 loss of function (Robson 2017; Golan 2019; Moore 2018).
    ("olaparib", "brca_lof"): 3.3,
    # Tamoxifen needs ER; its benefit needs CYP2D6 activation to endoxifen, lower in poor metabolisers and
    # with strong CYP2D6 inhibitors (CPIC tamoxifen guideline, Goetz et al. Clin Pharmacol Ther 2018;103:770).
    ("tamoxifen", "er_positive"): 0.8,
    ("tamoxifen", "er_negative"): -3.0,
    ("tamoxifen", "cyp2d6_function"): 1.2,
    # Immune checkpoint inhibitors: higher response with smoking-related tumour mutational burden.
    ("pembrolizumab", "ever_smoker"): 0.6,
}

#: Germline BRCA1 variants of uncertain significance (simulator option ``vus_rate``, off by default;
#: :mod:`cohorts.brca_vus`): a VUS whose hidden true effect is loss of function changes the efficacy of these
#: regimens exactly like a curated BRCA1/2 loss of function does, and only in a patient without one (no double
#: count). Treatment assignment does not see it: the treating physician does not know a VUS's true effect.
VUS_LOF_EFFECTS: dict[str, float] = {"olaparib": EFFICACY_EFFECTS[("olaparib", "brca_lof")]}
#: Second entropy word of the VUS random stream (``numpy.random.default_rng([seed, VUS_STREAM])``): the VUS are
#: drawn apart from every other draw, so a cohort with ``vus_rate=0`` is byte-identical to one simulated before the
#: option existed, and turning it on changes nothing but the VUS, their carriers' olaparib truth and outcomes.
VUS_STREAM = 0x56555321

#: Effect of efficacy on the PFS hazard (log hazard ratio per unit of ``eta - eta_ref``).
PFS_EFFICACY = 0.6
#: Effect of the prognosis score on the response log-odds.
RESPONSE_PROGNOSIS = 0.5
#: Weibull shape of the PFS times (> 1: hazard rising with time).
WEIBULL_SHAPE = 1.3
#: Years of expected PFS a certain severe toxicity is worth in the oracle's utility.
UTILITY_TOX_PENALTY_YEARS = 0.25

#: Severe (grade >= 3) toxicity log-odds per drug and CTCAE v5 term before modifiers (rates of the
#: order reported in the regimens' trials).
TOXICITY_BASE: dict[str, dict[str, float]] = {
    "fluorouracil": {"Neutrophil count decreased": -2.0, "Diarrhea": -2.6, "Mucositis oral": -3.2},
    "capecitabine": {"Diarrhea": -2.3, "Palmar-plantar erythrodysesthesia syndrome": -2.2,
                     "Neutrophil count decreased": -3.5},
    "irinotecan": {"Neutrophil count decreased": -1.6, "Diarrhea": -2.0},
    "oxaliplatin": {"Peripheral sensory neuropathy": -2.3, "Neutrophil count decreased": -2.2},
    "cisplatin": {"Acute kidney injury": -3.0, "Hearing impaired": -3.5, "Nausea": -2.8},
    "carboplatin": {"Platelet count decreased": -2.2, "Neutrophil count decreased": -1.8},
    "paclitaxel": {"Peripheral sensory neuropathy": -2.6, "Neutrophil count decreased": -2.0},
    "docetaxel": {"Febrile neutropenia": -2.3, "Neutrophil count decreased": -1.0},
    "doxorubicin": {"Febrile neutropenia": -2.4, "Ejection fraction decreased": -4.2},
    "cyclophosphamide": {"Neutrophil count decreased": -2.5},
    "trastuzumab": {"Ejection fraction decreased": -3.6},
    "pertuzumab": {"Diarrhea": -3.0},
    "panitumumab": {"Rash acneiform": -1.9},
    "osimertinib": {"Diarrhea": -4.5, "Rash acneiform": -4.5, "Pneumonitis": -4.0},
    "pembrolizumab": {"Pneumonitis": -3.8, "Colitis": -4.2},
    "olaparib": {"Anemia": -1.9},
    "tamoxifen": {"Thromboembolic event": -4.2},
    "gemcitabine": {"Neutrophil count decreased": -1.2, "Platelet count decreased": -2.5},
    "pemetrexed": {"Neutrophil count decreased": -2.6},
    "mercaptopurine": {"Neutrophil count decreased": -2.0},
    "methotrexate": {"Mucositis oral": -3.5, "Alanine aminotransferase increased": -2.8},
    "leucovorin": {},
}

#: Modifiers of the severe-toxicity log-odds: ``(drug class or drug, feature) -> shift``.
#: ``dpyd_deficit`` = 2 - DPYD activity score (0 normal .. 2 no activity): fluoropyrimidine toxicity
#: rises steeply (CPIC DPYD guideline, Amstutz et al. Clin Pharmacol Ther 2018;103:210);
#: ``ugt1a1_poor`` (*28/*28 and equivalents): irinotecan neutropenia and diarrhoea (DPWG
#: UGT1A1-irinotecan guideline); ``thiopurine_intermediate`` /
#: ``thiopurine_poor`` (TPMT or NUDT15): thiopurine myelosuppression (CPIC thiopurine guideline, Relling
#: et al. Clin Pharmacol Ther 2019;105:1095); ``age_over_70``, ``ecog`` (per point), ``low_crcl``
#: (creatinine clearance < 50 mL/min) for renally cleared drugs, ``high_bilirubin`` (> 1.5 x ULN 21
#: umol/L) for irinotecan.
TOXICITY_MODIFIERS: dict[tuple[str, str], float] = {
    ("fluoropyrimidine", "dpyd_deficit"): 1.6,
    ("irinotecan", "ugt1a1_poor"): 1.3,
    ("thiopurine", "thiopurine_intermediate"): 1.2,
    ("thiopurine", "thiopurine_poor"): 3.8,
    ("*", "age_over_70"): 0.3,
    ("*", "ecog"): 0.25,
    ("capecitabine", "low_crcl"): 0.6,
    ("cisplatin", "low_crcl"): 1.0,
    ("carboplatin", "low_crcl"): 0.4,
    ("methotrexate", "low_crcl"): 0.8,
    ("irinotecan", "high_bilirubin"): 0.8,
    ("doxorubicin", "age_over_70"): 0.5,
}

#: Treatment assignment in observational mode: preference scores added to a softmax over the
#: candidates (confounding by indication). ``base`` per regimen; feature effects as in
#: :data:`EFFICACY_EFFECTS`; ``frail`` = ECOG >= 2 or age > 75 (less intensive regimens);
#: ``dpyd_tested_deficit`` = a DPYD-deficient patient whose DPYD was tested before treatment
#: (``DPYD_TEST_RATE``), who is steered away from fluoropyrimidines.
ASSIGNMENT: dict[str, dict[str, float]] = {
    "FOLFOX": {"base": 0.6, "frail": -0.7, "dpyd_tested_deficit": -3.0},
    "FOLFIRI": {"base": 0.2, "frail": -0.5, "dpyd_tested_deficit": -3.0},
    "CAPOX": {"base": 0.3, "frail": 0.3, "dpyd_tested_deficit": -3.0},
    "FOLFOX+panitumumab": {"base": -0.3, "ras_raf_wt": 1.2, "kras_mut": -2.5, "frail": -0.8,
                           "dpyd_tested_deficit": -3.0},
    "carboplatin-paclitaxel": {"base": 0.4, "frail": -0.3},
    "cisplatin-pemetrexed": {"base": 0.2, "frail": -1.0, "low_crcl": -1.5},
    "pembrolizumab": {"base": 0.3, "ever_smoker": 0.4, "egfr_sensitising": -1.5},
    "osimertinib": {"base": -2.5, "egfr_sensitising": 4.5},
    "AC-T": {"base": 0.4, "frail": -1.2, "age_over_70": -0.8},
    "tamoxifen": {"base": -0.2, "er_positive": 1.2, "er_negative": -4.0, "frail": 0.8},
    "THP": {"base": -2.0, "erbb2_amp": 4.0},
    "olaparib": {"base": -2.5, "brca_lof": 2.5},
    "FOLFIRINOX": {"base": 0.5, "frail": -1.5, "dpyd_tested_deficit": -3.0},
    "gemcitabine-nab-paclitaxel": {"base": 0.2, "frail": 0.8},
    "mercaptopurine-methotrexate": {"base": 0.0},
}

#: Share of patients whose DPYD genotype was known before treatment (pre-emptive testing).
DPYD_TEST_RATE = 0.3
