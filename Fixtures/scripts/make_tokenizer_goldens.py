"""Token-id goldens for the two tiny tokenizers in Fixtures/models (HF tokenizers + sentencepiece).

Rerun (from the repository root, after make_model_goldens.py):
    /work/venv/bin/python Fixtures/scripts/make_tokenizer_goldens.py
Writes Fixtures/models/tokenizer_goldens.json:
  {"sentencepiece": {"tokenizer": "llama-gqa/tokenizer.model (same file in every Llama/Qwen2/Mistral folder)",
                     "cases": [{"text", "ids" (with <s>), "ids_no_special", "decoded"}]},
   "byte_level_bpe": {"tokenizer": "gpt2/tokenizer.json", "cases": [...]}}
ids come from HF `tokenizers` (Tokenizer.from_file(tokenizer.json)); for the SentencePiece one they are
asserted equal to `sentencepiece` on tokenizer.model, except for text containing "<s>"/"</s>": tokenizers
matches those added tokens inside text, sentencepiece does not; that case also has "sentencepiece_ids". `decoded` = tokenizers' decode(ids, skip_special_tokens=True).
"""
from __future__ import annotations

import json
from pathlib import Path

import sentencepiece as spm
from tokenizers import Tokenizer

MODELS = Path(__file__).resolve().parent.parent / "models"

TEXTS = [
    "Alice was beginning to get very tired of sitting by her sister on the bank,",
    "“Curiouser and curiouser!” cried Alice.",
    " leading space",
    "two  spaces and\ttab\nnewline",
    "Digits 1234567 and 3.14",
    "Émoji 😀 and CJK 我想 and Ωmega",
    "",
    "a",
    "   ",
    "<s> not special in text </s>",
]


def main() -> None:
    out = {}
    sp = spm.SentencePieceProcessor(model_file=str(MODELS / "llama-gqa" / "tokenizer.model"))
    tk = Tokenizer.from_file(str(MODELS / "llama-gqa" / "tokenizer.json"))
    cases = []
    for text in TEXTS:
        ids = tk.encode(text).ids
        plain = tk.encode(text, add_special_tokens=False).ids
        case = {"text": text, "ids": ids, "ids_no_special": plain,
                "decoded": tk.decode(ids, skip_special_tokens=True)}
        if "<s>" in text:
            # tokenizer.json matches added tokens (<s>, </s>) inside the text; sentencepiece treats them as
            # plain characters. Both answers are recorded.
            case["sentencepiece_ids"] = [1] + sp.encode(text)
        else:
            assert ids == [1] + sp.encode(text), (text, ids, sp.encode(text))
            assert plain == sp.encode(text), text
        cases.append(case)
    out["sentencepiece"] = {"tokenizer": "llama-gqa/tokenizer.model and tokenizer.json (the same files are in "
                                         "every Llama/Qwen2/Mistral folder)", "cases": cases}
    tk = Tokenizer.from_file(str(MODELS / "gpt2" / "tokenizer.json"))
    cases = []
    for text in TEXTS + ["<|endoftext|>Hello<|endoftext|>"]:
        ids = tk.encode(text).ids
        cases.append({"text": text, "ids": ids, "ids_no_special": tk.encode(text, add_special_tokens=False).ids,
                      "decoded": tk.decode(ids, skip_special_tokens=False)})
    out["byte_level_bpe"] = {"tokenizer": "gpt2/tokenizer.json (vocab.json + merges.txt equivalent)",
                             "cases": cases}
    (MODELS / "tokenizer_goldens.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")


if __name__ == "__main__":
    main()
