#!/usr/bin/env python3
"""Golden token ids for MnemoTokenizers tests, made by INDEPENDENT implementations.

1. Whole-novel goldens with Hugging Face `tokenizers` (Rust; version printed into novels.json):
   Fixtures/novels/{alice_in_wonderland_pg11,moby_dick_pg2701}.txt, read byte-exactly (Moby Dick keeps
   its UTF-8 BOM and CRLF line ends), encoded with Fixtures/tokenizers/{gpt2,llama2}/tokenizer.json,
   `encode(text, add_special_tokens=False)`. Ids are stored as raw little-endian uint16
   (both vocabularies are < 65536) in Fixtures/tokenizers/goldens/<novel>.<tokenizer>.u16, with their
   count and the SHA-256 of that file in goldens/novels.json.

2. llama2.c goldens: a tiny C harness (written to a temp dir, never committed) that does
   `#define TESTING` + `#include "run.c"` like llama2.c's test.c, and calls run.c's `build_tokenizer`,
   `encode(t, text, bos=1, eos=0, ...)` and `decode(t, prev, token)` (concatenated as run.c `generate`
   prints them). Compiled with `gcc -O2 -I<llama2.c> -o harness harness.c -lm`.
   Texts: LLAMA2C_TEXTS below plus the first 6000 characters of Alice.
   Results in goldens/llama2c.json for Fixtures/models/stories260K/tok512.bin (vocab 512) and
   Fixtures/tokenizers/llama2/tokenizer.bin (vocab 32000).

3. Pre-tokenizer splits: HF `tokenizers.pre_tokenizers.Split(Regex(p), "isolated")` (Oniguruma) for the
   GPT-2, Llama 3 and Qwen2 patterns over the llama.cpp vocab inputs, the 83 multilingual inputs and a
   few edge cases, as byte ranges, in goldens/pretokenizer_splits.json.

4. Pipeline variants: the GPT-2 and Llama 2 tokenizer.json with some components overridden (Metaspace
   pre-tokenizer/decoder as in Mistral/TinyLlama, Llama-3-style Split + ByteLevel with ignore_merges,
   added tokens with lstrip/rstrip/single_word, Roberta/Template post-processors) encoded and decoded by HF
   `tokenizers` on texts that include special-token strings, in goldens/hf_variants.json. Each entry
   records the overrides so the Swift test applies exactly the same ones.

Rerun (from the repository root):
    /work/venv/bin/python Fixtures/scripts/make_tokenizer_goldens.py --llama2c /work/ref/llama2.c
(needs the `tokenizers` package and a llama2.c checkout containing run.c; nothing else.)
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import tempfile

import tokenizers

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIX = os.path.join(ROOT, "Fixtures")
OUT = os.path.join(FIX, "tokenizers", "goldens")

NOVELS = ["alice_in_wonderland_pg11", "moby_dick_pg2701"]
TOKENIZERS = {"gpt2": "tokenizers/gpt2/tokenizer.json", "llama2": "tokenizers/llama2/tokenizer.json"}

LLAMA2C_TEXTS = [
    "Once upon a time, there was a little girl named Lily.",
    "",
    "Hello world",
    "  two leading spaces and trailing ",
    "Tab\tand\nnewline\r\nCRLF",
    "Lily's dog said: \"Hi!\" 123 4567",
    "Ünïcödé ✓ 日本語 🦙",
    "<s> is not special here </s>",
    "I believe the meaning of life is",
]

HARNESS = r"""
#define TESTING
#include "run.c"
/* argv: tokenizer.bin vocab_size input_file; input = texts separated by NUL bytes.
   Output per text: ids (with BOS) on one line, then the decoded bytes as hex on the next. */
int main(int argc, char **argv) {
    Tokenizer t; build_tokenizer(&t, argv[1], atoi(argv[2]));
    FILE *f = fopen(argv[3], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1); fread(buf, 1, n, f); buf[n] = 0; fclose(f);
    long pos = 0;
    while (pos < n) {
        char *text = buf + pos; long len = strlen(text);
        int *ids = malloc((len + 3) * sizeof(int)); int count = 0;
        encode(&t, text, 1, 0, ids, &count);
        for (int i = 0; i < count; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
        for (int i = 1; i < count; i++) {
            char *piece = decode(&t, ids[i - 1], ids[i]);
            /* the <0x00> piece decodes to a NUL byte, which %s cannot show; print it explicitly */
            if (strcmp(t.vocab[ids[i]], "<0x00>") == 0) { printf("00"); continue; }
            for (char *c = piece; *c; c++) printf("%02x", (unsigned char)*c);
        }
        printf("\n");
        free(ids); pos += len + 1;
    }
    free_tokenizer(&t); free(buf); return 0;
}
"""


def novels():
    manifest = {"tokenizers_version": tokenizers.__version__, "entries": []}
    for name in NOVELS:
        with open(os.path.join(FIX, "novels", name + ".txt"), "rb") as f:
            text = f.read().decode("utf-8")  # exact: BOM kept as U+FEFF, CRLF kept
        for key, path in TOKENIZERS.items():
            tok = tokenizers.Tokenizer.from_file(os.path.join(FIX, path))
            ids = tok.encode(text, add_special_tokens=False).ids
            assert max(ids) < 65536
            blob = struct.pack("<%dH" % len(ids), *ids)
            out = "%s.%s.u16" % (name, key)
            with open(os.path.join(OUT, out), "wb") as f:
                f.write(blob)
            manifest["entries"].append({"novel": "novels/%s.txt" % name, "tokenizer": path, "ids_file": out,
                                        "count": len(ids), "sha256": hashlib.sha256(blob).hexdigest()})
            print(name, key, len(ids))
    with open(os.path.join(OUT, "novels.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def llama2c(ref):
    # plus one long text (the first 6000 characters of Alice) to check the word-split fast path
    with open(os.path.join(FIX, "novels", "alice_in_wonderland_pg11.txt"), "rb") as f:
        texts = LLAMA2C_TEXTS + [f.read().decode("utf-8")[:6000]]
    cases = {"generator": "llama2.c run.c encode/decode via harness (see make_tokenizer_goldens.py)", "tokenizers": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "harness.c")
        with open(src, "w") as f:
            f.write(HARNESS)
        exe = os.path.join(tmp, "harness")
        subprocess.check_call(["gcc", "-O2", "-I", ref, "-o", exe, src, "-lm"])
        inp = os.path.join(tmp, "input.bin")
        with open(inp, "wb") as f:
            f.write(b"\0".join(t.encode("utf-8") for t in texts) + b"\0")
        for path, vocab in [("models/stories260K/tok512.bin", 512), ("tokenizers/llama2/tokenizer.bin", 32000)]:
            out = subprocess.check_output([exe, os.path.join(FIX, path), str(vocab), inp]).decode("ascii").split("\n")
            entries = []
            for i, text in enumerate(texts):
                ids = [int(x) for x in out[2 * i].split()]
                decoded = bytes.fromhex(out[2 * i + 1]).decode("utf-8", errors="replace")
                entries.append({"text": text, "ids_with_bos": ids, "decoded": decoded})
            cases["tokenizers"].append({"file": path, "vocab_size": vocab, "cases": entries})
    with open(os.path.join(OUT, "llama2c.json"), "w") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)


PATTERNS = {
    "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

EDGE_CASES = [
    "", " ", "  ", "\n", " \n\n ", "a  b", "a \t\nb", "It's I'M we'Re they'LL 'd 'x", "x'sy", "?'s", "  !!\r\n\r\nabc",
    "1234567 12 1", "\u00a0nbsp\u2003em\u3000ideo", "tab\t\tend\t", "mixed123abc456", "...\n\n\n", "\r\r\n x",
    "\U0001F999\U0001F468\u200d\U0001F469 e\u0301 \u0663\u0664 \u2167 \u00bd", "end with spaces   ",
]


def splits():
    from tokenizers import Regex, pre_tokenizers
    with open(os.path.join(FIX, "tokenizers", "llama.cpp-vocab", "ggml-vocab-gpt-2.gguf.inp"), "rb") as f:
        texts = f.read().decode("utf-8").split("\n__ggml_vocab_test__\n")
    with open(os.path.join(FIX, "tokenizers", "swift-transformers-tests", "multilingual_inputs.json")) as f:
        texts += [e["text"] for e in json.load(f)]
    texts += EDGE_CASES
    result = {"tokenizers_version": tokenizers.__version__, "patterns": PATTERNS, "cases": []}
    for text in texts:
        entry = {"text": text}
        for name, pattern in PATTERNS.items():
            pre = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
            # offsets are in characters; convert to UTF-8 byte offsets
            char_to_byte = [0]
            for ch in text:
                char_to_byte.append(char_to_byte[-1] + len(ch.encode("utf-8")))
            entry[name] = [[char_to_byte[a], char_to_byte[b]] for _, (a, b) in pre.pre_tokenize_str(text)]
        result["cases"].append(entry)
    with open(os.path.join(OUT, "pretokenizer_splits.json"), "w") as f:
        json.dump(result, f, ensure_ascii=False)


VARIANT_TEXTS = [
    "Hello world", " Hello  world ", "", " ", "Hello <s> world</s>!", "<s>start", "end</s>", "a<unk>b",
    "x <|endoftext|> y<|endoftext|>", "Mask  <|mask|>  here", "line1\nline2\r\n\tindented", "It's 1234567 tokens",
    "caf\u00e9 \u65e5\u672c\u8a9e \U0001F999 \u0645\u0631\u062d\u0628\u0627", "   leading and trailing   ",
    "my dog, hotdog dogs _dog dog_x (dog) dog", "x\u3000\u00a0<|mask|>\u2003\ny", "dog<|mask|>dog",
]

METASPACE_FIRST = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
METASPACE_ALWAYS = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
VARIANTS = [
    {"name": "gpt2", "base": "gpt2", "overrides": {}, "model_overrides": {}},
    {"name": "llama2", "base": "llama2", "overrides": {}, "model_overrides": {}},
    {"name": "llama2-metaspace-first", "base": "llama2", "model_overrides": {},
     "overrides": {"normalizer": None, "pre_tokenizer": METASPACE_FIRST, "decoder": METASPACE_FIRST}},
    {"name": "llama2-metaspace-always-split", "base": "llama2", "model_overrides": {},
     "overrides": {"normalizer": None, "pre_tokenizer": METASPACE_ALWAYS, "decoder": METASPACE_ALWAYS}},
    {"name": "gpt2-llama3-style", "base": "gpt2", "model_overrides": {"ignore_merges": True},
     "overrides": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
         {"type": "Split", "pattern": {"Regex": PATTERNS["llama3"]}, "behavior": "Isolated", "invert": False},
         {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
         "post_processor": {"type": "TemplateProcessing",
                            "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                            "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]}}}}},
    {"name": "gpt2-qwen2-style-prefix-space", "base": "gpt2", "model_overrides": {},
     "overrides": {"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
         {"type": "Split", "pattern": {"Regex": PATTERNS["qwen2"]}, "behavior": "Isolated", "invert": False},
         {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": False}]}}},
    {"name": "gpt2-added-lstrip-roberta", "base": "gpt2", "model_overrides": {},
     "extra_added_tokens": [{"id": 50257, "content": "<|mask|>", "single_word": False, "lstrip": True, "rstrip": True,
                             "normalized": False, "special": True},
                            {"id": 50258, "content": " world", "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": False},
                            {"id": 50259, "content": "dog", "single_word": True, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": False}],
     "overrides": {"post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 50256], "cls": ["<|endoftext|>", 50256],
                                      "trim_offsets": True, "add_prefix_space": False}}},
]


def variants():
    result = {"tokenizers_version": tokenizers.__version__, "texts": VARIANT_TEXTS, "variants": []}
    for v in VARIANTS:
        with open(os.path.join(FIX, TOKENIZERS[v["base"]])) as f:
            d = json.load(f)
        d.update(v["overrides"])
        d["model"].update(v["model_overrides"])
        d["added_tokens"] = d["added_tokens"] + v.get("extra_added_tokens", [])
        tok = tokenizers.Tokenizer.from_str(json.dumps(d))
        entries = []
        added = set(tok.get_added_tokens_decoder().keys())
        for text in VARIANT_TEXTS:
            ids = tok.encode(text).ids
            # Decoding is recorded for the ids without added tokens only: how added tokens are decoded
            # changed across tokenizers versions (0.23 decodes them as separate segments and does not
            # skip `normalized` special tokens), while transformers' baselines match the classic rule.
            plain = [i for i in ids if i not in added]
            entries.append({"text": text, "ids": ids, "plain_ids": plain, "decoded_plain": tok.decode(plain)})
        out = dict(v)
        out["cases"] = entries
        result["variants"].append(out)
    with open(os.path.join(OUT, "hf_variants.json"), "w") as f:
        json.dump(result, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama2c", default="/work/ref/llama2.c", help="llama2.c checkout holding run.c")
    ap.add_argument("--only", choices=["novels", "llama2c", "splits", "variants"], help="regenerate one group only")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.only in (None, "novels"):
        novels()
    if args.only in (None, "llama2c"):
        llama2c(args.llama2c)
    if args.only in (None, "splits"):
        splits()
    if args.only in (None, "variants"):
        variants()
