"""The versioned feature schema: ordered, named features with dtype, group and missing-value policy.

A :class:`FeatureSchema` is the contract between the feature builder (:mod:`recommender.features.build`)
and every model of a bundle (:mod:`recommender.models.bundle`): the column order of the model input,
what each column means, and how a missing value is represented. Its :attr:`FeatureSchema.hash`
(sha256 of the canonical JSON) is stored in a model bundle; a bundle refuses to load against a
schema with another hash.

Missing-value policies (``FeatureSpec.missing``)
------------------------------------------------
``nan``
    The value is ``NaN`` when unknown (xgboost learns a default direction; the Cox baseline imputes
    the training median and adds nothing else).
``indicator``
    As ``nan``, plus a companion binary feature ``<name>__missing`` (1 when unknown) placed right
    after it, for groups where "not measured" itself carries information (pharmacogenomics, DNA LM).
``zero``
    Absence means 0 (one-hot encodings, counts, flags derived from lists that are always known).

Examples
--------
>>> s = default_feature_schema()
>>> s.names[:2]
('demo_age', 'demo_sex_female')
>>> FeatureSchema.from_json(s.to_json()).hash == s.hash
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from recommender import vocab

__all__ = [
    "BUILDER_VERSION",
    "DEFAULT_DNALM_GENES",
    "DEFAULT_PGX_GENES",
    "FEATURE_GROUPS",
    "MISSING_SUFFIX",
    "SCHEMA_FORMAT",
    "FeatureSchema",
    "FeatureSpec",
    "default_feature_schema",
]

#: Version of the feature builder's *semantics*. Bump whenever :mod:`recommender.features.build`
#: computes any feature differently; bundles trained with another version refuse to load.
BUILDER_VERSION = "features/1.0"
SCHEMA_FORMAT = "feature-schema/1"
MISSING_SUFFIX = "__missing"

Group = Literal["demographics", "history", "lifestyle", "medication", "pgx", "biomarker", "dnalm", "treatment"]
FEATURE_GROUPS: tuple[str, ...] = (
    "demographics", "history", "lifestyle", "medication", "pgx", "biomarker", "dnalm", "treatment",
)

#: Pharmacogenes whose phenotypes enter the default schema (those with oncology guidance or
#: phenoconversion relevance).
DEFAULT_PGX_GENES: tuple[str, ...] = ("DPYD", "UGT1A1", "TPMT", "NUDT15", "CYP2D6", "CYP2C19", "CYP2C9")
#: Genes with DNA LM features in the default schema (the bundled reference covers BRCA1).
DEFAULT_DNALM_GENES: tuple[str, ...] = ("BRCA1", "BRCA2")


@dataclass(frozen=True)
class FeatureSpec:
    """One model input column.

    Attributes
    ----------
    name : str
        Column name (``<group prefix>_<what>``), unique in a schema.
    dtype : {"float", "binary", "ordinal", "count"}
    group : str
        One of :data:`FEATURE_GROUPS`.
    missing : {"nan", "indicator", "zero"}
        Missing-value policy (see module docstring).
    label : str
        Physician-readable name ("DPYD activity score").
    driver : str
        Key under which explanations group this feature with related ones ("DPYD", "age").
    unit : str
        Unit or coding of the value ("years", "0=PM 1=IM 2=NM 3=RM 4=UM").
    patient_level : bool
        True when the value depends only on the patient (not on the candidate treatment); the
        propensity and out-of-distribution models use only these.
    """

    name: str
    dtype: Literal["float", "binary", "ordinal", "count"]
    group: Group
    missing: Literal["nan", "indicator", "zero"] = "nan"
    label: str = ""
    driver: str = ""
    unit: str = ""
    patient_level: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FeatureSchema:
    """An ordered tuple of :class:`FeatureSpec` plus the options the builder needs.

    ``columns`` (the model input order) expands every ``indicator`` feature into the feature and its
    ``__missing`` companion.
    """

    features: tuple[FeatureSpec, ...]
    pgx_genes: tuple[str, ...] = DEFAULT_PGX_GENES
    dnalm_genes: tuple[str, ...] = DEFAULT_DNALM_GENES
    dnalm_embedding_dims: int = 4
    covariates: tuple[str, ...] = ()
    builder_version: str = BUILDER_VERSION
    format: str = SCHEMA_FORMAT
    _index: dict[str, FeatureSpec] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate feature names: {', '.join(dup)}")
        index = {f.name: f for f in self.features}
        for f in self.features:
            if f.missing == "indicator":
                index[f.name + MISSING_SUFFIX] = FeatureSpec(
                    f.name + MISSING_SUFFIX, "binary", f.group, "zero", f"{f.label or f.name} not known",
                    f.driver, "1 = unknown", f.patient_level)
        object.__setattr__(self, "_index", index)

    # -- access ------------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Feature names without the ``__missing`` companions."""
        return tuple(f.name for f in self.features)

    @property
    def columns(self) -> tuple[str, ...]:
        """Model input columns in order (``indicator`` features followed by their companion)."""
        out: list[str] = []
        for f in self.features:
            out.append(f.name)
            if f.missing == "indicator":
                out.append(f.name + MISSING_SUFFIX)
        return tuple(out)

    def spec(self, column: str) -> FeatureSpec:
        """The :class:`FeatureSpec` of a column (companions get a synthesised spec)."""
        return self._index[column]

    def columns_in(self, groups: Iterable[str] | None = None, *, patient_level: bool | None = None) -> tuple[str, ...]:
        """Columns of the given groups (all when ``None``), optionally only patient-level ones."""
        wanted = None if groups is None else set(groups)
        return tuple(
            c for c in self.columns
            if (wanted is None or self._index[c].group in wanted)
            and (patient_level is None or self._index[c].patient_level == patient_level)
        )

    def __len__(self) -> int:
        return len(self.columns)

    # -- serialisation -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "builder_version": self.builder_version,
            "pgx_genes": list(self.pgx_genes),
            "dnalm_genes": list(self.dnalm_genes),
            "dnalm_embedding_dims": self.dnalm_embedding_dims,
            "covariates": list(self.covariates),
            "features": [f.to_dict() for f in self.features],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        if data.get("format") != SCHEMA_FORMAT:
            raise ValueError(f"not a feature schema of format {SCHEMA_FORMAT}: {data.get('format')!r}")
        return cls(
            features=tuple(FeatureSpec(**f) for f in data["features"]),
            pgx_genes=tuple(data["pgx_genes"]),
            dnalm_genes=tuple(data["dnalm_genes"]),
            dnalm_embedding_dims=int(data["dnalm_embedding_dims"]),
            covariates=tuple(data.get("covariates", ())),
            builder_version=data["builder_version"],
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FeatureSchema:
        return cls.from_dict(json.loads(text))

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON (sorted keys, no whitespace); computed once per schema (it is immutable)."""
        cached = self.__dict__.get("_hash_cache")
        if cached is None:
            canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
            cached = hashlib.sha256(canonical.encode()).hexdigest()
            object.__setattr__(self, "_hash_cache", cached)
        return cached


# ---------------------------------------------------------------------------------------------
# The default schema
# ---------------------------------------------------------------------------------------------

#: Ordinal coding of metaboliser / function phenotypes (lower = less function).
PHENOTYPE_CODING = "0=poor 1=intermediate 2=normal 3=rapid/increased 4=ultrarapid"
_SEX = "1 = female, 0 = male, NaN = other/unknown"

#: Gene-drug pairs with an explicit interaction feature (CPIC guidelines: DPYD-fluoropyrimidines,
#: Amstutz 2018; UGT1A1-irinotecan (DPWG 2022); TPMT/NUDT15-thiopurines, Relling 2019; CYP2D6-tamoxifen,
#: Goetz 2018). ``(feature suffix, drug or class, label)``.
PGX_INTERACTIONS: tuple[tuple[str, str, str], ...] = (
    ("fluoropyrimidine_x_dpyd_deficit", "fluoropyrimidine", "DPYD deficit (2 - activity score) with a fluoropyrimidine"),
    ("irinotecan_x_ugt1a1_decreased", "irinotecan", "UGT1A1 decreased function (2 - phenotype code) with irinotecan"),
    ("thiopurine_x_thiopurine_deficit", "thiopurine", "TPMT/NUDT15 deficit (2 - worse phenotype code) with a thiopurine"),
    ("tamoxifen_x_cyp2d6_function", "tamoxifen", "functional CYP2D6 activity score (after inhibitors) with tamoxifen"),
)

#: Tumour biomarker flags (patient level) derived from tumour variants.
BIOMARKER_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("egfr_sensitising", "EGFR", "EGFR sensitising mutation (L858R or exon 19 deletion)"),
    ("egfr_t790m", "EGFR", "EGFR T790M"),
    ("kras_mutant", "KRAS", "KRAS mutation"),
    ("kras_g12c", "KRAS", "KRAS G12C"),
    ("nras_mutant", "NRAS", "NRAS mutation"),
    ("braf_v600e", "BRAF", "BRAF V600E"),
    ("ras_raf_wildtype", "RAS/RAF", "KRAS, NRAS and BRAF V600 wild type"),
    ("pik3ca_mutant", "PIK3CA", "PIK3CA mutation"),
    ("erbb2_amplified", "ERBB2", "ERBB2 amplification"),
    ("erbb2_mutant", "ERBB2", "ERBB2 mutation"),
    ("alk_fusion", "ALK", "ALK fusion"),
    ("ros1_fusion", "ROS1", "ROS1 fusion"),
    ("brca_lof", "BRCA1/2", "BRCA1/2 loss of function (germline or somatic)"),
    ("tp53_mutant", "TP53", "TP53 mutation"),
)

_TREATMENT_MODALITIES: tuple[str, ...] = (
    "chemotherapy", "endocrine", "targeted", "immunotherapy", "radiotherapy", "combination", "none", "unspecified",
)
_SMOKING = "0=never 1=former 2=current"
_ALCOHOL = "0=none 1=moderate 2=heavy"
_ACTIVITY = "0=sedentary 1=low 2=moderate 3=high"
_STAGE = "0..4 (AJCC group)"


def _f(name: str, dtype: str, group: str, missing: str = "nan", label: str = "", driver: str = "", unit: str = "",
       patient_level: bool = True) -> FeatureSpec:
    return FeatureSpec(name, dtype, group, missing, label or name, driver or label or name, unit,  # type: ignore[arg-type]
                       patient_level)


def _build_default(pgx_genes: tuple[str, ...], dnalm_genes: tuple[str, ...], dims: int,
                   covariates: tuple[str, ...] = ()) -> FeatureSchema:
    fs: list[FeatureSpec] = [
        _f("demo_age", "float", "demographics", label="age", driver="age", unit="years"),
        _f("demo_sex_female", "binary", "demographics", label="sex", driver="sex", unit=_SEX),
    ]
    fs += [_f(f"demo_cancer_{code}", "binary", "demographics", "zero", f"cancer type {code}", "cancer type")
           for code in vocab.ONCOTREE]
    fs += [
        _f("hist_ecog", "ordinal", "history", label="ECOG performance status", driver="ECOG", unit="0-4"),
        _f("hist_stage", "ordinal", "history", label="stage", driver="stage", unit=_STAGE),
        _f("hist_n_prior_lines", "count", "history", "zero", "prior treatment lines", "prior treatment"),
        _f("hist_n_comorbidities", "count", "history", "zero", "number of comorbidities", "comorbidities"),
    ]
    fs += [_f(f"lab_{lab}", "float", "history", label=spec.description, driver=spec.description, unit=spec.unit)
           for lab, spec in vocab.LABS.items()]
    fs += [
        _f("life_smoking", "ordinal", "lifestyle", label="smoking", driver="smoking", unit=_SMOKING),
        _f("life_pack_years", "float", "lifestyle", label="pack-years", driver="smoking", unit="pack-years"),
        _f("life_alcohol", "ordinal", "lifestyle", label="alcohol", driver="alcohol", unit=_ALCOHOL),
        _f("life_alcohol_units", "float", "lifestyle", label="alcohol units per week", driver="alcohol",
           unit="units/week"),
        _f("life_bmi", "float", "lifestyle", label="BMI", driver="BMI", unit="kg/m2"),
        _f("life_activity", "ordinal", "lifestyle", label="physical activity", driver="physical activity",
           unit=_ACTIVITY),
        _f("med_n_medications", "count", "medication", "zero", "number of current medications", "co-medication"),
    ]
    for enzyme in ("CYP2D6", "CYP2C19", "CYP2C9", "CYP3A"):
        e = enzyme.lower()
        for effect in ("inhibitor", "inducer"):
            if enzyme == "CYP2D6" and effect == "inducer":
                continue  # CYP2D6 is not inducible (FDA table lists none)
            for strength in ("strong", "moderate"):
                fs.append(_f(f"med_{e}_{strength}_{effect}", "count", "medication", "zero",
                             f"{strength} {enzyme} {effect}s taken", f"{enzyme} {effect}"))
    for gene in pgx_genes:
        g = gene.lower()
        fs.append(_f(f"pgx_{g}_phenotype", "ordinal", "pgx", "indicator", f"{gene} phenotype", gene, PHENOTYPE_CODING))
        if gene in ("DPYD", "CYP2D6", "CYP2C9"):
            fs.append(_f(f"pgx_{g}_activity_score", "float", "pgx", "indicator", f"{gene} activity score", gene,
                         "CPIC activity score"))
        if gene in ("CYP2D6", "CYP2C19"):
            fs.append(_f(f"pgx_{g}_functional_phenotype", "ordinal", "pgx", "nan",
                         f"{gene} functional phenotype (after inhibitors)", gene, PHENOTYPE_CODING))
        if gene == "CYP2D6":
            fs.append(_f("pgx_cyp2d6_functional_activity_score", "float", "pgx", "nan",
                         "CYP2D6 functional activity score (after inhibitors)", gene, "activity score x inhibitor factor"))
    if "TPMT" in pgx_genes or "NUDT15" in pgx_genes:
        fs.append(_f("pgx_thiopurine_phenotype", "ordinal", "pgx", "indicator",
                     "thiopurine metabolism (worse of TPMT, NUDT15)", "TPMT/NUDT15", PHENOTYPE_CODING))
    fs += [_f(f"bm_{name}", "binary", "biomarker", "zero", label, driver) for name, driver, label in BIOMARKER_FLAGS]
    fs += [
        _f("bm_er_positive", "binary", "biomarker", "indicator", "oestrogen receptor positive", "ER status"),
        _f("bm_msi_high", "binary", "biomarker", "nan", "MSI-high", "MSI"),
        _f("bm_tmb", "float", "biomarker", "nan", "tumour mutational burden", "TMB", "mutations/Mb"),
        _f("bm_n_tumour_variants", "count", "biomarker", "zero", "number of reported tumour variants",
           "tumour variants"),
        _f("bm_option_sensitivity_level", "ordinal", "biomarker", "zero",
           "biomarker predicting sensitivity to this treatment", "biomarker match",
           "0=none 1=level 4 2=level 3 3=level 2 4=level 1", patient_level=False),
        _f("bm_option_resistance_level", "ordinal", "biomarker", "zero",
           "biomarker predicting resistance to this treatment", "biomarker match",
           "0=none 1=level R2 2=level R1", patient_level=False),
    ]
    for gene in dnalm_genes:
        g = gene.lower()
        drv = f"{gene} DNA LM"
        fs += [
            _f(f"dnalm_{g}_n_variants", "count", "dnalm", "indicator", f"{gene} variants scored by the DNA LM", drv),
            _f(f"dnalm_{g}_min_llr", "float", "dnalm", "nan", f"{gene} most damaging DNA LM score (min LLR)", drv),
            _f(f"dnalm_{g}_sum_llr", "float", "dnalm", "nan", f"{gene} summed DNA LM score (LLR)", drv),
        ]
        fs += [_f(f"dnalm_{g}_emb{k}", "float", "dnalm", "nan", f"{gene} DNA LM embedding {k}", drv)
               for k in range(dims)]
    fs += [_f(f"tx_drug_{d.replace(' ', '_')}", "binary", "treatment", "zero", f"treatment includes {d}",
              "treatment", patient_level=False)
           for d, spec in vocab.DRUGS.items() if spec.oncology]
    fs += [_f(f"tx_class_{c}", "binary", "treatment", "zero", f"treatment includes {desc}", "treatment",
              patient_level=False)
           for c, desc in vocab.DRUG_CLASSES.items()]
    fs += [_f(f"tx_modality_{m}", "binary", "treatment", "zero", f"{m} treatment", "treatment", patient_level=False)
           for m in _TREATMENT_MODALITIES]
    fs += [
        _f("tx_n_drugs", "count", "treatment", "zero", "number of drugs", "treatment", patient_level=False),
        _f("tx_prior_same_class", "binary", "treatment", "zero", "a prior line used a class of this treatment",
           "prior treatment", patient_level=False),
    ]
    fs += [_f(f"cov_{name}", "float", "history", "nan", name.replace("_", " "), name.replace("_", " "))
           for name in covariates]
    for suffix, _target, label in PGX_INTERACTIONS:
        gene = {"fluoropyrimidine_x_dpyd_deficit": "DPYD", "irinotecan_x_ugt1a1_decreased": "UGT1A1",
                "thiopurine_x_thiopurine_deficit": "TPMT/NUDT15", "tamoxifen_x_cyp2d6_function": "CYP2D6"}[suffix]
        fs.append(_f(f"tx_{suffix}", "float", "pgx", "zero", label, gene, patient_level=False))
    return FeatureSchema(features=tuple(fs), pgx_genes=pgx_genes, dnalm_genes=dnalm_genes, dnalm_embedding_dims=dims,
                         covariates=covariates)


@lru_cache(maxsize=16)
def _cached_default(pgx_genes: tuple[str, ...], dnalm_genes: tuple[str, ...], dims: int,
                    covariates: tuple[str, ...]) -> FeatureSchema:
    return _build_default(pgx_genes, dnalm_genes, dims, covariates)


def default_feature_schema(
    *,
    pgx_genes: Sequence[str] = DEFAULT_PGX_GENES,
    dnalm_genes: Sequence[str] = DEFAULT_DNALM_GENES,
    dnalm_embedding_dims: int = 4,
    covariates: Sequence[str] = (),
) -> FeatureSchema:
    """The product's feature schema (vocabulary-driven, so it changes only with the vocabularies).

    Parameters
    ----------
    pgx_genes
        Pharmacogenes with phenotype features (default :data:`DEFAULT_PGX_GENES`).
    dnalm_genes
        Genes with DNA LM features (pass ``()`` for a schema without the DNA LM block).
    dnalm_embedding_dims
        How many leading dimensions of each gene's pooled embedding delta become features.
    covariates
        Extra numeric clinical covariates of a source cohort (e.g. ``positive_nodes``, ``npi``), each a
        ``cov_<name>`` feature read from the ``covariates`` block (NaN when absent).
    """
    if dnalm_embedding_dims < 0:
        raise ValueError("dnalm_embedding_dims must be >= 0")
    return _cached_default(tuple(g.upper() for g in pgx_genes), tuple(g.upper() for g in dnalm_genes),
                           int(dnalm_embedding_dims), tuple(covariates))
