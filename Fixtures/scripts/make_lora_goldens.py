"""PEFT LoRA adapter fixtures + golden logits from Hugging Face peft (unmerged forward) and transformers.

Rerun (from the repository root; a few seconds):
    /work/venv/bin/pip install peft==0.21.2      # once
    /work/venv/bin/python Fixtures/scripts/make_lora_goldens.py

For each case it writes Fixtures/models/<name>/:
  config.json, generation_config.json, model.safetensors   copied from the base fixture Fixtures/models/<base>/
  adapter_config.json, adapter_model.safetensors            peft `get_peft_model(base, LoraConfig(...))` with
                                                            seeded random NONZERO lora_A and lora_B (peft
                                                            initialises B to zero), `save_pretrained`
  lora_golden.json  {"prompts": [[ids]], "logits": [[[vocab] per position] per prompt]}: float64 forward of
                    `PeftModel.from_pretrained(base, folder)` (LoRA applied unmerged, y = W x + s B A x),
                    7 significant digits; plus "base_logits" (the base model alone, so a test can see the
                    adapter matters).
Cases:
  lora-qwen2  Qwen2 (q/k/v biases, GQA), all seven linear modules of every layer, r 4, lora_alpha 8
              (scale alpha / r = 2).
  lora-gpt2   GPT-2 (Conv1D weights stored [in, out]): c_attn, attn c_proj, c_fc, mlp c_proj with
              fan_in_fan_out true, use_rslora true (scale alpha / sqrt(r) = 16 / sqrt(8)), r 8.
              Its adapter_model.safetensors also carries an RMT `memory_cell.memory` [2, hidden] (Mnemo
              reads auxiliary tensors from either file), and lora_golden.json has "rmt": the
              booydar/recurrent-memory-transformer MemoryCell recurrence (see make_rmt_goldens.py) run on
              the PeftModel, m 2, segment length 10, with "float32_max_abs_diff": the same recurrence run
              by transformers in float32, against the float64 golden (how well conditioned the case is).
              (Qwen2 + this adapter was tried first and is badly conditioned for RMT: transformers' own
              float32 run drifts 2e-4 from float64 by the fourth segment, so it cannot check 1e-4.)

Produced with torch 2.15.0, transformers 5.23.0, peft 0.21.2 (printed into the golden).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent / "models"
sys.path.insert(0, str(HERE))
from make_rmt_goldens import rmt, round_sig  # noqa: E402  (the MemoryCell recurrence)

SEED = 4242
CASES = {
    "lora-qwen2": dict(base="qwen2", factor_std=0.2, r=4, lora_alpha=8, use_rslora=False, fan_in_fan_out=False,
                       target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
    "lora-gpt2": dict(base="gpt2", factor_std=0.1, r=8, lora_alpha=16, use_rslora=True, fan_in_fan_out=True,
                      target_modules=["c_attn", "c_proj", "c_fc"], rmt=dict(m=2, segment_length=10, length=34)),
}
PROMPT_LENGTHS = [9, 30]


def load_base(folder: Path):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model.eval()


def logits64(model, prompt: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model.to(torch.float64)(torch.tensor([prompt]), use_cache=False).logits[0]


def make_case(name: str, spec: dict) -> dict:
    import peft
    import transformers
    from peft import LoraConfig, PeftModel, get_peft_model
    src, dst = MODELS / spec["base"], MODELS / name
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir()
    for file in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copyfile(src / file, dst / file)

    config = LoraConfig(r=spec["r"], lora_alpha=spec["lora_alpha"], lora_dropout=0.0, bias="none",
                        target_modules=spec["target_modules"], use_rslora=spec["use_rslora"],
                        fan_in_fan_out=spec["fan_in_fan_out"], task_type="CAUSAL_LM")
    model = get_peft_model(load_base(src), config)
    torch.manual_seed(SEED)
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters()):
            if "lora_A" in pname or "lora_B" in pname:
                p.copy_(spec["factor_std"] * torch.randn_like(p))
    model.peft_config["default"].base_model_name_or_path = f"Fixtures/models/{spec['base']}"  # not this machine's path
    model.save_pretrained(dst)
    (dst / "README.md").unlink()                 # peft's model-card template
    saved = json.loads((dst / "adapter_config.json").read_text())
    saved["target_modules"] = sorted(saved["target_modules"])   # peft writes a set in hash order
    (dst / "adapter_config.json").write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    adapter_file = dst / "adapter_model.safetensors"
    n_pairs = sum(1 for k in load_file(adapter_file) if ".lora_A." in k)

    # Golden: load what was saved, as a user would, and run it unmerged in float64.
    loaded = PeftModel.from_pretrained(load_base(src), dst).eval()
    assert not any(getattr(m, "merged", False) for m in loaded.modules())
    vocab = loaded.config.vocab_size
    rng = np.random.RandomState(SEED)
    prompts = [[int(i) for i in rng.randint(3, vocab - 1, size=n)] for n in PROMPT_LENGTHS]
    lora = [logits64(loaded, p) for p in prompts]
    base = [logits64(load_base(src), p) for p in prompts]
    effect = max(float((a - b).abs().max()) for a, b in zip(lora, base))
    assert effect > 0.1, effect
    golden = {
        "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "peft_version": peft.__version__, "script": "Fixtures/scripts/make_lora_goldens.py", "seed": SEED,
        "model": name, "base": spec["base"], "lora_pairs": n_pairs,
        "scale": spec["lora_alpha"] / (spec["r"] ** 0.5 if spec["use_rslora"] else spec["r"]),
        "dtype": "float64 forward of PeftModel.from_pretrained (unmerged), 7 significant digits",
        "prompts": prompts,
        "logits": [[[round_sig(v) for v in row] for row in l.tolist()] for l in lora],
        "base_logits": [[[round_sig(v) for v in row] for row in l.tolist()] for l in base],
    }

    if "rmt" in spec:
        r = spec["rmt"]
        hidden = loaded.config.hidden_size
        std = loaded.get_input_embeddings().weight.data.std()
        torch.manual_seed(SEED + 1)
        memory = (torch.randn((r["m"], hidden), dtype=torch.float32) * std.to(torch.float32)).contiguous()
        tensors = load_file(adapter_file)
        tensors["memory_cell.memory"] = memory
        save_file(tensors, adapter_file, metadata={"format": "pt"})
        tokens = [int(i) for i in rng.randint(3, vocab - 1, size=r["length"])]
        with torch.no_grad():
            # The adapter file now has an extra key: reload to check peft still reads it.
            reloaded = PeftModel.from_pretrained(load_base(src), dst).eval().to(torch.float64)
            l, mems = rmt(reloaded, tokens, r["segment_length"], memory.to(torch.float64)[None])
            l32, _ = rmt(reloaded.to(torch.float32), tokens, r["segment_length"], memory[None])
        golden["rmt"] = {"m": r["m"], "segment_length": r["segment_length"], "tokens": tokens,
                         "memory_file": "adapter_model.safetensors",
                         "float32_max_abs_diff": float((l32.to(torch.float64) - l).abs().max()),
                         "logits": [[round_sig(v) for v in row] for row in l.tolist()],
                         "memory": [[round_sig(v) for v in seg.tolist()] for seg in mems]}
    for f in dst.iterdir():
        f.chmod(0o644)
    (dst / "lora_golden.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n", encoding="utf-8")
    return {"pairs": n_pairs, "adapter_effect": effect, "max_logit": max(float(l.abs().max()) for l in lora)}


def main() -> None:
    for name, spec in CASES.items():
        print(name, make_case(name, spec))


if __name__ == "__main__":
    main()
