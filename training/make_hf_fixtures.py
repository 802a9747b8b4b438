"""test/fixtures/hf: tiny random instances of published architectures, built by Hugging Face
`transformers`' own modeling code (the oracle for src/models/hf/), saved as HF folders.

Where transformers comes from: it is not installed and not a dependency of anything here. This script
puts an unpacked copy of the transformers wheel (and the wheels it imports: huggingface_hub, tokenizers,
safetensors, packaging, regex, filelock, requests, pyyaml, tqdm, fsspec, httpx, ...) on sys.path from
$HF_SITE (default /work/hfenv/site; unpack the wheels there first), and runs it on Debian's torch 1.13.
transformers 4.57 asks for torch >= 2.1; the modeling files we use (modeling_llama, modeling_gpt2,
modeling_bert, modeling_roberta) run on 1.13 with these shims, set before the import and touching
nothing in transformers itself: the version torch reports to transformers' import check (and
huggingface_hub's, which it pins < 1.0), stubs for torch 2 modules the package imports at load time
but these models never call (torch.compiler, torch._dynamo, torch.distributed.tensor, float8 dtypes,
pytree's public register), and torch.vmap = functorch.vmap (the mask builder's only torch-2 call).
attn_implementation='eager' everywhere (no SDPA). The bidirectional LLaMA (LLaDA/Dream style) is
LlamaForCausalLM fed an all-zero additive 4-D attention mask, which transformers uses as given.

Each folder: config.json (transformers' own save_pretrained JSON, trimmed of nothing), tokenizer.json
(a 96-entry cut of test/fixtures/bert-toy's WordPiece tokenizer), model.safetensors (f32),
model-f16.safetensors and model-bf16.safetensors (the same weights rounded), golden.safetensors
(input_ids (2, 8) and logits_f32 / logits_f16 / logits_bf16: the model's logits with the weights of
each file, computed in f32 by transformers), all written by training/export.py's writer.

LLaDA and Dream (masked-diffusion LMs of the LLaMA family with their own model_type):
- llada: LLaDA's own modeling code is not in transformers (the hub ships it as remote code, and no hub is
  reachable here). The fixture is made by a public copy of modeling_llada.py / configuration_llada.py
  (github zqc214/dllm-askv, model/, commit df68174, "Modified from LLaDA repos"; its forward is LLaDA's) that
  $LLADA_SRC points to as a package folder `llada_ref/` (default /tmp/llada_src; extract it with
  `git show HEAD:model/<file>` from a fetched copy). On torch 1.13 it needs F.scaled_dot_product_attention, which
  this script supplies for the call LLaDA makes (no mask, no dropout, not causal: softmax(q kᵀ / √d) v) — the one
  piece of the oracle written here — plus an eager torch.compile and no-op torch.backends.cuda.enable_*_sdp.
- dream: Dream's modeling file is remote code as well; Dream-7B is Qwen2 with bidirectional attention whose
  logits at i are the head's output at i − 1 (Dream's generation_utils shifts them right by one, position 0
  keeping its own). The fixture is transformers' Qwen2ForCausalLM fed an all-zero 4-D mask, its logits shifted
  so, and config.json saying model_type "Dream" (the Dream config's keys are Qwen2's).

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/make_hf_fixtures.py [--only llada,dream]
"""
import importlib.metadata as md
import json, os, sys, types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hf')
sys.path.insert(0, HERE)
from export import write_safetensors  # noqa: E402

_version = md.version


def _reported_version(name):
    if name == 'torch':
        return '2.1.0'
    if name in ('huggingface-hub', 'huggingface_hub'):
        return '0.35.0'
    return _version(name)


md.version = _reported_version
sys.path.insert(0, os.environ.get('HF_SITE', '/work/hfenv/site'))
import torch  # noqa: E402

torch.set_num_threads(1)


def _stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def _identity_decorator(fn=None, recursive=True):
    return fn if fn is not None else (lambda f: f)


class _Unused:
    def __init__(self, *a, **k):
        pass


_stub('torch.distributed.tensor', DTensor=_Unused)
import torch.utils._pytree as _pt  # noqa: E402

if not hasattr(_pt, 'register_pytree_node'):
    _pt.register_pytree_node = lambda cls, flatten, unflatten, **k: _pt._register_pytree_node(cls, flatten, unflatten)
if not hasattr(torch, 'compiler'):
    torch.compiler = _stub('torch.compiler', disable=_identity_decorator, is_compiling=lambda: False,
                           is_dynamo_compiling=lambda: False)
if not hasattr(torch, '_dynamo'):
    torch._dynamo = _stub('torch._dynamo', allow_in_graph=lambda f: f, is_compiling=lambda: False,
                          disable=_identity_decorator)
for _n in ('float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'uint16', 'uint32', 'uint64',
           'float8_e8m0fnu', 'float4_e2m1fn_x2'):
    if not hasattr(torch, _n):
        setattr(torch, _n, type(_n, (), {})())
if not hasattr(torch, 'vmap'):
    import functorch
    torch.vmap = functorch.vmap

import transformers  # noqa: E402
from transformers import BertConfig, GPT2Config, LlamaConfig, RobertaConfig  # noqa: E402
from transformers.models.bert.modeling_bert import BertForMaskedLM  # noqa: E402
from transformers.models.gpt2.modeling_gpt2 import GPT2LMHeadModel  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaForCausalLM  # noqa: E402
from transformers.models.roberta.modeling_roberta import RobertaForMaskedLM  # noqa: E402

V = 96
MASK, PAD, UNK, CLS, SEP = 4, 0, 1, 2, 3


def tokenizer_json():
    """The first V entries of bert-toy's WordPiece vocabulary ([PAD] [UNK] [CLS] [SEP] [MASK], then characters)."""
    with open(os.path.join(ROOT, 'test', 'fixtures', 'bert-toy', 'tokenizer.json')) as f:
        t = json.load(f)
    t['model']['vocab'] = {k: i for k, i in t['model']['vocab'].items() if i < V}
    t['added_tokens'] = [a for a in t['added_tokens'] if a['id'] < V]
    return t


def rounded(model, dtype):
    return {k: v.detach().to(dtype) for k, v in model.state_dict().items()}


def logits_with(model, sd, run):
    m = type(model)(model.config).eval()
    m.load_state_dict({k: v.float() for k, v in sd.items()})
    with torch.no_grad():
        return run(m).float()


def save(name, model, run, ids, tied_drop=(), extra=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.config.save_pretrained(d)
    with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(), f, ensure_ascii=False, separators=(',', ':'))
    golden = {'input_ids': ids.to(torch.int32), **(extra or {})}
    for tag, dtype, fname in ((
            'f32', torch.float32, 'model.safetensors'), ('f16', torch.float16, 'model-f16.safetensors'),
            ('bf16', torch.bfloat16, 'model-bf16.safetensors')):
        sd = rounded(model, dtype)
        golden[f'logits_{tag}'] = logits_with(model, sd, run)
        # HF checkpoints omit tied weights and non-persistent buffers; so do we
        out = {k: v for k, v in sd.items() if k not in tied_drop and 'position_ids' not in k}
        write_safetensors(os.path.join(d, fname), out, metadata={'format': 'pt'})
    write_safetensors(os.path.join(d, 'golden.safetensors'), golden,
                      metadata={'transformers': transformers.__version__, 'torch': torch.__version__})
    print(name, {k: tuple(v.shape) for k, v in golden.items()}, 'params', sum(p.numel() for p in model.parameters()))


def llada_model():
    """A tiny random LLaDAModelLM from the reference modeling file (see the module docstring)."""
    import torch.nn.functional as F
    if not hasattr(F, 'scaled_dot_product_attention'):
        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            assert attn_mask is None and dropout_p == 0.0 and not is_causal, 'the fixture only supplies plain attention'
            return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1) @ v
        F.scaled_dot_product_attention = sdpa
    if not hasattr(torch, 'compile'):  # it decorates its attention helper with @torch.compile(): run it eagerly
        torch.compile = lambda *a, **k: (lambda f: f)
    for n in ('enable_flash_sdp', 'enable_mem_efficient_sdp', 'enable_math_sdp'):
        if not hasattr(torch.backends.cuda, n):
            setattr(torch.backends.cuda, n, lambda enabled: None)
    sys.path.insert(0, os.environ.get('LLADA_SRC', '/tmp/llada_src'))
    from llada_ref.configuration_llada import LLaDAConfig
    from llada_ref.modeling_llada import LLaDAModelLM
    cfg = LLaDAConfig(d_model=32, n_heads=4, n_kv_heads=2, n_layers=2, mlp_hidden_size=48, vocab_size=V,
                      embedding_size=V, max_sequence_length=32, rope=True, rope_theta=500000.0, alibi=False,
                      block_type='llama', activation_type='silu', layer_norm_type='rms', rms_norm_eps=1e-5,
                      include_bias=False, include_qkv_bias=False, weight_tying=False, scale_logits=False,
                      attention_layer_norm=False, input_emb_norm=False, flash_attention=False,
                      attention_dropout=0.0, residual_dropout=0.0, embedding_dropout=0.0,
                      mask_token_id=MASK, pad_token_id=PAD, eos_token_id=SEP)
    m = LLaDAModelLM(cfg).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith('norm.weight') or 'ln_f' in n:
                p.normal_(1.0, 0.1)
            else:
                p.normal_(0, 0.2)
    return m


def main():
    ap = __import__('argparse').ArgumentParser()
    ap.add_argument('--only', default='', help='comma-separated fixture names (default: all)')
    only = set(filter(None, ap.parse_args().only.split(',')))
    torch.manual_seed(2026)
    g = torch.Generator().manual_seed(17)
    ids = torch.randint(5, V, (2, 8), generator=g)
    if only:
        global save
        real_save = save
        save = lambda name, *a, **k: real_save(name, *a, **k) if name in only else None  # noqa: E731

    # LLaDA/Dream-style bidirectional LLaMA: untied head, GQA 4 heads over 2 KV heads, [MASK] in the input
    cfg = LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-5, rope_theta=10000.0,
                      tie_word_embeddings=False, bos_token_id=CLS, eos_token_id=SEP, pad_token_id=PAD,
                      mask_token_id=MASK, attn_implementation='eager', initializer_range=0.2)
    m = LlamaForCausalLM(cfg).eval()
    x = ids.clone()
    x[0, 2] = x[0, 5] = x[1, 0] = MASK
    bidir = torch.zeros(2, 1, 8, 8)
    save('llama-bidir', m, lambda mm: mm(input_ids=x, attention_mask=bidir).logits, x)

    # causal LLaMA (Qwen2-like: q/k/v/o bias), tied head, rope_theta 1000
    cfg = LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=1, max_position_embeddings=32, rms_norm_eps=1e-6, rope_theta=1000.0,
                      tie_word_embeddings=True, attention_bias=True, bos_token_id=CLS, eos_token_id=SEP,
                      pad_token_id=PAD, attn_implementation='eager', initializer_range=0.2)
    m = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith('.bias'):
                p.normal_(0, 0.1)
    x = ids.clone()
    x[:, 0] = CLS
    save('llama-causal', m, lambda mm: mm(input_ids=x).logits, x, tied_drop=('lm_head.weight',))

    cfg = GPT2Config(vocab_size=V, n_positions=32, n_embd=32, n_layer=2, n_head=4, n_inner=64, bos_token_id=CLS,
                     eos_token_id=SEP, attn_implementation='eager', initializer_range=0.2)
    m = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith('.bias') or 'ln' in n:
                p.normal_(0.5 if n.endswith('ln_1.weight') or n.endswith('ln_2.weight') or n.endswith('ln_f.weight')
                          else 0, 0.1)
    save('gpt2', m, lambda mm: mm(input_ids=x).logits, x, tied_drop=('lm_head.weight',))

    for name, Config, Model in (('bert', BertConfig, BertForMaskedLM), ('roberta', RobertaConfig, RobertaForMaskedLM)):
        extra = {'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2} if name == 'roberta' else {}
        cfg = Config(vocab_size=V, hidden_size=32, num_hidden_layers=2 if name == "bert" else 1, num_attention_heads=4,
                     intermediate_size=64,
                     max_position_embeddings=32 + (2 if name == 'roberta' else 0), type_vocab_size=2,
                     attn_implementation='eager', initializer_range=0.2, **extra)
        m = Model(cfg).eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                if n.endswith('.bias'):
                    p.normal_(0, 0.1)
        x = ids.clone()
        x[0, 2] = x[0, 5] = x[1, 0] = MASK
        decoder = ('cls.predictions.decoder.weight', 'cls.predictions.decoder.bias') if name == 'bert' else (
            'lm_head.decoder.weight', 'lm_head.decoder.bias')
        save(name, m, lambda mm: mm(input_ids=x).logits, x, tied_drop=decoder)

    # rope_scaling: a causal LLaMA with Llama 3.1's scaling (the band edges fall inside its frequencies), and
    # transformers' own frequencies for the linear / yarn kinds (golden `rope_*`: inv_freq, then the cos/sin factor)
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    torch.manual_seed(2029)
    scaled = dict(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                  bos_token_id=CLS, eos_token_id=SEP, pad_token_id=PAD, attn_implementation='eager',
                  initializer_range=0.2)
    rope = {}
    for kind, rs in (('linear', {'rope_type': 'linear', 'factor': 2.0}),
                     ('yarn', {'rope_type': 'yarn', 'factor': 4.0, 'original_max_position_embeddings': 16}),
                     ('yarn_mscale', {'rope_type': 'yarn', 'factor': 4.0, 'original_max_position_embeddings': 16,
                                      'mscale': 0.707, 'mscale_all_dim': 1.0, 'beta_fast': 16.0}),
                     ('llama3', {'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0,
                                 'high_freq_factor': 4.0, 'original_max_position_embeddings': 16})):
        inv, att = ROPE_INIT_FUNCTIONS[rs['rope_type']](LlamaConfig(**scaled, rope_scaling=rs), 'cpu')
        rope[f'rope_{kind}'] = torch.cat([inv.float(), torch.tensor([float(att)])])
    cfg = LlamaConfig(**scaled, rope_scaling={'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0,
                                              'high_freq_factor': 4.0, 'original_max_position_embeddings': 16})
    m = LlamaForCausalLM(cfg).eval()
    x = ids.clone()
    x[:, 0] = CLS
    save('llama-rope', m, lambda mm: mm(input_ids=x).logits, x, extra=rope)

    # LLaDA (its own modeling code; bidirectional: no mask passed), [MASK] in the input; seeded on its own so the
    # fixtures above do not change when it is added
    torch.manual_seed(2027)
    x = ids.clone()
    x[0, 1] = x[0, 6] = x[1, 3] = MASK
    if not only or 'llada' in only:
        m = llada_model()
        save('llada', m, lambda mm: mm(input_ids=x).logits, x)

    # Dream: Qwen2 (q/k/v bias, untied head, GQA) bidirectional, logits shifted right by one
    from transformers import Qwen2Config
    from transformers.models.qwen2.modeling_qwen2 import Qwen2ForCausalLM
    torch.manual_seed(2028)
    cfg = Qwen2Config(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-6, rope_theta=10000.0,
                      tie_word_embeddings=False, bos_token_id=CLS, eos_token_id=SEP, pad_token_id=PAD,
                      mask_token_id=MASK, attn_implementation='eager', initializer_range=0.2)
    m = Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith('.bias'):
                p.normal_(0, 0.1)
    bidir = torch.zeros(2, 1, 8, 8)

    def dream_logits(mm):
        lg = mm(input_ids=x, attention_mask=bidir).logits
        return torch.cat([lg[:, :1], lg[:, :-1]], dim=1)

    save('dream', m, dream_logits, x)
    if not only or 'dream' in only:
        path = os.path.join(OUT, 'dream', 'config.json')
        c = json.load(open(path))
        c.update(model_type='Dream', architectures=['DreamModel'])
        json.dump(c, open(path, 'w'), indent=2, sort_keys=True)


if __name__ == '__main__':
    main()
