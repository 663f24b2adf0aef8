"""Map DNA windows to token ids, and every base of a window to the token that holds it.

Three tokenizer families are supported; :func:`adapter_for` picks one from a Hugging Face tokenizer:

``char``
    one token per base (our default model; HyenaDNA, Caduceus, GPN vocabularies; GPN's are lower
    case). Ids come straight from the vocabulary; the special tokens around the window are the ones
    the tokenizer itself adds (read off it: ``<cls>``/``<eos>`` for ours, ``[SEP]`` only for
    HyenaDNA/Caduceus, none for GPN).
``kmer``
    non-overlapping k-mers read left to right from the window start (Nucleotide Transformer,
    ``k = 6``); where the next ``k`` bases are not a vocabulary word (an ``N`` inside, or the tail)
    one single-base token is emitted and the k-mer grid restarts after it, exactly as the NT
    tokenizer (``EsmTokenizer`` with a 6-mer vocabulary) does.
``bpe``
    any *fast* tokenizer (DNABERT-2's BPE, WordPiece...): the tokenizer itself runs and its offset
    mapping gives each token's base span.

Every adapter returns a :class:`TokenizedWindow`: ids plus, for each token, the half-open span of
window bases it covers (``None`` for special tokens), so a variant at window offset ``i`` is scored
at the token(s) whose span holds ``i``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from genomics.errors import ModelError

__all__ = ["BpeAdapter", "CharAdapter", "KmerAdapter", "TokenizedWindow", "TokenizerAdapter", "adapter_for"]


@dataclass(frozen=True)
class TokenizedWindow:
    """Token ids of one window and the base span ``[start, end)`` of each token (``None``: special)."""

    ids: tuple[int, ...]
    spans: tuple[tuple[int, int] | None, ...]

    def tokens_overlapping(self, start: int, end: int) -> list[int]:
        """Indices of the tokens whose span overlaps window bases ``[start, end)`` (``end > start``)."""
        return [i for i, s in enumerate(self.spans) if s is not None and s[0] < end and start < s[1]]

    def boundaries(self) -> tuple[tuple[int, int] | None, ...]:
        return self.spans


class TokenizerAdapter:
    """Common interface: ``encode(window) -> TokenizedWindow``; ``kind``; special ids."""

    kind: str = "?"

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.vocab: dict[str, int] = dict(tokenizer.get_vocab())
        self.mask_id = tokenizer.mask_token_id
        # GPN's tokenizer holds lower-case bases (a, c, g, t) and lower-cases its input
        self.lowercase = not any(b in self.vocab for b in "ACGT") and all(b in self.vocab for b in "acgt")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        if self.mask_id is None:
            raise ModelError(
                "the tokenizer has no mask token, so it cannot drive a masked language model",
                field="tokenizer",
                fix="use a masked LM tokenizer (with a mask token), or a model folder with matching tokenizer files",
            )
        self.prefix: list[int] = []
        self.suffix: list[int] = []
        probed = _probe_specials(tokenizer)
        if probed is not None:  # exactly what the tokenizer itself adds (Caduceus/HyenaDNA: [SEP] only)
            self.prefix, self.suffix = probed
        else:
            for name in ("cls_token_id", "bos_token_id"):
                tid = getattr(tokenizer, name, None)
                if tid is not None:
                    self.prefix = [tid]
                    break
            for name in ("eos_token_id", "sep_token_id"):
                tid = getattr(tokenizer, name, None)
                if tid is not None:
                    self.suffix = [tid]
                    break

    def encode(self, window: str) -> TokenizedWindow:  # pragma: no cover - abstract
        raise NotImplementedError

    def _wrap(self, ids: list[int], spans: list[tuple[int, int] | None]) -> TokenizedWindow:
        return TokenizedWindow(
            ids=tuple(self.prefix + ids + self.suffix),
            spans=tuple([None] * len(self.prefix) + spans + [None] * len(self.suffix)),
        )

    def _id(self, token: str) -> int:
        tid = self.vocab.get(token)
        if tid is None and self.lowercase:
            tid = self.vocab.get(token.lower())
        if tid is None:
            tid = self.tokenizer.unk_token_id
            if tid is None:
                raise ModelError(f"token {token!r} is not in the tokenizer's vocabulary", field="tokenizer",
                                 fix="use a DNA tokenizer whose vocabulary holds A, C, G, T and N")
        return tid


class CharAdapter(TokenizerAdapter):
    """One token per base."""

    kind = "char"

    def encode(self, window: str) -> TokenizedWindow:
        ids = [self._id(b) for b in window]
        return self._wrap(ids, [(i, i + 1) for i in range(len(window))])


class KmerAdapter(TokenizerAdapter):
    """Non-overlapping k-mers from the window start (Nucleotide Transformer)."""

    kind = "kmer"

    def __init__(self, tokenizer, k: int = 6) -> None:
        super().__init__(tokenizer)
        self.k = k

    def encode(self, window: str) -> TokenizedWindow:
        ids: list[int] = []
        spans: list[tuple[int, int] | None] = []
        k, i, n = self.k, 0, len(window)
        while i < n:
            chunk = window[i : i + k]
            tid = self.vocab.get(chunk) if len(chunk) == k else None
            if tid is not None:
                ids.append(tid)
                spans.append((i, i + k))
                i += k
            else:  # N inside, or the tail: single-base token, then the k-mer grid restarts
                ids.append(self._id(window[i]))
                spans.append((i, i + 1))
                i += 1
        return self._wrap(ids, spans)


class BpeAdapter(TokenizerAdapter):
    """Any fast tokenizer: token spans from its offset mapping."""

    kind = "bpe"

    def __init__(self, tokenizer) -> None:
        super().__init__(tokenizer)
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError(
                "a BPE/WordPiece DNA tokenizer must be a fast tokenizer (offset mapping needed)",
                field="tokenizer",
                fix="save the tokenizer with tokenizer.json (a 'fast' tokenizer) next to the model",
            )

    def encode(self, window: str) -> TokenizedWindow:
        enc = self.tokenizer(window, add_special_tokens=True, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        special = set(self.tokenizer.all_special_ids)
        spans: list[tuple[int, int] | None] = []
        for tid, (a, b) in zip(ids, enc["offset_mapping"]):
            spans.append(None if (tid in special and a == b) or b <= a else (int(a), int(b)))
        return TokenizedWindow(ids=tuple(ids), spans=tuple(spans))


def _probe_specials(tokenizer) -> tuple[list[int], list[int]] | None:
    """Ids the tokenizer puts before and after a DNA string, read off the tokenizer itself."""
    probe = "ACGTAC"
    try:
        bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
        full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    except Exception:  # noqa: BLE001 - a model's own tokenizer code: fall back to the special-token attributes
        return None
    if not bare:
        return None
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return full[:i], full[i + len(bare) :]
    return None


def _kmer_size(vocab: dict[str, int]) -> int | None:
    sizes: dict[int, int] = {}
    for tok in vocab:
        if tok and set(tok) <= set("ACGT"):
            sizes[len(tok)] = sizes.get(len(tok), 0) + 1
    for k in sorted(sizes, reverse=True):
        if k > 1 and sizes[k] == 4**k:
            return k
    return None


def adapter_for(tokenizer, kind: str | None = None) -> TokenizerAdapter:
    """Pick the adapter for ``tokenizer``: ``kind`` in {``char``, ``kmer``, ``bpe``} or detected.

    Detection: a complete k-mer vocabulary (all ``4**k`` words, ``k > 1``) means ``kmer``; a
    vocabulary with single-base tokens and no longer DNA words means ``char``; anything else that is
    a fast tokenizer means ``bpe``.
    """
    vocab = tokenizer.get_vocab()
    if kind is None:
        kind = getattr(tokenizer, "init_kwargs", {}).get("dnalm_tokenization")
    if kind is None:
        k = _kmer_size(vocab)
        dna_words = [t for t in vocab if t and set(t) <= set("ACGTN")]
        if k is not None:
            kind = "kmer"
        elif (all(b in vocab for b in "ACGT") or all(b in vocab for b in "acgt")) and all(
            len(t) == 1 for t in dna_words
        ):
            kind = "char"
        else:
            kind = "bpe"
    if kind == "char":
        missing = [b for b in "ACGT" if b not in vocab and b.lower() not in vocab]
        if missing:
            raise ModelError(f"tokenizer vocabulary lacks the bases {missing}", field="tokenizer",
                             fix="use the tokenizer files that were saved with the model")
        return CharAdapter(tokenizer)
    if kind == "kmer":
        k = _kmer_size(vocab)
        if k is None:
            raise ModelError("tokenizer has no complete k-mer vocabulary", field="tokenizer",
                             fix="use the Nucleotide Transformer tokenizer saved with the model")
        return KmerAdapter(tokenizer, k)
    if kind == "bpe":
        return BpeAdapter(tokenizer)
    raise ModelError(f"unknown tokenizer kind {kind!r}", field="tokenization", fix="use char, kmer or bpe")


def all_kmers(k: int) -> list[str]:
    """Every DNA word of length ``k`` in lexicographic order (for building k-mer vocabularies)."""
    return ["".join(p) for p in itertools.product("ACGT", repeat=k)]
