"""Golden for dynamic-NTK RoPE under token-by-token decoding with a KV cache.

transformers recomputes the dynamic base from `max(position_ids) + 1` on every forward call, so
with a cache each new token past max_position_embeddings is rotated with a larger base while the
cached keys keep the rotation they got. This feeds prompt 2 of Fixtures/models/llama-dynamic
(40 tokens, max_position_embeddings 16) one token at a time through the HF model in float64 with
`past_key_values` and records every step's logits.

Output: Fixtures/models/decode/llama-dynamic.json {"tokens": [...], "logits": [[vocab] per step]}
Rerun: /work/venv/bin/python Fixtures/scripts/models_dynamic_decode_golden.py
"""
import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, DynamicCache

ROOT = Path(__file__).resolve().parent.parent / "models"
folder = ROOT / "llama-dynamic"
tokens = json.loads((folder / "golden.json").read_text())["prompts"][2]
model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float64).eval()
cache = DynamicCache(config=model.config)
rows = []
with torch.no_grad():
    for i, t in enumerate(tokens):
        out = model(torch.tensor([[t]]), past_key_values=cache, use_cache=True,
                    position_ids=torch.tensor([[i]]))
        cache = out.past_key_values
        rows.append([float(f"{v:.7g}") for v in out.logits[0, -1].tolist()])
(ROOT / "decode").mkdir(exist_ok=True)
(ROOT / "decode" / "llama-dynamic.json").write_text(json.dumps({"tokens": tokens, "logits": rows}))
print("wrote", len(rows), "steps")
