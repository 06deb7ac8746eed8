"""A small Llama in plain PyTorch with Mnemo's memory semantics (issue #6 reference).

Parameters live in a dict under Hugging Face `LlamaForCausalLM` names, so a checkpoint saved by
train_recall.py loads both here and in transformers (the script checks that both give the same
logits). `Reader` streams token sequences segment by segment exactly as Mnemo's `MemoryState`
does (Docs/Memory.md), written independently from the Swift code:

- segments of `segment` tokens; at each segment start the window keeps its last `memory_length`
  rows (Transformer-XL); window rows take positions 0..W-1 (window-relative RoPE), the segment's
  rows W..W+T-1;
- kNN memory (Memorizing Transformers): rows leaving the window go, per kNN layer and KV head, to
  a store (keys unrotated for `positions="edge"`, rotated to their true position for "true");
  before a segment is stored, each query head searches its KV head's store: the query is rotated
  to row+1 (edge) or to its true position (true), ranked by cosine when `normalize` (inner product
  otherwise), top-k; the retrieved scores are q.k/sqrt(d) (the key sits at row -1 or at its true
  position); fusion is one joint softmax, or the gate y = (1-g) y_local + g y_mem, g = sigmoid(b_h)
  (a layer whose store is still empty keeps y_local);
- RMT memory tokens (booydar/recurrent-memory-transformer MemoryCell): inputs
  [memory, segment, memory] (the write block only when the segment is complete); the final normed
  hidden states at the write rows become the next memory.

Precision: pass float64 parameters for reference figures (RoPE tables are computed in float64).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    context: int
    theta: float = 10000.0
    eps: float = 1e-5

    @property
    def head_dim(self):
        return self.hidden // self.heads


def init_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    D, H, G = cfg.head_dim, cfg.heads, cfg.kv_heads

    def normal(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    P = {"model.embed_tokens.weight": normal(cfg.vocab, cfg.hidden),
         "model.norm.weight": torch.ones(cfg.hidden),
         "lm_head.weight": normal(cfg.vocab, cfg.hidden)}
    for l in range(cfg.layers):
        p = f"model.layers.{l}."
        P[p + "input_layernorm.weight"] = torch.ones(cfg.hidden)
        P[p + "post_attention_layernorm.weight"] = torch.ones(cfg.hidden)
        P[p + "self_attn.q_proj.weight"] = normal(H * D, cfg.hidden)
        P[p + "self_attn.k_proj.weight"] = normal(G * D, cfg.hidden)
        P[p + "self_attn.v_proj.weight"] = normal(G * D, cfg.hidden)
        P[p + "self_attn.o_proj.weight"] = normal(cfg.hidden, H * D)
        P[p + "mlp.gate_proj.weight"] = normal(cfg.intermediate, cfg.hidden)
        P[p + "mlp.up_proj.weight"] = normal(cfg.intermediate, cfg.hidden)
        P[p + "mlp.down_proj.weight"] = normal(cfg.hidden, cfg.intermediate)
    return P


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, positions, theta):
    """Rotates x [B, T, heads, D] to `positions` (1-D, length T) with Llama's half-split pairing."""
    D = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = positions.to(torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos().to(x.dtype)[None, :, None, :], emb.sin().to(x.dtype)[None, :, None, :]
    half = D // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


@dataclass
class KNN:
    """A kNN memory plan: layers, top-k, cosine ranking, key positions, gate biases (None = joint)."""
    layers: list
    topk: int = 32
    normalize: bool = True
    positions: str = "edge"  # "edge" (row -1) or "true"
    gates: dict = None       # layer -> bias tensor [heads], or None for joint softmax


def attention(cfg, q, k_all, v_all, W, knn=None, store=None, evicted=0, gate=None):
    """Attention of T new rows (queries `q` raw [B,T,H,D]) over the window and themselves
    (`k_all`, `v_all` raw [B,W+T,G,D]), plus kNN memory `store` = (keys [B,N,G,D] in stored form,
    values [B,N,G,D]) when given. Returns [B,T,H*D]."""
    B, T, H, D = q.shape
    G = k_all.shape[2]
    group = H // G
    dev_pos = torch.arange(W + T)
    qr = rope(q, dev_pos[W:], cfg.theta)
    kr = rope(k_all, dev_pos, cfg.theta)
    kr = kr.repeat_interleave(group, dim=2).transpose(1, 2)      # [B,H,W+T,D]
    vh = v_all.repeat_interleave(group, dim=2).transpose(1, 2)
    qh = qr.transpose(1, 2)                                        # [B,H,T,D]
    visible = torch.arange(W + T)[None, :] <= (W + torch.arange(T))[:, None]   # [T, W+T]
    if store is None or store[0].shape[1] == 0:
        if q.dtype == torch.float32:
            y = F.scaled_dot_product_attention(qh, kr, vh, attn_mask=visible)
        else:
            s = (qh @ kr.transpose(-1, -2)) / math.sqrt(D)
            y = s.masked_fill(~visible, float("-inf")).softmax(-1) @ vh
        return y.transpose(1, 2).reshape(B, T, H * D)
    local = ((qh @ kr.transpose(-1, -2)) / math.sqrt(D)).masked_fill(~visible, float("-inf"))
    keys, values = store
    N = keys.shape[1]
    # The query as the search sees it: rotated to row + 1 (key at row -1) or to its true position.
    shift = 1 if knn.positions == "edge" else evicted
    qs = rope(q, torch.arange(W, W + T) + shift, cfg.theta).transpose(1, 2)    # [B,H,T,D]
    kh = keys.repeat_interleave(group, dim=2).transpose(1, 2)                 # [B,H,N,D]
    mv = values.repeat_interleave(group, dim=2).transpose(1, 2)
    raw = qs @ kh.transpose(-1, -2)                                            # [B,H,T,N]
    if knn.normalize:
        qn = qs.norm(dim=-1, keepdim=True)
        kn = kh.norm(dim=-1)[:, :, None, :]
        sim = raw / (torch.where(qn > 0, qn, torch.ones_like(qn)) * torch.where(kn > 0, kn, torch.ones_like(kn)))
    else:
        sim = raw
    k = min(knn.topk, N)
    idx = sim.detach().topk(k, dim=-1).indices
    mem = raw.gather(-1, idx) / math.sqrt(D)                                  # [B,H,T,k]
    if gate is None:
        p = torch.cat([local, mem], -1).softmax(-1)
        p_local, p_mem = p[..., :W + T], p[..., W + T:]
        y = p_local @ vh + torch.zeros_like(raw).scatter(-1, idx, p_mem) @ mv
    else:
        g = torch.sigmoid(gate)[None, :, None, None]
        y_local = local.softmax(-1) @ vh
        y_mem = torch.zeros_like(raw).scatter(-1, idx, mem.softmax(-1)) @ mv
        y = (1 - g) * y_local + g * y_mem
    return y.transpose(1, 2).reshape(B, T, H * D)


def layers_forward(P, cfg, x, window, knn=None, stores=None, evicted=0):
    """Runs embeddings x [B,T,hidden] after a window (per layer (k_raw, v) [B,W,G,D]).
    Returns (final normed hidden [B,T,hidden], new rows per layer (k_raw, v))."""
    B, T, _ = x.shape
    D, H, G = cfg.head_dim, cfg.heads, cfg.kv_heads
    new_rows = []
    for l in range(cfg.layers):
        p = f"model.layers.{l}."
        h = rmsnorm(x, P[p + "input_layernorm.weight"], cfg.eps)
        q = (h @ P[p + "self_attn.q_proj.weight"].T).view(B, T, H, D)
        k = (h @ P[p + "self_attn.k_proj.weight"].T).view(B, T, G, D)
        v = (h @ P[p + "self_attn.v_proj.weight"].T).view(B, T, G, D)
        wk, wv = window[l] if window is not None else (k[:, :0], v[:, :0])
        W = wk.shape[1]
        use_knn = knn is not None and l in knn.layers
        y = attention(cfg, q, torch.cat([wk, k], 1), torch.cat([wv, v], 1), W,
                      knn=knn if use_knn else None, store=stores.get(l) if use_knn and stores else None,
                      evicted=evicted, gate=knn.gates[l] if use_knn and knn.gates else None)
        x = x + y @ P[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, P[p + "post_attention_layernorm.weight"], cfg.eps)
        x = x + (F.silu(h @ P[p + "mlp.gate_proj.weight"].T) * (h @ P[p + "mlp.up_proj.weight"].T)) @ P[p + "mlp.down_proj.weight"].T
        new_rows.append((k, v))
    return rmsnorm(x, P["model.norm.weight"], cfg.eps), new_rows


def full_logits(P, cfg, tokens):
    """Plain causal forward over tokens [B,T] (training the base model; checks against HF)."""
    hidden, _ = layers_forward(P, cfg, P["model.embed_tokens.weight"][tokens], None)
    return hidden @ P["lm_head.weight"].T


class Reader:
    """Streams token batches [B, L] segment by segment with Mnemo's semantics (see module doc).

    `detach=True` cuts gradients through the window and the kNN stores (Memorizing Transformers
    training: memories are not differentiated); RMT memory stays in the graph (BPTT) unless
    `detach_memory`.
    """

    def __init__(self, P, cfg, segment, memory_length=0, knn=None, memory_tokens=None, detach=True,
                 detach_memory=False):
        self.P, self.cfg, self.S, self.M = P, cfg, segment, memory_length
        self.knn, self.memory_tokens = knn, memory_tokens
        self.detach, self.detach_memory = detach, detach_memory

    def read(self, tokens):
        """Returns logits [B, L, vocab] for every token of `tokens` [B, L]."""
        P, cfg, S, M = self.P, self.cfg, self.S, self.M
        B, L = tokens.shape
        window = None
        stores = {l: None for l in (self.knn.layers if self.knn else [])}
        evicted = 0
        memory = None
        if self.memory_tokens is not None:
            memory = self.memory_tokens[None].expand(B, -1, -1)
        m = 0 if memory is None else memory.shape[1]
        out = []
        for s0 in range(0, L, S):
            seg = tokens[:, s0:s0 + S]
            T = seg.shape[1]
            complete = T == S
            # Segment start: the window keeps its last M rows; the others go to the kNN stores.
            if window is not None and window[0][0].shape[1] > M:
                n = window[0][0].shape[1] - M
                for l in stores:
                    k_raw, v = window[l][0][:, :n], window[l][1][:, :n]
                    if self.knn.positions == "true":
                        k_raw = rope(k_raw, torch.arange(evicted, evicted + n), cfg.theta)
                    old = stores[l]
                    stores[l] = (k_raw, v) if old is None else (torch.cat([old[0], k_raw], 1), torch.cat([old[1], v], 1))
                window = [(k[:, n:], v[:, n:]) for k, v in window]
                evicted += n
            x = P["model.embed_tokens.weight"][seg]
            if m:
                x = torch.cat([memory, x] + ([memory] if complete else []), 1)
            hidden, rows = layers_forward(P, cfg, x, window, self.knn,
                                          {l: s for l, s in stores.items() if s is not None}, evicted)
            out.append(hidden[:, m:m + T] @ P["lm_head.weight"].T)
            # Only token rows stay in the window (RMT read/write blocks leave it).
            rows = [(k[:, m:m + T], v[:, m:m + T]) for k, v in rows]
            if self.detach:
                rows = [(k.detach(), v.detach()) for k, v in rows]
            window = rows if window is None else [(torch.cat([wk, k], 1), torch.cat([wv, v], 1))
                                                  for (wk, wv), (k, v) in zip(window, rows)]
            if m and complete:
                memory = hidden[:, m + T:]
                if self.detach_memory:
                    memory = memory.detach()
        return torch.cat(out, 1)
