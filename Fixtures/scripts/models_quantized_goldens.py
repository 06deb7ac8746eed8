"""Goldens for the F16 / Q8_0 GGUF files: transformers run with the GGUF's own (dequantized) weights.

For every Fixtures/models/<name>/model-{f16,q8_0}.gguf this reads the tensors with the `gguf`
package (GGUFReader + gguf.quants.dequantize), maps llama.cpp names back to Hugging Face names
(undoing convert_hf_to_gguf.py's LlamaModel.permute of q/k rows for arch `llama`, and GPT-2's
Conv1D transpose), loads them into the HF model of the same folder, and runs a float64 forward on
the first two prompts of golden.json. Output: Fixtures/models/quantized/<name>-<kind>.json with
  logits            [prompt][position][vocab] (7 significant digits)
  format_max_abs_diff   max |logits(dequantized weights) - logits(original f32 weights)| over those
                        positions: the quantization noise of the format itself, measured by transformers
  format_top1_agree     positions whose argmax is unchanged by the quantization
Checked by Tests/MnemoModelsTests/GoldenLogitsTests.swift.

Rerun: /work/venv/bin/python Fixtures/scripts/models_quantized_goldens.py
"""
import json
from pathlib import Path

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from transformers import AutoModelForCausalLM

ROOT = Path(__file__).resolve().parent.parent / "models"
OUT = ROOT / "quantized"

LLAMA = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
         "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
         "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
GPT2 = {"attn_norm": "ln_1", "attn_qkv": "attn.c_attn", "attn_output": "attn.c_proj", "ffn_norm": "ln_2",
        "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj"}


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of LlamaModel.permute: reshape(n_head, 2, d/2, ...).swapaxes(1, 2)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_state(reader: GGUFReader, arch: str, config) -> dict:
    state = {}
    for t in reader.tensors:
        shape = [int(x) for x in reversed(t.shape)]  # outermost first
        w = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(shape)
        name = t.name
        if name == "rope_freqs.weight":
            continue
        base, _, suffix = name.rpartition(".")
        if arch == "gpt2":
            top = {"token_embd": "transformer.wte", "position_embd": "transformer.wpe",
                   "output_norm": "transformer.ln_f", "output": "lm_head"}
            if base in top:
                hf = top[base]
            else:
                _, n, part = base.split(".")
                hf = f"transformer.h.{n}.{GPT2[part]}"
                if suffix == "weight" and part in ("attn_qkv", "attn_output", "ffn_up", "ffn_down"):
                    w = w.T  # Conv1D stores [in, out]
        else:
            top = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
            if base in top:
                hf = top[base]
            else:
                _, n, part = base.split(".")
                hf = f"model.layers.{n}.{LLAMA[part]}"
                if arch == "llama" and part == "attn_q":
                    w = unpermute(w, config.num_attention_heads)
                if arch == "llama" and part == "attn_k":
                    w = unpermute(w, config.num_key_value_heads)
        state[f"{hf}.{suffix}"] = torch.from_numpy(np.ascontiguousarray(w))
    return state


def logits(model, prompt):
    with torch.no_grad():
        return model(torch.tensor([prompt])).logits[0].to(torch.float64).numpy()


def main():
    OUT.mkdir(exist_ok=True)
    for folder in sorted(ROOT.iterdir()):
        for kind in ("f16", "q8_0"):
            path = folder / f"model-{kind}.gguf"
            if not path.exists():
                continue
            golden = json.loads((folder / "golden.json").read_text())
            prompts = golden["prompts"][:2]
            model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float64).eval()
            reader = GGUFReader(str(path))
            arch = str(bytes(reader.fields["general.architecture"].parts[-1]), "utf-8")
            reference = [logits(model, p) for p in prompts]
            state = hf_state(reader, arch, model.config)
            missing, unexpected = model.load_state_dict(state, strict=False)
            assert not unexpected, unexpected
            assert all(m == "lm_head.weight" for m in missing), missing
            if model.config.tie_word_embeddings:
                model.tie_weights()
            quantized = [logits(model, p) for p in prompts]
            diff = max(float(np.abs(q - r).max()) for q, r in zip(quantized, reference))
            agree = sum(int((q.argmax(-1) == r.argmax(-1)).sum()) for q, r in zip(quantized, reference))
            out = {"model": folder.name, "gguf": path.name, "prompts": prompts,
                   "logits": [[[float(f"{v:.7g}") for v in row] for row in q.tolist()] for q in quantized],
                   "format_max_abs_diff": diff, "format_top1_agree": agree,
                   "positions": sum(len(p) for p in prompts)}
            (OUT / f"{folder.name}-{kind}.json").write_text(json.dumps(out))
            print(folder.name, kind, "format max|diff|", round(diff, 5), "top1", agree, "/", out["positions"])


if __name__ == "__main__":
    main()
