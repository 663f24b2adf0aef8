"""Model code written into tiny test folders, shaped like the published DNA LM repositories.

Nothing here is copied from those repositories. Each module reproduces only the *interface* a
published folder exposes to transformers and to our scorer (verified against the published files:
``config.json`` ``model_type`` / ``auto_map``, the ``forward`` signature, what the LM class returns,
the tokenizer's id layout and special tokens) around a tiny stand-in network:

=============  ==========================================================================================
NT v2          ``esm_config.EsmConfig`` + ``modeling_esm.EsmForMaskedLM``: transformers' ESM with the
               v2 feed-forward (SwiGLU, no biases: ``add_bias_fnn: false``), rotary positions
DNABERT-2      ``configuration_bert.BertConfig`` (subclass of transformers' ``BertConfig`` with
               ``alibi_starting_size``) + ``bert_layers.BertForMaskedLM``: ALiBi attention without position
               embeddings; the LM class returns ``hidden_states=None``, ``model.bert`` returns a tuple
HyenaDNA       ``configuration_hyena.HyenaConfig`` + ``modeling_hyena.HyenaDNAForCausalLM`` (causal, no
               attention mask, LM head padded to a multiple of 8) + ``tokenization_hyena.CharacterTokenizer``
Caduceus       ``configuration_caduceus.CaduceusConfig`` + ``modeling_caduceus.CaduceusForMaskedLM``
               (bidirectional, no attention mask) + ``tokenization_caduceus.CaduceusTokenizer``; the real
               one imports ``mamba_ssm`` (CUDA only): ``EXTRA_IMPORT`` reproduces that
GPN            a ``gpn`` package whose ``register_auto_classes`` registers ``ConvNet`` with the Auto
               classes (as gpn 0.9.0 does); the LM class forwards ``**kwargs`` and returns no hidden states
=============  ==========================================================================================

Every module writes ``<folder>/RAN_<module>`` when imported, so a test can prove the code never ran.
"""

from __future__ import annotations

MARKER = '''
import pathlib as _pl
(_pl.Path({folder!r}) / "RAN_{name}").write_text("imported")
'''

# ------------------------------------------------------------------ char tokenizer (HyenaDNA / Caduceus layout)
CHAR_TOKENIZER = '''
from transformers import PreTrainedTokenizer


class {cls}(PreTrainedTokenizer):
    """[CLS]=0 [SEP]=1 [BOS]=2 [MASK]=3 [PAD]=4 [RESERVED]=5 [UNK]=6, then one id per character;
    a sequence gets [SEP] appended and nothing in front; padding on the left."""

    model_input_names = ["input_ids"]

    def __init__(self, model_max_length=1024, characters=("A", "C", "G", "T", "N"), **kwargs):
        self.characters = list(characters)
        self._str_to_int = {{"[CLS]": 0, "[SEP]": 1, "[BOS]": 2, "[MASK]": 3, "[PAD]": 4, "[RESERVED]": 5, "[UNK]": 6}}
        for i, ch in enumerate(self.characters):
            self._str_to_int[ch] = i + 7
        self._int_to_str = {{v: k for k, v in self._str_to_int.items()}}
        for key in ("bos_token", "eos_token", "sep_token", "cls_token", "pad_token", "mask_token", "unk_token"):
            kwargs.pop(key, None)
        kwargs.pop("padding_side", None)
        super().__init__(bos_token="[BOS]", eos_token="[SEP]", sep_token="[SEP]", cls_token="[CLS]",
                         pad_token="[PAD]", mask_token="[MASK]", unk_token="[UNK]",
                         model_max_length=model_max_length, padding_side="left", **kwargs)

    @property
    def vocab_size(self):
        return len(self._str_to_int)

    def get_vocab(self):
        return dict(self._str_to_int)

    def _tokenize(self, text, **kwargs):
        return list(text.upper())

    def _convert_token_to_id(self, token):
        return self._str_to_int.get(token, 6)

    def _convert_id_to_token(self, index):
        return self._int_to_str[index]

    def convert_tokens_to_string(self, tokens):
        return "".join(tokens)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        out = list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, True)
        out = [0] * len(token_ids_0) + [1]
        if token_ids_1 is not None:
            out += [0] * len(token_ids_1) + [1]
        return out

    def save_vocabulary(self, save_directory, filename_prefix=None):
        return ()
'''

# ------------------------------------------------------------------ HyenaDNA
HYENA_CONFIG = '''
from transformers import PretrainedConfig


class HyenaConfig(PretrainedConfig):
    model_type = "hyenadna"

    def __init__(self, vocab_size=12, d_model=16, n_layer=2, pad_vocab_size_multiple=8, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.n_layer = n_layer
        self.pad_vocab_size_multiple = pad_vocab_size_multiple
'''

HYENA_MODEL = '''
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithNoAttention, CausalLMOutput

from .configuration_hyena import HyenaConfig


def _padded(config):
    m = config.pad_vocab_size_multiple
    return config.vocab_size + (-config.vocab_size) % m


class _CausalMixer(nn.Module):
    """Stands in for the Hyena operator: a left-padded (causal) convolution."""

    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv1d(d, d, 4)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        y = self.conv(nn.functional.pad(x.transpose(1, 2), (3, 0))).transpose(1, 2)
        return x + self.norm(torch.tanh(y))


class HyenaDNAPreTrainedModel(PreTrainedModel):
    config_class = HyenaConfig
    base_model_prefix = "hyena"


class HyenaDNAModel(HyenaDNAPreTrainedModel):
    def __init__(self, config, **kwargs):
        super().__init__(config)
        self.embeddings = nn.Embedding(_padded(config), config.d_model)
        self.layers = nn.ModuleList(_CausalMixer(config.d_model) for _ in range(config.n_layer))
        self.post_init()

    def forward(self, input_ids, inputs_embeds=None, output_hidden_states=None, return_dict=None):
        h = self.embeddings(input_ids)
        all_h = [h]
        for layer in self.layers:
            h = layer(h)
            all_h.append(h)
        return BaseModelOutputWithNoAttention(last_hidden_state=h,
                                              hidden_states=tuple(all_h) if output_hidden_states else None)


class HyenaDNAForCausalLM(HyenaDNAPreTrainedModel):
    def __init__(self, config, **kwargs):
        super().__init__(config)
        self.hyena = HyenaDNAModel(config)
        self.lm_head = nn.Linear(config.d_model, _padded(config), bias=False)
        self.post_init()

    def forward(self, input_ids=None, inputs_embeds=None, labels=None, output_hidden_states=None, return_dict=None):
        out = self.hyena(input_ids=input_ids, output_hidden_states=output_hidden_states)
        logits = self.lm_head(out.last_hidden_state).float()
        return CausalLMOutput(logits=logits, hidden_states=out.hidden_states)
'''

# ------------------------------------------------------------------ Caduceus
CADUCEUS_CONFIG = '''
from transformers import PretrainedConfig


class CaduceusConfig(PretrainedConfig):
    model_type = "caduceus"

    def __init__(self, d_model=16, n_layer=2, vocab_size=12, pad_vocab_size_multiple=8, rcps=False,
                 bidirectional=True, complement_map=None, **kwargs):
        super().__init__(**kwargs)
        self.d_model = d_model
        self.n_layer = n_layer
        self.vocab_size = vocab_size
        self.pad_vocab_size_multiple = pad_vocab_size_multiple
        self.rcps = rcps
        self.bidirectional = bidirectional
        self.complement_map = complement_map
'''

CADUCEUS_MODEL = '''
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithNoAttention, MaskedLMOutput
{extra_import}
from .configuration_caduceus import CaduceusConfig


def _padded(config):
    m = config.pad_vocab_size_multiple
    return config.vocab_size + (-config.vocab_size) % m


class _BiMixer(nn.Module):
    """Stands in for the bidirectional Mamba block: a centred convolution sees both sides."""

    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv1d(d, d, 5, padding=2)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return x + self.norm(torch.tanh(self.conv(x.transpose(1, 2)).transpose(1, 2)))


class CaduceusPreTrainedModel(PreTrainedModel):
    config_class = CaduceusConfig
    base_model_prefix = "caduceus"


class Caduceus(CaduceusPreTrainedModel):
    def __init__(self, config, device=None, dtype=None, **kwargs):
        super().__init__(config)
        self.embeddings = nn.Embedding(_padded(config), config.d_model)
        self.layers = nn.ModuleList(_BiMixer(config.d_model) for _ in range(config.n_layer))
        self.post_init()

    def forward(self, input_ids=None, inputs_embeds=None, output_hidden_states=None, return_dict=None):
        h = self.embeddings(input_ids)
        all_h = [h]
        for layer in self.layers:
            h = layer(h)
            all_h.append(h)
        return BaseModelOutputWithNoAttention(last_hidden_state=h,
                                              hidden_states=tuple(all_h) if output_hidden_states else None)


class CaduceusForMaskedLM(CaduceusPreTrainedModel):
    def __init__(self, config, device=None, dtype=None, **kwargs):
        super().__init__(config)
        self.caduceus = Caduceus(config)
        self.lm_head = nn.Linear(config.d_model, _padded(config), bias=False)
        self.post_init()

    def forward(self, input_ids=None, inputs_embeds=None, labels=None, loss_weights=None,
                output_hidden_states=None, return_dict=None):
        out = self.caduceus(input_ids=input_ids, output_hidden_states=output_hidden_states)
        logits = self.lm_head(out.last_hidden_state).float()
        return MaskedLMOutput(logits=logits, hidden_states=out.hidden_states)
'''

# ------------------------------------------------------------------ Nucleotide Transformer v2
NT2_CONFIG = '''
from transformers.models.esm.configuration_esm import EsmConfig as _TransformersEsmConfig


class EsmConfig(_TransformersEsmConfig):
    """transformers' ESM configuration plus the v2 switch ``add_bias_fnn``."""

    def __init__(self, add_bias_fnn=False, **kwargs):
        self.add_bias_fnn = add_bias_fnn
        super().__init__(**kwargs)
'''

NT2_MODEL = '''
import torch
from torch import nn
from transformers.models.esm import modeling_esm as _hf

from .esm_config import EsmConfig


class _SwiGLUIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=config.add_bias_fnn)

    def forward(self, hidden_states):
        a, b = self.dense(hidden_states).chunk(2, dim=-1)
        return nn.functional.silu(a) * b


class _Output(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size, bias=config.add_bias_fnn)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.dropout(self.dense(hidden_states)) + input_tensor


class EsmForMaskedLM(_hf.EsmForMaskedLM):
    config_class = EsmConfig

    def __init__(self, config):
        super().__init__(config)
        for layer in self.esm.encoder.layer:
            layer.intermediate = _SwiGLUIntermediate(config)
            layer.output = _Output(config)
        self.post_init()
'''

# ------------------------------------------------------------------ DNABERT-2
DNABERT2_CONFIG = '''
from transformers import BertConfig as TransformersBertConfig


class BertConfig(TransformersBertConfig):
    def __init__(self, alibi_starting_size=512, **kwargs):
        self.alibi_starting_size = alibi_starting_size
        super().__init__(**kwargs)
'''

DNABERT2_MODEL = '''
import torch
from torch import nn
from transformers.modeling_outputs import MaskedLMOutput
from transformers.models.bert.modeling_bert import BertPreTrainedModel


def _alibi(n_heads, length, device):
    slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / n_heads) for i in range(n_heads)], device=device)
    pos = torch.arange(length, device=device)
    return -slopes[:, None, None] * (pos[None, :] - pos[:, None]).abs()[None]


class _Layer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.num_attention_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        self.ffn = nn.Sequential(nn.Linear(config.hidden_size, config.intermediate_size), nn.GELU(),
                                 nn.Linear(config.intermediate_size, config.hidden_size))
        self.norm1 = nn.LayerNorm(config.hidden_size)
        self.norm2 = nn.LayerNorm(config.hidden_size)

    def forward(self, h, bias):
        b, n, d = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        h = self.norm1(h + self.out(a.transpose(1, 2).reshape(b, n, d)))
        return self.norm2(h + self.ffn(h))


class BertModel(BertPreTrainedModel):
    """No position embeddings: ALiBi biases in every attention layer."""

    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(_Layer(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, position_ids=None,
                output_all_encoded_layers=False, masked_tokens_mask=None, **kwargs):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        b, n = input_ids.shape
        heads = self.config.num_attention_heads
        bias = _alibi(heads, n, input_ids.device).expand(b, heads, n, n)
        bias = bias + (attention_mask == 0)[:, None, None, :] * -1e4
        h = self.word_embeddings(input_ids)
        layers = []
        for layer in self.layers:
            h = layer(h, bias)
            layers.append(h)
        return (layers if output_all_encoded_layers else h), None


class BertForMaskedLM(BertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, encoder_hidden_states=None, encoder_attention_mask=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):
        outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return MaskedLMOutput(loss=None, logits=self.cls(outputs[0]), hidden_states=None, attentions=None)
'''

# ------------------------------------------------------------------ GPN (a package, not folder code)
GPN_INIT = '''
"""Stand-in for the gpn package: registers a ConvNet masked LM with transformers' Auto classes."""

_done = set()


def register_auto_classes(*families):
    from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM

    from .ss_model import ConvNetConfig, ConvNetForMaskedLM, ConvNetModel

    if "ss" in _done:
        return
    AutoConfig.register("ConvNet", ConvNetConfig, exist_ok=True)
    AutoModel.register(ConvNetConfig, ConvNetModel, exist_ok=True)
    AutoModelForMaskedLM.register(ConvNetConfig, ConvNetForMaskedLM, exist_ok=True)
    _done.add("ss")
'''

GPN_MODEL = '''
import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, MaskedLMOutput


class ConvNetConfig(PretrainedConfig):
    model_type = "ConvNet"

    def __init__(self, vocab_size=7, hidden_size=16, n_layers=2, kernel_size=5, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.kernel_size = kernel_size


class ConvNetPreTrainedModel(PreTrainedModel):
    config_class = ConvNetConfig
    base_model_prefix = "model"


class _Layer(nn.Module):
    def __init__(self, d, k, dilation):
        super().__init__()
        self.conv = nn.Conv1d(d, d, k, padding="same", dilation=dilation)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return x + self.norm(nn.functional.gelu(self.conv(x.transpose(1, 2)).transpose(1, 2)))


class ConvNetModel(ConvNetPreTrainedModel):
    def __init__(self, config, **kwargs):
        super().__init__(config)
        self.encoder = nn.Sequential(*[_Layer(config.hidden_size, config.kernel_size, 2 ** i)
                                       for i in range(config.n_layers)])
        self.post_init()

    def forward(self, input_ids=None, input_probs=None, aux_features=None, **kwargs):
        x = nn.functional.one_hot(input_ids, num_classes=self.config.hidden_size).float()
        return BaseModelOutput(last_hidden_state=self.encoder(x))


class ConvNetForMaskedLM(ConvNetPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = ConvNetModel(config)
        self.cls = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, labels=None, output_probs=None, loss_weight=None, **kwargs):
        hidden = self.model(**kwargs).last_hidden_state
        return MaskedLMOutput(loss=None, logits=self.cls(hidden))
'''
