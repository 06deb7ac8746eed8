"""Tiny seeded random models + golden logits from Hugging Face transformers (and GGUF files from llama.cpp).

Rerun (from the repository root; ~1-2 minutes on 2 cores):
    /work/venv/bin/python Fixtures/scripts/make_model_goldens.py            # models, tokenizers, goldens, GGUF
    /work/venv/bin/python Fixtures/scripts/make_model_goldens.py --no-gguf  # skip the llama.cpp conversions
    /work/venv/bin/python Fixtures/scripts/make_model_goldens.py --only llama-gqa qwen2

Independent reference implementations only: transformers (model classes, generate), sentencepiece and
HF tokenizers (tokenizers), llama.cpp's convert_hf_to_gguf.py (GGUF files, via convert_gguf.py next to
this file, which only imports the converter; nothing of llama.cpp is copied).

Produced with: torch 2.15.0, transformers 5.23.0, tokenizers 0.23.3, sentencepiece 0.2.3, numpy 2.4.6,
llama.cpp converter at commit d32676d77426540327835040d5d3279728f0b4c8 (/work/ref/llama.cpp,
override with LLAMA_CPP=...). The script prints the versions it actually ran with and writes them into
every golden.json.

For each model in MODELS it writes Fixtures/models/<name>/:
  config.json, model.safetensors (F32), generation_config.json   -- save_pretrained(safe_serialization=True)
  tokenizer files (SentencePiece BPE or byte-level BPE trained on Alice in Wonderland; tiny_tokenizers.py)
  golden.json  {"transformers_version", "torch_version", "model", "prompts": [[ids]],
                "logits": [[[vocab floats] per position] per prompt],   -- float64 forward, 7 significant digits
                "logits_dtype": "float64", "float32_max_abs_diff": ..., "float32_max_rel_diff": ...,
                "greedy": [8 ids generated after prompts[0] by model.generate(do_sample=False)],
                "greedy_prompt": 0, ...}
  model-<f32|f16|q8_0>.gguf for the models listed with gguf types.

Weights are N(0, 0.2) (biases N(0, 0.1), norm weights 1 + N(0, 0.1)) so logits are O(1) and every
mistake shows. Config spelling: transformers 5 writes `rope_parameters` + `dtype`; every model except
llama-linear is rewritten to the classic spelling (`rope_theta` + `rope_scaling` + `torch_dtype`),
and the rewritten folder is reloaded and checked to give bit-identical logits.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MODELS_DIR = REPO / "Fixtures" / "models"
sys.path.insert(0, str(HERE))

import tiny_tokenizers  # noqa: E402

LLAMA_COMMON = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, head_dim=16,
                    vocab_size=512, rms_norm_eps=1e-5, hidden_act="silu", bos_token_id=1, eos_token_id=2,
                    attention_bias=False, mlp_bias=False)

# name -> spec. "rope": the rope_parameters dict (transformers 5 spelling) before rewriting.
MODELS: dict[str, dict] = {
    "llama-gqa": dict(
        arch="llama", seed=101, tokenizer="spm", gguf=["f32", "f16", "q8_0"],
        purpose="GQA 8 query heads / 2 KV heads; q_proj output 128 != hidden 64 (explicit head_dim); untied lm_head",
        config=dict(LLAMA_COMMON, num_attention_heads=8, num_key_value_heads=2, tie_word_embeddings=False,
                    max_position_embeddings=128, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
    "llama-tied": dict(
        arch="llama", seed=102, tokenizer="spm", gguf=["f32"],
        purpose="MHA 4 heads x 16; tie_word_embeddings true (no lm_head.weight tensor)",
        config=dict(LLAMA_COMMON, num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True,
                    max_position_embeddings=128, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
    "llama3-rope": dict(
        arch="llama", seed=103, tokenizer="spm", gguf=["f32", "q8_0"],
        purpose="rope_scaling llama3 (factor 8, low 1, high 4, original_max_position_embeddings 32): with "
                "head_dim 16, theta 10000 the 8 frequencies hit all three branches (kept / smoothed / divided)",
        config=dict(LLAMA_COMMON, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                    max_position_embeddings=256,
                    rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                     "original_max_position_embeddings": 32})),
    "llama-yarn": dict(
        arch="llama", seed=104, tokenizer="spm", gguf=["f32"],
        purpose="rope_scaling yarn factor 4, original_max_position_embeddings 32 (beta_fast 32, beta_slow 1 "
                "defaults; attention_factor = 0.1 ln 4 + 1 = 1.1386 scales cos/sin)",
        config=dict(LLAMA_COMMON, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                    max_position_embeddings=128,
                    rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                                     "original_max_position_embeddings": 32})),
    "llama-linear": dict(
        arch="llama", seed=105, tokenizer="spm", gguf=["f32"], spelling="transformers5",
        purpose="rope_scaling linear factor 2 (positions / 2); config in transformers-5 spelling "
                "(rope_parameters + dtype)",
        config=dict(LLAMA_COMMON, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                    max_position_embeddings=64,
                    rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0})),
    "llama-dynamic": dict(
        arch="llama", seed=106, tokenizer="spm", gguf=[],
        purpose="rope_scaling dynamic NTK factor 2, max_position_embeddings 16; prompts 1 and 2 are longer, "
                "so HF recomputes the base for the WHOLE forward from seq_len = prompt length",
        config=dict(LLAMA_COMMON, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                    max_position_embeddings=16,
                    rope_parameters={"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0})),
    "qwen2": dict(
        arch="qwen2", seed=107, tokenizer="spm", gguf=["f32", "f16", "q8_0"],
        purpose="Qwen2: q/k/v projection biases, GQA 4/2, rope_theta 1e6, rms eps 1e-6, tied embeddings",
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, vocab_size=512, rms_norm_eps=1e-6, hidden_act="silu",
                    bos_token_id=1, eos_token_id=2, tie_word_embeddings=True, max_position_embeddings=128,
                    use_sliding_window=False, sliding_window=None,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
    "mistral": dict(
        arch="mistral", seed=108, tokenizer="spm", gguf=["f32"],
        purpose="Mistral: Llama layout, GQA 4/2, sliding_window 4096 (larger than every prompt), untied",
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, vocab_size=512, rms_norm_eps=1e-5, hidden_act="silu",
                    bos_token_id=1, eos_token_id=2, tie_word_embeddings=False, max_position_embeddings=128,
                    sliding_window=4096, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
    "gpt2": dict(
        arch="gpt2", seed=109, tokenizer="bytebpe", gguf=["f32", "f16", "q8_0"],
        purpose="GPT-2: learned positions (n_positions 64), LayerNorm with bias, Conv1D weights stored "
                "[in, out], fused c_attn, gelu_new MLP 4x, tied lm_head",
        config=dict(n_embd=64, n_layer=2, n_head=4, n_positions=64, vocab_size=384, n_inner=None,
                    activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=383,
                    eos_token_id=383, tie_word_embeddings=True)),
}

PROMPT_LENGTHS = [5, 17, 40]
GREEDY_TOKENS = 8


def versions() -> dict:
    import sentencepiece
    import tokenizers
    import transformers
    return {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
            "tokenizers_version": tokenizers.__version__, "sentencepiece_version": sentencepiece.__version__,
            "numpy_version": np.__version__}


def build_model(spec: dict):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig, \
        MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM
    classes = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
               "mistral": (MistralConfig, MistralForCausalLM), "gpt2": (GPT2Config, GPT2LMHeadModel)}
    config_cls, model_cls = classes[spec["arch"]]
    config = config_cls(**spec["config"])
    torch.manual_seed(spec["seed"])
    model = model_cls(config).to(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied weights appear once
            if p.dim() == 1 and name.endswith("weight"):          # RMSNorm / LayerNorm scale
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    model.eval()
    return model


def to_classic_spelling(config: dict) -> dict:
    """transformers-5 `rope_parameters` + `dtype` -> classic `rope_theta` + `rope_scaling` + `torch_dtype`."""
    out = {}
    for key, value in config.items():
        if key == "dtype":
            out["torch_dtype"] = value
        elif key == "rope_parameters":
            rope = dict(value)
            out["rope_theta"] = rope.pop("rope_theta")
            if rope.get("rope_type", "default") == "default":
                out["rope_scaling"] = None
            else:
                rope_type = rope.pop("rope_type")
                out["rope_scaling"] = {"rope_type": rope_type, **rope}
        else:
            out[key] = value
    return out


def make_prompts(seed: int, vocab: int, arch: str) -> list[list[int]]:
    rng = np.random.RandomState(seed)
    prompts = []
    for length in PROMPT_LENGTHS:
        if arch == "gpt2":
            ids = rng.randint(0, vocab - 1, size=length).tolist()      # anything but <|endoftext|>
        else:
            ids = [1] + rng.randint(3, vocab, size=length - 1).tolist()  # <s> then no <unk>/<s>/</s>
        prompts.append([int(i) for i in ids])
    return prompts


def full_logits(model, prompt: list[int], dtype: torch.dtype) -> np.ndarray:
    with torch.no_grad():
        out = model.to(dtype)(torch.tensor([prompt]), use_cache=False).logits[0]
    return out.to(torch.float64).numpy()


def round_sig(x: float, digits: int = 7) -> float:
    return float(f"{x:.{digits - 1}e}")


def write_golden(name: str, spec: dict, model, folder: Path) -> dict:
    vocab = model.config.vocab_size
    prompts = make_prompts(spec["seed"], vocab, spec["arch"])
    logits64, max_abs, max_rel = [], 0.0, 0.0
    for prompt in prompts:
        l64 = full_logits(model, prompt, torch.float64)
        l32 = full_logits(model, prompt, torch.float32)
        assert l64.shape == (len(prompt), vocab)
        diff = np.abs(l64 - l32)
        max_abs = max(max_abs, float(diff.max()))
        max_rel = max(max_rel, float((diff / np.maximum(np.abs(l64), 1e-3)).max()))
        logits64.append(l64)
    model.to(torch.float32)
    eos = model.config.eos_token_id
    with torch.no_grad():
        result = model.generate(torch.tensor([prompts[0]]), do_sample=False, max_new_tokens=GREEDY_TOKENS,
                                pad_token_id=eos, eos_token_id=eos, output_scores=True,
                                return_dict_in_generate=True)
        gen = result.sequences[0, len(prompts[0]):].tolist()
        top2 = torch.stack(result.scores)[:, 0].topk(2).values
        margin = float((top2[:, 0] - top2[:, 1]).min())  # smallest top-1 / top-2 logit gap on the way
        gen64 = model.to(torch.float64).generate(torch.tensor([prompts[0]]), do_sample=False,
                                                 max_new_tokens=GREEDY_TOKENS, pad_token_id=eos,
                                                 eos_token_id=eos)[0, len(prompts[0]):].tolist()
    model.to(torch.float32)
    assert gen == gen64, (name, gen, gen64)
    if len(gen) != GREEDY_TOKENS:
        print(f"  note: greedy stopped at EOS after {len(gen)} tokens", file=sys.stderr)
    golden = {
        **versions(), "model": name, "purpose": spec["purpose"],
        "prompts": prompts,
        "logits": [[[round_sig(v) for v in row] for row in l.tolist()] for l in logits64],
        "logits_dtype": "float64 forward pass (model.to(torch.float64); HF computes RoPE cos/sin in float32), "
                        "rounded to 7 significant digits",
        "float32_max_abs_diff": max_abs, "float32_max_rel_diff": max_rel,
        "greedy_prompt": 0, "greedy": gen, "greedy_min_top2_margin": margin,
        "greedy_method": f"model.generate(do_sample=False, max_new_tokens={GREEDY_TOKENS}) with KV cache, "
                         "float32 (float64 gives the same ids)",
    }
    (folder / "golden.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n", encoding="utf-8")
    return {"max_abs": max_abs, "max_rel": max_rel, "greedy": gen, "margin": margin,
            "max_logit": max(float(np.abs(l).max()) for l in logits64),
            "std_logit": float(np.std(np.concatenate([l.ravel() for l in logits64])))}


def make_one(name: str, spec: dict, gguf: bool) -> dict:
    from transformers import AutoModelForCausalLM
    folder = MODELS_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if not old.name.startswith("llamacpp-"):  # llama.cpp's own logits are made by hand, see README
            old.unlink()
    model = build_model(spec)
    model.save_pretrained(str(folder), safe_serialization=True)
    config_path = folder / "config.json"
    written = json.loads(config_path.read_text())
    assert "rope_parameters" in written or spec["arch"] == "gpt2", "transformers no longer writes rope_parameters?"
    if spec.get("spelling", "classic") == "classic":
        written = to_classic_spelling(written)
    if spec["arch"] == "gpt2":
        # openai-community/gpt2's config.json carries n_ctx (= n_positions); llama.cpp's converter reads it.
        written["n_ctx"] = written["n_positions"]
    config_path.write_text(json.dumps(written, indent=2) + "\n")
    # Reload from disk: the (possibly rewritten) config must give bit-identical logits.
    reloaded = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    probe = make_prompts(spec["seed"], model.config.vocab_size, spec["arch"])[2]
    assert np.array_equal(full_logits(model, probe, torch.float32), full_logits(reloaded, probe, torch.float32)), \
        f"{name}: reloaded config changes the logits"
    if spec["tokenizer"] == "spm":
        tiny_tokenizers.train_sentencepiece(folder, model.config.vocab_size)
    else:
        eot = tiny_tokenizers.train_byte_level_bpe(folder, model.config.vocab_size)
        assert eot == model.config.eos_token_id
    stats = write_golden(name, spec, reloaded, folder)
    if gguf:
        for outtype in spec["gguf"]:
            out = folder / f"model-{outtype}.gguf"
            subprocess.run([sys.executable, str(HERE / "convert_gguf.py"), str(folder), "--outtype", outtype,
                            "--outfile", str(out)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL if not os.environ.get("VERBOSE") else None)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="model names to (re)build")
    parser.add_argument("--no-gguf", action="store_true", help="skip the llama.cpp GGUF conversions")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(json.dumps(versions()))
    names = args.only or list(MODELS)
    for name in names:
        stats = make_one(name, MODELS[name], gguf=not args.no_gguf)
        files = {p.name: p.stat().st_size for p in sorted((MODELS_DIR / name).glob("*"))}
        print(f"{name}: f32-vs-f64 max abs {stats['max_abs']:.2e} rel {stats['max_rel']:.2e}, "
              f"|logit| max {stats['max_logit']:.2f} std {stats['std_logit']:.2f}, greedy {stats['greedy']} (min top-2 margin {stats['margin']:.3f})")
        print("   ", files)


if __name__ == "__main__":
    main()
