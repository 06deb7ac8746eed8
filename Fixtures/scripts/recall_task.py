"""Synthetic associative-recall task for Mnemo's trained memory models (issue #6).

Vocabulary (66 single-character tokens, one id each):

    0 <unk>   1 <s>   2 </s>   3 "?" (query marker)
    4..13  digits "0".."9"      (values: two digits, so 100 values; chance = 1%)
    14..39 "A".."Z"             (keys; each key occurs at most once per document)
    40..65 "a".."z"             (filler)

A pair is written `K d d` (a key then its two-digit value) inside random lowercase filler; a
query is `? K`, and the model must continue with the key's two digits. Example text:
`xqwpzK47abmf...?K` -> `47`.

Used by train_recall.py (training batches, evaluation sets) and by the tokenizer it writes
(`tokenizer.json`: a character-level BPE without merges, which Mnemo's BPE loader reads).
"""
import json

import numpy as np

SPECIALS = ["<unk>", "<s>", "</s>"]
QUERY_TEXT = "?"
DIGITS = "0123456789"
KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FILLER = "abcdefghijklmnopqrstuvwxyz"
VOCAB = SPECIALS + [QUERY_TEXT] + list(DIGITS) + list(KEYS) + list(FILLER)
VOCAB_SIZE = len(VOCAB)  # 66
BOS, EOS, QUERY = 1, 2, 3
DIGIT0, KEY0, FILL0 = 4, 14, 40
NUM_KEYS, NUM_FILLER = 26, 26


def text(ids):
    """The text of token ids (specials shown as their names)."""
    return "".join(VOCAB[i] for i in ids)


def value_tokens(value):
    """Token ids of a two-digit value 0..99."""
    return [DIGIT0 + value // 10, DIGIT0 + value % 10]


def train_sequence(rng, length, pair_rate, query_rate, query_after=0):
    """One training sequence: BOS, filler, pairs (fresh keys) and queries of earlier keys.

    Each step adds a pair with probability `pair_rate`, a query (of a uniformly chosen key already
    seen, only at positions >= `query_after`) with probability `query_rate`, else one filler token.
    Returns (tokens [length], target mask [length]): the mask marks the two answer digits of every
    query (the loss is taken there only).
    """
    tokens = [BOS]
    mask = [False]
    keys = list(rng.permutation(NUM_KEYS))
    seen = {}
    while len(tokens) < length:
        room = length - len(tokens)
        u = rng.random()
        if u < pair_rate and keys and room >= 3:
            key = keys.pop()
            value = int(rng.integers(100))
            seen[key] = value
            tokens += [KEY0 + key] + value_tokens(value)
            mask += [False] * 3
        elif u < pair_rate + query_rate and seen and room >= 4 and len(tokens) >= query_after:
            key = list(seen)[int(rng.integers(len(seen)))]
            tokens += [QUERY, KEY0 + key] + value_tokens(seen[key])
            mask += [False, False, True, True]
        else:
            tokens.append(FILL0 + int(rng.integers(NUM_FILLER)))
            mask.append(False)
    return tokens[:length], mask[:length]


def train_batch(rng, batch, length, pair_rate, query_rate, query_after=0):
    """`batch` sequences as int64 arrays (tokens, mask); each has at least one query (drawn again
    until it does)."""
    seqs = []
    while len(seqs) < batch:
        s = train_sequence(rng, length, pair_rate, query_rate, query_after)
        if any(s[1]):
            seqs.append(s)
    return (np.array([s[0] for s in seqs], dtype=np.int64), np.array([s[1] for s in seqs], dtype=bool))


def memory_batch(rng, batch, segments, segment, max_pairs):
    """Documents of `segments` segments that need memory: 1..max_pairs pairs in the segments before
    the last, and in the last segment one query per pair (each key asked once), in random order
    among filler. The mask marks the answers."""
    length = segments * segment
    tokens = np.empty((batch, length), dtype=np.int64)
    mask = np.zeros((batch, length), dtype=bool)
    for b in range(batch):
        pairs = int(rng.integers(1, max_pairs + 1))
        doc = [BOS] + [FILL0 + int(x) for x in rng.integers(NUM_FILLER, size=length - 1)]
        starts = []
        while len(starts) < pairs:
            s = int(rng.integers(1, length - segment - 3 + 1))
            if all(abs(s - t) >= 3 for t in starts):
                starts.append(s)
        queries = []
        while len(queries) < pairs:
            q = int(rng.integers(length - segment, length - 4 + 1))
            if all(abs(q - t) >= 4 for t in queries):
                queries.append(q)
        keys = rng.permutation(NUM_KEYS)[:pairs]
        for s, q, k in zip(starts, queries, keys):
            v = value_tokens(int(rng.integers(100)))
            doc[s:s + 3] = [KEY0 + int(k)] + v
            doc[q:q + 4] = [QUERY, KEY0 + int(k)] + v
            mask[b, q + 2:q + 4] = True
        tokens[b] = doc
    return tokens, mask


def copy_batch(rng, batch, length, span, max_gap):
    """Induction warm-up sequences: BOS, `span` random tokens (any non-special id), a random gap of
    fewer than `max_gap` random tokens, the same span again, random tokens to `length`. The mask
    marks the repeated span's tokens after its first (predictable by copying).

    Why: trained on recall alone, the small models stay on a plateau (answering with digits seen
    nearby) for thousands of steps; dense copying targets form the induction circuit (a
    previous-token head, then a head matching it) in a few hundred, and recall reuses it.
    """
    tokens = np.empty((batch, length), dtype=np.int64)
    mask = np.zeros((batch, length), dtype=bool)
    for b in range(batch):
        x = list(rng.integers(QUERY + 1, VOCAB_SIZE, size=span))
        gap = list(rng.integers(QUERY + 1, VOCAB_SIZE, size=int(rng.integers(0, max_gap))))
        seq = [BOS] + x + gap + x
        seq = (seq + list(rng.integers(QUERY + 1, VOCAB_SIZE, size=length)))[:length]
        tokens[b] = seq
        start = 1 + span + len(gap)
        mask[b, start + 1:min(length, start + span)] = True
    return tokens, mask


def eval_example(rng, prompt_length, pairs, min_distance):
    """One evaluation example: a document of `prompt_length - 2` tokens (BOS, filler and `pairs`
    pairs with distinct keys at random places), then the query `? K` for one pair that starts at
    least `min_distance` tokens before the query; the answer is that pair's two digits.
    """
    doc_length = prompt_length - 2
    query_position = doc_length  # index of "?" in the prompt
    # The queried pair first, far enough back; then the others anywhere, without overlaps.
    last_start = query_position - min_distance
    assert last_start >= 1, "document too short for min_distance"
    starts = [int(rng.integers(1, last_start + 1))]
    while len(starts) < pairs:
        s = int(rng.integers(1, doc_length - 3 + 1))
        if all(abs(s - t) >= 3 for t in starts):
            starts.append(s)
    keys = rng.permutation(NUM_KEYS)[:pairs]
    values = rng.integers(100, size=pairs)
    doc = [BOS] + [FILL0 + int(x) for x in rng.integers(NUM_FILLER, size=doc_length - 1)]
    for s, k, v in zip(starts, keys, values):
        doc[s:s + 3] = [KEY0 + int(k)] + value_tokens(int(v))
    target_key, target_value = int(keys[0]), int(values[0])
    return {
        "document": doc,
        "query": [QUERY, KEY0 + target_key],
        "answer": value_tokens(target_value),
        "distance": query_position - starts[0],
    }


def eval_set(seed, count, prompt_length, pairs, min_distance):
    rng = np.random.default_rng(seed)
    examples = []
    for i in range(count):
        e = eval_example(rng, prompt_length, pairs, min_distance)
        e["id"] = i
        examples.append(e)
    return examples


def write_eval_set(path, examples):
    """JSON Lines: one object per example, keys id, document, query, answer, distance."""
    with open(path, "w") as f:
        for e in examples:
            f.write(json.dumps({k: e[k] for k in ["id", "document", "query", "answer", "distance"]},
                               separators=(",", ":")) + "\n")


def read_eval_set(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_tokenizer(folder):
    """tokenizer.json (character-level BPE, no merges, BOS added by the post-processor) and
    tokenizer_config.json, built with Hugging Face `tokenizers`."""
    from tokenizers import Tokenizer, decoders, models, processors

    vocab = {s: i for i, s in enumerate(VOCAB)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.add_special_tokens(SPECIALS)
    tok.decoder = decoders.Fuse()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B",
                                                       special_tokens=[("<s>", BOS)])
    tok.save(f"{folder}/tokenizer.json")
    check = Tokenizer.from_file(f"{folder}/tokenizer.json")
    ids = check.encode("abK47?K").ids
    assert ids == [BOS, FILL0, FILL0 + 1, KEY0 + 10, DIGIT0 + 4, DIGIT0 + 7, QUERY, KEY0 + 10], ids
    with open(f"{folder}/tokenizer_config.json", "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "add_bos_token": True, "model_max_length": 1 << 20}, f, indent=2)
