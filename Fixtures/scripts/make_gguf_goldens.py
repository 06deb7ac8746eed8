"""Goldens for the F16 / Q8_0 GGUF fixtures: transformers run on the GGUF's own (dequantized) weights.

Rerun (after make_model_goldens.py, from the repository root):
    /work/venv/bin/python Fixtures/scripts/make_gguf_goldens.py

For every Fixtures/models/<name>/model-<type>.gguf it reads the tensors with the `gguf` package
(gguf-py from llama.cpp, GGUFReader + gguf.quants.dequantize: independent of Mnemo), maps the GGUF
names back to the Hugging Face ones (undoing convert_hf_to_gguf.py's Q/K row permutation for llama,
and the Conv1D transpose for gpt2), loads them into the transformers model of the same folder, and
runs the golden prompts in float64.

  * model-f32.gguf: only a check - the logits must equal golden.json's (the mapping is right and the
    converter changed nothing). Not written to disk.
  * model-f16.gguf / model-q8_0.gguf: writes golden-<type>.json with the same layout as golden.json
    ("prompts", "logits" [prompt][position][vocab], float64 forward, 7 significant digits) plus
    "max_abs_diff_vs_f32_golden" (how far the quantized model is from the F32 one).

These are the goldens for a runtime that dequantizes GGUF weights exactly and computes in float32
(tolerance as for F32: |a - b| <= 1e-4 + 1e-4 |b|). llama.cpp itself also quantizes the activations
to Q8_0 for Q8_0 matrices, so its own logits differ from these by more (see README.md).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MODELS_DIR = HERE.parent / "models"
LLAMA_CPP = Path(os.environ.get("LLAMA_CPP", "/work/ref/llama.cpp"))
sys.path.insert(0, str(LLAMA_CPP / "gguf-py"))  # same gguf-py as the converter that wrote the files
sys.path.insert(0, str(HERE))

import gguf  # noqa: E402
from gguf.quants import dequantize  # noqa: E402

from make_model_goldens import full_logits, round_sig, versions  # noqa: E402


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of convert_hf_to_gguf.py LlamaModel.permute (interleaved pairs -> HF halves)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_state_dict(path: Path, config) -> dict[str, torch.Tensor]:
    reader = gguf.GGUFReader(str(path))
    arch = config.model_type
    out: dict[str, torch.Tensor] = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(d) for d in reversed(t.shape)])  # ggml ne is innermost first
        parts = t.name.split(".")
        if arch == "gpt2":
            top = {"token_embd": "transformer.wte", "position_embd": "transformer.wpe",
                   "output_norm": "transformer.ln_f", "output": "lm_head"}
            layer = {"attn_norm": "ln_1", "attn_qkv": "attn.c_attn", "attn_output": "attn.c_proj",
                     "ffn_norm": "ln_2", "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj"}
            if parts[0] == "blk":
                name = f"transformer.h.{parts[1]}.{layer[parts[2]]}.{parts[3]}"
                if parts[2] in ("attn_qkv", "attn_output", "ffn_up", "ffn_down") and parts[3] == "weight":
                    w = w.T  # HF Conv1D stores [in, out]
            else:
                name = f"{top[parts[0]]}.{parts[1]}"
        else:
            top = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
            layer = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
                     "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                     "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                     "ffn_down": "mlp.down_proj"}
            if parts[0] == "rope_freqs":
                continue  # llama3 factors, recomputed by transformers from config.json
            if parts[0] == "blk":
                name = f"model.layers.{parts[1]}.{layer[parts[2]]}.{parts[3]}"
                if arch in ("llama", "mistral") and parts[2] in ("attn_q", "attn_k"):
                    heads = config.num_attention_heads if parts[2] == "attn_q" else config.num_key_value_heads
                    w = unpermute(w, heads)
            else:
                name = f"{top[parts[0]]}.{parts[1]}"
        out[name] = torch.from_numpy(np.ascontiguousarray(w))
    return out


def load_model(folder: Path, gguf_path: Path):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    state = hf_state_dict(gguf_path, model.config)
    expected = set(model.state_dict())
    if model.config.tie_word_embeddings:
        expected.discard("lm_head.weight")
    missing, unused = expected - set(state), set(state) - expected
    assert not missing and not unused, (gguf_path, sorted(missing), sorted(unused))
    for k, v in state.items():
        assert tuple(v.shape) == tuple(model.state_dict()[k].shape), (k, v.shape)
    model.load_state_dict(state, strict=False)
    if model.config.tie_word_embeddings:
        model.tie_weights()
    return model


def main() -> None:
    torch.set_num_threads(2)
    for folder in sorted(p for p in MODELS_DIR.iterdir() if (p / "golden.json").exists()):
        golden = json.loads((folder / "golden.json").read_text())
        prompts = golden["prompts"]
        ref = [np.array(l) for l in golden["logits"]]
        for gguf_path in sorted(folder.glob("model-*.gguf")):
            kind = gguf_path.stem.split("-", 1)[1]
            model = load_model(folder, gguf_path)
            logits = [full_logits(model, p, torch.float64) for p in prompts]
            diff = max(float(np.abs(l - r).max()) for l, r in zip(logits, ref))
            print(f"{folder.name}/{gguf_path.name}: max |logit - F32 golden| = {diff:.3g}")
            if kind == "f32":
                assert diff < 1e-5, f"{gguf_path}: F32 GGUF does not reproduce golden.json ({diff})"
                continue
            out = {**versions(), "model": folder.name, "gguf": gguf_path.name,
                   "method": "transformers float64 forward with the GGUF tensors dequantized by gguf-py "
                             "(gguf.quants.dequantize) and mapped back to HF names",
                   "prompts": prompts,
                   "logits": [[[round_sig(v) for v in row] for row in l.tolist()] for l in logits],
                   "max_abs_diff_vs_f32_golden": diff}
            (folder / f"golden-{kind}.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
