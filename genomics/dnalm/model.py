"""Load a DNA language model (default: the one shipped in the package) and pick a device.

Any Hugging Face masked LM works (and causal LMs such as HyenaDNA): a local folder (weights + config
+ tokenizer files), or a hub id when the caller allows the hub explicitly (``allow_hub=True``).
Published models are supported as their folders are published ("bring your own model": Nucleotide
Transformer v1/v2, DNABERT-2, HyenaDNA, Caduceus, GPN); :func:`inspect_folder` reads
``config.json`` first and refuses, with the fix, what cannot be scored correctly. A folder's own
``.py`` code runs only with ``trust_remote_code=True``. Weights load from safetensors, or from a
PyTorch ``.bin`` file (DNABERT-2 publishes only that) through transformers' ``weights_only``
unpickler, which loads tensors and refuses arbitrary objects. Any weight the model needs that the
checkpoint lacks (or holds in another shape) is refused: it would be random.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genomics.dnalm.tokenization import TokenizerAdapter, adapter_for
from genomics.errors import ModelError

__all__ = ["DEFAULT_MODEL_DIR", "DnaLanguageModel", "inspect_folder", "load_model", "select_device", "weights_hash"]

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
    """sha256 over the weight files of a model folder (names sorted), first 16 hex digits.

    A folder that ships its own model code (``*.py``, run with ``trust_remote_code``) has that code
    hashed too, so editing it changes the cache key.
    """
    h = hashlib.sha256()
    files = sorted(p for p in folder.iterdir()
                   if p.suffix in {".safetensors", ".bin", ".py"} or p.name.endswith(".index.json"))
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
    objective: str = "masked"
    model_type: str = ""
    code: tuple[str, ...] = ()

    @property
    def cache_key(self) -> str:
        return f"{self.model_id}@{self.weights_sha}"

    # ------------------------------------------------------------------ calling the model
    # Published DNA LMs differ in what their ``forward`` takes and returns: Caduceus, HyenaDNA and
    # GPN take no attention mask (so a batch must hold windows of one length: padding would change
    # their outputs), DNABERT-2 and GPN return no hidden states from the LM head class, Caduceus-PS
    # doubles the hidden width. These three methods are the only places the scorer touches the model.
    @property
    def uses_attention_mask(self) -> bool:
        """``True`` when the model's ``forward`` names ``attention_mask`` (padding is then safe)."""
        return "attention_mask" in _forward_params(self.model)[0]

    def _call(self, module, input_ids, attention_mask, hidden: bool = False):
        names, var_kw = _forward_params(module)
        kwargs: dict[str, Any] = {"input_ids": input_ids}
        if "attention_mask" in names:
            kwargs["attention_mask"] = attention_mask
        if hidden and ("output_hidden_states" in names or var_kw):
            kwargs["output_hidden_states"] = True
        if not self.code:
            return module(**kwargs)
        try:
            return module(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the folder's own code can raise anything: one line, not a traceback
            text = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__
            fix = ("this code path needs a CUDA GPU (DNABERT-2 on a CPU machine: uninstall triton so its code falls "
                   "back to PyTorch attention)" if "cuda" in text.lower() or "triton" in text.lower()
                   else "run the model with the package versions and hardware its model card names")
            raise ModelError(f"the model's own code ({', '.join(self.code)}) failed while scoring: {text}",
                             file=self.source, field="model", fix=fix) from None

    def logits(self, input_ids, attention_mask):
        """Token logits ``[batch, tokens, vocab]`` (masked LM: at every position; causal: next token)."""
        out = self._call(self.model, input_ids, attention_mask)
        logits = getattr(out, "logits", None)
        if logits is None and isinstance(out, (tuple, list)):
            logits = out[0]
        if logits is None or logits.dim() != 3 or logits.shape[:2] != input_ids.shape:
            raise ModelError(
                f"the model returned no per-token logits (got {type(out).__name__})", file=self.source,
                field="model", fix="give a folder holding a masked (or causal) language model with its LM head",
            )
        return logits

    def last_hidden(self, input_ids, attention_mask):
        """Last hidden layer ``[batch, tokens, width]``: from ``hidden_states`` when the LM class returns
        them, else from its base model (``model.base_model``: DNABERT-2, GPN)."""
        import torch

        out = self._call(self.model, input_ids, attention_mask, hidden=True)
        hs = getattr(out, "hidden_states", None)
        if isinstance(hs, (tuple, list)) and hs and torch.is_tensor(hs[-1]) and hs[-1].dim() == 3:
            return hs[-1]
        if torch.is_tensor(hs) and hs.dim() == 3:
            return hs
        base = getattr(self.model, "base_model", None)
        if base is not None and base is not self.model:
            bout = self._call(base, input_ids, attention_mask)
            h = getattr(bout, "last_hidden_state", None)
            if h is None and isinstance(bout, (tuple, list)) and bout:
                h = bout[0]
                if isinstance(h, (tuple, list)) and h:  # a list of every layer's output
                    h = h[-1]
            if torch.is_tensor(h) and h.dim() == 3 and h.shape[:2] == input_ids.shape:
                return h
        raise ModelError("the model returns no hidden states, so embedding deltas cannot be computed",
                         file=self.source, field="model", fix="score with --no-embeddings")

    def provenance(self) -> dict[str, Any]:
        return {
            "dnalm_model_id": self.model_id,
            "dnalm_weights_sha256_16": self.weights_sha,
            "dnalm_tokenization": self.adapter.kind,
            "dnalm_window_bases": self.window_bases,
            "dnalm_precision": self.precision,
            "dnalm_device": str(self.device),
            "dnalm_objective": self.objective,
            "dnalm_model_type": self.model_type,
        }


def _forward_params(module) -> tuple[set[str], bool]:
    """Names of ``module.forward``'s parameters and whether it takes ``**kwargs``."""
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set(), True
    return {p.name for p in params}, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


# --------------------------------------------------------------------------- bring your own model
# model_type values of the gpn package (https://github.com/songlab-cal/gpn, MIT), which registers its
# classes with transformers' Auto classes when imported; only the single-sequence family scores here.
_GPN_SINGLE_SEQUENCE = {"ConvNet", "GPN"}
_GPN_ALIGNMENT = {"GPNRoFormer", "GPNStar", "phylogpn"}
# packages that published models' own code imports, and how a user gets each
_CUDA_ONLY = ("has CUDA kernels only: it installs on a machine with an NVIDIA GPU and a CUDA build of "
              "PyTorch (`pip install mamba-ssm causal-conv1d`); this model cannot run on CPU")
_PACKAGE_FIX = {
    "mamba_ssm": "mamba-ssm " + _CUDA_ONLY,
    "causal_conv1d": "causal-conv1d " + _CUDA_ONLY,
    "flash_attn": "flash-attn needs an NVIDIA GPU: `pip install flash-attn` on a CUDA machine",
    "triton": "triton needs an NVIDIA GPU: `pip install triton` on a CUDA machine",
    "einops": "`pip install einops` (or the project's `dnalm-byo` extra)",
}
_LM_AUTO_KEYS = ("AutoConfig", "AutoModel", "AutoModelForMaskedLM", "AutoModelForCausalLM", "AutoTokenizer")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path.name}: {str(exc).splitlines()[0][:200]}", file=path,
                         fix="copy the file unchanged from the published model") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path.name} is not a JSON object", file=path, fix="copy the file unchanged from the published model")
    return data


def _code_refs(auto_map: Any) -> list[str]:
    """Class references (``module.Class``) of an ``auto_map`` block (config or tokenizer_config)."""
    refs: list[str] = []
    if not isinstance(auto_map, dict):
        return refs
    for key, val in auto_map.items():
        if key not in _LM_AUTO_KEYS:
            continue
        for ref in val if isinstance(val, (list, tuple)) else [val]:
            if isinstance(ref, str) and ref:
                refs.append(ref)
    return refs


def inspect_folder(path: Path, *, trust_remote_code: bool = False) -> dict[str, Any]:
    """Read a local model folder's ``config.json`` and decide how to load it, before running anything.

    Returns ``model_type``, ``objective`` (``masked`` or ``causal``), ``code`` (the folder's own .py
    modules named by ``auto_map``) and ``family`` (``gpn`` or ``""``). Raises :class:`ModelError` naming
    the folder and the fix when the folder ships its own code and ``trust_remote_code`` is off (loading
    it with transformers' built-in classes would run a different architecture), when a module named by
    ``auto_map`` is missing, or when the checkpoint has no language-model head.
    """
    config = _read_json(path / "config.json")
    tok_cfg = _read_json(path / "tokenizer_config.json") if (path / "tokenizer_config.json").exists() else {}
    model_type = str(config.get("model_type") or "")
    auto_map = config.get("auto_map") if isinstance(config.get("auto_map"), dict) else {}
    refs = _code_refs(auto_map) + _code_refs(tok_cfg.get("auto_map"))
    modules = sorted({r.split(".")[0] for r in refs if "--" not in r})
    foreign = sorted({r.split("--")[0] for r in refs if "--" in r})
    if foreign:
        raise ModelError(
            f"auto_map points at code in another hub repository ({', '.join(foreign)}), which is not in this folder",
            file=path, field="auto_map",
            fix="copy that repository's .py files into the folder and drop the 'repo--' prefix from auto_map",
        )
    missing = [m for m in modules if not (path / f"{m}.py").exists()]
    if missing:
        raise ModelError(
            f"auto_map names the module(s) {', '.join(m + '.py' for m in missing)}, which the folder does not hold",
            file=path, field="auto_map", fix="copy the .py files of the published model next to config.json",
        )
    if modules and not trust_remote_code:
        raise ModelError(
            f"this model ships its own code ({', '.join(m + '.py' for m in modules)}; model_type {model_type!r}), "
            "which runs only when you allow it; transformers' built-in classes would compute a different model",
            file=path, field="auto_map",
            fix="read those files, then pass --trust-remote-code (trust_remote_code=True) if you trust them",
        )
    archs = [str(a) for a in config.get("architectures") or []]
    if "AutoModelForMaskedLM" in auto_map:
        objective = "masked"
    elif "AutoModelForCausalLM" in auto_map:
        objective = "causal"
    elif auto_map and modules:
        raise ModelError(
            f"the model's own code offers no masked or causal language model (auto_map: {', '.join(sorted(auto_map))})",
            file=path, field="auto_map", fix="use the language-model checkpoint of this model, not a base or fine-tuned one",
        )
    elif any("CausalLM" in a or "LMHead" in a for a in archs) and not any("MaskedLM" in a for a in archs):
        objective = "causal"
    elif archs and not any("MaskedLM" in a or "CausalLM" in a or "LMHead" in a for a in archs):
        raise ModelError(
            f"the checkpoint has no language-model head (architectures: {', '.join(archs)})",
            file=path, field="config.json architectures",
            fix="use the masked-LM checkpoint of this model (architectures ...ForMaskedLM), not a base or fine-tuned one",
        )
    else:
        objective = "masked"
    family = ""
    if model_type in _GPN_ALIGNMENT:
        raise ModelError(f"model_type {model_type!r} is a GPN model that needs a multiple-sequence alignment as input",
                         file=path, field="model_type", fix="use a single-sequence model (GPN ConvNet/GPN, NT, Caduceus...)")
    if model_type in _GPN_SINGLE_SEQUENCE:
        family = "gpn"
    return {"model_type": model_type, "objective": objective, "code": modules, "family": family}


def _register_gpn(path: Path, model_type: str) -> None:
    """Let the gpn package register its classes with transformers (it does so on import)."""
    try:
        import gpn
    except ImportError:
        raise ModelError(
            f"model_type {model_type!r} is a GPN model, whose code comes from the gpn package, which is not installed",
            file=path, field="model_type",
            fix="pip install gpn (gpn 0.9.0 needs Python >= 3.13 and transformers 5.15), or an older gpn release",
        ) from None
    register = getattr(gpn, "register_auto_classes", None)
    try:
        if register is not None:
            register("ss")
        else:  # gpn < 0.9 registers its classes when gpn.model is imported
            import importlib

            importlib.import_module("gpn.model")
    except Exception as exc:  # noqa: BLE001 - the package's own code: report, do not crash
        raise ModelError(f"the gpn package failed to register its models: {type(exc).__name__}: {str(exc)[:200]}",
                         file=path, field="model_type", fix="install a gpn release that matches this transformers version") from None


def _missing_package_error(exc: ImportError, source: str) -> ModelError:
    text = str(exc)
    names = re.findall(r"environment: ([\w\-., ]+?)\. Run", text)
    pkgs = [n.strip() for n in names[0].split(",")] if names else []
    if not pkgs and getattr(exc, "name", None):
        pkgs = [str(exc.name).split(".")[0]]
    fixes = [_PACKAGE_FIX.get(p.replace("-", "_"), f"`pip install {p}`") for p in pkgs]
    what = ", ".join(pkgs) if pkgs else text.splitlines()[0][:200]
    return ModelError(f"the model's own code needs the package(s) {what}, which are not installed", file=source,
                      field="model", fix="; ".join(fixes) or "install the packages its .py files import")


def _load_hf(src: str, local: bool, info: dict[str, Any], trust_remote_code: bool, source: str):
    """Config, tokenizer and LM of a transformers folder (or hub id), with one-line errors."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if local:
        kwargs["local_files_only"] = True
    auto_cls = AutoModelForCausalLM if info.get("objective") == "causal" else AutoModelForMaskedLM

    def fail(exc: BaseException, what: str, field_: str) -> ModelError:
        if isinstance(exc, ImportError):
            return _missing_package_error(exc, source)
        msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:250]}" if str(exc) else type(exc).__name__
        if "trust_remote_code" in str(exc):
            fix = "pass trust_remote_code=True (--trust-remote-code) if you trust this model's code"
        elif info.get("code"):
            fix = (f"the model's own code ({', '.join(m + '.py' for m in info['code'])}) failed with this transformers "
                   "version; use the revision of the model published for it, or the versions its card names")
        else:
            fix = "check that the folder holds a masked LM with its tokenizer files"
        return ModelError(f"cannot load the {what}: {msg}", file=source, field=field_, fix=fix)

    with warnings.catch_warnings():
        # the loaders' own notices (model-loading chatter, their deprecations), never every warning
        warnings.filterwarnings("ignore", module=r"(transformers|torch|huggingface_hub|tokenizers)(\.|$)")
        try:
            config = AutoConfig.from_pretrained(src, **kwargs)
        except Exception as exc:  # noqa: BLE001 - includes errors raised by a model's own config code
            raise fail(exc, "model configuration", "config.json") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(src, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a model's own tokenizer code can raise anything
            raise fail(exc, "tokenizer", "tokenizer") from None
        try:
            # shape mismatches are reported in `loading` (and refused below) rather than raised deep inside
            model, loading = auto_cls.from_pretrained(src, config=config, dtype=torch.float32,
                                                      output_loading_info=True, ignore_mismatched_sizes=True,
                                                      **kwargs)
        except Exception as exc:  # noqa: BLE001 - a model's own modeling code can raise anything
            raise fail(exc, "model", "model") from None
    # weights no masked-LM output depends on (ESM's protein contact head, a BERT pooler) may be absent
    missing = sorted(k for k in loading.get("missing_keys") or [] if not re.search(r"(^|\.)(contact_head|pooler)\.", k))
    mismatched = sorted(str(k[0]) if isinstance(k, (tuple, list)) else str(k) for k in loading.get("mismatched_keys") or [])
    if missing or mismatched:
        bad = missing or mismatched
        kind = "missing from" if missing else "of another shape in"
        raise ModelError(
            f"{len(bad)} weight(s) of {type(model).__name__} are {kind} the checkpoint (e.g. {', '.join(bad[:3])}): "
            "they would be random, so its scores would mean nothing",
            file=source, field="weights",
            fix="use the language-model checkpoint of this model; if the folder ships .py files, pass --trust-remote-code",
        )
    return config, tokenizer, model


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
    from genomics.dnalm.conv_model import is_conv_folder, load_conv_model

    info: dict[str, Any] = {"model_type": "", "objective": "masked", "code": [], "family": ""}

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
        if local:
            info = inspect_folder(path, trust_remote_code=trust_remote_code)
            if info["family"] == "gpn":
                _register_gpn(path, info["model_type"])
        config, tokenizer, model = _load_hf(name if not local else str(path), local, info, trust_remote_code, source)
        info["model_type"] = info["model_type"] or str(getattr(config, "model_type", "") or "")
    if not local:
        sha = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]
    try:
        adapter = adapter_for(tokenizer, tokenization)
    except ModelError as exc:  # name the folder: the adapter does not know where the tokenizer came from
        if exc.file is not None:
            raise
        raise ModelError(exc.message, file=source, field=exc.field or "tokenizer", fix=exc.fix) from None
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
                            window_bases=int(window_bases), precision=precision, source=source, metrics=metrics,
                            objective=info["objective"], model_type=info["model_type"] or "conv",
                            code=tuple(f"{m}.py" for m in info["code"]) + (("gpn package",) if info["family"] == "gpn" else ()))
