"""Fused outcome models: response, survival, toxicity; counterfactual comparison; explanations; bundles.

Every estimator follows the scikit-learn contract (``fit`` returns ``self``, fitted attributes end in
``_``, use before ``fit`` raises :class:`NotFittedModelError`, a :class:`sklearn.exceptions.NotFittedError`
and a :class:`genomics.errors.ModelError`). Models are saved as xgboost UBJSON and JSON only (no pickle).

Public API
----------
:class:`ResponseModel` / :class:`CalibratedBoostedClassifier`   calibrated xgboost classifier
:class:`CoxBaseline`, :class:`BoostedSurvival`                   survival curves and medians
:class:`BlendedSurvival`, :class:`NeuralCox`                     blends of those (recalibrated), DeepSurv-style MLP
:class:`CoxTime`                                                 Cox-Time: neural non-proportional hazards g(t, x)
:class:`SurvivalForest`, :class:`BoostedAFT`                     random survival forest (JSON arrays), xgboost AFT
:class:`CurveMixture`                                            non-PH curves: a weighted mean of models' own curves
:class:`ToxicityModel`                                           P(grade >= 3) per CTCAE term
:class:`InteractionLogit`, :class:`InteractionCox`, :class:`InteractionToxicity`   ridge models with explicit
                                                                 drug x covariate interactions (default bundle)
:class:`DrugCauseToxicity`                                       severe toxicity as independent drug causes,
                                                                 pharmacogenes on their CPIC drugs (default bundle)
:class:`PropensityModel`, :class:`BootstrapEnsemble`, :class:`OodDetector`   counterfactual comparison
:func:`explain_probability`, :func:`explain_hazard`, :class:`Driver`         physician-readable drivers
:class:`ModelBundle`, :class:`OptionPrediction`                  versioned bundle + the scoring call
:func:`train_bundle`, :class:`TrainingConfig`, :func:`examples_from_tables`  fit a bundle from cohort tables
"""

from recommender.models._base import (
    BundleIntegrityError,
    FeatureSchemaMismatchError,
    ModelError,
    NotFittedModelError,
)
from recommender.models.bundle import BUNDLE_FORMAT, ModelBundle, OptionPrediction
from recommender.models.counterfactual import BootstrapEnsemble, OodDetector, OodResult, PropensityModel
from recommender.models.effects import (
    DrugCauseToxicity,
    InteractionCox,
    InteractionDesign,
    InteractionLogit,
    InteractionToxicity,
)
from recommender.models.explain import Driver, explain_hazard, explain_probability
from recommender.models.response import CalibratedBoostedClassifier, ResponseModel
from recommender.models._survival_input import survival_target
from recommender.models.survival import BlendedSurvival, BoostedSurvival, CoxBaseline, NeuralCox
from recommender.models.survival_aft import BoostedAFT
from recommender.models.survival_coxtime import CoxTime
from recommender.models.survival_forest import SurvivalForest
from recommender.models.survival_mixture import CurveMixture
from recommender.models.toxicity import ToxicityModel, severe_toxicity_labels
from recommender.models.training import TrainingConfig, examples_from_tables, model_card, train_bundle

__all__ = [
    "BUNDLE_FORMAT",
    "BlendedSurvival",
    "BoostedAFT",
    "BoostedSurvival",
    "BootstrapEnsemble",
    "BundleIntegrityError",
    "CalibratedBoostedClassifier",
    "CoxBaseline",
    "CoxTime",
    "CurveMixture",
    "Driver",
    "DrugCauseToxicity",
    "FeatureSchemaMismatchError",
    "InteractionCox",
    "InteractionDesign",
    "InteractionLogit",
    "InteractionToxicity",
    "ModelBundle",
    "ModelError",
    "NeuralCox",
    "NotFittedModelError",
    "OodDetector",
    "OodResult",
    "OptionPrediction",
    "PropensityModel",
    "ResponseModel",
    "SurvivalForest",
    "ToxicityModel",
    "TrainingConfig",
    "examples_from_tables",
    "explain_hazard",
    "explain_probability",
    "model_card",
    "severe_toxicity_labels",
    "survival_target",
    "train_bundle",
]
