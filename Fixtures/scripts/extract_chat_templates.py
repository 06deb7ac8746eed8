#!/usr/bin/env python3
"""Collects the real chat templates the chat-template tests render into Fixtures/chat_templates/templates.json.

No model can be downloaded here, so the published template strings are taken from public repositories
that store them verbatim (see Fixtures/SOURCES.md for the commits):

- ggml-org/llama.cpp `models/templates/*.jinja`: written byte for byte from each model's
  `tokenizer_config.json` `chat_template` by llama.cpp's `scripts/get_chat_template.py`
  (Qwen2.5-7B-Instruct, Llama-3.1-8B-Instruct, Phi-3.5-mini-instruct, gemma-2-2b-it).
- ggml-org/llama.cpp `tests/test-chat-template.cpp`: C++ string literals of templates named after their
  models (Mistral-7B-Instruct-v0.2 in its original and its later "v1" form, Phi-3-mini's original
  template, OpenHermes-2.5 ChatML).
- EricLBuehler/mistral.rs `mistralrs-core/src/pipeline/mod.rs`: a Rust literal of the
  meta-llama/Llama-2-13b-chat-hf template (its test says the outputs were made with transformers).
- huggingface/text-generation-inference `router/src/infer/chat_template.rs`: a Rust literal of the
  HuggingFaceH4/zephyr-7b-beta template.

The special tokens stored with each template are the model's `bos_token` / `eos_token` / ... as its
tokenizer_config.json declares them (transformers passes `tokenizer.special_tokens_map` to the template).

Rerun (from the repository root; the three checkouts are read-only references, any commit that holds
the same strings works):
    /work/venv/bin/python Fixtures/scripts/extract_chat_templates.py \
        --llama-cpp /work/ref/llama.cpp \
        --mistral-rs /work/.mirror/EricLBuehler+mistral.rs/repo \
        --tgi /work/.mirror/huggingface+text-generation-inference/repo
(git checkouts or bare mirrors: files are read with `git show HEAD:path`.)
"""
import argparse
import json
import os
import subprocess

LLAMA_SPECIAL = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}

TEMPLATES = [
    # name, family, model, source, path, how to find the literal, special tokens
    ("qwen2.5", "chatml", "Qwen/Qwen2.5-7B-Instruct", "llama-cpp", "models/templates/Qwen-Qwen2.5-7B-Instruct.jinja",
     None, {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    ("chatml-openhermes", "chatml", "teknium/OpenHermes-2.5-Mistral-7B", "llama-cpp", "tests/test-chat-template.cpp",
     ("cpp", '"teknium/OpenHermes-2.5-Mistral-7B"'), {"bos_token": "<s>", "eos_token": "<|im_end|>", "unk_token": "<unk>"}),
    ("llama3.1", "llama3", "meta-llama/Llama-3.1-8B-Instruct", "llama-cpp", "models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja",
     None, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    ("llama2-chat", "llama2", "meta-llama/Llama-2-13b-chat-hf", "mistral-rs", "mistralrs-core/src/pipeline/mod.rs",
     ("rust-tuple", "// meta-llama/Llama-2-13b-chat-hf"), LLAMA_SPECIAL),
    ("mistral-v0.2", "mistral", "mistralai/Mistral-7B-Instruct-v0.2 (original template: user/assistant only)", "llama-cpp",
     "tests/test-chat-template.cpp", ("cpp", '"mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)"'),
     LLAMA_SPECIAL),
    ("mistral-v0.2-v1", "mistral", "mistralai/Mistral-7B-Instruct-v0.2 (later 'v1' template with a system prompt)", "llama-cpp",
     "tests/test-chat-template.cpp", ("cpp", "\"mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)\""),
     LLAMA_SPECIAL),
    ("zephyr", "zephyr", "HuggingFaceH4/zephyr-7b-beta", "tgi", "router/src/infer/chat_template.rs",
     ("rust-field", 'name: "HuggingFaceH4/zephyr-7b-beta (add_generation_prompt=true)"'), LLAMA_SPECIAL),
    ("phi3.5-mini", "phi3", "microsoft/Phi-3.5-mini-instruct", "llama-cpp", "models/templates/microsoft-Phi-3.5-mini-instruct.jinja",
     None, {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>"}),
    ("phi3-mini", "phi3", "microsoft/Phi-3-mini-4k-instruct (original template: drops system messages)", "llama-cpp",
     "tests/test-chat-template.cpp", ("cpp", '"Phi-3-mini"'), {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>"}),
    ("gemma2", "gemma", "google/gemma-2-2b-it", "llama-cpp", "models/templates/google-gemma-2-2b-it.jinja",
     None, {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}),
]

REPOS = {"llama-cpp": "ggml-org/llama.cpp", "mistral-rs": "EricLBuehler/mistral.rs",
         "tgi": "huggingface/text-generation-inference"}


def git(checkout, *args):
    return subprocess.run(["git", "-C", checkout, *args], check=True, capture_output=True).stdout


def parse_literal(text, i):
    """A C++/Rust "..." literal starting at text[i] == '"'; returns (value, end index)."""
    assert text[i] == '"', text[i:i + 20]
    out = []
    i += 1
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
    while True:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = text[i + 1]
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "\n":  # Rust line continuation: skip the newline and the next line's indentation
            i += 2
            while text[i] in " \t\n":
                i += 1
        elif e == "u" and text[i + 2] == "{":
            close = text.index("}", i)
            out.append(chr(int(text[i + 3:close], 16)))
            i = close + 1
        else:
            raise ValueError(f"unknown escape \\{e} at {i}")


def extract(text, how):
    kind, marker = how
    start = text.index(marker)
    if kind == "cpp":
        pos = text.index("/* .template_str= */", start)
        return parse_literal(text, text.index('"', pos))[0]
    if kind == "rust-field":
        pos = text.index("chat_template:", start)
        return parse_literal(text, text.index('"', pos))[0]
    if kind == "rust-tuple":  # (has_system, bos, eos, unk, template): the fourth string literal
        pos = text.index("(", start)
        for _ in range(3):
            pos = parse_literal(text, text.index('"', pos))[1]
        return parse_literal(text, text.index('"', pos))[0]
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--mistral-rs", required=True)
    ap.add_argument("--tgi", required=True)
    ap.add_argument("--out", default="Fixtures/chat_templates/templates.json")
    args = ap.parse_args()
    checkouts = {"llama-cpp": args.llama_cpp, "mistral-rs": args.mistral_rs, "tgi": args.tgi}
    commits = {k: git(v, "rev-parse", "HEAD").decode().strip() for k, v in checkouts.items()}
    entries = []
    for name, family, model, source, path, how, special in TEMPLATES:
        text = git(checkouts[source], "show", f"HEAD:{path}").decode("utf-8")
        template = text if how is None else extract(text, how)
        entries.append({
            "name": name, "family": family, "model": model,
            "origin": {"repository": REPOS[source], "path": path, "commit": commits[source]},
            "special_tokens": special, "template": template,
        })
        print(f"{name:20s} {len(template):6d} chars  {REPOS[source]}:{path}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"templates": entries}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
