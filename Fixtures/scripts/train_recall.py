"""Trains Mnemo's associative-recall models and writes their evaluation sets and reference figures.

Issue #6: prove memory works on trained models. Everything runs on the CPU on ONE torch thread
(the machine is shared); each training stage takes minutes.

    cd Fixtures/scripts
    /work/venv/bin/python train_recall.py evalsets     # Fixtures/recall/eval.jsonl, eval-rmt.jsonl
    /work/venv/bin/python train_recall.py base         # Fixtures/models/recall-base (plain attention)
    /work/venv/bin/python train_recall.py knn          # Fixtures/models/recall-knn (gated kNN layer)
    /work/venv/bin/python train_recall.py rmt          # Fixtures/models/recall-rmt (RMT memory tokens)
    /work/venv/bin/python train_recall.py reference    # Fixtures/recall/reference-*.json

Each model is saved with transformers' `LlamaForCausalLM.save_pretrained` (safetensors, config.json)
plus a character-level tokenizer (recall_task.py); the extra tensors ride along as module
parameters: `model.layers.{L}.self_attn.knn_gate_bias` [heads] and `memory_cell.memory` [m, hidden].
Before saving, the script checks transformers' logits equal this script's own model's.

Seeds are fixed (see SEEDS); torch on one thread is deterministic, so a rerun reproduces the files
(up to library versions). The task and model are in recall_task.py and recall_model.py.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recall_task as task  # noqa: E402
from recall_model import KNN, Config, Reader, full_logits, init_params  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = os.path.join(ROOT, "models")
RECALL = os.path.join(ROOT, "recall")
CHECKPOINTS = os.environ.get("RECALL_CHECKPOINTS", "/tmp/recall-checkpoints")

SEEDS = {"eval": 6001, "eval-rmt": 6002, "base-init": 6101, "base-data": 6102, "knn-data": 6202,
         "rmt-init": 6301, "rmt-data": 6302}
CONTEXT = 256                 # trained context (max_position_embeddings)
PROMPT = 16 * CONTEXT         # evaluation prompt length (document + query)
MIN_DISTANCE = 8 * CONTEXT    # the queried pair starts at least 8 windows before the query
EVAL_COUNT = 100
SEGMENT, XL_MEMORY = 128, 128
KNN_LAYER, KNN_TOPK = 1, 32
RMT_SEGMENT, RMT_TOKENS = 128, 16
CFG = Config(vocab=task.VOCAB_SIZE, hidden=64, layers=2, heads=4, kv_heads=4, intermediate=128, context=CONTEXT)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# MARK: - Checkpoints

def hf_config():
    from transformers import LlamaConfig
    return LlamaConfig(vocab_size=CFG.vocab, hidden_size=CFG.hidden, intermediate_size=CFG.intermediate,
                       num_hidden_layers=CFG.layers, num_attention_heads=CFG.heads,
                       num_key_value_heads=CFG.kv_heads, head_dim=CFG.head_dim, max_position_embeddings=CFG.context,
                       rms_norm_eps=CFG.eps, rope_theta=CFG.theta, tie_word_embeddings=False,
                       bos_token_id=task.BOS, eos_token_id=task.EOS, pad_token_id=None)


def export(P, name, extras):
    """Saves P (+ extras as module parameters) with save_pretrained, after checking transformers'
    logits equal full_logits on a training batch."""
    from safetensors import safe_open
    from transformers import LlamaForCausalLM
    folder = os.path.join(MODELS, name)
    os.makedirs(folder, exist_ok=True)
    model = LlamaForCausalLM(hf_config()).eval()
    model.load_state_dict({k: v.detach().clone() for k, v in P.items()}, strict=True)
    tokens, _ = task.train_batch(np.random.default_rng(0), 2, CONTEXT, 0.04, 0.03)
    tokens = torch.from_numpy(tokens)
    with torch.no_grad():
        ours = full_logits({k: v.detach() for k, v in P.items()}, CFG, tokens)
        theirs = model(input_ids=tokens).logits
    diff = (ours - theirs).abs().max().item()
    log(f"{name}: transformers vs recall_model max |logit diff| = {diff:.2e}")
    assert diff < 1e-4, diff
    for tensor_name, value in extras.items():
        *path, leaf = tensor_name.split(".")
        module = model
        for part in path:
            if not hasattr(module, part):
                module.add_module(part, torch.nn.Module())
            module = getattr(module, part)
        module.register_parameter(leaf, torch.nn.Parameter(value.detach().clone().float()))
    model.save_pretrained(folder, safe_serialization=True)
    task.write_tokenizer(folder)
    with safe_open(os.path.join(folder, "model.safetensors"), "pt") as f:
        names = set(f.keys())
    missing = (set(P) | set(extras)) - names
    assert not missing, f"not saved: {missing}"
    log(f"{name}: saved {len(names)} tensors to {folder}")


def load_params(name, dtype=torch.float32):
    from safetensors.torch import load_file
    return {k: v.to(dtype) for k, v in load_file(os.path.join(MODELS, name, "model.safetensors")).items()}


# MARK: - Training

def schedule(step, steps, lr, warmup=100):
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))))


def answer_loss(logits, tokens, mask):
    """Cross-entropy of the masked tokens (each predicted from the previous row) and their accuracy."""
    pred = logits[:, :-1]
    target = tokens[:, 1:]
    m = mask[:, 1:]
    loss = torch.nn.functional.cross_entropy(pred[m], target[m])
    acc = (pred[m].argmax(-1) == target[m]).float().mean().item()
    return loss, acc


def train(params, trainable, steps, lr, batch_fn, loss_fn, tag):
    opt = torch.optim.AdamW([params[k] for k in trainable], lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    start = time.time()
    avg_loss, avg_acc = None, None
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = schedule(step, steps, lr)
        loss, acc = loss_fn(*batch_fn(step))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([params[k] for k in trainable], 1.0)
        opt.step()
        avg_loss = loss.item() if avg_loss is None else 0.95 * avg_loss + 0.05 * loss.item()
        avg_acc = acc if avg_acc is None else 0.95 * avg_acc + 0.05 * acc
        if step % 25 == 0 or step == steps - 1:
            log(f"{tag} step {step}/{steps}  loss {avg_loss:.4f}  answer-token acc {avg_acc:.3f}  "
                f"{time.time() - start:.0f}s")
    return params


def train_base(args):
    """Plain attention, two phases: short sequences (dense recall + induction warm-up copies), then
    the trained context (recall + copies at long range)."""
    P = {k: v.requires_grad_() for k, v in init_params(CFG, SEEDS["base-init"]).items()}
    rng = np.random.default_rng(SEEDS["base-data"])

    def phase(length, recall_batch, pair_rate, query_rate, copy_batch, copy_length, span, max_gap):
        def batch(step):
            t, m = task.train_batch(rng, recall_batch, length, pair_rate, query_rate)
            ct, cm = task.copy_batch(rng, copy_batch, copy_length, span, max_gap)
            return tuple(torch.from_numpy(x) for x in (t, m, ct, cm))
        return batch

    def loss(tokens, mask, copy_tokens, copy_mask):
        recall, acc = answer_loss(full_logits(P, CFG, tokens), tokens, mask)
        copying, _ = answer_loss(full_logits(P, CFG, copy_tokens), copy_tokens, copy_mask)
        return recall + copying, acc

    train(P, list(P), args.warm_steps, args.lr,
          phase(64, 32, 0.1, 0.1, 32, 64, 24, 16), loss, "base (64 tokens)")
    train(P, list(P), args.steps, args.lr / 3,
          phase(CONTEXT, 16, 0.04, 0.03, 8, CONTEXT, 40, CONTEXT - 2 * 40 - 6), loss, f"base ({CONTEXT} tokens)")
    os.makedirs(CHECKPOINTS, exist_ok=True)
    torch.save(P, os.path.join(CHECKPOINTS, "base.pt"))
    export(P, "recall-base", {})


def gate_name(layer):
    return f"model.layers.{layer}.self_attn.knn_gate_bias"


def train_knn(args):
    """Memorizing Transformers recipe on top of the base model: XL window + a kNN layer with
    per-head gates, trained on documents of several segments (memories are not differentiated)."""
    P = {k: v.clone().requires_grad_() for k, v in load_params("recall-base").items()}
    P[gate_name(KNN_LAYER)] = torch.full((CFG.heads,), args.gate_init, requires_grad=True)
    knn = KNN(layers=[KNN_LAYER], topk=KNN_TOPK, normalize=True, positions="edge",
              gates={KNN_LAYER: P[gate_name(KNN_LAYER)]})
    reader = Reader(P, CFG, SEGMENT, XL_MEMORY, knn=knn, detach=True)
    rng = np.random.default_rng(SEEDS["knn-data"])
    length = args.segments * SEGMENT

    def batch(step):
        t, m = task.train_batch(rng, args.batch, length, args.pair_rate, args.query_rate,
                                query_after=SEGMENT + XL_MEMORY)
        return torch.from_numpy(t), torch.from_numpy(m)

    def loss(tokens, mask):
        return answer_loss(reader.read(tokens), tokens, mask)

    train(P, list(P), args.steps, args.lr, batch, loss, "knn")
    log("gate biases:", P[gate_name(KNN_LAYER)].detach().tolist())
    torch.save(P, os.path.join(CHECKPOINTS, "knn.pt"))
    gate = P.pop(gate_name(KNN_LAYER))
    export(P, "recall-knn", {gate_name(KNN_LAYER): gate})


def train_rmt(args):
    """RMT (booydar/recurrent-memory-transformer): memory embeddings as a parameter, [mem, segment,
    mem] per segment, the write block's final normed states carried to the next segment, BPTT over
    the whole training document. Starts from the base model."""
    P = {k: v.clone().requires_grad_() for k, v in load_params("recall-base").items()}
    g = torch.Generator().manual_seed(SEEDS["rmt-init"])
    std = P["model.embed_tokens.weight"].detach().std()
    P["memory_cell.memory"] = (torch.randn(RMT_TOKENS, CFG.hidden, generator=g) * std).requires_grad_()
    rng = np.random.default_rng(SEEDS["rmt-data"])

    def batch(step):
        # Curriculum: 2 segments (pairs in the first, queries in the second), growing to
        # args.segments over the first 60% of the steps.
        segs = min(args.segments, 2 + step * (args.segments - 1) // max(1, int(args.steps * 0.6)))
        t, m = task.memory_batch(rng, args.batch, segs, RMT_SEGMENT, args.max_pairs)
        return torch.from_numpy(t), torch.from_numpy(m)

    def loss(tokens, mask):
        reader = Reader(P, CFG, RMT_SEGMENT, 0, memory_tokens=P["memory_cell.memory"], detach=True)
        return answer_loss(reader.read(tokens), tokens, mask)

    train(P, list(P), args.steps, args.lr, batch, loss, "rmt")
    torch.save(P, os.path.join(CHECKPOINTS, "rmt.pt"))
    memory = P.pop("memory_cell.memory")
    export(P, "recall-rmt", {"memory_cell.memory": memory})


# MARK: - Evaluation sets and reference figures

def write_evalsets(args):
    os.makedirs(RECALL, exist_ok=True)
    task.write_eval_set(os.path.join(RECALL, "eval.jsonl"),
                        task.eval_set(SEEDS["eval"], EVAL_COUNT, PROMPT, args.pairs, MIN_DISTANCE))
    task.write_eval_set(os.path.join(RECALL, "eval-rmt.jsonl"),
                        task.eval_set(SEEDS["eval-rmt"], EVAL_COUNT, PROMPT, args.rmt_pairs, MIN_DISTANCE))
    log("wrote", RECALL)


def evaluate(reader, examples, batch=10):
    """Teacher-forced answer log-probabilities and argmax predictions (exact match of the argmaxes
    = exact match of greedy decoding) for each example, read with `reader` (float64)."""
    results = []
    with torch.no_grad():
        for i in range(0, len(examples), batch):
            chunk = examples[i:i + batch]
            seqs = torch.tensor([e["document"] + e["query"] + e["answer"] for e in chunk])
            logp = reader.read(seqs).log_softmax(-1)
            for b, e in enumerate(chunk):
                first = len(e["document"]) + len(e["query"]) - 1
                rows = logp[b, first:first + len(e["answer"])]
                lp = [rows[j, a].item() for j, a in enumerate(e["answer"])]
                pred = rows.argmax(-1).tolist()
                results.append({"id": e["id"], "answer": e["answer"], "predicted": pred, "logprobs": lp,
                                "correct": pred == e["answer"]})
            log(f"  {min(i + batch, len(examples))}/{len(examples)}")
    accuracy = sum(r["correct"] for r in results) / len(results)
    mean_lp = sum(sum(r["logprobs"]) for r in results) / sum(len(r["logprobs"]) for r in results)
    return accuracy, mean_lp, results


def reference(args):
    os.makedirs(RECALL, exist_ok=True)
    d = torch.float64
    base_examples = task.read_eval_set(os.path.join(RECALL, "eval.jsonl"))
    rmt_examples = task.read_eval_set(os.path.join(RECALL, "eval-rmt.jsonl"))
    runs = []
    if "knn" in args.models:
        P = load_params("recall-knn", d)
        knn = KNN(layers=[KNN_LAYER], topk=KNN_TOPK, normalize=True, positions="edge",
                  gates={KNN_LAYER: P[gate_name(KNN_LAYER)]})
        runs.append(("reference-knn-gate.json", "recall-knn", "recall-knn-gate.json",
                     Reader(P, CFG, SEGMENT, XL_MEMORY, knn=knn), base_examples, "eval.jsonl"))
    if "rmt" in args.models:
        P = load_params("recall-rmt", d)
        runs.append(("reference-rmt.json", "recall-rmt", "recall-rmt.json",
                     Reader(P, CFG, RMT_SEGMENT, 0, memory_tokens=P["memory_cell.memory"]), rmt_examples,
                     "eval-rmt.jsonl"))
    if "base" in args.models:
        P = load_params("recall-base", d)
        knn = KNN(layers=[KNN_LAYER], topk=KNN_TOPK, normalize=True, positions="edge")
        runs.append(("reference-base-knn-edge.json", "recall-base", "recall-knn-edge.json",
                     Reader(P, CFG, SEGMENT, XL_MEMORY, knn=knn), base_examples, "eval.jsonl"))
        # Unlimiformer retrieval from layer 1 (the last layer), exact encoding, keys at the window
        # edge: a head's query q_h searches the stored normed hidden states x by (W_k,h^T R(+1) q_h).x
        # = q_h.(R(-1) W_k,h x), the exact attention score of x's key at the window edge, and attends
        # to the top-k keys/values W_k x, W_v x in one softmax with the window. Layer 1's inputs depend
        # on layer 0 only (a plain window), so that is a kNN memory on layer 1 with inner-product
        # ranking (no normalisation), joint softmax and window-edge keys, which is what runs here.
        knn = KNN(layers=[KNN_LAYER], topk=KNN_TOPK, normalize=False, positions="edge")
        runs.append(("reference-base-retrieval.json", "recall-base", "recall-retrieval.json",
                     Reader(P, CFG, SEGMENT, XL_MEMORY, knn=knn), base_examples, "eval.jsonl"))
        runs.append(("reference-base-xl.json", "recall-base", "recall-xl.json",
                     Reader(P, CFG, SEGMENT, XL_MEMORY), base_examples, "eval.jsonl"))
    for out, model, plan, reader, examples, data in runs:
        log(f"reference {out}")
        accuracy, mean_lp, results = evaluate(reader, examples[:args.limit])
        log(f"{out}: accuracy {accuracy:.3f}, mean answer log-prob {mean_lp:.4f}")
        with open(os.path.join(RECALL, out), "w") as f:
            json.dump({"model": f"Fixtures/models/{model}", "plan": f"Fixtures/recall/plans/{plan}",
                       "data": f"Fixtures/recall/{data}", "implementation": "Fixtures/scripts/recall_model.py (float64)",
                       "examples": len(results), "accuracy": accuracy, "meanLogProb": mean_lp,
                       "results": results}, f, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("evalsets")
    p.add_argument("--pairs", type=int, default=16)
    p.add_argument("--rmt-pairs", type=int, default=2)
    p = sub.add_parser("base")
    p.add_argument("--warm-steps", type=int, default=1500)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--lr", type=float, default=3e-3)
    p = sub.add_parser("knn")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--segments", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--gate-init", type=float, default=0.0)
    p.add_argument("--pair-rate", type=float, default=0.012)
    p.add_argument("--query-rate", type=float, default=0.012)
    p = sub.add_parser("rmt")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--segments", type=int, default=6)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-pairs", type=int, default=3)
    p = sub.add_parser("reference")
    p.add_argument("--models", nargs="+", default=["knn", "rmt", "base"])
    p.add_argument("--limit", type=int, default=EVAL_COUNT)
    args = ap.parse_args()
    {"evalsets": write_evalsets, "base": train_base, "knn": train_knn, "rmt": train_rmt,
     "reference": reference}[args.command](args)


if __name__ == "__main__":
    main()
