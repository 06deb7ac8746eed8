#!/usr/bin/env python3
"""Builds the synthetic MnemoFormats fixtures and their goldens, independently of the Swift code.

Rerun from the repository root with:

    /work/venv/bin/python Fixtures/scripts/make_format_goldens.py

Writes into Fixtures/formats/:
  synthetic_v3.gguf        GGUF v3 (gguf.GGUFWriter): every metadata value type, nested arrays,
                           F32/F16/BF16/Q8_0 tensors (quantized with gguf.quants.quantize), an
                           unsupported Q4_0 tensor, 1-D and 3-D tensors.
  synthetic_v2.gguf        The same writer output with general.alignment = 64 and the version
                           field patched to 2 (GGUF v2 and v3 are byte-identical for little-endian
                           files; v3 only added big-endian support).
  synthetic_be.gguf        A big-endian GGUF written by GGUFWriter(endianess=BIG), for rejection.
  mixed.safetensors        safetensors.torch.save_file: F32, F16, BF16, I64, 1-D and 3-D tensors
                           plus __metadata__.
  sharded/                 Two safetensors shards + model.safetensors.index.json.
  llama2c_tiny_v1.bin,     A tiny random llama2.c model (dim 16, 2 layers, 4 heads, 2 kv heads,
  llama2c_tiny_legacy.bin  vocab 32, unshared classifier) written by llama2.c's export.py
                           (version1_export / legacy_export).
  format_goldens.json      What the `gguf` package's GGUFReader, `safetensors` and numpy/torch
                           read back from those files and from llama-2-tiny-random.gguf:
                           metadata (in key order, with types), tensor names/types/shapes
                           (outermost first)/absolute offsets/byte counts and dequantized values.
Needs: the llama2.c checkout (LLAMA2C_DIR, default /work/ref/llama2.c), gguf (0.19.0), safetensors, numpy, torch. Deterministic (seeded).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from safetensors import safe_open
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "formats"
rng = np.random.default_rng(20261123)


NESTED = {"test.nested": [[1, 2], [3], [4, 5, 6]], "test.nested_strings": [["x", "yz"], ["w"]]}


def floats(shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def build_gguf(path, alignment=None, endianess=gguf.GGUFEndian.LITTLE, full=True):
    w = gguf.GGUFWriter(str(path), arch="llama", endianess=endianess)
    if alignment is not None:
        w.add_custom_alignment(alignment)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.15625)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo wörld ✓ 你好")
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float64("test.f64", -1234.5678125)
    if full:
        w.add_array("test.strings", ["a", "", "▁the", "<0x0A>", "日本語"])
        w.add_array("test.ints", [1, -2, 3, 2147483647])
        w.add_array("test.floats", [0.5, -1.25, 3.0e-5])
        w.add_array("test.bools", [True, False, True])
        w.add_key_value("test.u64s", [1, 2, 2**63 + 5], V.ARRAY, sub_type=V.UINT64)
        w.add_key_value("test.u8s", [0, 7, 255], V.ARRAY, sub_type=V.UINT8)
        for key, value in NESTED.items():
            w.add_array(key, value)
    tensors = {}
    a = floats((3, 4)); w.add_tensor("t.f32", a); tensors["t.f32"] = a
    b = floats((2, 8)).astype(np.float16); w.add_tensor("t.f16", b); tensors["t.f16"] = b
    if full:
        c = floats((2, 5)); cq = gguf.quants.quantize(c, Q.BF16)
        w.add_tensor("t.bf16", cq, raw_dtype=Q.BF16); tensors["t.bf16"] = c
        d = floats((2, 64)); dq = gguf.quants.quantize(d, Q.Q8_0)
        w.add_tensor("t.q8_0", dq, raw_dtype=Q.Q8_0); tensors["t.q8_0"] = d
        e = floats((1, 32)); eq = gguf.quants.quantize(e, Q.Q4_0)
        w.add_tensor("t.q4_0", eq, raw_dtype=Q.Q4_0); tensors["t.q4_0"] = e
        f = floats((5,)); w.add_tensor("t.vector", f); tensors["t.vector"] = f
        g = floats((2, 3, 4)); w.add_tensor("t.cube", g); tensors["t.cube"] = g
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def encode_value(vtype, value):
    if vtype in (V.UINT64, V.INT64):
        return {"type": vtype.name, "value": str(int(value))}
    if vtype in (V.FLOAT32, V.FLOAT64):
        return {"type": vtype.name, "value": float(value)}
    if vtype == V.BOOL:
        return {"type": vtype.name, "value": bool(value)}
    if vtype == V.STRING:
        return {"type": vtype.name, "value": value}
    return {"type": vtype.name, "value": int(value)}


def encode_field(field):
    types = field.types
    if types[0] != V.ARRAY:
        return encode_value(types[0], field.contents())
    values = field.contents()
    n = len(values)
    if types[1] == V.ARRAY:
        # GGUFReader (0.19.0) flattens nested arrays, so the golden is the value handed to the
        # writer (still independent of the Swift reader).
        def enc(v):
            if isinstance(v, list):
                return {"type": "ARRAY", "count": len(v), "elements": [enc(x) for x in v]}
            if isinstance(v, str):
                return {"type": "STRING", "value": v}
            return {"type": "INT32", "value": int(v)}
        return enc(NESTED[field.name])
    sub = types[-1]
    if n <= 64:
        return {"type": "ARRAY", "count": n, "elements": [encode_value(sub, v) for v in values]}
    idx = sorted(set(list(range(20)) + list(range(0, n, 997)) + list(range(n - 20, n))))
    return {"type": "ARRAY", "count": n, "sample": [[i, encode_value(sub, values[i])] for i in idx]}


def read_gguf(path, value_rows=2):
    r = gguf.GGUFReader(str(path))
    meta = []
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue
        meta.append({"key": key, **encode_field(field)})
    tensors = []
    for t in r.tensors:
        ne = [int(x) for x in t.shape]
        entry = {"name": t.name, "type": t.tensor_type.name, "shape": list(reversed(ne)),
                 "offset": int(t.data_offset), "byteCount": int(t.n_bytes)}
        if t.tensor_type in (Q.F32, Q.F16, Q.BF16, Q.Q8_0):
            deq = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1, ne[0])
            entry["rows"] = [[float(v) for v in row] for row in deq[:value_rows]]
        tensors.append(entry)
    return {"version": int(r.fields["GGUF.version"].contents()), "alignment": int(r.alignment),
            "dataOffset": int(r.data_offset), "metadata": meta, "tensors": tensors}


def read_safetensors(path):
    out = []
    with safe_open(str(path), framework="pt") as f:
        for name in sorted(f.keys()):
            t = f.get_tensor(name)
            entry = {"name": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
            if t.is_floating_point():
                entry["values"] = [float(v) for v in t.to(torch.float32).reshape(-1).tolist()]
            out.append(entry)
    return out


def build_llama2c():
    """Tiny unshared-classifier llama2.c checkpoints written by llama2.c's own export.py.

    Needs the llama2.c checkout (model.py, export.py) at generation time only (LLAMA2C_DIR,
    default /work/ref/llama2.c). Returns the golden tensors under Hugging Face names.
    """
    import os
    ref = os.environ.get("LLAMA2C_DIR", "/work/ref/llama2.c")
    sys.path.insert(0, ref)
    from model import ModelArgs, Transformer
    import export
    torch.manual_seed(11)
    args = ModelArgs(dim=16, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=32, hidden_dim=24,
                     multiple_of=8, max_seq_len=8)
    model = Transformer(args)
    model.output.weight = torch.nn.Parameter(torch.randn(32, 16) * 0.1)  # untie the classifier
    with torch.no_grad():
        for prm in model.parameters():
            if prm.dim() == 1:
                prm.copy_(torch.randn_like(prm))  # non-trivial norms so ordering errors show
    export.version1_export(model, str(OUT / "llama2c_tiny_v1.bin"))
    export.legacy_export(model, str(OUT / "llama2c_tiny_legacy.bin"))  # (mutates vocab_size sign)
    names = {"tok_embeddings.weight": "model.embed_tokens.weight", "norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    sub = {"attention_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
           "attention.wq": "self_attn.q_proj", "attention.wk": "self_attn.k_proj",
           "attention.wv": "self_attn.v_proj", "attention.wo": "self_attn.o_proj",
           "feed_forward.w1": "mlp.gate_proj", "feed_forward.w2": "mlp.down_proj",
           "feed_forward.w3": "mlp.up_proj"}
    out = {}
    for name, prm in model.state_dict().items():
        if name.startswith("layers."):
            _, i, rest = name.split(".", 2)
            module = rest.rsplit(".", 1)[0]
            hf = "model.layers.%s.%s.weight" % (i, sub[module])
        else:
            hf = names[name]
        out[hf] = {"shape": list(prm.shape), "values": [float(v) for v in prm.reshape(-1).tolist()]}
    header = {"dim": 16, "hiddenDim": 24, "layerCount": 2, "headCount": 4, "kvHeadCount": 2,
              "vocabSize": 32, "seqLen": 8, "sharedClassifier": False}
    return {"header": header, "tensors": out}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    build_gguf(OUT / "synthetic_v3.gguf")
    v2 = OUT / "synthetic_v2.gguf"
    build_gguf(v2, alignment=64)
    raw = bytearray(v2.read_bytes()); assert struct.unpack_from("<I", raw, 4)[0] == 3
    struct.pack_into("<I", raw, 4, 2); v2.write_bytes(bytes(raw))
    build_gguf(OUT / "synthetic_be.gguf", endianess=gguf.GGUFEndian.BIG, full=False)

    g = torch.Generator().manual_seed(7)
    mixed = {
        "w.f32": torch.randn(3, 4, generator=g),
        "w.f16": torch.randn(2, 8, generator=g).to(torch.float16),
        "w.bf16": torch.randn(4, 6, generator=g).to(torch.bfloat16),
        "w.i64": torch.tensor([1, -2, 3], dtype=torch.int64),
        "w.vector": torch.randn(7, generator=g),
        "w.cube": torch.randn(2, 3, 4, generator=g).to(torch.float16),
    }
    # One metadata key only: the Rust writer orders metadata keys by hash (not reproducible).
    save_file(mixed, str(OUT / "mixed.safetensors"), metadata={"format": "pt"})
    shard_dir = OUT / "sharded"; shard_dir.mkdir(exist_ok=True)
    s1 = {"a.weight": torch.randn(2, 3, generator=g), "b.weight": torch.randn(4, generator=g).to(torch.bfloat16)}
    s2 = {"c.weight": torch.randn(3, 2, generator=g).to(torch.float16)}
    save_file(s1, str(shard_dir / "model-00001-of-00002.safetensors"), metadata={"format": "pt"})
    save_file(s2, str(shard_dir / "model-00002-of-00002.safetensors"), metadata={"format": "pt"})
    index = {"metadata": {"total_size": 0}, "weight_map": {
        "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors",
        "c.weight": "model-00002-of-00002.safetensors"}}
    (shard_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")

    llama2c = build_llama2c()
    goldens = {
        "llama2c": llama2c,
        "generator": "Fixtures/scripts/make_format_goldens.py (gguf %s GGUFReader, safetensors, torch %s, numpy %s)"
                     % (getattr(gguf, "__version__", "0.19.0"), torch.__version__, np.__version__),
        "gguf": {
            "synthetic_v3.gguf": read_gguf(OUT / "synthetic_v3.gguf"),
            "synthetic_v2.gguf": read_gguf(OUT / "synthetic_v2.gguf"),
            "llama-2-tiny-random.gguf": read_gguf(OUT / "llama-2-tiny-random.gguf"),
        },
        "safetensors": {
            "mixed.safetensors": read_safetensors(OUT / "mixed.safetensors"),
            "sharded/model-00001-of-00002.safetensors": read_safetensors(shard_dir / "model-00001-of-00002.safetensors"),
            "sharded/model-00002-of-00002.safetensors": read_safetensors(shard_dir / "model-00002-of-00002.safetensors"),
        },
    }
    (OUT / "format_goldens.json").write_text(json.dumps(goldens, indent=1, ensure_ascii=False) + "\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
