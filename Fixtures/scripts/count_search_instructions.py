#!/usr/bin/python3
"""Instructions per query of one batched search, Mnemo's Swift path against FAISS's Python bindings.

Wall-clock and CPU timings of one search on a shared VM vary by about +-25%, more than the 10% the
vector-store issue allows between the two paths. Counted instructions do not: this script runs
`mnemo bench index` and `bench_faiss_python.py` under Valgrind's cachegrind, each three times,
with `--repeat 1`, `2` and `3` and `--no-recall`, on an index both load from `--index-dir`. Each
step between those totals is one more timed iteration: a batched search of all queries with
everything around it on that path (Swift wrapper, C shim and output arrays; numpy, SWIG and the
Python wrapper), while loading and printing cancel. The script reports the mean of the two steps
per query and how far the two steps differ (the measurement's own noise). One OpenMP and one
OpenBLAS thread; Python runs with PYTHONHASHSEED=0 and its cyclic garbage collector off (a
collection falls at a different point when one more iteration allocates, and moved one count by
more than a small search costs; off, Python's side can only come out cheaper). Instructions are
not time: cache misses are not counted unless --cache-sim. But both paths run the same FAISS code
on the same index in the same order; only the wrapper around it differs.

Two workarounds for Valgrind 3.19 (Debian 12), used only here:
- it cannot read the DWARF 5 of Swift binaries ("Possibly corrupted debuginfo file"), so it runs
  a copy of the mnemo binary without debug information (symbols kept);
- its rt_sigsuspend handler writes into the caller's signal mask, and libdispatch passes a
  read-only one (Valgrind dies with SIGSEGV at startup), so a tiny LD_PRELOAD library, compiled
  here with gcc, hands sigsuspend a writable copy.

Every index must already be saved in --index-dir (build them natively first, with either bench
and --index-dir; building under Valgrind works but is slow). The queries file for --queries Q
(queries_<data>_<d>_<Q>_s<seed>.f32) is cut from a larger one in --vectors-dir when missing: `mnemo bench
index` draws the queries after the base vectors from one stream seeded by seed, d and n (not Q),
so the first Q of 1,000 queries are exactly the Q-query set.

    apt-get install -y valgrind gcc python3-faiss python3-numpy
    /usr/bin/python3 Fixtures/scripts/count_search_instructions.py --mnemo .build/release/mnemo \\
        --vectors-dir /tmp/mnemo-bench --index-dir /tmp/mnemo-bench/indexes \\
        --dim 128 --count 1000000 --types HNSW32 --ef-search 16,64,128 --queries 100
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

PRELOAD_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
/* Valgrind 3.19 sanitizes the mask in place; libdispatch's is read-only. Pass a copy. */
int sigsuspend(const sigset_t *mask) {
    static int (*real)(const sigset_t *);
    if (!real) real = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
    sigset_t copy = *mask;
    return real(&copy);
}
"""


def prepare_tools(mnemo, workdir):
    """(copy of the mnemo binary without debug information, path of the sigsuspend preload library)."""
    for tool in ("valgrind", "gcc", "strip"):
        if shutil.which(tool) is None:
            raise SystemExit(f"count_search_instructions: '{tool}' not found (apt-get install -y valgrind gcc binutils)")
    if not os.path.isfile(mnemo):
        raise SystemExit(f"count_search_instructions: {mnemo}: no such binary (swift build -c release --product mnemo)")
    binary = os.path.join(workdir, "mnemo")
    subprocess.run(["strip", "--strip-debug", "-o", binary, os.path.realpath(mnemo)], check=True)
    source = os.path.join(workdir, "sigsuspend_copy.c")
    library = os.path.join(workdir, "sigsuspend_copy.so")
    with open(source, "w") as f:
        f.write(PRELOAD_SOURCE)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", library, source, "-ldl"], check=True)
    return binary, library


def ensure_queries(a, d):
    """Cut queries_<data>_<d>_<Q>_s<seed>.f32 from a larger queries file when it is missing."""
    name = lambda q: os.path.join(a.vectors_dir, f"queries_{a.data}_{d}_{q}_s{a.seed}.f32")
    want = name(a.queries)
    if os.path.exists(want):
        return
    for q in (1000, 10000):
        source = name(q)
        if q > a.queries and os.path.exists(source):
            with open(source, "rb") as f:
                data = f.read(a.queries * d * 4)
            with open(want + ".tmp", "wb") as f:
                f.write(data)
            os.replace(want + ".tmp", want)
            return
    raise SystemExit(f"count_search_instructions: {want} is missing and no larger queries file to cut it from")


def counted_run(label, command, env, out_file, cache_sim):
    """Runs command under cachegrind; returns ({event: total}, the JSON result line)."""
    valgrind = ["valgrind", "--tool=cachegrind", f"--cache-sim={'yes' if cache_sim else 'no'}", "--branch-sim=no",
                f"--cachegrind-out-file={out_file}"]
    proc = subprocess.run(valgrind + command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"count_search_instructions: {label} failed (exit {proc.returncode}):\n{tail}")
    events = totals = None
    with open(out_file) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("summary:"):
                totals = [int(v) for v in line.split()[1:]]
    if events is None or totals is None:
        raise SystemExit(f"count_search_instructions: {out_file}: no 'events:' or 'summary:' line")
    counts = dict(zip(events, totals))
    # last-level misses: instruction reads, data reads, data writes
    counts["LLm"] = sum(counts.get(e, 0) for e in ("ILmr", "DLmr", "DLmw"))
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if len(results) != 1:
        raise SystemExit(f"count_search_instructions: {label}: expected one result line, got {len(results)}")
    return counts, results[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnemo", default=".build/release/mnemo", help="the mnemo binary (release build)")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with Debian's python3-faiss")
    ap.add_argument("--vectors-dir", required=True)
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--dim", default="64")
    ap.add_argument("--count", default="100000")
    ap.add_argument("--types", default="Flat;HNSW32;IVF1024,Flat", help="';'-separated FAISS descriptions")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--ef-search", default="16,64,128")
    ap.add_argument("--nprobe", default="16")
    ap.add_argument("--data", default="random")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--jobs", type=int, default=2, help="Valgrind runs at once (counts do not depend on load)")
    ap.add_argument("--cache-sim", action="store_true",
                    help="also simulate the caches (about twice as slow) and report last-level misses per query")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="mnemo-icount-")
    try:
        count_rows(a, *prepare_tools(a.mnemo, workdir), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def count_rows(a, binary, preload, workdir):
    """Counts and prints one row per (dimension, count, description, search parameter)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", PYTHONHASHSEED="0")
    bench_py = os.path.join(HERE, "bench_faiss_python.py")
    python_prefix = [a.python, "-c", "import gc, runpy, sys; gc.disable(); sys.argv = sys.argv[1:]; "
                     "runpy.run_path(sys.argv[0], run_name='__main__')", bench_py]
    swift_env = dict(env, LD_PRELOAD=preload)
    serial = 0  # numbers each row's cachegrind output files
    if not a.json:
        print(f"queries={a.queries} k={a.k} data={a.data}: instructions per query of one batched search (cachegrind)")
        print(f"{'dim':<4}{'count':>9}  {'type':<16}{'param':<13}{'Mnemo':>16} {'Python':>16}  ratio    (instructions per query;"
              " 'steps differ': how far the two one-search steps of each path differ, per query)")
    for d in map(int, a.dim.split(",")):
        ensure_queries(a, d)
        for n in map(int, a.count.split(",")):
            for description in [t for t in a.types.split(";") if t]:
                up = description.upper()
                if "HNSW" in up:
                    sweep = [("--ef-search", "efSearch", v) for v in a.ef_search.split(",")]
                elif "IVF" in up:
                    sweep = [("--nprobe", "nprobe", v) for v in a.nprobe.split(",")]
                else:
                    sweep = [(None, None, None)]
                for option, name, value in sweep:
                    common = ["--vectors-dir", a.vectors_dir, "--index-dir", a.index_dir, "--dim", str(d), "--count", str(n),
                              "--types", description, "--queries", str(a.queries), "--k", str(a.k),
                              "--data", a.data, "--seed", a.seed, "--no-recall", "--json"] + ([option, value] if option else [])
                    paths = {"mnemo": ([binary, "bench", "index"] + common, swift_env),
                             "python": (python_prefix + common, env)}
                    jobs = []
                    for path, (command, path_env) in paths.items():
                        for repeat in (1, 2, 3):
                            label = f"{path} d={d} n={n} {description} {name or ''}={value or ''} repeat {repeat}"
                            out = os.path.join(workdir, f"cg_{path}_{d}_{n}_{serial}_r{repeat}.out")
                            jobs.append((path, repeat, label, command + ["--repeat", str(repeat)], path_env, out))
                    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
                        done = {(p, t): pool.submit(counted_run, label, cmd, e, out, a.cache_sim) for p, t, label, cmd, e, out in jobs}
                        got = {key: future.result() for key, future in done.items()}
                    row = dict(dim=d, count=n, type=description, param=f"{name}={value}" if name else "-", queries=a.queries)
                    for path in paths:
                        (c1, line1), (c2, _), (c3, _) = (got[(path, r)] for r in (1, 2, 3))
                        if not line1.get("loaded"):
                            print(f"warning: {path} built {description} (d={d}, n={n}) instead of loading it from --index-dir",
                                  file=sys.stderr)
                        steps = (c2["Ir"] - c1["Ir"], c3["Ir"] - c2["Ir"])
                        row[f"{path}_ir_per_query"] = round(sum(steps) / 2 / a.queries, 1)
                        row[f"{path}_step_gap_per_query"] = round(abs(steps[1] - steps[0]) / a.queries, 1)
                        if a.cache_sim:
                            row[f"{path}_ll_misses_per_query"] = round((c3["LLm"] - c1["LLm"]) / 2 / a.queries, 2)
                    row["ratio"] = round(row["mnemo_ir_per_query"] / row["python_ir_per_query"], 5)
                    if a.cache_sim:
                        row["ll_ratio"] = round(row["mnemo_ll_misses_per_query"] / max(row["python_ll_misses_per_query"], 1e-9), 4)
                    serial += 1
                    if a.json:
                        print(json.dumps(row), flush=True)
                    else:
                        misses = ""
                        if a.cache_sim:
                            misses = (f"  LL misses {row['mnemo_ll_misses_per_query']:,.1f} / {row['python_ll_misses_per_query']:,.1f}"
                                      f" ({row['ll_ratio']:.4f})")
                        print(f"{d:<4}{n:>9}  {description:<16}{row['param']:<13}"
                              f"{row['mnemo_ir_per_query']:>16,.0f} {row['python_ir_per_query']:>16,.0f}  {row['ratio']:.5f}"
                              f"  steps differ {row['mnemo_step_gap_per_query']:,.0f} / {row['python_step_gap_per_query']:,.0f}{misses}", flush=True)


if __name__ == "__main__":
    main()
