"""Indexing with more processes: one process, `--workers 2`, sentence-transformers' own
multi-process pool, a Dask LocalCluster and a loopback scheduler with two workers; then the
writer alone, and what that projects for 10 million passages.

The corpus is the Scale section's generated passages (~50 words, half Korean, half English),
written as JSONL files of FILE_PASSAGES passages so that the batches spread over the workers.
Each seoga run is `seoga index` in a child process with the default bi-encoder alone
(`--extra-embedder none`); its peak memory is sampled over the whole process tree. The
sentence-transformers peer encodes the same texts with `start_multi_process_pool` (2 CPU
processes), which is only the encoding part of seoga's work. Start-up is the wall time of
indexing one small file the same way.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/parallel.py
Writes the "Scale-out" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from benchmarks.report import ROOT, machine_line, write_section
from benchmarks.scale import make_passages
from seoga.paths import seoga_home
from tests.serving import LoopbackCluster

COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/parallel.py"
WORK = seoga_home() / "bench" / "parallel"
FILE_PASSAGES = 100
SAMPLE_SECONDS = 0.5
MIB = 2**20
PROJECTED = 10_000_000
PROJECTED_WORKERS = (1, 4, 16, 64)
DASK_GOAL = 0.8  # the Dask path's throughput against the best local one
STARTUP_GOAL_SECONDS = 15.0
SECONDS_PER_HOUR = 3600


def write_corpus(folder: Path, passages: int, seed: int) -> list[str]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    made = make_passages(passages, random.Random(seed))
    for start in range(0, len(made), FILE_PASSAGES):
        with (folder / f"part{start // FILE_PASSAGES:05d}.jsonl").open("w") as handle:
            for offset, passage in enumerate(made[start : start + FILE_PASSAGES]):
                record = {"id": f"p{start + offset}", "text": passage["text"]}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [passage["text"] for passage in made]


class PeakMemory:
    """The largest RSS of each process in a tree (and of `also`, a cluster's processes),
    sampled until stopped."""

    def __init__(self, pid: int, also: list[int] | None = None) -> None:
        self.root = psutil.Process(pid)
        self.also = [psutil.Process(other) for other in also or []]
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True), *self.also]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss / MIB
                except psutil.NoSuchProcess:
                    continue
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0.0), rss)
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        values = sorted(self.peaks.values(), reverse=True)
        return {"largest_mib": values[0] if values else 0.0, "processes": len(values)}


def index_run(
    corpus: Path, collection: Path, options: list[str], also: list[int] | None = None
) -> dict:
    shutil.rmtree(collection, ignore_errors=True)
    command = [sys.executable, "-m", "seoga", "index", str(corpus), "-c", str(collection)]
    started = time.perf_counter()
    child = subprocess.Popen(
        [*command, "--extra-embedder", "none", "--json", *options],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    memory = PeakMemory(child.pid, also)
    if child.wait() != 0:
        raise SystemExit(f"seoga index {' '.join(options)} failed")
    return {"seconds": time.perf_counter() - started, **memory.stop()}


def peer_pool(texts: list[str], workers: int) -> dict:
    """sentence-transformers' multi-process pool encoding the same passages."""
    from seoga.models.embedders import load_embedder

    model = load_embedder("multilingual-e5-small").model
    started = time.perf_counter()
    pool = model.start_multi_process_pool(["cpu"] * workers)
    ready = time.perf_counter() - started
    try:
        model.encode(texts, pool=pool, prompt="passage: ", batch_size=32)
    finally:
        model.stop_multi_process_pool(pool)
    return {"seconds": time.perf_counter() - started, "startup": ready}


class Recording:
    """Processes the batches here and keeps the results."""

    name = "recording"
    workers = 1

    def __init__(self) -> None:
        self.results: list = []

    def map(self, spec, batches):
        from seoga.parallel.pipeline import process_batch

        for batch in batches:
            self.results.append(process_batch(spec, batch))
            yield self.results[-1]

    def close(self) -> None:
        """Nothing to release."""


class Replaying:
    """Hands over results processed earlier, so that only the writer's work is timed."""

    name = "replaying"
    workers = 1

    def __init__(self, results: list) -> None:
        self.results = results

    def map(self, spec, batches):
        yield from self.results

    def close(self) -> None:
        """Nothing to release."""


def writer_alone(corpus: Path, work: Path) -> dict:
    """The writer's own throughput: the batches processed first, then the commit timed."""
    from seoga.collection import Collection
    from seoga.settings import CollectionSettings

    shutil.rmtree(work, ignore_errors=True)
    settings = CollectionSettings(extra_embedders=[])
    recording = Recording()
    Collection.create(work / "processed", settings).add([corpus], executor=recording)
    started = time.perf_counter()
    report = Collection.create(work / "timed", settings).add(
        [corpus], executor=Replaying(recording.results)
    )
    return {"seconds": time.perf_counter() - started, "chunks": report.chunks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--again",
        default=None,
        help="Measure again only the runs whose labels start with these (comma-separated: "
        "'one process,--workers,Dask,loopback'), keeping the rest of results.json.",
    )
    parser.add_argument("--no-report", action="store_true")
    arguments = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    corpus, small = WORK / "corpus", WORK / "small"
    texts = write_corpus(corpus, arguments.passages, arguments.seed)
    write_corpus(small, FILE_PASSAGES, arguments.seed)
    if arguments.again:
        measure_again(arguments, corpus, small, texts)
        return
    results = {"machine": machine_line(), "passages": len(texts), "runs": {}}
    measure(arguments.workers, corpus, small, results, None)
    results["peer"] = peer_pool(texts, arguments.workers)
    results["writer"] = writer_alone(corpus, WORK / "writer")
    print(json.dumps(results, indent=2), flush=True)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    if not arguments.no_report:
        write_section("## Scale-out", render(results, arguments.workers))


def measure(
    workers: int, corpus: Path, small: Path, results: dict, prefixes: list[str] | None
) -> None:
    """Each way of indexing (those whose labels start with `prefixes`, or all) into
    `results["runs"]`; the loopback cluster's own processes count in its memory."""
    cluster = LoopbackCluster(workers)
    count = str(workers)
    plans = {
        "one process (torch on all cores)": [],
        f"--workers {count}": ["--workers", count],
        f"Dask LocalCluster ({count} × 1 thread)": ["--dask", f"local:{count}"],
        f"loopback scheduler + {count} workers": ["--dask", cluster.address],
    }
    try:
        for label, options in plans.items():
            if prefixes and not any(label.startswith(prefix) for prefix in prefixes):
                continue
            also = None
            if options[-1:] == [cluster.address]:
                also = [cluster.scheduler.pid, *cluster.worker_pids()]
            run = index_run(corpus, WORK / "kb", options, also)
            run["startup_seconds"] = index_run(small, WORK / "kb-small", options)["seconds"]
            results["runs"][label] = run
            print(label, run, flush=True)
    finally:
        cluster.close()


def measure_again(
    arguments: argparse.Namespace, corpus: Path, small: Path, texts: list[str]
) -> None:
    """Re-run the named runs (one disturbed by other work on the machine, say) and rewrite the
    section from the results file (the peer and the writer measured too if it lacks them)."""
    path = WORK / "results.json"
    results = json.loads(path.read_text())
    prefixes = [prefix.strip() for prefix in arguments.again.split(",")]
    measure(arguments.workers, corpus, small, results, prefixes)
    if "peer" not in results:
        results["peer"] = peer_pool(texts, arguments.workers)
    if "writer" not in results:
        results["writer"] = writer_alone(corpus, WORK / "writer")
    results["machine"] = machine_line()
    path.write_text(json.dumps(results, indent=2))
    if not arguments.no_report:
        write_section("## Scale-out", render(results, arguments.workers))


def render(results: dict, workers: int) -> str:
    passages = results["passages"]
    runs = results["runs"]
    rate = {label: passages / run["seconds"] for label, run in runs.items()}
    best_local = max(rate[label] for label in list(runs)[:2])
    dask_labels = list(runs)[2:]
    lines = [
        f"`{COMMAND}` — {results['machine']}. `seoga index` of {passages:,} generated passages "
        f"(the Scale section's, in JSONL files of {FILE_PASSAGES}), multilingual-e5-small alone; "
        "each run a child process, its peak memory sampled over the process tree (the loopback "
        "cluster's scheduler and workers too, which start before the run); start-up = "
        f"indexing one file of {FILE_PASSAGES} passages the same way.",
        "",
        "| how | passages/s | × one process | wall s | start-up s | largest process MiB | "
        "processes |",
        "|---|---|---|---|---|---|---|",
    ]
    first = rate[next(iter(runs))]
    for label, run in runs.items():
        lines.append(
            f"| {label} | {rate[label]:.1f} | {rate[label] / first:.2f}x | {run['seconds']:.0f} | "
            f"{run['startup_seconds']:.1f} | {run['largest_mib']:,.0f} | {run['processes']} |"
        )
    peer = results["peer"]
    lines.append(
        f"| peer: sentence-transformers pool ({workers} CPU processes), encoding only | "
        f"{passages / peer['seconds']:.1f} | {passages / peer['seconds'] / first:.2f}x | "
        f"{peer['seconds']:.0f} | {peer['startup']:.1f} | | |"
    )
    writer = results["writer"]
    writer_rate = writer["chunks"] / writer["seconds"]
    per_worker = max(rate[label] for label in dask_labels) / workers
    lines += ["", *verdicts(rate, runs, best_local, dask_labels), default_line(rate)]
    lines += [
        "",
        f"Writer alone (every batch processed beforehand, only the commit timed): "
        f"{writer['chunks']:,} chunks in {writer['seconds']:.1f} s, {writer_rate:,.0f} chunks/s.",
        "",
        f"Projected for {PROJECTED:,} passages from the measured Dask throughput per worker "
        f"({per_worker:.1f} passages/s) and the writer's rate (the serial part; it bounds "
        "any cluster):",
        "",
        "| workers | encoding h | writer h | total h (the larger) |",
        "|---|---|---|---|",
    ]
    for count in PROJECTED_WORKERS:
        encoding = PROJECTED / (per_worker * count) / SECONDS_PER_HOUR
        writing = PROJECTED / writer_rate / SECONDS_PER_HOUR
        lines.append(f"| {count} | {encoding:.1f} | {writing:.1f} | {max(encoding, writing):.1f} |")
    return "\n".join(lines)


def default_line(rate: dict) -> str:
    """Which `--workers` default the two local runs support."""
    one, pool = list(rate)[:2]
    if rate[one] >= rate[pool]:
        return (
            f"- Default: one process ({rate[one] / rate[pool]:.2f}× the pool here), so `seoga "
            "index` runs in one process unless `--workers` is given; torch's own threads already "
            "use every core, and each pool process pays its own model load and memory."
        )
    return (
        f"- Default: the pool is {rate[pool] / rate[one]:.2f}× one process here; worth "
        "`--workers` on machines like this one."
    )


def verdicts(rate: dict, runs: dict, best_local: float, dask_labels: list[str]) -> list[str]:
    out = []
    for label in dask_labels:
        share = rate[label] / best_local
        startup = runs[label]["startup_seconds"]
        out.append(
            f"- {label}: {share:.2f}× the best local path (≥ {DASK_GOAL}: "
            f"{'**met**' if share >= DASK_GOAL else '**missed**'}); start-up {startup:.1f} s "
            f"(≤ {STARTUP_GOAL_SECONDS:.0f}: "
            f"{'**met**' if startup <= STARTUP_GOAL_SECONDS else '**missed**'})"
        )
    return out


if __name__ == "__main__":
    main()
