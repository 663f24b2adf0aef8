"""Write ``MODEL_CARD.md`` of a model folder from its ``metrics.json`` (and ``brca1_eval.json`` if present).

    python -m genomics.dnalm.model_card genomics/dnalm/data/default_model
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["main", "render_model_card"]


def _fmt(x, nd=4):
    return "n/a" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def render_model_card(folder: str | Path) -> str:
    folder = Path(folder)
    m = json.loads((folder / "metrics.json").read_text())
    ev = json.loads((folder / "brca1_eval.json").read_text()) if (folder / "brca1_eval.json").exists() else None
    c = m.get("corpus", {})
    h, b = m.get("heldout", {}), m.get("brca1_excluded", {})
    lines = [
        "# Model card: genomics-dnalm-char-esm (default DNA language model)",
        "",
        ("A small character-level masked DNA language model (`EsmForMaskedLM`, native transformers code, "
        "no remote code) pre-trained from scratch on CPU for this project. Research use only."),
        "",
        "## Model",
        (f"- Architecture: ESM encoder, {m.get('layers')} layers, hidden {m.get('hidden')}, {m.get('heads')} heads, "
        f"rotary positions, {m.get('parameters'):,} parameters; weights stored as fp16 safetensors "
        "(loaded as fp32)."),
        "- Tokens: one per base (`A C G T N`) plus `<cls> <pad> <eos> <unk> <mask>` (vocab.txt, EsmTokenizer).",
        f"- Trained window: {m.get('window_bases')} bases (+ `<cls>`/`<eos>`); scoring uses the same window.",
        "",
        "## Training data (real human sequence, ../shared/data/sequence)",
        ("- GRCh37 chr20:1,000,001-2,000,000 (vg test data, MIT), GRCh37 chr22:20,000,001-21,000,000 "
        "(hisat2 example data), GRCh38 chr17:42,425,000-43,600,000 (BRCA1 region), GRCh38 MHC genes "
        "(primary assembly + CHM1 records only; ALT haplotypes, RefSeqGene and HuRef copies dropped)."),
        "- **BRCA1 excluded**: chr17:43,044,295-43,125,483 plus 10 kb each side never entered training.",
        ("- **Held out**: the last 5% of chr20, chr22 and the BRCA1-region remainder, and the whole HLA-DRA "
        "and TAP2 genes."),
        (f"- Bases: train {c.get('train', {}).get('bases', 0):,}, held-out {c.get('valid', {}).get('bases', 0):,}, "
        f"excluded BRCA1 {c.get('excluded', {}).get('bases', 0):,}. Input sha256 in metrics.json."),
        f"- Objective: {m.get('masking')}.",
        "",
        "## Training run",
        (f"- Steps {m.get('step')}, tokens seen {m.get('tokens_seen'):,}, wall time "
        f"{(m.get('train_seconds') or 0) / 60:.1f} min on {m.get('threads')} CPU thread(s) (shared machine), "
        f"batch {m.get('batch')} windows, AdamW lr {m.get('lr')} (warm-up, cosine decay by wall time)."),
        (f"- torch {m.get('torch')}, transformers {m.get('transformers')}; checkpoint saved {m.get('saved_utc')} "
        f"(final: {m.get('final')})."),
        "- Re-run: `python -m genomics.dnalm.train --shared ../shared/data/sequence --out DIR --max-minutes 120`.",
        "",
        "## Held-out metrics (fixed windows, fixed 15% mask, A/C/G/T softmax)",
        "| set | masked tokens | accuracy | perplexity |",
        "|---|---:|---:|---:|",
        f"| held-out regions | {h.get('masked_tokens')} | {_fmt(h.get('accuracy'))} | {_fmt(h.get('perplexity'))} |",
        (f"| BRCA1 gene (excluded from training) | {b.get('masked_tokens')} | {_fmt(b.get('accuracy'))} | "
        f"{_fmt(b.get('perplexity'))} |"),
        "",
        ("For scale, on the held-out set: always predicting the most frequent base (A) gives 0.27 accuracy; "
        "a base-composition model has perplexity about 3.98, a uniform guess 4."),
        "",
    ]
    if ev:
        lm = ev.get("lm_alone_strand_avg", {})
        lines += [
            "## BRCA1 variant-effect check (benchmarks/eval_dnalm_brca1.py)",
            (f"Every SNV of BRCA1's MANE Select CDS and canonical splice sites; positives stop_gained + "
            f"canonical_splice, negatives synonymous ({ev.get('classes')}). Scored model step: "
            f"{ev.get('model_step')}."),
            (f"- LM alone (strand-averaged LLR): AUROC {_fmt(lm.get('auroc'), 3)} "
            f"(95% bootstrap CI {_fmt(lm.get('ci_low'), 3)}-{_fmt(lm.get('ci_high'), 3)})."),
            ("- For scale: a base-composition baseline (log f(alt) - log f(ref), genome base frequencies) "
             "scores 0.31 on the full set and chance is 0.5: the set is confounded by composition."),
            ("- Consequence alone is 1.0 by construction (the labels come from consequence classes), and so is "
            "the combined score; the LM-alone number is the real test."),
            "",
        ]
    lines += [
        "## Licence",
        ("Weights: trained by this project, Apache-2.0 like its code. Training sequence: GRC reference "
        "sequence (public domain) taken from MIT-licensed and example-data files (see ../shared/data/sequence/README.md); "
        "no sequence is shipped with the model."),
        "",
        "## Known limits",
        ("- Tiny model, ~3 Mb of training sequence and a CPU budget of about two hours: it learns base "
        "composition and short repeats, not protein-coding constraint; its zero-shot scores are weak (see the "
        "BRCA1 check) and should be used next to consequence features, never alone."),
        "- Training mixes GRCh37 and GRCh38 segments (fine for a sequence model; positions are never used).",
        "- Only ~0.2 Mb of the MHC data is GRCh38 primary assembly; HLA is highly polymorphic.",
        ("- Larger public models (Nucleotide Transformer, DNABERT-2) load through the same API from a local "
        "folder (`--model DIR`, `--trust-remote-code` where they need it)."),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    folder = Path(args[0]) if args else Path(__file__).resolve().parent / "data" / "default_model"
    text = render_model_card(folder)
    tmp = folder / ".MODEL_CARD.md.tmp"
    tmp.write_text(text)
    tmp.replace(folder / "MODEL_CARD.md")
    print(f"wrote {folder / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
