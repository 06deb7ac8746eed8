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
   Results in goldens/llama2c.json for Fixtures/models/stories260K/tok512.bin (vocab 512) and
   Fixtures/tokenizers/llama2/tokenizer.bin (vocab 32000).

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
    cases = {"generator": "llama2.c run.c encode/decode via harness (see make_tokenizer_goldens.py)", "tokenizers": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "harness.c")
        with open(src, "w") as f:
            f.write(HARNESS)
        exe = os.path.join(tmp, "harness")
        subprocess.check_call(["gcc", "-O2", "-I", ref, "-o", exe, src, "-lm"])
        inp = os.path.join(tmp, "input.bin")
        with open(inp, "wb") as f:
            f.write(b"\0".join(t.encode("utf-8") for t in LLAMA2C_TEXTS) + b"\0")
        for path, vocab in [("models/stories260K/tok512.bin", 512), ("tokenizers/llama2/tokenizer.bin", 32000)]:
            out = subprocess.check_output([exe, os.path.join(FIX, path), str(vocab), inp]).decode("ascii").split("\n")
            entries = []
            for i, text in enumerate(LLAMA2C_TEXTS):
                ids = [int(x) for x in out[2 * i].split()]
                decoded = bytes.fromhex(out[2 * i + 1]).decode("utf-8", errors="replace")
                entries.append({"text": text, "ids_with_bos": ids, "decoded": decoded})
            cases["tokenizers"].append({"file": path, "vocab_size": vocab, "cases": entries})
    with open(os.path.join(OUT, "llama2c.json"), "w") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama2c", default="/work/ref/llama2.c", help="llama2.c checkout holding run.c")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    novels()
    llama2c(args.llama2c)
