"""Runs llama.cpp's convert_hf_to_gguf.py unchanged, accepting our tiny byte-level BPE tokenizer.

Usage (called by make_model_goldens.py):
    /work/venv/bin/python Fixtures/scripts/convert_gguf.py <model folder> --outtype f32 --outfile <x.gguf>

llama.cpp reference: LLAMA_CPP env var, default /work/ref/llama.cpp (commit
d32676d77426540327835040d5d3279728f0b4c8 was used for the committed files). Nothing of llama.cpp is
copied here: the converter is imported from that checkout and run as __main__.

The only change in behaviour: the converter identifies a byte-level BPE pre-tokenizer by hashing the
ids its tokenizer gives for a fixed text (conversion/base.py, TextModel.get_vocab_base_pre) and refuses
unknown hashes. A freshly trained 384-token vocabulary can never match a published hash, so when the
converter raises "BPE pre-tokenizer was not recognized" we answer "gpt-2" - which is what our GPT-2
tokenizer's pre-tokenizer is (HF ByteLevel with the GPT-2 regex). SentencePiece models never reach it.
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

LLAMA_CPP = Path(os.environ.get("LLAMA_CPP", "/work/ref/llama.cpp"))
sys.path.insert(0, str(LLAMA_CPP))
sys.path.insert(1, str(LLAMA_CPP / "gguf-py"))

import conversion.base as base  # noqa: E402  (llama.cpp's converter package)

_original = base.TextModel.get_vocab_base_pre


def _get_vocab_base_pre(self, tokenizer) -> str:
    try:
        return _original(self, tokenizer)
    except NotImplementedError as error:
        if "pre-tokenizer was not recognized" not in str(error):
            raise
        print("convert_gguf.py: unknown BPE hash for a freshly trained vocabulary -> tokenizer.ggml.pre = gpt-2",
              file=sys.stderr)
        return "gpt-2"


base.TextModel.get_vocab_base_pre = _get_vocab_base_pre
sys.argv = [str(LLAMA_CPP / "convert_hf_to_gguf.py"), *sys.argv[1:]]
runpy.run_path(str(LLAMA_CPP / "convert_hf_to_gguf.py"), run_name="__main__")
