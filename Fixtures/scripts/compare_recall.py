"""Compares `mnemo eval recall --json` output with a PyTorch reference (Fixtures/recall/reference-*.json).

    /work/venv/bin/python Fixtures/scripts/compare_recall.py MNEMO.json Fixtures/recall/reference-X.json

Prints accuracy (Mnemo, PyTorch), greedy answers that differ, and the mean and largest
|log-prob difference| over the answer tokens of the examples both evaluated.
"""
import json
import sys


def main(mnemo_path, reference_path):
    with open(mnemo_path) as f:
        mnemo = json.load(f)
    with open(reference_path) as f:
        reference = json.load(f)
    ref = {str(r["id"]): r for r in reference["results"]}
    diffs, differing, ref_correct = [], 0, 0
    for r in mnemo["results"]:
        e = ref[str(r["id"])]
        assert r["answer"] == e["answer"], r["id"]
        differing += r["predicted"] != e["predicted"]
        ref_correct += e["correct"]
        diffs += [abs(a - b) for a, b in zip(r["logprobs"], e["logprobs"])]
    n = len(mnemo["results"])
    print(f"{reference_path}: examples {n}  accuracy Mnemo {100 * mnemo['accuracy']:.1f}%  "
          f"PyTorch {100 * ref_correct / n:.1f}%  greedy answers differing {differing}  "
          f"mean |dlogprob| {sum(diffs) / len(diffs):.2e}  max {max(diffs):.2e}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
