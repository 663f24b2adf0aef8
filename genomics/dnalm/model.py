"""Load a masked DNA language model (default: the one shipped in the package) and pick a device.

Any Hugging Face masked LM works: a local folder (weights + config + tokenizer files), or a hub id
when the caller allows the hub explicitly (``allow_hub=True``); remote code runs only with
``trust_remote_code=True``. Weights load with safetensors (no pickle) unless the folder only has a
PyTorch ``.bin`` file and the caller accepts it.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genomics.dnalm.tokenization import TokenizerAdapter, adapter_for
from genomics.errors import ModelError

__all__ = ["DEFAULT_MODEL_DIR", "DnaLanguageModel", "load_model", "select_device", "weights_hash"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "data" / "default_model"
DEFAULT_MODEL_ID = "genomics-dnalm-char-esm"
_WEIGHT_NAMES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def select_device(preference: str | None = "auto"):
    """``auto`` picks CUDA, then Apple MPS, then CPU; ``cpu``/``cuda``/``cuda:N``/``mps`` force one."""
    import torch

    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("CUDA was asked for but no CUDA device is available", field="device",
                         fix="use --device auto or --device cpu")
    if pref == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ModelError("Apple MPS was asked for but is not available", field="device",
                             fix="use --device auto or --device cpu")
    if pref not in {"cpu", "mps"} and not pref.startswith("cuda"):
        raise ModelError(f"unknown device {preference!r}", field="device", fix="use auto, cpu, cuda, cuda:N or mps")
    return torch.device(pref)


def weights_hash(folder: Path) -> str:
    """sha256 over the weight files of a model folder (names sorted), first 16 hex digits."""
    h = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.suffix in {".safetensors", ".bin"} or p.name.endswith(".index.json"))
    for p in files:
        h.update(p.name.encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


@dataclass
class DnaLanguageModel:
    """A loaded masked LM with its tokenizer adapter, identity and run settings.

    Attributes
    ----------
    model_id
        Name used in outputs and cache keys (folder name, hub id, or the default model's name).
    weights_sha
        Hash of the weight files (cache key part; changes whenever the weights change).
    window_bases
        Default window length (bases) for scoring with this model.
    precision
        ``fp32`` (reference), ``bf16`` or ``fp16`` (autocast on CUDA only).
    """

    model: Any
    adapter: TokenizerAdapter
    model_id: str
    weights_sha: str
    device: Any
    window_bases: int
    precision: str = "fp32"
    source: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def cache_key(self) -> str:
        return f"{self.model_id}@{self.weights_sha}"

    def provenance(self) -> dict[str, Any]:
        return {
            "dnalm_model_id": self.model_id,
            "dnalm_weights_sha256_16": self.weights_sha,
            "dnalm_tokenization": self.adapter.kind,
            "dnalm_window_bases": self.window_bases,
            "dnalm_precision": self.precision,
            "dnalm_device": str(self.device),
        }


def _is_local(name: str) -> bool:
    """A path that exists, or looks like one; ``org/name`` that does not exist is a hub id."""
    if Path(name).exists() or name.startswith((".", "/", "~")) or os.path.isabs(name):
        return True
    return name.count("/") != 1


def load_model(
    name_or_path: str | os.PathLike[str] | None = None,
    *,
    device: str | None = "auto",
    precision: str = "fp32",
    allow_hub: bool = False,
    trust_remote_code: bool = False,
    tokenization: str | None = None,
    window_bases: int | None = None,
    threads: int | None = None,
) -> DnaLanguageModel:
    """Load a masked DNA LM and its tokenizer.

    Parameters
    ----------
    name_or_path
        Model folder, or a hub id (only with ``allow_hub=True``). ``None``: the default model.
    device
        ``auto`` (CUDA, MPS, CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    precision
        ``fp32`` (reference) or ``bf16``/``fp16`` autocast (CUDA only; see the README's tolerance).
    allow_hub, trust_remote_code
        Network access and remote code run only when the caller asks for them.
    tokenization
        Force the tokenizer family (``char``, ``kmer``, ``bpe``); detected when omitted.
    window_bases
        Default scoring window; from the model's metrics (training window) or 510 bases otherwise
        (k-mer models: 5,994 bases, i.e. 999 six-mers as in the NT zero-shot protocol).
    threads
        CPU threads for torch (``None``: leave torch's setting).
    """
    import torch
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer

    if precision not in {"fp32", "bf16", "fp16"}:
        raise ModelError(f"unknown precision {precision!r}", field="precision", fix="use fp32, bf16 or fp16")
    dev = select_device(device)
    if precision != "fp32" and dev.type != "cuda":
        raise ModelError(f"{precision} autocast is offered on CUDA only", field="precision",
                         fix="use --precision fp32 on CPU/MPS")
    if threads:
        torch.set_num_threads(int(threads))

    path = DEFAULT_MODEL_DIR if name_or_path is None else Path(os.fspath(name_or_path))
    name = os.fspath(name_or_path) if name_or_path is not None else str(DEFAULT_MODEL_DIR)
    local = name_or_path is None or _is_local(name)
    metrics: dict[str, Any] = {}
    if local:
        if not path.is_dir():
            raise ModelError("model folder not found", file=path, fix="give a folder with config.json, weights and tokenizer files")
        if not (path / "config.json").exists():
            raise ModelError("model folder has no config.json", file=path, field="config.json",
                             fix="save the model with save_pretrained() into this folder")
        weights = [n for n in _WEIGHT_NAMES if (path / n).exists()]
        if not weights:
            raise ModelError("model folder has no weights (model.safetensors)", file=path, field="weights",
                             fix="copy model.safetensors next to config.json, or re-run `recommender dnalm train`")
        if (path / "metrics.json").exists():
            try:
                metrics = json.loads((path / "metrics.json").read_text())
            except ValueError:
                metrics = {}
        model_id = metrics.get("model") or path.name
        if name_or_path is None:
            model_id = metrics.get("model") or DEFAULT_MODEL_ID
        sha = weights_hash(path)
        source = str(path)
    else:
        if not allow_hub:
            raise ModelError(f"{name!r} is not a local folder and hub downloads are off", field="model",
                             fix="give a local model folder, or allow the hub explicitly (--allow-hub)")
        model_id, sha, source = name, "", f"hub:{name}"
    try:  # no progress bars on a user's terminal
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if local:
        kwargs["local_files_only"] = True
    from genomics.dnalm.conv_model import is_conv_folder, load_conv_model

    if local and is_conv_folder(path):  # this project's dilated-CNN model: our own code, safetensors only
        from transformers import EsmTokenizer

        try:
            tokenizer = EsmTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the tokenizer: {str(exc).splitlines()[0][:200]}", file=path,
                             field="vocab.txt", fix="copy vocab.txt and tokenizer_config.json saved with the model") from None
        if not (path / "model.safetensors").exists():
            raise ModelError("conv model folder has no model.safetensors", file=path, field="weights",
                             fix="re-run `recommender dnalm train --arch conv`")
        model = load_conv_model(path)
        config = model.config
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                config = AutoConfig.from_pretrained(name if not local else path, **kwargs)
                tokenizer = AutoTokenizer.from_pretrained(name if not local else path, **kwargs)
                model = AutoModelForMaskedLM.from_pretrained(name if not local else path, config=config,
                                                             dtype=torch.float32, **kwargs)
        except (OSError, ValueError, KeyError) as exc:
            msg = str(exc).splitlines()[0][:300]
            fix = ("pass trust_remote_code=True (--trust-remote-code) if you trust this model's code"
                   if "trust_remote_code" in str(exc) else "check that the folder holds a masked LM with its tokenizer")
            raise ModelError(f"cannot load the model: {msg}", file=source, field="model", fix=fix) from None
    if not local:
        sha = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]
    adapter = adapter_for(tokenizer, tokenization)
    vocab_size = getattr(config, "vocab_size", None)
    max_id = max(adapter.vocab.values()) if adapter.vocab else 0
    if vocab_size is not None and max_id >= vocab_size:
        raise ModelError(
            f"tokenizer/model mismatch: the tokenizer has ids up to {max_id} but the model's vocabulary "
            f"has {vocab_size} entries",
            file=source, field="tokenizer", fix="use the tokenizer files saved with this model",
        )
    model.eval().to(dev)
    if window_bases is None:
        window_bases = int(metrics.get("window_bases") or (5994 if adapter.kind == "kmer" else 510))
    return DnaLanguageModel(model=model, adapter=adapter, model_id=model_id, weights_sha=sha, device=dev,
                            window_bases=int(window_bases), precision=precision, source=source, metrics=metrics)
