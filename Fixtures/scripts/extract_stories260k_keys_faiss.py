#!/usr/bin/env python3
"""Extract real attention keys of stories260K reading Alice in Wonderland (vector-index fixture).

Writes Fixtures/vectors/stories260K_alice_layer2_keys.f32: row-major float32 little-endian,
32 floats per row (layer 2's key projection: 4 KV heads x head size 8, BEFORE RoPE, i.e. the
position-free content part of each key), one row per token, 12,000 rows.

Independent numpy forward pass following karpathy/llama2.c run.c (legacy checkpoint layout,
RMSNorm eps 1e-5, SwiGLU FFN, GQA with kv_mul = n_heads / n_kv_heads, RoPE on (2i, 2i+1) pairs).
Text: Project Gutenberg #11 (Alice's Adventures in Wonderland), body after the "*** START"
line. Tokenization: run.c's encode() (per-character lookup with byte fallback, then greedy merge
of the best-scoring adjacent pair), applied paragraph by paragraph with run.c's dummy-prefix
space - approximate w.r.t. SentencePiece, but every id is a real token of the 512 vocab.
The token stream is processed in independent windows of 256 tokens (positions 0..255 each,
within the model's 512-token context).

Rerun (from the repository root):
    /work/venv/bin/python Fixtures/scripts/extract_stories260k_keys_faiss.py \
        --model Fixtures/models/stories260K/stories260K.bin \
        --tokenizer Fixtures/models/stories260K/tok512.bin \
        --text /work/shared/data/novels/alice_in_wonderland_pg11.txt \
        --out Fixtures/vectors/stories260K_alice_layer2_keys.f32
"""
import argparse
import struct

import numpy as np

LAYER = 2
ROWS = 12_000
WINDOW = 256


def load_model(path):
    raw = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // n_heads
    kv_dim = n_kv * head
    w = np.frombuffer(raw, dtype="<f4", offset=28)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = w[pos:pos + n].reshape(shape)
        pos += n
        return out

    p = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab, head=head, kv_dim=kv_dim)
    p["emb"] = take(vocab, dim)
    p["rms_att"] = take(n_layers, dim)
    p["wq"] = take(n_layers, dim, dim)
    p["wk"] = take(n_layers, kv_dim, dim)
    p["wv"] = take(n_layers, kv_dim, dim)
    p["wo"] = take(n_layers, dim, dim)
    p["rms_ffn"] = take(n_layers, dim)
    p["w1"] = take(n_layers, hidden, dim)
    p["w2"] = take(n_layers, dim, hidden)
    p["w3"] = take(n_layers, hidden, dim)
    p["rms_final"] = take(dim)
    assert shared, "stories260K shares the classifier with the embedding"
    return p


def load_tokenizer(path, vocab):
    raw = open(path, "rb").read()
    off = 4
    pieces, scores = [], []
    for _ in range(vocab):
        score, length = struct.unpack_from("<fi", raw, off)
        off += 8
        pieces.append(raw[off:off + length])
        off += length
        scores.append(score)
    return pieces, scores


def encode(text, pieces, scores):
    """run.c encode(): dummy prefix, per-character ids with byte fallback, greedy best-score merges."""
    lookup = {piece: i for i, piece in enumerate(pieces)}
    ids = [lookup[b" "]] if text else []
    for ch in text:
        b = ch.encode("utf-8")
        if b in lookup:
            ids.append(lookup[b])
        else:
            ids.extend(byte + 3 for byte in b)
    while True:
        best, best_i = -1e10, -1
        for i in range(len(ids) - 1):
            j = lookup.get(pieces[ids[i]] + pieces[ids[i + 1]])
            if j is not None and scores[j] > best:
                best, best_i = scores[j], i
        if best_i < 0:
            return ids
        ids[best_i:best_i + 2] = [lookup[pieces[ids[best_i]] + pieces[ids[best_i + 1]]]]


def rmsnorm(x, weight):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-5) * weight


def rope(x, head):
    """Rotate (2i, 2i+1) pairs of each head by pos * 10000^(-(2i mod head)/head) (run.c)."""
    t, width = x.shape
    idx = np.arange(0, width, 2)
    freq = 1.0 / np.power(10000.0, (idx % head) / head)
    ang = np.arange(t)[:, None] * freq[None, :]
    c, s = np.cos(ang), np.sin(ang)
    out = x.copy()
    out[:, 0::2] = x[:, 0::2] * c - x[:, 1::2] * s
    out[:, 1::2] = x[:, 0::2] * s + x[:, 1::2] * c
    return out


def window_keys(p, tokens):
    """Layer-LAYER pre-RoPE keys of one window (positions 0..len-1)."""
    x = p["emb"][tokens].astype(np.float64)
    t = len(tokens)
    head, n_heads, kv_mul = p["head"], p["n_heads"], p["n_heads"] // p["n_kv"]
    mask = np.triu(np.full((t, t), -np.inf), 1)
    for layer in range(LAYER + 1):
        h = rmsnorm(x, p["rms_att"][layer])
        k_raw = h @ p["wk"][layer].T
        if layer == LAYER:
            return k_raw
        q = rope(h @ p["wq"][layer].T, head)
        k = rope(k_raw, head)
        v = h @ p["wv"][layer].T
        att_out = np.zeros((t, p["dim"]))
        for hd in range(n_heads):
            kv = hd // kv_mul
            qh = q[:, hd * head:(hd + 1) * head]
            kh = k[:, kv * head:(kv + 1) * head]
            vh = v[:, kv * head:(kv + 1) * head]
            s = qh @ kh.T / np.sqrt(head) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att_out[:, hd * head:(hd + 1) * head] = s @ vh
        x = x + att_out @ p["wo"][layer].T
        h = rmsnorm(x, p["rms_ffn"][layer])
        a = h @ p["w1"][layer].T
        x = x + ((a / (1 + np.exp(-a))) * (h @ p["w3"][layer].T)) @ p["w2"][layer].T
    raise AssertionError("unreachable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    p = load_model(args.model)
    pieces, scores = load_tokenizer(args.tokenizer, p["vocab"])
    text = open(args.text, encoding="utf-8").read()
    start = text.find("*** START")
    text = text[text.find("\n", start) + 1:] if start >= 0 else text
    tokens = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            tokens.extend(encode(paragraph, pieces, scores))
        if len(tokens) >= ROWS:
            break
    tokens = tokens[:ROWS]
    assert len(tokens) == ROWS, len(tokens)
    keys = np.concatenate([window_keys(p, tokens[i:i + WINDOW]) for i in range(0, ROWS, WINDOW)])
    assert keys.shape == (ROWS, p["kv_dim"]), keys.shape
    keys.astype("<f4").tofile(args.out)
    print(f"wrote {args.out}: {keys.shape[0]} x {keys.shape[1]} float32, first tokens {tokens[:12]}")


if __name__ == "__main__":
    main()
