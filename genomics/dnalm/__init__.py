"""DNA language model: zero-shot variant-effect scores, embedding deltas, per-gene pools.

Examples
--------
>>> from genomics.dnalm import load_model, VariantScorer, Variant     # doctest: +SKIP
>>> lm = load_model()                       # the small model shipped in the package, CPU/GPU auto
>>> scorer = VariantScorer(lm)              # bundled GRCh38 subset as reference
>>> scorer.score([Variant("chr17", 43124096, "G", "A")])[0].llr      # doctest: +SKIP

Heavy imports (torch, transformers) happen only when a model is loaded.
"""

from genomics.dnalm.cache import ScoreCache
from genomics.dnalm.consequence import (
    CONSEQUENCE_PRIOR,
    Consequence,
    Transcript,
    annotate,
    combined_score,
    load_transcripts,
)
from genomics.dnalm.conv_model import ConvLMConfig, build_conv_model, load_conv_model, save_conv_model
from genomics.dnalm.evaluate import AurocResult, auroc, bootstrap_auroc, brca1_snv_label_set
from genomics.dnalm.model import (
    DEFAULT_MODEL_DIR,
    DnaLanguageModel,
    inspect_folder,
    load_model,
    select_device,
)
from genomics.dnalm.probe import Probe, WindowFeatures, window_features
from genomics.dnalm.scoring import (
    METHOD_VERSION,
    GeneEmbedding,
    Variant,
    VariantScore,
    VariantScorer,
    pool_by_gene,
)
from genomics.dnalm.tokenization import TokenizedWindow, adapter_for
from genomics.dnalm.variant_effect import (
    PARTS,
    FittedCombination,
    VariantEffect,
    assess,
    fit_combination,
    load_combination,
    part_values,
)

__all__ = [
    "CONSEQUENCE_PRIOR",
    "DEFAULT_MODEL_DIR",
    "METHOD_VERSION",
    "PARTS",
    "AurocResult",
    "Consequence",
    "ConvLMConfig",
    "DnaLanguageModel",
    "FittedCombination",
    "GeneEmbedding",
    "Probe",
    "ScoreCache",
    "TokenizedWindow",
    "Transcript",
    "Variant",
    "VariantEffect",
    "VariantScore",
    "VariantScorer",
    "WindowFeatures",
    "adapter_for",
    "annotate",
    "assess",
    "auroc",
    "bootstrap_auroc",
    "brca1_snv_label_set",
    "build_conv_model",
    "combined_score",
    "fit_combination",
    "inspect_folder",
    "load_combination",
    "load_conv_model",
    "load_model",
    "load_transcripts",
    "part_values",
    "pool_by_gene",
    "save_conv_model",
    "select_device",
    "window_features",
]
