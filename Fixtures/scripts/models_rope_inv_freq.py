"""Golden RoPE inverse frequencies and attention factors from Hugging Face transformers.

Writes Fixtures/models/rope/inv_freq.json: for each case, the LlamaConfig fields used, the
sequence length passed (dynamic NTK only), transformers' `inv_freq` (float32) and attention factor.
Checked by Tests/MnemoModelsTests/RoPETests.swift against MnemoModels' RoPEFrequencies.

Rerun: /work/venv/bin/python Fixtures/scripts/models_rope_inv_freq.py  (transformers 5.x)
"""
import json, os
import transformers
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

CASES = [
    dict(name="default", theta=10000.0, head_dim=64, max_pos=128, rope=None, seq_len=None),
    dict(name="linear", theta=10000.0, head_dim=64, max_pos=128, rope=dict(rope_type="linear", factor=4.0), seq_len=None),
    dict(name="dynamic_short", theta=10000.0, head_dim=32, max_pos=128, rope=dict(rope_type="dynamic", factor=2.0), seq_len=100),
    dict(name="dynamic_long", theta=10000.0, head_dim=32, max_pos=128, rope=dict(rope_type="dynamic", factor=2.0), seq_len=300),
    dict(name="yarn", theta=10000.0, head_dim=64, max_pos=512,
         rope=dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=128), seq_len=None),
    dict(name="yarn_explicit", theta=500000.0, head_dim=64, max_pos=512,
         rope=dict(rope_type="yarn", factor=8.0, original_max_position_embeddings=64, beta_fast=16.0,
                   beta_slow=2.0, attention_factor=1.25, truncate=False), seq_len=None),
    dict(name="yarn_mscale", theta=10000.0, head_dim=32, max_pos=512,
         rope=dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=128, mscale=0.707,
                   mscale_all_dim=1.0), seq_len=None),
    dict(name="llama3", theta=500000.0, head_dim=64, max_pos=1024,
         rope=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                   original_max_position_embeddings=64), seq_len=None),
]

out = {"transformers_version": transformers.__version__, "cases": []}
for c in CASES:
    params = dict(c["rope"] or {"rope_type": "default"})
    params["rope_theta"] = c["theta"]
    cfg = LlamaConfig(hidden_size=c["head_dim"] * 4, num_attention_heads=4, head_dim=c["head_dim"],
                      max_position_embeddings=c["max_pos"], rope_parameters=params)
    rope_type = cfg.rope_parameters["rope_type"]
    if rope_type == "default":
        from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
        inv, att = LlamaRotaryEmbedding.compute_default_rope_parameters(cfg)
    else:
        inv, att = ROPE_INIT_FUNCTIONS[rope_type](cfg, "cpu", seq_len=c["seq_len"])
    out["cases"].append(dict(name=c["name"], theta=c["theta"], head_dim=c["head_dim"], max_pos=c["max_pos"],
                             rope=c["rope"], seq_len=c["seq_len"], inv_freq=[float(x) for x in inv.tolist()],
                             attention_factor=float(att)))

path = os.path.join(os.path.dirname(__file__), "..", "models", "rope", "inv_freq.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
