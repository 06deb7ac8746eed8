"""RMT (Recurrent Memory Transformer) read/write memory-token goldens from Hugging Face transformers.

Rerun (from the repository root; a few seconds):
    /work/venv/bin/python Fixtures/scripts/make_rmt_goldens.py

Reference: booydar/recurrent-memory-transformer, `modeling_rmt/language_modeling.py` (commit 9d0ebe1),
class `MemoryCell`:
    memory = randn(num_mem_tokens, hidden) * embeddings.weight.std()       # parameter "memory", [m, hidden]
    inputs_embeds = cat([memory_state, embed(input_ids), memory_state], dim=1)
    out = model(inputs_embeds=..., output_hidden_states=True)              # positions 0 .. L-1
    new_memory_state = out.hidden_states[-1][:, -m:]                      # final-normed states, write rows
    logits = out.logits[:, m:-m]
and `RecurrentWrapper`, which cuts the document into segments of `segment_size` tokens (left aligned, the
last one may be shorter) and threads `memory_state` through them. That recurrence is re-implemented
below in a few lines of PyTorch on top of transformers' own model classes (nothing of the reference is
copied). The state-dict name of the memory parameter is `memory_cell.memory` (RecurrentWrapper ->
memory_cell -> memory), shape [m, hidden]; that is what the fixtures store.

For each (base fixture, m, segment length) in CASES this writes Fixtures/models/rmt-<name>/:
  config.json, generation_config.json      copied from Fixtures/models/<base>/
  model.safetensors                        the base tensors + `memory_cell.memory` [m, hidden] (F32), made
                                           like the reference: torch.manual_seed(SEED); randn(m, hidden) * std(embed)
  rmt_golden.json                          {"tokens": document, "m", "segment_length",
      "rmt":  {"logits": [[vocab] per token], "memory": [[m*hidden] after each segment, incl. the partial last]},
      "rmt_xl": {"memory_length", "logits", "memory"}}   (see below), float64 forward, 7 significant digits;
      each run also has "float32_max_abs_diff": the same recurrence run by transformers in float32 (conditioning).

RMT + Transformer-XL (Mnemo's composition; the RMT reference has none, so its semantics are defined here):
each segment runs as [read memory, tokens, write memory] after a window of earlier segments' TOKEN keys and
values (HF DynamicCache); the read and write rows never enter the window. Before a segment, the window keeps
its newest `memory_length` token rows. Positions are relative to the window: the kept rows sit at positions
0 .. W-1 (their Llama keys are re-rotated by the shift with transformers' own rotary embedding and
`apply_rotary_pos_emb`, RoPE rotations compose), the new segment starts at position W. GPT-2's learned
positions index window rows the same way (HF position ids W .. W+L-1; cached keys carry no position).

Produced with torch 2.15.0, transformers 5.23.0 (printed into the golden).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MODELS = REPO / "Fixtures" / "models"
SEED = 2024

# name, base fixture, m (memory tokens), segment length, document length, XL memory length
CASES = [
    ("rmt-llama", "llama-gqa", 2, 12, 44, 20),
    ("rmt-gpt2", "gpt2", 4, 10, 36, 15),
]


def round_sig(x: float, digits: int = 7) -> float:
    return float(f"{x:.{digits - 1}e}")


def load_model(folder: Path):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    return model.to(torch.float64)


def document(seed: int, vocab: int, length: int) -> list[int]:
    rng = np.random.RandomState(seed)
    return [int(i) for i in rng.randint(3, vocab - 1, size=length)]


def segments(tokens: list[int], size: int) -> list[list[int]]:
    """RecurrentWrapper.split_tensor with segment_alignment 'left'."""
    return [tokens[i:i + size] for i in range(0, len(tokens), size)]


def memory_cell(model, ids: list[int], memory: torch.Tensor, past=None):
    """One MemoryCell.forward: [memory, embed(ids), memory] -> (logits of the ids, new memory, output)."""
    m = memory.shape[1]
    embeds = model.get_input_embeddings()(torch.tensor([ids]))
    inputs = torch.cat([memory, embeds, memory], dim=1)
    out = model(inputs_embeds=inputs, output_hidden_states=True, past_key_values=past, use_cache=past is not None)
    return out.logits[:, m:-m], out.hidden_states[-1][:, -m:], out


def check_last_hidden_is_normed(model, memory: torch.Tensor) -> None:
    """hidden_states[-1] must be the final-normed state (what the reference stores as memory)."""
    embeds = torch.cat([memory, memory], dim=1)
    out = model(inputs_embeds=embeds, output_hidden_states=True)
    base = model.base_model(inputs_embeds=embeds).last_hidden_state
    assert torch.equal(out.hidden_states[-1], base), "hidden_states[-1] is not the normed last hidden state"


def rmt(model, tokens: list[int], size: int, memory0: torch.Tensor):
    memory = memory0
    logits, memories = [], []
    for seg in segments(tokens, size):
        seg_logits, memory, _ = memory_cell(model, seg, memory)
        logits.append(seg_logits[0])
        memories.append(memory[0].reshape(-1))
    return torch.cat(logits), memories


def rotate_keys(model, keys: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """RoPE rotation of cached keys [1, kv_heads, T, D] by per-row position deltas (transformers' own functions)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    cos, sin = model.model.rotary_emb(keys, delta[None, :])
    _, rotated = apply_rotary_pos_emb(keys, keys, cos, sin)
    return rotated


def keep_rows(model, cache, rows: list[int], rope: bool) -> None:
    """Keeps cache rows `rows` (in order) at positions 0 .. len-1, re-rotating Llama keys by the shift."""
    index = torch.tensor(rows, dtype=torch.long)
    delta = torch.arange(len(rows)) - index        # new position - old position
    for layer in cache.layers:
        keys = layer.keys.index_select(2, index)
        layer.keys = rotate_keys(model, keys, delta) if rope else keys
        layer.values = layer.values.index_select(2, index)


def rmt_xl(model, tokens: list[int], size: int, memory0: torch.Tensor, memory_length: int, rope: bool):
    from transformers import DynamicCache
    m = memory0.shape[1]
    memory = memory0
    cache = DynamicCache(config=model.config)
    logits, memories = [], []
    for seg in segments(tokens, size):
        window = cache.get_seq_length()
        if window > memory_length:                 # the oldest token rows leave the window
            keep_rows(model, cache, list(range(window - memory_length, window)), rope)
            window = memory_length
        seg_logits, memory, _ = memory_cell(model, seg, memory, past=cache)
        logits.append(seg_logits[0])
        memories.append(memory[0].reshape(-1))
        assert cache.get_seq_length() == window + 2 * m + len(seg)
        # The read and write blocks leave the window; this segment's token rows stay.
        keep_rows(model, cache, list(range(window)) + list(range(window + m, window + m + len(seg))), rope)
    return torch.cat(logits), memories


def make_case(name: str, base: str, m: int, size: int, length: int, memory_length: int) -> dict:
    import transformers
    src, dst = MODELS / base, MODELS / name
    dst.mkdir(exist_ok=True)
    for file in ("config.json", "generation_config.json"):
        shutil.copyfile(src / file, dst / file)
    tensors = load_file(src / "model.safetensors")
    model32 = load_model(src).to(torch.float32)
    std = model32.get_input_embeddings().weight.data.std()
    hidden = model32.config.hidden_size
    torch.manual_seed(SEED)
    memory = (torch.randn((m, hidden)) * std).to(torch.float32)   # MemoryCell.create_memory
    tensors["memory_cell.memory"] = memory.contiguous()
    save_file(tensors, dst / "model.safetensors", metadata={"format": "pt"})
    (dst / "model.safetensors").chmod(0o644)

    model = load_model(src)
    memory0 = memory.to(torch.float64)[None]                        # MemoryCell.set_memory (batch 1)
    tokens = document(SEED + len(name), model.config.vocab_size, length)
    rope = model.config.model_type != "gpt2"
    with torch.no_grad():
        check_last_hidden_is_normed(model, memory0)
        logits, memories = rmt(model, tokens, size, memory0)
        xl_logits, xl_memories = rmt_xl(model, tokens, size, memory0, memory_length, rope)
        # Sanity: with memory_length 0 the XL recurrence is plain RMT.
        z_logits, z_mem = rmt_xl(model, tokens, size, memory0, 0, rope)
        assert torch.allclose(z_logits, logits, atol=1e-12) and all(torch.allclose(a, b, atol=1e-12) for a, b in zip(z_mem, memories))
        # The memory carries information: a different initial memory changes later segments' logits.
        other, _ = rmt(model, tokens, size, memory0 * -1)
        assert (other[size:] - logits[size:]).abs().max() > 1e-2
        # Conditioning: transformers' own float32 run against the float64 golden.
        l32, _ = rmt(model32, tokens, size, memory[None])
        x32, _ = rmt_xl(model32, tokens, size, memory[None], memory_length, rope)
    assert logits.shape == (length, model.config.vocab_size)

    def pack(l, mem):
        return {"logits": [[round_sig(v) for v in row] for row in l.tolist()],
                "memory": [[round_sig(v) for v in seg.tolist()] for seg in mem]}

    golden = {
        "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "script": "Fixtures/scripts/make_rmt_goldens.py", "seed": SEED, "model": name, "base": base,
        "m": m, "segment_length": size, "tokens": tokens, "hidden_size": hidden,
        "dtype": "float64 forward (model.to(torch.float64) of the f32 weights and memory), 7 significant digits",
        "rmt": {**pack(logits, memories), "float32_max_abs_diff": float((l32.double() - logits).abs().max())},
        "rmt_xl": {"memory_length": memory_length, **pack(xl_logits, xl_memories),
                   "float32_max_abs_diff": float((x32.double() - xl_logits).abs().max())},
    }
    (dst / "rmt_golden.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n", encoding="utf-8")
    return {"max_logit": float(logits.abs().max()), "xl_vs_plain": float((xl_logits - logits).abs().max())}


def main() -> None:
    for case in CASES:
        print(case[0], make_case(*case))


if __name__ == "__main__":
    main()
