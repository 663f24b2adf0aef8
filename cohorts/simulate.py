"""A seeded cohort simulator with known ground truth (clinical, tumour, treatment, outcome tables).

The causal model and its effect sizes are in :mod:`cohorts.simulate_model` (read that first).
:func:`simulate_cohort` draws ``n`` patients; observed tables go where a model may train on them,
the truth (every patient x candidate treatment expected outcome, the true germline phenotypes,
the assignment propensities) goes to ``truth/`` tables kept apart.

Germline genotypes: the hook
----------------------------
Pharmacogenomic phenotypes come from a :class:`GermlineSource`. :class:`PhenotypePriorSource` (the
default of :func:`simulate_cohort`, tables only, up to 1,000,000 patients) draws *phenotypes* (not
genotypes) from approximate population frequencies and writes no VCF.
:class:`cohorts.germline.RealGenotypeSource` (the default of ``recommender cohort simulate`` up to
100,000 patients) draws real 1000 Genomes haplotypes, writes a multi-sample GRCh38 VCF and takes the
phenotypes from the PGx caller; it returns a :class:`GermlineDraw` with ``sample_id``, ``sex`` (from
chrX ploidy), ``population`` and the ``vcf`` path. A source with ``uses_brca_rate = True`` receives
each patient's germline BRCA1/2 carrier rate (by cancer type) and puts the variants into its VCF.

Observed PGx phenotype columns (``pgx_*`` in ``patients``) are what a clinical PGx report would
give; pass ``expose_pgx=False`` to keep them in ``truth/germline`` only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from cohorts import simulate_model as M
from cohorts.loaders._common import LoadedCohort
from cohorts.manifest import Licence, Provenance
from genomics.errors import UsageError
from recommender import vocab

__all__ = [
    "MAX_PATIENTS_TABLES",
    "POPULATIONS",
    "GermlineDraw",
    "GermlineSource",
    "PhenotypePriorSource",
    "SimulatedCohort",
    "simulate_cohort",
]

#: 1000 Genomes super-populations and their shares among the 3,202 high-coverage samples (rounded).
POPULATIONS: dict[str, float] = {"AFR": 0.28, "AMR": 0.15, "EAS": 0.18, "EUR": 0.20, "SAS": 0.19}
_ANCESTRY = {"AFR": "African", "AMR": "Hispanic or Latino", "EAS": "East Asian", "EUR": "European",
             "SAS": "South Asian"}
#: Upper limit of patients for the tables alone.
MAX_PATIENTS_TABLES = 1_000_000


@dataclass
class GermlineDraw:
    """What a germline source returns for ``n`` patients (arrays of length ``n``).

    ``phenotypes`` columns: ``dpyd_activity_score`` (0-2), ``ugt1a1_poor`` (bool),
    ``thiopurine_function`` (normal / intermediate / poor: worse of TPMT and NUDT15),
    ``cyp2d6_activity_score`` (0-3), ``germline_brca_lof`` (bool; may be ``None`` to let the
    simulator draw it per cancer type), plus any further columns the source adds.
    """

    population: np.ndarray
    phenotypes: pd.DataFrame
    sex: np.ndarray | None = None
    sample_id: np.ndarray | None = None
    vcf: Path | None = None
    description: str = ""


class GermlineSource(Protocol):
    """A source of germline data for simulated patients (the genotype hook)."""

    def draw(self, n: int, rng: np.random.Generator, female_share: np.ndarray) -> GermlineDraw:
        """Germline data of ``n`` patients; ``female_share[i]`` is patient i's probability of being female."""


# Approximate phenotype frequencies by super-population (order of magnitude of the CPIC
# frequency tables); placeholders until genotype-derived phenotypes replace them.
_UGT1A1_POOR = {"AFR": 0.15, "AMR": 0.08, "EAS": 0.04, "EUR": 0.10, "SAS": 0.14}
_THIO_INTERMEDIATE = {"AFR": 0.10, "AMR": 0.10, "EAS": 0.17, "EUR": 0.09, "SAS": 0.12}
_THIO_POOR = {"AFR": 0.003, "AMR": 0.004, "EAS": 0.01, "EUR": 0.003, "SAS": 0.005}
_CYP2D6 = {  # P(activity score 0), P(0.5-1), P(3: ultrarapid); the rest normal (1.5-2)
    "AFR": (0.02, 0.40, 0.04), "AMR": (0.03, 0.25, 0.03), "EAS": (0.01, 0.45, 0.01),
    "EUR": (0.06, 0.30, 0.02), "SAS": (0.02, 0.30, 0.02),
}
_DPYD_AS = np.array([2.0, 1.5, 1.0, 0.5, 0.0])
_DPYD_P = np.array([0.930, 0.050, 0.018, 0.001, 0.001])


class PhenotypePriorSource:
    """Draws PGx phenotypes from approximate frequencies (no genotypes, no VCF)."""

    description = "phenotype priors (approximate population frequencies; no genotypes, no VCF)"

    def draw(self, n: int, rng: np.random.Generator, female_share: np.ndarray) -> GermlineDraw:
        pops = np.array(list(POPULATIONS))
        population = rng.choice(pops, size=n, p=np.array(list(POPULATIONS.values())) / sum(POPULATIONS.values()))
        dpyd = rng.choice(_DPYD_AS, size=n, p=_DPYD_P / _DPYD_P.sum())
        u = rng.random(n)
        ugt = u < np.vectorize(_UGT1A1_POOR.get)(population)
        u = rng.random(n)
        poor = np.vectorize(_THIO_POOR.get)(population)
        inter = np.vectorize(_THIO_INTERMEDIATE.get)(population)
        thio = np.where(u < poor, "poor", np.where(u < poor + inter, "intermediate", "normal"))
        u = rng.random(n)
        p0 = np.array([_CYP2D6[p][0] for p in population])
        pim = np.array([_CYP2D6[p][1] for p in population])
        pum = np.array([_CYP2D6[p][2] for p in population])
        im_as = rng.choice([0.5, 1.0], size=n)
        nm_as = rng.choice([1.5, 2.0], size=n, p=[0.3, 0.7])
        cyp = np.where(u < p0, 0.0, np.where(u < p0 + pim, im_as, np.where(u > 1 - pum, 3.0, nm_as)))
        sex = np.where(rng.random(n) < female_share, "female", "male")
        phen = pd.DataFrame({"dpyd_activity_score": dpyd, "ugt1a1_poor": ugt, "thiopurine_function": thio,
                             "cyp2d6_activity_score": cyp})
        return GermlineDraw(population=population, phenotypes=phen, sex=sex, description=self.description)


@dataclass
class SimulatedCohort(LoadedCohort):
    """A :class:`~cohorts.loaders.LoadedCohort` plus generation statistics."""

    seconds: float = 0.0
    stats: dict = field(default_factory=dict)


#: Seed suffix of the trial-enrolment random stream (:func:`simulate_cohort`'s ``trial_share``).
_TRIAL_STREAM = 7101


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cum = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


#: Genes of the simulated tumour panel: every gene the simulator draws somatic alterations in, plus the genes whose
#: wild type an indication needs (NRAS for anti-EGFR antibodies). A panel gene without a variant is wild type.
TUMOUR_PANEL: tuple[str, ...] = tuple(sorted({h.gene for h in M.HOTSPOTS.values()} | {"BRCA1", "BRCA2", "NRAS"}))


def simulate_cohort(
    n: int = 2000,
    seed: int = 0,
    *,
    randomised: bool = False,
    trial_share: float = 0.0,
    cancer_mix: dict[str, float] | None = None,
    germline: GermlineSource | None = None,
    expose_pgx: bool = True,
    follow_up_days: tuple[float, float] = (365.0, 5 * 365.0),
    vus_rate: float = 0.0,
    vus_lof_share: float | None = None,
    vus_variants: pd.DataFrame | None = None,
) -> SimulatedCohort:
    """Draw a synthetic cohort of ``n`` patients (reproducible for a given ``seed``).

    Parameters
    ----------
    randomised
        Assign treatments uniformly among the candidates (a randomised trial) instead of by
        indication (observational, confounded).
    trial_share
        Share of patients enrolled in a simulated randomised trial (default 0: none): their treatment is drawn
        uniformly among their cancer type's candidates, the others' by indication. It is how a registry that
        pools trial and routine-care patients looks, and it gives every candidate some patients of every kind
        (overlap): without it, an effect the assignment almost never exposes (tamoxifen in ER-negative disease)
        cannot be estimated by any learner. Enrolment is drawn from a separate random stream, independent of
        the patient: with ``trial_share=0`` the cohort is identical to one simulated without the option.
        Ignored when ``randomised`` (everyone is randomised).
    cancer_mix
        OncoTree code -> share (default :data:`cohorts.simulate_model.CANCER_MIX`).
    germline
        Source of germline data (default :class:`PhenotypePriorSource`).
    vus_rate
        Share of patients given one heterozygous germline BRCA1 variant of uncertain significance (default 0:
        off). Each VUS is a real ENIGMA-classified SNV (:mod:`cohorts.brca_vus`) whose hidden true effect (loss
        of function or not) changes olaparib efficacy like a curated loss of function
        (:data:`cohorts.simulate_model.VUS_LOF_EFFECTS`); it goes into the germline VCF (``KIND=germline_vus``)
        and into ``truth/germline`` (``brca_vus``, ``brca_vus_hidden_lof``, ...), never into observed tables.
        Drawn from a separate random stream: with ``vus_rate=0`` the cohort is identical to one simulated
        without the option.
    vus_lof_share
        Share of VUS carriers whose VUS is truly loss of function (default ``None``: every VUS of the table
        equally likely, 34 of 138 are loss of function).
    vus_variants
        The VUS table (default :func:`cohorts.brca_vus.load_vus_variants`).
    """
    if not 1 <= n <= MAX_PATIENTS_TABLES:
        raise UsageError(f"n = {n} outside 1-{MAX_PATIENTS_TABLES:,}", field="n", fix="choose a smaller cohort")
    mix = dict(cancer_mix or M.CANCER_MIX)
    unknown = [c for c in mix if c not in M.CANCER_SETTINGS]
    if unknown:
        raise UsageError(f"no simulation model for cancer type(s) {', '.join(unknown)}", field="cancer_types",
                         fix=f"choose among {', '.join(M.CANCER_SETTINGS)}")
    if not 0.0 <= float(vus_rate) <= 1.0:
        raise UsageError(f"vus_rate = {vus_rate} outside 0-1", field="vus_rate", fix="give a share between 0 and 1")
    if not 0.0 <= float(trial_share) <= 1.0:
        raise UsageError(f"trial_share = {trial_share} outside 0-1", field="trial_share",
                         fix="give a share between 0 and 1")
    if vus_lof_share is not None and not 0.0 <= float(vus_lof_share) <= 1.0:
        raise UsageError(f"vus_lof_share = {vus_lof_share} outside 0-1", field="vus_lof_share",
                         fix="give a share between 0 and 1, or leave it unset")
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    # trial enrolment: its own stream (the main one draws the same numbers whatever the share)
    in_trial = (np.zeros(n, dtype=bool) if randomised or not trial_share
                else np.random.default_rng([seed, _TRIAL_STREAM]).random(n) < float(trial_share))
    germline = germline or PhenotypePriorSource()

    # -- cancer type, demographics ---------------------------------------------------------------
    codes = np.array(list(mix))
    shares = np.array([mix[c] for c in codes], dtype=float)
    cancer = rng.choice(codes, size=n, p=shares / shares.sum())
    settings = [M.CANCER_SETTINGS[c] for c in cancer]
    female_share = np.array([s.female for s in settings])
    vus = _draw_vus(n, seed, float(vus_rate), vus_lof_share, vus_variants) if vus_rate > 0 else None
    if getattr(germline, "uses_brca_rate", False):  # genotype sources put germline BRCA1/2 into the VCF
        extra = {} if vus is None else {"extra_sites": (vus["sites"], vus["genotypes"])}
        g = germline.draw(n, rng, female_share, brca_rate=np.array([s.germline_brca for s in settings]), **extra)
    else:
        g = germline.draw(n, rng, female_share)
    population = np.asarray(g.population)
    sex = np.asarray(g.sex) if g.sex is not None else np.where(rng.random(n) < female_share, "female", "male")
    if g.sex is not None:  # a genotype-based source fixes sex: keep sex-specific cancers consistent
        cancer = np.where((sex == "male") & np.isin(cancer, ["HGSOC"]), "COAD", cancer)
        settings = [M.CANCER_SETTINGS[c] for c in cancer]
    age = np.clip(rng.normal([s.age_mean for s in settings], [s.age_sd for s in settings]), 18, 90).round(1)
    ancestry = np.array([_ANCESTRY[p] for p in population], dtype=object)
    ancestry[rng.random(n) < 0.03] = None

    # -- lifestyle ----------------------------------------------------------------------------------
    smoke_p = np.array([s.smoking for s in settings])
    smoking = np.array(["current", "former", "never"])[_choice_rows(rng, smoke_p)]
    ever = smoking != "never"
    pack_years = np.where(ever, rng.gamma(2.0, 14.0, n).round(1), np.nan)
    pack_years = np.where(smoking == "never", 0.0, pack_years)
    bmi = np.clip(rng.normal(27.0 - 1.5 * (cancer == "PAAD"), 5.0), 15, 50).round(1)
    alcohol = rng.choice(["none", "moderate", "heavy"], size=n, p=[0.35, 0.5, 0.15])
    units = np.where(alcohol == "none", 0.0, np.where(alcohol == "moderate", rng.uniform(1, 14, n),
                                                      rng.uniform(15, 50, n))).round(0)

    # -- ECOG, labs, comorbidities -------------------------------------------------------------------
    ecog_lat = 0.03 * (age - 60) + 0.3 * (smoking == "current") + rng.normal(0, 1, n)
    ecog = np.digitize(ecog_lat, [-0.2, 0.9, 1.9, 2.8]).astype(int)
    activity = np.array(["high", "moderate", "low", "sedentary", "sedentary"])[
        np.clip(ecog + rng.integers(-1, 2, n), 0, 4)]
    female = sex == "female"
    height = np.where(female, rng.normal(1.63, 0.07, n), rng.normal(1.77, 0.07, n))
    weight = bmi * height ** 2
    creat = np.exp(rng.normal(np.log(np.where(female, 70, 85)) + 0.004 * (age - 50), 0.22))
    crcl = np.clip((140 - age) * weight * np.where(female, 1.04, 1.23) / creat, 5, 250).round(1)
    bilirubin = np.clip(np.exp(rng.normal(np.log(9.0), 0.45, n)), 1, 200).round(1)
    neutrophils = np.clip(np.exp(rng.normal(np.log(4.2), 0.35, n)), 0.3, 40).round(2)
    platelets = np.clip(np.exp(rng.normal(np.log(250), 0.3, n)), 20, 1500).round(0)
    hemoglobin = np.clip(rng.normal(np.where(female, 12.4, 13.4) - 0.4 * ecog, 1.4), 6, 19).round(1)
    albumin = np.clip(rng.normal(40 - 2.0 * ecog, 4.0), 15, 55).round(1)
    lvef = np.clip(rng.normal(62 - 0.1 * (age - 60), 5.0), 35, 80).round(0)
    hyper = rng.random(n) < _sigmoid(-3 + 0.05 * (age - 40) + 0.08 * (bmi - 25))
    diab = rng.random(n) < _sigmoid(-3.5 + 0.03 * (age - 40) + 0.12 * (bmi - 25))
    copd = rng.random(n) < _sigmoid(-3.5 + 0.04 * np.nan_to_num(pack_years))

    # -- medications (CYP2D6 inhibitors -> phenoconversion) ------------------------------------------
    antidep = np.where(rng.random(n) < 0.14, rng.choice(
        ["paroxetine", "fluoxetine", "sertraline", "citalopram", "duloxetine", "bupropion"], size=n,
        p=[0.2, 0.2, 0.25, 0.15, 0.1, 0.1]), None)
    ppi = rng.random(n) < 0.2
    htn_drug = rng.choice(["amlodipine", "lisinopril"], size=n)
    meds = []
    for i in range(n):
        m = []
        if antidep[i] is not None:
            m.append(antidep[i])
        if diab[i]:
            m.append("metformin")
        if hyper[i]:
            m.append(htn_drug[i])
        if ppi[i]:
            m.append("omeprazole")
        meds.append(m)
    strength = {row.drug: row.strength for row in vocab.CYP_MODULATORS
                if row.enzyme == "CYP2D6" and row.effect == "inhibitor"}
    inhibitor = np.array([strength.get(a) if a is not None else None for a in antidep], dtype=object)
    phen = g.phenotypes.reset_index(drop=True)
    cyp_as = phen["cyp2d6_activity_score"].to_numpy(float)
    # CPIC phenoconversion: strong inhibitor -> activity 0; moderate -> activity x 0.5.
    cyp_eff = np.where(inhibitor == "strong", 0.0, np.where(inhibitor == "moderate", cyp_as * 0.5, cyp_as))
    cyp2d6_function = np.clip(cyp_eff / 1.25, 0, 1)

    # -- tumour drivers -------------------------------------------------------------------------------
    germ_brca = phen.get("germline_brca_lof")
    if germ_brca is None or germ_brca.isna().all():
        germ_brca = rng.random(n) < np.array([s.germline_brca for s in settings])
    else:
        germ_brca = germ_brca.fillna(False).to_numpy(bool)
    somatic_brca = (cancer == "HGSOC") & (rng.random(n) < 0.05)
    brca_lof = germ_brca | somatic_brca
    # a VUS that is truly loss of function acts only where no curated/somatic loss of function already does
    vus_lof = (vus["carrier"] & vus["hidden_lof"] & ~brca_lof) if vus is not None else None
    brca_gene = rng.choice(["BRCA1", "BRCA2"], size=n)
    if "germline_brca_gene" in phen:  # the gene of the germline variant in the VCF
        brca_gene = np.where(germ_brca & phen["germline_brca_gene"].notna().to_numpy(),
                             phen["germline_brca_gene"].to_numpy(), brca_gene)
    drivers: list[list[str]] = [[] for _ in range(n)]
    east_asian = population == "EAS"
    for code in np.unique(cancer):
        idx = np.flatnonzero(cancer == code)
        for group in M.DRIVER_GROUPS.get(code, ()):
            names = [h for h, _ in group]
            p = np.tile(np.array([q for _, q in group]), (len(idx), 1))
            for j, name in enumerate(names):
                if name.startswith("EGFR"):
                    p[:, j] *= np.where(east_asian[idx], 2.7, 1.0) * np.where(
                        smoking[idx] == "never", 1.8, np.where(smoking[idx] == "current", 0.6, 1.0))
                if name == "KRAS G12C":
                    p[:, j] *= np.where(ever[idx], 1.5, 0.3)
                if name == "ALK fusion":
                    p[:, j] *= np.where(ever[idx], 1.0, 2.0)
            total = p.sum(axis=1, keepdims=True)
            p = np.where(total > 0.95, p * 0.95 / total, p)
            probs = np.hstack([p, 1 - p.sum(axis=1, keepdims=True)])
            pick = _choice_rows(rng, probs)
            for k, row in zip(pick, idx):
                if k < len(names):
                    drivers[row].append(names[k])
    has = lambda name: np.array([name in d for d in drivers])
    kras_mut = np.array([any(x.startswith("KRAS") for x in d) for d in drivers])
    braf = has("BRAF V600E")
    egfr = np.array([any(x.startswith("EGFR") for x in d) for d in drivers])
    erbb2 = has("ERBB2 amplification")
    er_pos = (cancer == "BRCA") & (rng.random(n) < np.where(erbb2, 0.5, 0.8))

    features = {
        "egfr_sensitising": egfr.astype(float), "kras_mut": kras_mut.astype(float),
        "ras_raf_wt": (~kras_mut & ~braf).astype(float), "erbb2_amp": erbb2.astype(float),
        "brca_lof": brca_lof.astype(float), "er_positive": er_pos.astype(float),
        "er_negative": ((cancer == "BRCA") & ~er_pos).astype(float), "cyp2d6_function": cyp2d6_function,
        "ever_smoker": ever.astype(float), "frail": ((ecog >= 2) | (age > 75)).astype(float),
        "age_over_70": (age > 70).astype(float), "low_crcl": (crcl < 50).astype(float),
    }
    dpyd_deficit = 2.0 - phen["dpyd_activity_score"].to_numpy(float)
    dpyd_tested = rng.random(n) < M.DPYD_TEST_RATE
    features["dpyd_tested_deficit"] = (dpyd_tested & (dpyd_deficit > 0)).astype(float)
    thio = phen["thiopurine_function"].to_numpy()
    tox_features = {
        "dpyd_deficit": dpyd_deficit, "ugt1a1_poor": phen["ugt1a1_poor"].to_numpy(bool).astype(float),
        "thiopurine_intermediate": (thio == "intermediate").astype(float),
        "thiopurine_poor": (thio == "poor").astype(float), "age_over_70": features["age_over_70"],
        "ecog": ecog.astype(float), "low_crcl": features["low_crcl"], "high_bilirubin": (bilirubin > 31.5).astype(float),
    }
    prognosis = (0.35 * ecog + 0.015 * (age - 60) + 0.25 * (smoking == "current") + 0.03 * (40 - albumin)
                 + 0.4 * braf + 0.15 * kras_mut * np.isin(cancer, ["COAD", "READ"]))

    # -- oracle: every patient x candidate ---------------------------------------------------------------
    oracle_rows, assign_rows = [], []
    received = np.empty(n, dtype=object)
    outcome_cols = {k: np.full(n, np.nan) for k in ("p_response", "pfs_rate", "pps_rate")}
    tox_p_received: list[dict[str, float]] = [{} for _ in range(n)]
    for code in np.unique(cancer):
        idx = np.flatnonzero(cancer == code)
        cands = M.CANDIDATES[code]
        setting = M.CANCER_SETTINGS[code]
        eta_ref = max(M.EFFICACY_BASE[code].values())
        eta = np.zeros((len(idx), len(cands)))
        scores = np.zeros_like(eta)
        tox = {}
        for k, reg in enumerate(cands):
            eta[:, k] = M.EFFICACY_BASE[code][reg]
            for (r, feat), beta in M.EFFICACY_EFFECTS.items():
                if r == reg:
                    eta[:, k] += beta * features[feat][idx]
            if vus_lof is not None and reg in M.VUS_LOF_EFFECTS:  # efficacy only: assignment never sees it
                eta[:, k] += M.VUS_LOF_EFFECTS[reg] * vus_lof[idx]
            pref = M.ASSIGNMENT.get(reg, {"base": 0.0})
            scores[:, k] = pref.get("base", 0.0) + sum(
                b * features[f][idx] for f, b in pref.items() if f != "base")
            tox[reg] = _regimen_toxicity(reg, idx, tox_features)
        p_resp = _sigmoid(eta - M.RESPONSE_PROGNOSIS * prognosis[idx, None])
        lam0 = math.log(2) ** (1 / M.WEIBULL_SHAPE) / setting.pfs_median_days
        pfs_rate = lam0 * np.exp((prognosis[idx, None] - M.PFS_EFFICACY * (eta - eta_ref)) / M.WEIBULL_SHAPE)
        pps_rate = math.log(2) / setting.pps_median_days * np.exp(0.7 * prognosis[idx, None])
        exp_pfs = math.gamma(1 + 1 / M.WEIBULL_SHAPE) / pfs_rate
        exp_os = exp_pfs + 1 / pps_rate
        for k, reg in enumerate(cands):
            p_any = 1 - np.prod([1 - v for v in tox[reg].values()], axis=0) if tox[reg] else np.zeros(len(idx))
            row = {
                "patient_id": idx, "regimen": reg, "p_response": p_resp[:, k],
                "median_pfs_days": np.log(2) ** (1 / M.WEIBULL_SHAPE) / pfs_rate[:, k],
                "expected_pfs_days": exp_pfs[:, k], "expected_os_days": exp_os[:, k], "p_any_severe_toxicity": p_any,
                "utility": exp_pfs[:, k] / 365.25 - M.UTILITY_TOX_PENALTY_YEARS * p_any,
            }
            for term, p in tox[reg].items():
                row[f"p_severe:{term}"] = p
            oracle_rows.append(pd.DataFrame(row))
        if randomised:
            probs = np.full_like(scores, 1 / len(cands))
        else:
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            probs[in_trial[idx]] = 1 / len(cands)
        pick = _choice_rows(rng, probs)
        for k, reg in enumerate(cands):
            rows_k = {"patient_id": idx, "regimen": reg, "propensity": probs[:, k]}
            if in_trial.any():  # a trial component: who was randomised (absent otherwise: cohorts stay identical)
                rows_k["randomised"] = in_trial[idx]
            assign_rows.append(pd.DataFrame(rows_k))
        rows = np.arange(len(idx))
        received[idx] = np.array(cands, dtype=object)[pick]
        outcome_cols["p_response"][idx] = p_resp[rows, pick]
        outcome_cols["pfs_rate"][idx] = pfs_rate[rows, pick]
        outcome_cols["pps_rate"][idx] = pps_rate[:, 0]
        for j, i in enumerate(idx):
            reg = received[i]
            tox_p_received[i] = {term: float(p[j]) for term, p in tox[reg].items()}

    # -- observed outcomes ---------------------------------------------------------------------------------
    responded = rng.random(n) < outcome_cols["p_response"]
    cr = rng.random(n) < 0.2
    sd = rng.random(n) < 0.6
    best = np.where(responded, np.where(cr, "CR", "PR"), np.where(sd, "SD", "PD")).astype(object)
    best[rng.random(n) < 0.03] = "NE"
    pfs = (-np.log(rng.random(n))) ** (1 / M.WEIBULL_SHAPE) / outcome_cols["pfs_rate"]
    os_ = pfs + rng.exponential(1 / outcome_cols["pps_rate"])
    censor = rng.uniform(*follow_up_days, n)
    ae_rows = []
    u_all = rng.random((n, 8))
    grade_u = rng.random((n, 8))
    for i in range(n):
        for t, (term, p) in enumerate(sorted(tox_p_received[i].items())[:8]):
            if u_all[i, t] < p:
                gu = grade_u[i, t]
                grade = 3 if gu < 0.8 else (4 if gu < 0.98 else 5)
            elif u_all[i, t] < min(1.0, 3 * p):
                grade = 1 if grade_u[i, t] < 0.5 else 2
            else:
                continue
            grade = min(grade, vocab.CTCAE_TERMS[term].max_grade)
            ae_rows.append((i, term, grade))

    # -- tables ---------------------------------------------------------------------------------------------
    width = max(6, len(str(n)))
    pid = np.array([f"SIM{seed}-{i:0{width}d}" for i in range(n)], dtype=object)
    comorb = [[name for flag, name in ((hyper[i], "hypertension"), (diab[i], "type 2 diabetes mellitus"),
                                       (copd[i], "chronic obstructive pulmonary disease")) if flag] for i in range(n)]
    patients = pd.DataFrame({
        "patient_id": pid, "sample_id": g.sample_id if g.sample_id is not None else None,
        "age": age, "sex": sex, "ancestry": ancestry, "population": population, "cancer_type": cancer,
        "stage": np.where(cancer == "BLL", None, "IV"), "ecog": ecog, "smoking": smoking, "pack_years": pack_years,
        "alcohol": alcohol, "alcohol_units_per_week": units, "bmi": bmi, "physical_activity": activity,
        "creatinine_clearance": crcl, "creatinine": creat.round(0), "bilirubin": bilirubin, "albumin": albumin,
        "neutrophils": neutrophils, "platelets": platelets, "hemoglobin": hemoglobin, "lvef": lvef,
        "comorbidities": comorb, "medications": meds,
        "er_positive": np.where(cancer == "BRCA", er_pos, None),
        # every simulated tumour is tested with the same panel: a panel gene without a simulated variant is wild type
        "tumour_tested_genes": [list(TUMOUR_PANEL)] * n,
    })
    if expose_pgx:
        patients["pgx_dpyd_activity_score"] = phen["dpyd_activity_score"].to_numpy()
        patients["pgx_ugt1a1_poor"] = phen["ugt1a1_poor"].to_numpy(bool)
        patients["pgx_thiopurine_function"] = thio
        patients["pgx_cyp2d6_activity_score"] = cyp_as
    treatments = pd.DataFrame({"treatment_id": [f"{p}-t1" for p in pid], "patient_id": pid, "regimen": received,
                               "drugs": [list(vocab.regimen(r).drugs) for r in received], "line": 1})
    outcomes = pd.DataFrame({
        "patient_id": pid, "best_response": best,
        "pfs_days": np.minimum(pfs, censor).round(1), "pfs_event": pfs <= censor,
        "os_days": np.minimum(os_, censor).round(1), "os_event": os_ <= censor,
    })
    adverse = pd.DataFrame({
        "patient_id": [pid[i] for i, _, _ in ae_rows], "treatment_id": [f"{pid[i]}-t1" for i, _, _ in ae_rows],
        "term": [t for _, t, _ in ae_rows], "grade": [gr for _, _, gr in ae_rows],
    }, columns=["patient_id", "treatment_id", "term", "grade"])
    tv_rows = []
    hot38 = _hotspot_alleles()
    for i in range(n):
        for name in drivers[i]:
            h = M.HOTSPOTS[name]
            a = hot38.get((h.gene, h.protein_change))  # GRCh38 position from the cited biomarker table
            tv_rows.append({"patient_id": pid[i], "gene": h.gene, "protein_change": h.protein_change,
                            "variant_type": h.variant_type, "chrom": a.chrom if a else h.chrom,
                            "pos": a.pos if a else h.pos, "ref": a.ref if a else h.ref,
                            "alt": a.alt if a else h.alt, "fusion_partner": h.fusion_partner,
                            "vaf": round(float(rng.uniform(0.1, 0.6)), 3) if h.variant_type != "amplification" else None})
        if brca_lof[i]:
            tv_rows.append({"patient_id": pid[i], "gene": brca_gene[i], "protein_change": None,
                            "variant_type": "loss_of_function", "vaf": None})
    tumour = pd.DataFrame(tv_rows, columns=["patient_id", "gene", "protein_change", "variant_type", "chrom", "pos",
                                            "ref", "alt", "fusion_partner", "vaf"])

    oracle = pd.concat(oracle_rows, ignore_index=True)
    oracle["patient_id"] = pid[oracle["patient_id"].to_numpy()]
    oracle = oracle.sort_values(["patient_id", "regimen"], kind="stable").reset_index(drop=True)
    assignment = pd.concat(assign_rows, ignore_index=True)
    assignment["patient_id"] = pid[assignment["patient_id"].to_numpy()]
    assignment = assignment.sort_values(["patient_id", "regimen"], kind="stable").reset_index(drop=True)
    germ = phen.copy()
    germ.insert(0, "patient_id", pid)
    germ["population"] = population
    germ["germline_brca_lof"] = germ_brca
    germ["somatic_brca_lof"] = somatic_brca
    germ["cyp2d6_inhibitor"] = inhibitor
    germ["cyp2d6_effective_activity"] = cyp_eff
    germ["dpyd_tested_before_treatment"] = dpyd_tested
    vus_note: tuple[str, ...] = ()
    if vus is not None:
        t = vus["table"]
        w = vus["which"]
        car = vus["carrier"]
        germ["brca_vus"] = np.where(car, (t["gene"] + " " + t["hgvs_c"]).to_numpy()[w], None)
        germ["brca_vus_gene"] = np.where(car, t["gene"].to_numpy()[w], None)
        germ["brca_vus_variant"] = np.where(
            car, (t["chrom"] + ":" + t["pos"].astype(str) + ":" + t["ref"] + ">" + t["alt"]).to_numpy()[w], None)
        germ["brca_vus_consequence"] = np.where(car, t["consequence"].to_numpy()[w], None)
        germ["brca_vus_hidden_lof"] = car & t["hidden_lof"].to_numpy(bool)[w]
        germ["brca_vus_acts"] = vus_lof
        vus_note = ((f"germline BRCA1 VUS: rate {vus_rate}, {int(car.sum())} carriers, "
                     f"{int((car & t['hidden_lof'].to_numpy(bool)[w]).sum())} truly loss of function (hidden truth: "
                     "ENIGMA class, cohorts/data/brca1_vus_enigma.tsv; truth/germline brca_vus_*)"),)
    seconds = time.perf_counter() - start
    trial_tag = f"-trial{float(trial_share):g}" if in_trial.any() else ""
    assignment_note = ("randomised (uniform over candidates)" if randomised else
                       f"by indication (confounded), {int(in_trial.sum())} of {n} patients "
                       f"({float(trial_share):.0%}) randomised uniformly over the candidates (trial component)"
                       if in_trial.any() else "by indication (confounded)")
    stats = {"n": n, "seed": seed, "randomised": randomised, "trial_patients": int(in_trial.sum()),
             "generation_seconds": round(seconds, 3),
             "regimens": {str(k): int(v) for k, v in pd.Series(received).value_counts().items()}}
    if vus is not None:
        stats["vus_carriers"] = int(vus["carrier"].sum())
    return SimulatedCohort(
        name=f"simulated-{n}-seed{seed}{'-randomised' if randomised else ''}{trial_tag}",
        tables={"patients": patients, "treatments": treatments, "outcomes": outcomes, "adverse_events": adverse,
                "tumour_variants": tumour},
        truth_tables={"oracle": oracle, "germline": germ, "assignment": assignment},
        licence=Licence(name="CC0-1.0", note="synthetic data generated by cohorts.simulate"),
        provenance=Provenance(
            source="simulated", source_version=f"{M.MODEL_VERSION}; seed {seed}{trial_tag.replace('-', '; ')}",
            citation="causal model: cohorts/simulate_model.py", loader="cohorts.simulate",
            notes=(f"assignment: {assignment_note}",
                   f"germline: {g.description or type(germline).__name__}",
                   ("truth/oracle: expected outcome of every candidate (never training data); truth/germline: "
                    "true PGx phenotypes; truth/assignment: propensities"),
                   f"utility = expected PFS (years) - {M.UTILITY_TOX_PENALTY_YEARS} x P(any severe toxicity)",
                   *vus_note),
        ),
        description="synthetic cohort with known ground truth",
        vcf=g.vcf,
        seconds=seconds,
        stats=stats,
    )


def _draw_vus(n: int, seed: int, rate: float, lof_share: float | None, table: pd.DataFrame | None) -> dict:
    """Germline BRCA1 VUS of ``n`` patients from their own random stream (see ``simulate_cohort(vus_rate=)``).

    Returns ``carrier``, ``which`` (row of ``table``), ``hidden_lof`` (bool, per patient), the VCF ``sites`` and
    heterozygous ``genotypes`` (``uint8 (rows, n, 2)``) for the germline source, and the ``table``.
    """
    from cohorts.brca_vus import load_vus_variants

    t = (load_vus_variants() if table is None else table).reset_index(drop=True)
    vrng = np.random.default_rng([int(seed), M.VUS_STREAM])
    carrier = vrng.random(n) < rate
    lof_rows = np.flatnonzero(t["hidden_lof"].to_numpy(bool))
    other_rows = np.flatnonzero(~t["hidden_lof"].to_numpy(bool))
    if lof_share is None:
        which = vrng.integers(0, len(t), size=n)
    else:
        if (lof_share > 0 and not len(lof_rows)) or (lof_share < 1 and not len(other_rows)):
            raise UsageError("the VUS table lacks the class vus_lof_share asks for", field="vus_lof_share",
                             fix="use a table with both classes or leave vus_lof_share unset")
        want = vrng.random(n) < lof_share
        pick_l = lof_rows[vrng.integers(0, max(len(lof_rows), 1), size=n)] if len(lof_rows) else np.zeros(n, int)
        pick_o = other_rows[vrng.integers(0, max(len(other_rows), 1), size=n)] if len(other_rows) else np.zeros(n, int)
        which = np.where(want, pick_l, pick_o)
    side = vrng.integers(0, 2, size=n)
    geno = np.zeros((len(t), n, 2), dtype=np.uint8)
    ci = np.flatnonzero(carrier)
    geno[which[ci], ci, side[ci]] = 1
    sites = t.assign(kind="germline_vus", block="BRCA", id=".",
                     source="ENIGMA-classified BRCA1 SNV (cohorts/data/brca1_vus_enigma.tsv)")
    return {"carrier": carrier, "which": which, "hidden_lof": carrier & t["hidden_lof"].to_numpy(bool)[which],
            "sites": sites, "genotypes": geno, "table": t}


def _hotspot_alleles() -> dict:
    """(gene, protein change) -> GRCh38 allele of ``genomics/biomarkers/data/hotspots_grch38.tsv``."""
    from genomics.biomarkers.hotspots import load_hotspots

    out: dict = {}
    for a in load_hotspots().alleles:
        out.setdefault((a.gene, a.protein_change), a)
    return out


def _regimen_toxicity(regimen: str, idx: np.ndarray, feats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """P(severe) per CTCAE term for ``regimen`` over patients ``idx`` (drugs combine as independent causes)."""
    out: dict[str, np.ndarray] = {}
    for drug in vocab.regimen(regimen).drugs:
        classes = set(vocab.DRUGS[drug].classes)
        for term, base in M.TOXICITY_BASE.get(drug, {}).items():
            logit = np.full(len(idx), base)
            for (target, feat), beta in M.TOXICITY_MODIFIERS.items():
                if target == "*" or target == drug or target in classes:
                    logit = logit + beta * feats[feat][idx]
            p = _sigmoid(logit)
            out[term] = 1 - (1 - out[term]) * (1 - p) if term in out else p
    return out
