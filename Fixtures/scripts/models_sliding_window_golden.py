"""Golden for Mistral sliding-window attention (window 6) from transformers.

Loads Fixtures/models/mistral (its weights, from goldens' make_model_goldens.py) with the config's
sliding_window overridden to 6, so prompts longer than 6 tokens exercise the window mask
(transformers masking_utils.sliding_window_overlay: key k visible to query q iff k > q - 6).
Records, in float64: a one-shot forward of prompts 1 and 2 of golden.json ("prefill"), and prompt 2
fed one token at a time with a DynamicCache ("decode").

Output: Fixtures/models/decode/mistral-window6.json
Rerun: /work/venv/bin/python Fixtures/scripts/models_sliding_window_golden.py
"""
import json
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, DynamicCache

ROOT = Path(__file__).resolve().parent.parent / "models"
folder = ROOT / "mistral"
WINDOW = 6
config = AutoConfig.from_pretrained(str(folder))
config.sliding_window = WINDOW
model = AutoModelForCausalLM.from_pretrained(str(folder), config=config, dtype=torch.float64,
                                             attn_implementation="eager").eval()
prompts = json.loads((folder / "golden.json").read_text())["prompts"][1:]


def rows(t):
    return [[float(f"{v:.7g}") for v in row] for row in t.tolist()]


with torch.no_grad():
    prefill = [rows(model(torch.tensor([p])).logits[0]) for p in prompts]
    cache = DynamicCache(config=model.config)
    decode = []
    for i, t in enumerate(prompts[-1]):
        out = model(torch.tensor([[t]]), past_key_values=cache, use_cache=True, position_ids=torch.tensor([[i]]))
        cache = out.past_key_values
        decode.append(rows(out.logits[0])[0])
    full = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float64).eval()
    differs = float((full(torch.tensor([prompts[-1]])).logits[0] - model(torch.tensor([prompts[-1]])).logits[0]).abs().max())

(ROOT / "decode").mkdir(exist_ok=True)
(ROOT / "decode" / "mistral-window6.json").write_text(json.dumps(
    {"sliding_window": WINDOW, "prompts": prompts, "prefill": prefill, "decode_tokens": prompts[-1], "decode": decode,
     "max_abs_diff_vs_full_attention": differs}))
print("window", WINDOW, "max |window - full| =", differs)
