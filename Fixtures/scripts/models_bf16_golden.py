"""A BF16 safetensors copy of Fixtures/models/llama-tied and its transformers golden.

torch rounds the f32 weights to bfloat16 (round-to-nearest-even); the model is saved with
`save_pretrained` (safetensors, dtype bfloat16) to Fixtures/models/bf16/llama-tied-bf16/, then the
golden is a float64 forward (weights bf16 -> float64 exactly) of prompts 0 and 1 of llama-tied's
golden.json, 7 significant digits.

Rerun: /work/venv/bin/python Fixtures/scripts/models_bf16_golden.py
"""
import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

ROOT = Path(__file__).resolve().parent.parent / "models"
source = ROOT / "llama-tied"
out = ROOT / "bf16" / "llama-tied-bf16"
out.mkdir(parents=True, exist_ok=True)
model = AutoModelForCausalLM.from_pretrained(str(source), dtype=torch.float32).eval()
model.to(torch.bfloat16).save_pretrained(str(out))
for extra in ("generation_config.json",):
    (out / extra).unlink(missing_ok=True)
prompts = json.loads((source / "golden.json").read_text())["prompts"][:2]
reloaded = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.bfloat16).eval().to(torch.float64)
with torch.no_grad():
    logits = [[[float(f"{v:.7g}") for v in row] for row in reloaded(torch.tensor([p])).logits[0].tolist()] for p in prompts]
(out / "golden.json").write_text(json.dumps({"model": "llama-tied-bf16", "prompts": prompts, "logits": logits,
                                             "greedy_prompt": 0, "greedy": []}))
print("dtype on disk:", json.loads((out / "config.json").read_text()).get("dtype"))
