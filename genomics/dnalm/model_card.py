"""Write ``MODEL_CARD.md`` of a model folder from its ``metrics.json`` (+ ``brca1_eval.json``,
``comparison.json`` and the shipped variant-effect combination when present).

    python -m genomics.dnalm.model_card genomics/dnalm/data/default_model
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["main", "render_model_card"]


def _fmt(x, nd=4):
    return "n/a" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def _architecture(m: dict) -> list[str]:
    if m.get("arch") == "conv":
        return [
            f"# Model card: {m.get('model', 'genomics-dnalm-conv')} (DNA language model)",
            "",
            ("A small character-level masked DNA language model of the GPN kind (dilated convolutions; "
             "`genomics.dnalm.conv_model.ConvMaskedLM`, this project's code, no remote code) pre-trained from "
             "scratch on CPU for this project. Research use only."),
            "",
            "## Model",
            (f"- Architecture: {m.get('layers')} residual blocks (dilated Conv1d, kernel {m.get('kernel')}, dilations "
             f"cycling {m.get('dilations')}, GELU, LayerNorm, position-wise feed-forward), hidden {m.get('hidden')}, "
             f"{m.get('parameters'):,} parameters; weights stored as fp16 safetensors (loaded as fp32)."),
            f"- Reverse complement: {m.get('rc')}.",
            "- Tokens: one per base (`A C G T N`) plus `<cls> <pad> <eos> <unk> <mask>` (vocab.txt, EsmTokenizer).",
            f"- Trained window: {m.get('window_bases')} bases (+ `<cls>`/`<eos>`); scoring uses the same window.",
        ]
    return [
        f"# Model card: {m.get('model', 'genomics-dnalm-char-esm')} (DNA language model)",
        "",
        ("A small character-level masked DNA language model (`EsmForMaskedLM`, native transformers code, "
         "no remote code) pre-trained from scratch on CPU for this project. Research use only."),
        "",
        "## Model",
        (f"- Architecture: ESM encoder, {m.get('layers')} layers, hidden {m.get('hidden')}, {m.get('heads')} heads, "
         f"rotary positions, {m.get('parameters'):,} parameters; weights stored as fp16 safetensors (loaded as fp32)."),
        "- Tokens: one per base (`A C G T N`) plus `<cls> <pad> <eos> <unk> <mask>` (vocab.txt, EsmTokenizer).",
        f"- Trained window: {m.get('window_bases')} bases (+ `<cls>`/`<eos>`); scoring uses the same window.",
    ]


def render_model_card(folder: str | Path, combination: str | Path | None = None) -> str:
    folder = Path(folder)
    m = json.loads((folder / "metrics.json").read_text())
    ev = json.loads((folder / "brca1_eval.json").read_text()) if (folder / "brca1_eval.json").exists() else None
    cmp_path = folder / "comparison.json"
    comparison = json.loads(cmp_path.read_text()) if cmp_path.exists() else None
    c = m.get("corpus", {})
    h, b = m.get("heldout", {}), m.get("brca1_excluded", {})
    lines = _architecture(m) + [
        "",
        "## Training data (real human sequence, ../shared/data/sequence)",
        ("- GRCh37 chr20:1,000,001-2,000,000 (vg test data, MIT), GRCh37 chr22:20,000,001-21,000,000 "
         "(hisat2 example data), GRCh38 chr17:42,425,000-43,600,000 (BRCA1 region), GRCh38 MHC genes "
         "(primary assembly + CHM1 records only; ALT haplotypes, RefSeqGene and HuRef copies dropped)"
         + (", GRCh38 chr2:1-2,333,275 (BSD-3-Clause test data) and GRCh38 chr21 contigs stitched from the "
            "Ensembl VEP test database (Apache-2.0)." if "grch38_chr2_0-2.3mb/chr2_1-2333275.fa.gz" in m.get("inputs_sha256", {})
            else ".")),
        "- **BRCA1 excluded**: chr17:43,044,295-43,125,483 plus 10 kb each side never entered training.",
        ("- **Held out**: the last 5% of each contiguous source (chr20, chr22, BRCA1-region remainder"
         + (", chr2, each chr21 block" if "evaluation_regions_cut" in m else "") + ") and the whole HLA-DRA and TAP2 genes."),
        (f"- **Evaluation regions held out**: {c.get('evaluation_regions_cut_from_training', 0)} loci of the "
         "Vex-seq / MaPSy evaluation constructs were found by sequence in the training segments and cut out "
         "(2 kb margins; list in metrics.json `evaluation_regions_cut`)." if "evaluation_regions_cut" in m else
         "- **Evaluation regions**: this model was trained before the Vex-seq / MaPSy constructs were cut out of the "
         "corpus (the rule now applied by `recommender dnalm train`); its LM part has weight 0 in the shipped "
         "combination, so this cannot inflate a shipped figure."),
        (f"- Bases: train {c.get('train', {}).get('bases', 0):,}, held-out {c.get('valid', {}).get('bases', 0):,}, "
         f"excluded BRCA1 {c.get('excluded', {}).get('bases', 0):,}. Input sha256 in metrics.json."),
        f"- Objective: {m.get('masking')}.",
        "",
        "## Training run",
        (f"- Steps {m.get('step')}, tokens seen {m.get('tokens_seen'):,}, wall time "
         f"{(m.get('train_seconds') or 0) / 60:.1f} min on {m.get('threads')} CPU thread(s) of a shared 2-core "
         f"machine (device {m.get('device', 'cpu')}, {m.get('precision', 'fp32')}), batch {m.get('batch')} windows, "
         f"AdamW lr {m.get('lr')} (warm-up, cosine decay by wall time)."),
        (f"- torch {m.get('torch')}, transformers {m.get('transformers')}; checkpoint saved {m.get('saved_utc')}; "
         f"{m.get('selected_by', 'last checkpoint')}."),
        f"- Reproduce: `{m['command']}`" if m.get("command") else
        "- Re-run: `recommender dnalm train --arch esm --shared ../shared/data/sequence --out DIR --max-minutes 120`.",
        ("- GPU: add `--device cuda --precision bf16 --batch 256 --threads 4` (same code, bf16 autocast); scoring on a "
         "GPU: `recommender dnalm score --model DIR --device cuda --precision bf16 --batch-size 512 ...`."),
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
    if comparison:
        lines += ["## Compared with the other LM (same held-out windows, same labelled sets)",
                  f"Command: `{comparison.get('command', '')}`", "", comparison.get("markdown", ""), ""]
    if ev:
        lm = ev.get("lm_alone_strand_avg", {})
        lines += [
            "## BRCA1 variant-effect check (benchmarks/eval_dnalm_brca1.py)",
            (f"Every SNV of BRCA1's MANE Select CDS and canonical splice sites; positives stop_gained + "
             f"canonical_splice, negatives synonymous ({ev.get('classes')}). Scored model step: {ev.get('model_step')}."),
            (f"- LM alone (strand-averaged LLR): AUROC {_fmt(lm.get('auroc'), 3)} "
             f"(95% bootstrap CI {_fmt(lm.get('ci_low'), 3)}-{_fmt(lm.get('ci_high'), 3)})."),
            "- Consequence alone is 1.0 by construction (the labels come from consequence classes).",
            "",
        ]
    comb_path = Path(combination) if combination else Path(__file__).resolve().parent / "data" / "variant_effect_combination.json"
    if comb_path.exists():
        comb = json.loads(comb_path.read_text())
        w = dict(zip(comb["parts"], comb["weights"]))
        boots = comb.get("bootstrap") or []
        ci = {}
        if boots:
            import numpy as np

            B = np.array(boots)
            for i, p in enumerate(comb["parts"]):
                ci[p] = (float(np.quantile(B[:, i], 0.05)), float(np.quantile(B[:, i], 0.95)))
        lines += [
            "## Variant-effect combination shipped with the package (`data/variant_effect_combination.json`)",
            (f"Fitted on {comb['training'].get('sets')}: {comb['training'].get('rows')} variants, "
             f"{comb['training'].get('positives')} damaging; non-negative L1 logistic regression, L1 = {comb.get('l1')} "
             f"({comb['training'].get('l1_rule', 'grouped CV')}); LM part from `{comb.get('lm_model')}`."),
            "",
            "| part | weight (per SD) | 90% bootstrap interval |",
            "|---|---:|---|",
        ]
        for p in comb["parts"]:
            lo, hi = ci.get(p, (None, None))
            lines.append(f"| {p} | {w[p]:.3f} | {_fmt(lo, 3)}-{_fmt(hi, 3)} |")
        lines += ["", f"Figures: `{comb.get('metrics', {}).get('command', '')}` (see docs/concepts/variant-effect.md).", ""]
    lines += [
        "## Licence",
        ("Weights: trained by this project, Apache-2.0 like its code. Training sequence: GRC reference "
         "sequence (public domain) taken from permissively licensed and example-data files (see "
         "../shared/data/sequence/README.md); no sequence is shipped with the model."),
        "",
        "## Known limits",
        (f"- Tiny model, ~{c.get('train', {}).get('bases', 0) / 1e6:.1f} Mb of training sequence and "
         f"{(m.get('train_seconds') or 0) / 60:.0f} CPU minutes on a shared machine: it learns base composition and "
         "short repeats, not protein-coding constraint; its zero-shot scores show no signal on the labelled sets "
         "(tables above), so the fitted combination gives the LM part weight 0."),
        "- Training mixes GRCh37 and GRCh38 segments (fine for a sequence model; positions are never used).",
        ("- Larger public models (Nucleotide Transformer v1 natively; DNABERT-2 / NT v2 with `--trust-remote-code`) "
         "load through the same API from a local folder (`--model DIR`)."),
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
