"""Tiny tokenizers trained on Alice in Wonderland for the fixture models (helper of make_model_goldens.py).

Two kinds, both trained with the reference libraries (never with Mnemo code):
  * SentencePiece BPE with byte_fallback (Llama-2 style: <unk>=0, <s>=1, </s>=2, 256 <0xNN> pieces),
    saved as `tokenizer.model`, plus the equivalent `tokenizer.json` / `tokenizer_config.json`
    produced by transformers' converter (LlamaTokenizer.from_pretrained on the .model) and patched
    to add <s> like Llama-2's tokenizer.json. Checked to give the same ids as sentencepiece on
    every line of the training text.
  * Byte-level BPE (GPT-2 style) trained with HF `tokenizers` ByteLevelBPETokenizer, with
    <|endoftext|> as the LAST id (like GPT-2's 50256), saved as tokenizer.json + vocab.json +
    merges.txt + tokenizer_config.json via GPT2TokenizerFast.

Training text: shared/data/novels/alice_in_wonderland_pg11.txt (Project Gutenberg #11).
Run through make_model_goldens.py; not meant to be run alone.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ALICE = Path(os.environ.get("MNEMO_ALICE", "/work/shared/data/novels/alice_in_wonderland_pg11.txt"))


def alice_lines() -> list[str]:
    text = ALICE.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def train_sentencepiece(folder: Path, vocab_size: int) -> None:
    """Trains a SentencePiece BPE model with byte fallback and writes tokenizer.model/.json/_config.json."""
    import sentencepiece as spm
    from transformers import LlamaTokenizer
    from tokenizers import Tokenizer

    lines = alice_lines()
    with tempfile.TemporaryDirectory() as tmp:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=f"{tmp}/tokenizer", vocab_size=vocab_size,
            model_type="bpe", byte_fallback=True, character_coverage=1.0, num_threads=1,
            normalization_rule_name="identity", split_digits=True, allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
        # The trainer spec records the (temporary) model_prefix; pin it so reruns are byte-identical.
        from sentencepiece import sentencepiece_model_pb2
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString(Path(f"{tmp}/tokenizer.model").read_bytes())
        proto.trainer_spec.model_prefix = "tokenizer"
        (folder / "tokenizer.model").write_bytes(proto.SerializeToString())
        # transformers' own sentencepiece -> tokenizers conversion
        LlamaTokenizer.from_pretrained(tmp).save_pretrained(tmp + "/hf")
        tok_json = json.loads(Path(tmp + "/hf/tokenizer.json").read_text(encoding="utf-8"))
    # Like meta-llama/Llama-2-7b-hf's tokenizer.json: <unk> as unk token, <s> prepended by the post-processor,
    # and the legacy normalizer (always prepend "▁", then spaces -> "▁"), which matches sentencepiece's
    # add_dummy_prefix also for text that starts with a space (transformers 5's Metaspace(prepend_scheme=
    # "first") does not prepend before a leading space, so it differs from sentencepiece there).
    tok_json["model"]["unk_token"] = "<unk>"
    tok_json["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    tok_json["pre_tokenizer"] = None
    tok_json["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
    }
    (folder / "tokenizer.json").write_text(json.dumps(tok_json, ensure_ascii=False), encoding="utf-8")
    config = {
        "tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "add_bos_token": True, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": 1_000_000,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    # The two serialisations must agree on the training text.
    sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
    tk = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert sp.vocab_size() == vocab_size, (sp.vocab_size(), vocab_size)
    for line in lines + ["Hello world 😀 12345  two  spaces\tand tab"]:
        a = [1] + sp.encode(line)
        b = tk.encode(line).ids
        assert a == b, (line, a, b)


def train_byte_level_bpe(folder: Path, vocab_size: int) -> int:
    """Trains a GPT-2 style byte-level BPE; returns the id of <|endoftext|> (the last id)."""
    from tokenizers import ByteLevelBPETokenizer, Tokenizer
    from transformers import GPT2TokenizerFast

    lines = alice_lines()
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    # Train without specials, then add <|endoftext|> at the end like GPT-2 (id vocab_size - 1).
    bpe.train_from_iterator(lines, vocab_size=vocab_size - 1, min_frequency=2, show_progress=False,
                            special_tokens=[])
    bpe.add_special_tokens(["<|endoftext|>"])
    eot = bpe.token_to_id("<|endoftext|>")
    assert eot == vocab_size - 1, (eot, vocab_size)
    with tempfile.TemporaryDirectory() as tmp:
        bpe.save(f"{tmp}/tokenizer.json")
        fast = GPT2TokenizerFast(tokenizer_file=f"{tmp}/tokenizer.json", bos_token="<|endoftext|>",
                                 eos_token="<|endoftext|>", unk_token="<|endoftext|>")
        fast.save_pretrained(str(folder))
    # vocab.json / merges.txt like openai-community/gpt2 (the slow-tokenizer files).
    tok_json = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    (folder / "vocab.json").write_text(json.dumps(tok_json["model"]["vocab"] | {"<|endoftext|>": eot},
                                                  ensure_ascii=False), encoding="utf-8")
    merges = tok_json["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tk = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert tk.get_vocab_size() == vocab_size, (tk.get_vocab_size(), vocab_size)
    return eot
