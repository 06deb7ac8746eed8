#!/usr/bin/python3
"""FAISS's own Python bindings on the same vectors as `mnemo bench index` (the baseline).

Reads the files `mnemo bench index --vectors-dir DIR` wrote (base_<data>_<d>_<n>_s<seed>.f32,
queries_<data>_<d>_<q>_s<seed>.f32: row-major float32 unit vectors), builds each index exactly as
Mnemo's shim does (index_factory with inner product; non-IVF indexes wrapped in IndexIDMap2 and
filled with add_with_ids), and prints the same table / JSON lines: train seconds, add vectors/s,
add_cpu_us / search_cpu_us (process CPU time per vector / query,
all threads), search queries/s (fastest of --repeat batched searches of all queries after a 10-query warm-up), recall@k vs Flat
(unless --no-recall).

With --index-dir, each built index is saved with faiss.write_index (or read back if saved before), under the
same file names `mnemo bench index --index-dir` uses, so both paths can search one identical index.

Run with the system Python, which has python3-faiss 1.7.3 (the library Mnemo links):
    OMP_NUM_THREADS=2 /usr/bin/python3 Fixtures/scripts/bench_faiss_python.py --vectors-dir /tmp/mnemo-bench \
        --dim 64,128 --count 100000 --types "Flat;HNSW32;IVF1024,Flat" --queries 1000 --k 10
"""
import argparse
import json
import os
import time

import faiss
import numpy as np


def recall(ids, truth):
    found = total = 0
    for row, expected in zip(ids, truth):
        e = set(int(x) for x in expected if x >= 0)
        found += len(e & set(int(x) for x in row))
        total += len(e)
    return found / total if total else 1.0


def make_index(d, description):
    index = faiss.index_factory(d, description, faiss.METRIC_INNER_PRODUCT)
    if faiss.try_extract_index_ivf(index) is None:
        index = faiss.IndexIDMap2(index)
    return index


def index_file_name(description, data, d, n, seed):
    """The name `mnemo bench index --index-dir` uses: punctuation in the description becomes '_'."""
    name = "".join(c if c.isascii() and c.isalnum() else "_" for c in description)
    return f"index_{data}_{d}_{n}_s{seed}_{name}.faiss"


def built_index(a, d, n, description, base, ids):
    """(index, (train_s, add_s, add_cpu)) built here, or (index, None) read from --index-dir."""
    path = os.path.join(a.index_dir, index_file_name(description, a.data, d, n, a.seed)) if a.index_dir else None
    if path and os.path.exists(path):
        index = faiss.read_index(path)
        if index.d != d or index.ntotal != n:
            raise SystemExit(f"{path}: holds {index.ntotal} vectors of dimension {index.d}, expected {n} of {d}")
        return index, None
    index = make_index(d, description)
    t0 = time.perf_counter()
    if not index.is_trained:
        index.train(base)
    train_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    index.add_with_ids(base, ids)
    build = (train_s, time.perf_counter() - t0, time.process_time() - c0)
    if path:
        os.makedirs(a.index_dir, exist_ok=True)
        faiss.write_index(index, path + ".tmp")
        os.replace(path + ".tmp", path)  # atomic: an interrupted save leaves no partial index under the name
    return index, build


def set_param(index, name, value):
    faiss.ParameterSpace().set_index_parameter(index, name, value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors-dir", required=True)
    ap.add_argument("--dim", default="64")
    ap.add_argument("--count", default="100000")
    ap.add_argument("--types", default="Flat;HNSW32;IVF1024,Flat", help="';'-separated FAISS descriptions")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--ef-search", default="16,32,64,128")
    ap.add_argument("--nprobe", default="1,4,16,64")
    ap.add_argument("--data", default="random")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions of each search; fastest reported")
    ap.add_argument("--index-dir", help="save each built index here (FAISS format), or load it if saved before "
                    "(same file names as mnemo bench index --index-dir); a loaded index reports no train/add figures")
    ap.add_argument("--no-recall", action="store_true", help="skip the Flat ground truth (recall reported as '-' / null)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    k = a.k
    if not a.json:
        print(f"threads={faiss.omp_get_max_threads()} queries={a.queries} k={k} data={a.data} repeat={a.repeat} (FAISS {faiss.__version__} Python)")
    for d in map(int, a.dim.split(",")):
        for n in map(int, a.count.split(",")):
            base = np.fromfile(os.path.join(a.vectors_dir, f"base_{a.data}_{d}_{n}_s{a.seed}.f32"), dtype="<f4").reshape(n, d)
            query = np.fromfile(os.path.join(a.vectors_dir, f"queries_{a.data}_{d}_{a.queries}_s{a.seed}.f32"), dtype="<f4").reshape(a.queries, d)
            ids = np.arange(n, dtype=np.int64)
            truth = None
            if not a.no_recall:
                flat = make_index(d, "Flat")
                flat.add_with_ids(base, ids)
                _, truth = flat.search(query, k)
            for description in [t for t in a.types.split(";") if t]:
                index, build = built_index(a, d, n, description, base, ids)
                train_s, add_s, add_cpu = build or (None, None, None)
                built_fields = dict(train_s=round(train_s, 4), add_per_s=round(n / add_s, 1), add_cpu_us=round(add_cpu / n * 1e6, 3)) \
                    if build else dict(train_s=None, add_per_s=None, add_cpu_us=None)
                up = description.upper()
                if "HNSW" in up:
                    sweep = [("efSearch", int(v)) for v in a.ef_search.split(",")]
                elif "IVF" in up:
                    sweep = [("nprobe", int(v)) for v in a.nprobe.split(",")]
                else:
                    sweep = [(None, 0)]
                for name, value in sweep:
                    if name:
                        set_param(index, name, value)
                    index.search(query[:10], k)  # warm-up
                    search_s = search_cpu = float("inf")
                    for _ in range(a.repeat):
                        t0, c0 = time.perf_counter(), time.process_time()
                        _, got = index.search(query, k)
                        search_s = min(search_s, time.perf_counter() - t0)
                        search_cpu = min(search_cpu, time.process_time() - c0)
                    line = dict(impl="python", dim=d, count=n, type=description, param=f"{name}={value}" if name else "-",
                                **built_fields, search_per_s=round(a.queries / search_s, 1),
                                recall=None if truth is None else round(recall(got, truth), 4),
                                search_cpu_us=round(search_cpu / a.queries * 1e6, 3), loaded=build is None)
                    if a.json:
                        print(json.dumps(line), flush=True)
                    else:
                        built = f"{build[0]:9.2f} {n / build[1]:11.0f}" if build else "   loaded           -"
                        add_us = f"{line['add_cpu_us']:11.2f}" if build else "          -"
                        found = "     -" if truth is None else f"{line['recall']:.4f}"
                        print(f"{d:<4}{n:>9}    {description:<21}{line['param']:<13}{built} "
                              f"{a.queries / search_s:12.0f}  {found} {add_us} {line['search_cpu_us']:12.2f}", flush=True)


if __name__ == "__main__":
    main()
