"""A dilated-convolution masked DNA language model (GPN kind) with reverse-complement conjoining.

Architecture (after Benegas et al., "DNA language models are powerful predictors of genome-wide
variant effects", PNAS 2023, GPN): one embedding per character token, then ``layers`` residual blocks

    x = x + LayerNorm(GELU(Conv1d(x, kernel, dilation_i)))      # "same" padding, pads zeroed
    x = x + LayerNorm(Linear(GELU(Linear(x, 2h)), h))           # position-wise feed-forward

with dilations cycling through ``dilations`` (default 1, 2, 4, 8, 16, 32: receptive field well over
the 254-base window), a final LayerNorm and a linear head over the character vocabulary.

**Reverse-complement weight sharing** (post-hoc conjoining, Zhou et al. 2021): with ``rc_conjoin``
the model runs the same weights on the window and on its reverse complement and averages the logits
after mapping the reverse-strand positions and bases back, so the output is exactly equivariant
under reverse-complementing the input. Training uses random-strand windows (RC augmentation) and
no conjoining (half the cost); evaluation and scoring conjoin.

The model is a plain :class:`torch.nn.Module` written here (no remote code, no pickle): the folder
holds ``config.json`` (``"model_type": "genomics-dnalm-conv"``), ``model.safetensors`` and the same
character tokenizer files as the ESM default (``vocab.txt``, EsmTokenizer), and
:func:`genomics.dnalm.load_model` recognises it. Its forward signature mirrors a Hugging Face masked
LM (``input_ids``, ``attention_mask``, ``labels``, ``output_hidden_states`` -> ``.loss``,
``.logits``, ``.hidden_states``) so the scorer treats both alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CONV_MODEL_TYPE", "ConvLMConfig", "build_conv_model", "is_conv_folder", "load_conv_model", "save_conv_model"]

CONV_MODEL_TYPE = "genomics-dnalm-conv"


@dataclass(frozen=True)
class ConvLMConfig:
    """Hyper-parameters of :class:`ConvMaskedLM` (stored as ``config.json``)."""

    vocab_size: int = 10
    hidden_size: int = 128
    num_layers: int = 12
    kernel_size: int = 9
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    pad_token_id: int = 1
    mask_token_id: int = 9
    rc_conjoin: bool = True
    #: token id -> id of its complement (A<->T, C<->G, <cls><-><eos>; others map to themselves)
    complement: tuple[int, ...] = (2, 1, 0, 3, 7, 6, 5, 4, 8, 9)
    model_type: str = CONV_MODEL_TYPE
    architectures: tuple[str, ...] = field(default=("ConvMaskedLM",))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvLMConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for k in ("dilations", "complement", "architectures"):
            if k in known:
                known[k] = tuple(known[k])
        return cls(**known)


def _module_classes():
    """Build the torch classes lazily (torch is imported only when a model is built)."""
    import torch
    from torch import nn

    @dataclass
    class ConvLMOutput:
        logits: Any
        loss: Any = None
        hidden_states: tuple | None = None

    class ConvBlock(nn.Module):
        def __init__(self, hidden: int, kernel: int, dilation: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, padding="same")
            self.ln1 = nn.LayerNorm(hidden)
            self.ff1 = nn.Linear(hidden, 2 * hidden)
            self.ff2 = nn.Linear(2 * hidden, hidden)
            self.ln2 = nn.LayerNorm(hidden)

        def forward(self, x, keep):
            x = x * keep
            h = self.conv(x.transpose(1, 2)).transpose(1, 2)
            x = x + self.ln1(torch.nn.functional.gelu(h))
            h = self.ff2(torch.nn.functional.gelu(self.ff1(x)))
            return x + self.ln2(h)

    class ConvMaskedLM(nn.Module):
        """Dilated-convolution masked LM; see the module docstring."""

        def __init__(self, config: ConvLMConfig) -> None:
            super().__init__()
            self.config = config
            h = config.hidden_size
            self.embed = nn.Embedding(config.vocab_size, h)
            self.blocks = nn.ModuleList(
                ConvBlock(h, config.kernel_size, config.dilations[i % len(config.dilations)])
                for i in range(config.num_layers)
            )
            self.ln_f = nn.LayerNorm(h)
            self.head = nn.Linear(h, config.vocab_size)
            self.register_buffer("comp", torch.tensor(config.complement, dtype=torch.long), persistent=False)
            self.rc_conjoin = config.rc_conjoin

        def _strand(self, ids, keep, want_hidden):
            x = self.embed(ids)
            hidden = [x] if want_hidden else None
            for blk in self.blocks:
                x = blk(x, keep)
                if want_hidden:
                    hidden.append(x)
            x = self.ln_f(x) * keep
            if want_hidden:
                hidden[-1] = x
            return self.head(x), hidden

        def forward(self, input_ids, attention_mask=None, labels=None, output_hidden_states=False, **_):
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            keep = attention_mask[..., None].to(self.embed.weight.dtype)
            logits, hidden = self._strand(input_ids, keep, output_hidden_states)
            if self.rc_conjoin:
                rc_ids = self.comp[input_ids].flip(1)
                rc_logits, rc_hidden = self._strand(rc_ids, keep.flip(1), output_hidden_states)
                logits = 0.5 * (logits + rc_logits.flip(1)[..., self.comp])
                if output_hidden_states:
                    hidden = [0.5 * (a + b.flip(1)) for a, b in zip(hidden, rc_hidden)]
            loss = None
            if labels is not None:
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                                         labels.reshape(-1), ignore_index=-100)
            return ConvLMOutput(logits=logits, loss=loss, hidden_states=tuple(hidden) if hidden else None)

    return ConvMaskedLM


_CLASSES: dict[str, Any] = {}


def build_conv_model(config: ConvLMConfig):
    """A freshly initialised :class:`ConvMaskedLM` for ``config``."""
    if "model" not in _CLASSES:
        _CLASSES["model"] = _module_classes()
    return _CLASSES["model"](config)


def is_conv_folder(folder: str | Path) -> bool:
    """Whether ``folder/config.json`` describes a :class:`ConvMaskedLM`."""
    cfg = Path(folder) / "config.json"
    try:
        return json.loads(cfg.read_text()).get("model_type") == CONV_MODEL_TYPE
    except (OSError, ValueError):
        return False


def save_conv_model(model, folder: str | Path, dtype: str = "float16") -> None:
    """Write ``config.json`` and ``model.safetensors`` (``float16`` halves the size; loads as fp32)."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cast = torch.float16 if dtype == "float16" else torch.float32
    state = {k: v.detach().to(cast).contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt", "model_type": CONV_MODEL_TYPE})
    (folder / "config.json").write_text(model.config.to_json())


def load_conv_model(folder: str | Path):
    """Read a :class:`ConvMaskedLM` from a folder written by :func:`save_conv_model` (fp32, eval mode)."""
    import torch
    from safetensors.torch import load_file

    from genomics.errors import ModelError

    folder = Path(folder)
    try:
        cfg = ConvLMConfig.from_dict(json.loads((folder / "config.json").read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot read the conv model config: {exc}", file=folder / "config.json",
                         field="config.json", fix="re-save the model with `recommender dnalm train --arch conv`") from None
    model = build_conv_model(cfg)
    try:
        state = {k: v.to(torch.float32) for k, v in load_file(str(folder / "model.safetensors")).items()}
        model.load_state_dict(state)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"conv model weights do not match its config: {str(exc).splitlines()[0][:200]}",
                         file=folder / "model.safetensors", field="weights",
                         fix="use the model.safetensors saved with this config.json") from None
    return model.eval()
