"""Distillation lab benchmark: the teacher (mE5-small as shipped) beside its students, one run.

Stages (each result is kept in the run folder's results.json, so a stage can run again alone):
- student: a 4-layer student (teacher layers 3,6,9,12) distilled with sentence-vector MSE on
  unlabeled text only: autorag_ko's passages (chunked as seoga indexes them), the SciFact
  subset's abstracts, KorSTS train and KorNLI dev sentences; KorSTS dev Spearman picks the epoch
  kept.
- optimize: the student with its vocabulary trimmed to that text (plus the base Korean/English
  list) and int8 weights on ONNX Runtime (`seoga optimize`).
- quality: dense and hybrid nDCG@10 on autorag_ko and on the SciFact subset (seoga eval
  retrieval's collections) and KorSTS test Spearman, for the teacher and both students.
  SciFact is cut to SCIFACT_DOCS abstracts (every one judged for the test queries or the
  reranker's tuning queries, then a seeded sample) so that a run fits 45 minutes on 2 cores.
- speed: passage-encoding throughput on the Scale section's generated passages and query p50
  (one query at a time), each model in this process in turn, best of the repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.report import DATA, machine_line, write_section
from benchmarks.scale import index_in_child, make_passages, make_queries
from seoga.paths import seoga_home

COMMAND = "PYTHONPATH=. python benchmarks/distill.py"
STAGES = ("student", "optimize", "quality", "speed", "relations", "albert", "index", "reranker")
INDEX_PASSAGES = 10_000
RELATION_LOSSES = "mse,wr,ltr"
ALBERT_LABEL = "ALBERT-style student (E=128, 4 layers sharing one)"
TEACHER = "multilingual-e5-small"
KEEP = "3,6,9,12"
TEACHER_LAYERS = 12  # multilingual-e5-small
RETRIEVAL_SET = "autorag_ko"
SCIFACT = DATA / "beir_scifact"
SCIFACT_DOCS = 800
SUBSET_SEED = 0
TUNING_QUERIES = 80  # SciFact train queries that choose the reranker's mixing weight
SCIFACT_PREFIX = "scifact_"
SETS = {"": RETRIEVAL_SET, SCIFACT_PREFIX: f"SciFact ({SCIFACT_DOCS} abstracts)"}
STS_DEV = DATA / "korsts" / "sts-dev.tsv"
STS_TEST = DATA / "korsts" / "sts-test.tsv"
# The corpus file, not the BEIR folder: its queries are the test queries.
DISTILL_DATA = [
    DATA / "autorag_ko" / "corpus.jsonl",
    DATA / "korsts" / "sts-train.tsv",
    DATA / "kornli" / "xnli.dev.ko.tsv",
]
MS_PER_SECOND = 1000
WARMUP = 8
# Targets of issue 16 (the share of the teacher's figure a student keeps, or the speed-up).
DENSE_KEPT = 0.97
HYBRID_KEPT = 0.99
STS_KEPT = 0.985
STUDENT_SPEEDUP = 2.7
INT8_SPEEDUP = 5.0
INT8_DENSE_LOSS = 0.03
INT8_HYBRID_GAP = 0.01
INDEX_SPEEDUP = 3.0
RERANK_GAIN_KEPT = 0.98
RERANK_SPEEDUP = 2.5
RERANK_ECE = 0.02
RERANK_DEPTH = 20
RERANK_MAX_LENGTH = 192
RERANK_BATCH = 16
TEACHER_NEGATIVES = 2  # the Reranking section's recipe
TEACHER_EPOCHS = 2.0
# The reranker recipe that did best of those tried (the report lists them all).
RERANK_LOSSES = "logit-mse,hidden-mse"
RERANK_LR = 2e-4
RERANK_HEAD_LR = 1e-3
RERANKER_LABELS = ("reranker (teacher)", "reranker student 4 layers")
STS_DIGITS = 2
RELATION_BAR = 0.2
# How this section's results were made: one invocation per group of stages, in this order.
RUNS = (
    "--stages relations",
    "--stages albert --epochs 4",
    "--stages student,optimize,quality --epochs 4",
    "--stages speed,index --repeats 3",
    "--stages reranker",
)


def run_folder(arguments: argparse.Namespace) -> Path:
    folder = Path(arguments.folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load_results(folder: Path) -> dict:
    path = folder / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_results(folder: Path, results: dict) -> None:
    (folder / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


def scifact_subset(folder: Path) -> Path:
    """SciFact's test queries over SCIFACT_DOCS abstracts: those judged for the test queries or
    for the reranker's tuning queries, then a seeded sample of the rest."""
    from benchmarks.rerank import tuning_queries
    from benchmarks.train_runs import corpus_subset
    from seoga.datasets.beir import read_qrels

    train_qrels = read_qrels(SCIFACT / "qrels" / "train.tsv")
    tuning = {q: train_qrels[q] for q in tuning_queries(SUBSET_SEED, TUNING_QUERIES)}
    target = folder / f"scifact-subset-{SCIFACT_DOCS}"
    return corpus_subset(SCIFACT, target, SCIFACT_DOCS, SUBSET_SEED, tuning)


def distillation_data(folder: Path) -> list[Path]:
    """The unlabeled text: the evaluated corpora's passages and the sentence sets."""
    files = [*DISTILL_DATA, scifact_subset(folder) / "corpus.jsonl"]
    return [path for path in files if path.exists()]


def distil(out: Path, arguments: argparse.Namespace, **changes) -> dict:
    """One embedder student on the benchmark's data; `changes` override the request."""
    from seoga.distill.distiller import TrainingConfig
    from seoga.distill.embedder import EmbedderRequest, distill_embedder

    seed = changes.pop("seed", arguments.seed)
    epochs = changes.pop("epochs", arguments.epochs)
    request = EmbedderRequest(
        data=distillation_data(out.parent),
        out=out,
        teacher=TEACHER,
        keep=KEEP,
        losses=changes.pop("losses", arguments.losses),
        evaluate=[STS_DEV],
        training=TrainingConfig(
            epochs=epochs,
            batch_size=arguments.batch_size,
            learning_rate=arguments.lr,
            seed=seed,
            max_seq_length=arguments.max_seq_length,
            freeze_embeddings=changes.pop("freeze_embeddings", True),
        ),
        max_texts=changes.pop("max_texts", arguments.max_texts),
        overwrite=True,
        **changes,
    )
    result = distill_embedder(request)
    return {"card": result.card, "path": str(request.out)}


def stage_student(folder: Path, arguments: argparse.Namespace) -> dict:
    return distil(folder / "e5-l4", arguments)


def stage_relations(folder: Path, arguments: argparse.Namespace) -> dict:
    """MSE alone against MSE + word and layer-transforming relations, several seeds each."""
    out = {}
    for losses in ("mse", RELATION_LOSSES):
        for seed in map(int, arguments.relation_seeds.split(",")):
            student = folder / f"relations-{losses.replace(',', '-')}-s{seed}"
            made = distil(
                student,
                arguments,
                seed=seed,
                epochs=arguments.relation_epochs,
                max_texts=arguments.relation_texts,
                losses=losses,
                match_weight=arguments.match_weight,
            )
            row = quality_of(str(student), retrievers=("dense",))
            row["seconds"] = made["card"]["seconds"]
            row["sources"] = made["card"]["data"]["sources"]
            out[f"{losses}|{seed}"] = row
            print(losses, seed, row, flush=True)
    return out


def stage_albert(folder: Path, arguments: argparse.Namespace) -> dict:
    """An ALBERT-style student (E=128, all layers shared) beside the layer-dropped one."""
    made = distil(
        folder / "e5-albert",
        arguments,
        student="albert",
        embedding_size=arguments.embedding_size,
        share_layers="all",
        freeze_embeddings=False,
    )
    row = quality_of(str(folder / "e5-albert"))
    row["parameters"] = made["card"]["student"]["parameters"]
    row["sources"] = made["card"]["data"]["sources"]
    return row


def stage_optimize(folder: Path) -> dict:
    from seoga.distill.data import distillation_texts
    from seoga.models.optimize import optimize

    texts = distillation_texts(distillation_data(folder), {})
    report = optimize(
        str(folder / "e5-l4"), folder / "e5-l4-int8", trim_texts=texts, overwrite=True
    )
    return report.to_dict()


def stage_reranker(folder: Path, arguments: argparse.Namespace) -> dict:
    """The reranker of `benchmarks/rerank.py` (trained here with BM25 negatives unless one with
    the same recipe is in the folder) and its 4-layer student, each reordering the teacher
    embedder's hybrid top documents on the SciFact subset; the mixing weight of each is chosen
    on the tuning queries, as the Reranking section does."""
    from benchmarks.rerank import same_recipe, training_folder, tuning_queries
    from seoga.distill.distiller import CARD_NAME, TrainingConfig
    from seoga.distill.reranker import RerankerRequest, distill_reranker
    from seoga.rerank.training import RerankerTrainingConfig, train_reranker

    tuning = tuning_queries(SUBSET_SEED, TUNING_QUERIES)
    train_folder = training_folder(tuning, folder)
    teacher = folder / "rr"
    config = RerankerTrainingConfig(
        split="train",
        negatives=TEACHER_NEGATIVES,
        epochs=TEACHER_EPOCHS,
        max_length=RERANK_MAX_LENGTH,
        batch_size=RERANK_BATCH,
        learning_rate=arguments.lr,
        freeze_embeddings=True,
        seed=arguments.seed,
    )
    if not same_recipe(teacher, config, None):
        train_reranker(train_folder, teacher, config)
    request = RerankerRequest(
        teacher=teacher,
        data=train_folder,
        out=folder / "rr-l4",
        keep=KEEP,
        losses=arguments.rerank_losses,
        match_weight=arguments.rerank_match_weight,
        temperature=arguments.rerank_temperature,
        negatives=arguments.rerank_negatives,
        training=TrainingConfig(
            epochs=arguments.rerank_epochs,
            batch_size=RERANK_BATCH,
            learning_rate=arguments.rerank_lr,
            head_learning_rate=arguments.rerank_head_lr,
            seed=arguments.seed,
            max_seq_length=RERANK_MAX_LENGTH,
        ),
        overwrite=True,
    )
    card_path = request.out / CARD_NAME
    if card_path.exists() and same_student(json.loads(card_path.read_text()), request):
        card = json.loads(card_path.read_text())
    else:
        card = distill_reranker(request).card
    out = {"student_card": card}
    for label, path in ((RERANKER_LABELS[0], teacher), (RERANKER_LABELS[1], request.out)):
        out[label] = reranking_row(folder, path, tuning)
        print(label, out[label], flush=True)
    return out


def same_student(card: dict, request) -> bool:
    """Whether a reranker student on disk was distilled as this request would distil it (then
    it is scored again, not distilled again)."""
    from dataclasses import asdict

    from seoga.distill.config import preset
    from seoga.distill.students import kept_layers

    keep = kept_layers(request.keep, TEACHER_LAYERS, request.student_layers)
    config = preset(
        request.losses,
        keep,
        temperature=request.temperature,
        match_weight=request.match_weight,
    )
    return (
        card.get("teacher") == str(request.teacher.resolve())
        and card["training"] == asdict(request.training)
        and card["distillation"] == config.to_dict()
    )


def reranking_row(folder: Path, path: Path, tuning: set[str]) -> dict:
    """nDCG@10 of hybrid alone and reordered by the reranker at `path` (its score alone, and
    mixed with the weight the tuning queries choose), its time per query and its ECE."""
    from benchmarks.rerank import WEIGHTS, mixed, rerank_runs
    from seoga.calibrate.metrics import expected_calibration_error
    from seoga.calibrate.temperature import TemperatureScaling
    from seoga.collection.cache import cached_collection
    from seoga.datasets.beir import read_beir, read_qrels, read_queries
    from seoga.evaluate.retrieval import score_run
    from seoga.rerank.model import UNCALIBRATED, Reranker, judged_logits
    from seoga.settings import CollectionSettings

    test = read_beir(scifact_subset(folder))
    collection, _ = cached_collection(
        test, CollectionSettings(), cache_dir=None, show_progress=False
    )
    train_qrels = read_qrels(SCIFACT / "qrels" / "train.tsv")
    all_queries = read_queries(SCIFACT / "queries.jsonl")
    reranker = Reranker(path)
    tune_hybrid, tune_logits, _ = rerank_runs(
        collection, reranker, {q: all_queries[q] for q in sorted(tuning)}, RERANK_DEPTH
    )
    tune_qrels = {q: train_qrels[q] for q in tuning}
    tuned = {
        weight: score_run(tune_qrels, mixed(tune_hybrid, tune_logits, weight))["ndcg@10"]
        for weight in WEIGHTS
    }
    weight = max(tuned, key=tuned.__getitem__)
    hybrid, logits, seconds = rerank_runs(collection, reranker, test.queries, RERANK_DEPTH)
    fitted = TemperatureScaling().fit(
        *judged_logits(((q, s.items()) for q, s in tune_logits.items()), train_qrels)
    )
    scores, labels = judged_logits(((q, s.items()) for q, s in logits.items()), test.qrels)
    ece = {
        name: expected_calibration_error([scaling.confidence(x) for x in scores], labels)
        for name, scaling in (
            ("plain", UNCALIBRATED),
            ("own", reranker.scaling),
            ("fitted", fitted),
        )
    }
    return {
        "hybrid": score_run(test.qrels, hybrid)["ndcg@10"],
        "alone": score_run(test.qrels, mixed(hybrid, logits, 1.0))["ndcg@10"],
        "mixed": score_run(test.qrels, mixed(hybrid, logits, weight))["ndcg@10"],
        "weight": weight,
        "rerank_ms_p50": float(np.median([r for _, r in seconds])) * MS_PER_SECOND,
        "search_ms_p50": float(np.median([s for s, _ in seconds])) * MS_PER_SECOND,
        "ece": ece,
        "pairs": len(labels),
        "queries": len(test.queries),
    }


def models(folder: Path) -> dict[str, str]:
    return {
        "teacher": TEACHER,
        "student 4 layers": str(folder / "e5-l4"),
        "student 4 layers + int8 + trimmed vocabulary": str(folder / "e5-l4-int8"),
    }


def timed_models(folder: Path) -> dict[str, str]:
    """The models whose speed is measured: the three above, and the ALBERT student if made."""
    albert = folder / "e5-albert"
    return models(folder) | ({ALBERT_LABEL: str(albert)} if albert.is_dir() else {})


def quality_of(
    name: str, retrievers: tuple[str, ...] = ("dense", "hybrid"), scifact: Path | None = None
) -> dict:
    """nDCG@10 on autorag_ko (each retriever; on the SciFact subset too when given, as
    `scifact_<retriever>`) and KorSTS test Spearman of one model."""
    from seoga.evaluate.retrieval import evaluate_retrieval
    from seoga.evaluate.sts import evaluate_sts
    from seoga.settings import DEFAULT_EXTRA_EMBEDDERS, CollectionSettings

    settings = CollectionSettings(embedder=name, extra_embedders=list(DEFAULT_EXTRA_EMBEDDERS))
    sets = {"": DATA / RETRIEVAL_SET} | ({SCIFACT_PREFIX: scifact} if scifact else {})
    row = {}
    for prefix, root in sets.items():
        for retriever in retrievers:
            metrics = evaluate_retrieval(root, retriever, settings=settings)
            row[prefix + retriever] = metrics["ndcg@10"]
    row["korsts"] = evaluate_sts(STS_TEST, name)["spearman"]
    return row


def stage_quality(folder: Path) -> dict:
    out = {}
    for label, name in models(folder).items():
        out[label] = quality_of(name, scifact=scifact_subset(folder))
        print(label, out[label], flush=True)
    return out


def stage_speed(folder: Path, arguments: argparse.Namespace) -> dict:
    from seoga.models.embedders import load_embedder

    rng = random.Random(arguments.seed)
    passages = [p["text"] for p in make_passages(arguments.passages, rng)]
    queries = make_queries([{"text": text} for text in passages], rng)
    out = {}
    for label, name in timed_models(folder).items():
        embedder = load_embedder(name)
        embedder.encode_passages(passages[:WARMUP])
        best = min(_timed(embedder, passages) for _ in range(arguments.repeats))
        for query in queries[:WARMUP]:
            embedder.encode_queries([query])
        times = []
        for query in queries:
            started = time.perf_counter()
            embedder.encode_queries([query])
            times.append((time.perf_counter() - started) * MS_PER_SECOND)
        out[label] = {
            "passages_per_second": round(len(passages) / best, 2),
            "query_ms_p50": round(float(np.median(times)), 2),
        }
        print(label, out[label], flush=True)
    out["passages"] = len(passages)
    out["queries"] = len(queries)
    out["repeats"] = arguments.repeats
    return out


def stage_index(folder: Path, arguments: argparse.Namespace) -> dict:
    """`seoga index` of the Scale section's 10,000 passages with the teacher and the int8
    student, each encoder alone (no extra English model), in child processes."""
    rng = random.Random(arguments.seed)
    corpus = folder / "scale-passages.jsonl"
    with corpus.open("w", encoding="utf-8") as handle:
        for passage in make_passages(arguments.index_passages, rng):
            handle.write(json.dumps(passage, ensure_ascii=False) + "\n")
    out = {"passages": arguments.index_passages}
    labels = list(models(folder))
    for label in (labels[0], labels[2]):
        collection = folder / f"index-{labels.index(label)}"
        shutil.rmtree(collection, ignore_errors=True)
        options = ("--embedder", models(folder)[label], "--extra-embedder", "none")
        seconds, peak = index_in_child(corpus, collection, options)
        out[label] = {"seconds": round(seconds, 1), "peak_mib": round(peak)}
        print(label, out[label], flush=True)
    return out


def _timed(embedder, passages: list[str]) -> float:
    started = time.perf_counter()
    embedder.encode_passages(passages)
    return time.perf_counter() - started


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def render(results: dict, arguments: argparse.Namespace) -> str:
    quality, speed = results.get("quality", {}), results.get("speed", {})
    card = results.get("student", {}).get("card", {})
    optimized = results.get("optimize", {})
    lines = [
        f"`{COMMAND}` — {results.get('machine', machine_line())} (the last of the runs "
        + ", ".join(f"`{run}`" for run in RUNS)
        + ", each adding its stages' results to the run folder).",
        "",
        f"Teacher: {TEACHER} as shipped. Student: the teacher's layers {KEEP} "
        f"({card.get('student', {}).get('parameters', 0) / 1e6:.1f}M parameters, token "
        f"embeddings kept frozen), distilled with "
        f"{', '.join(t['loss'] for t in card.get('distillation', {}).get('terms', []))} on "
        f"{card.get('data', {}).get('examples', 0):,} unlabeled texts "
        f"({sources_line(card)}; no qrels), {card.get('training', {}).get('epochs')} "
        f"epochs, seed {card.get('training', {}).get('seed')}, {card.get('seconds', 0) / 60:.1f} "
        "min; the epoch kept is the best on KorSTS dev. The int8 model is `seoga optimize` of "
        "the student: vocabulary trimmed to that text plus the base Korean/English list "
        f"({optimized.get('vocabulary', {}).get('after', 0):,} of "
        f"{optimized.get('vocabulary', {}).get('before', 0):,} pieces), int8 per-channel weights "
        f"on ONNX Runtime (cosine to the float32 student on samples: mean "
        f"{optimized.get('drift', {}).get('mean_cosine')}); its folder is "
        f"{optimized.get('sizes', {}).get('model_folder', 0) / 1e6:.0f} MB, the graph "
        f"{optimized.get('sizes', {}).get('graph', 0) / 1e6:.0f} MB, the teacher's "
        f"{optimized.get('sizes', {}).get('source_folder', 0) / 1e6:.0f} MB.",
        "",
        f"Throughput: {speed.get('passages', 0)} generated passages of the Scale section "
        f"(~50 words, half Korean, half English), best of {speed.get('repeats')}; query p50 over "
        f"{speed.get('queries', 0)} single queries. Hybrid = BM25 + the model (+ MiniLM for "
        "English text: its queries on SciFact, idle on autorag_ko).",
        "",
        "| model | autorag_ko dense nDCG@10 | hybrid | SciFact subset dense | hybrid | "
        "KorSTS test Spearman | passages/s | × teacher | query p50 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    teacher_speed = speed.get("teacher", {}).get("passages_per_second")
    for label in models(Path(arguments.folder)):
        row, timing = quality.get(label, {}), speed.get(label, {})
        ratio = timing["passages_per_second"] / teacher_speed if timing and teacher_speed else None
        lines.append(
            f"| {label} | "
            + "".join(
                f"{row.get(prefix + retriever, float('nan')):.4f} | "
                for prefix in SETS
                for retriever in ("dense", "hybrid")
            )
            + f"{row.get('korsts', float('nan')):.2f} | "
            f"{timing.get('passages_per_second', float('nan'))} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {timing.get('query_ms_p50', '')} |"
        )
    lines += ["", *targets(quality, speed)]
    lines += index_table(results)
    lines += relations_table(results, arguments)
    lines += albert_table(results, Path(arguments.folder))
    lines += reranker_table(results)
    return "\n".join(lines)


def sources_line(card: dict) -> str:
    """The distillation data of a card (or a result row with its sources), named for people."""
    names = {
        "autorag_ko": "autorag_ko passages",
        f"scifact-subset-{SCIFACT_DOCS}": "the SciFact subset's abstracts",
        "korsts": "KorSTS train sentences",
        "kornli": "KorNLI dev sentences",
    }
    sources = card.get("data", {}).get("sources") or card.get("sources", [])
    return ", ".join(names.get(Path(source).parent.name, source) for source in sources)


def index_table(results: dict) -> list[str]:
    timing = results.get("index")
    if not timing:
        return []
    labels = [label for label in timing if label != "passages"]
    teacher = timing[labels[0]]["seconds"]
    lines = [
        "",
        "### Indexing with the student",
        "",
        f"`{COMMAND} --stages index` — `seoga index` of the Scale section's "
        f"{timing['passages']:,} generated passages (~50 words, half Korean, half English) in a "
        "child process, each model alone (`--extra-embedder none`: the default collection "
        "also runs all-MiniLM-L6-v2 over the English half, the same cost for both).",
        "",
        "| embedder | index s | s per 1k passages | peak MiB | × faster |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        row = timing[label]
        lines.append(
            f"| {label} | {row['seconds']:.0f} | {row['seconds'] / timing['passages'] * 1000:.2f} "
            f"| {row['peak_mib']:,} | {teacher / row['seconds']:.2f}x |"
        )
    ratio = teacher / timing[labels[-1]]["seconds"]
    lines += ["", f"Index time ≥ 3× faster: {ratio:.2f}x, {verdict(ratio >= INDEX_SPEEDUP)}."]
    return lines


def _spread(values: list[float], digits: int = 4) -> str:
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def relations_table(results: dict, arguments: argparse.Namespace) -> list[str]:
    runs = results.get("relations")
    teacher = results.get("quality", {}).get("teacher")
    if not runs:
        return []
    by_losses: dict[str, list[dict]] = {}
    for key, row in runs.items():
        by_losses.setdefault(key.split("|")[0], []).append(row)
    lines = [
        "",
        "### Relation losses (Park et al.) beside MSE",
        "",
        f"`{COMMAND} --stages relations` — the 4-layer student distilled for "
        f"{arguments.relation_epochs} epoch(s) on {arguments.relation_texts:,} texts drawn by the "
        f"seed from {sources_line(next(iter(runs.values())))} per seed "
        f"(seeds {arguments.relation_seeds}), "
        f"relation matches weighted {arguments.match_weight} beside MSE's 1 (at the start they "
        "are then about the size of the MSE term; at weight 1 they are ~100× larger); mean ± "
        "standard deviation over the seeds.",
        "",
        "| losses | autorag_ko dense nDCG@10 | KorSTS test Spearman | seeds | min per run |",
        "|---|---|---|---|---|",
    ]
    for losses, rows in by_losses.items():
        lines.append(
            f"| {losses} | {_spread([r['dense'] for r in rows])} | "
            f"{_spread([r['korsts'] for r in rows], STS_DIGITS)} | {len(rows)} | "
            f"{np.mean([r['seconds'] for r in rows]) / 60:.1f} |"
        )
    plain, related = by_losses.get("mse"), by_losses.get(RELATION_LOSSES)
    if plain and related and teacher:
        gain = np.mean([r["dense"] for r in related]) - np.mean([r["dense"] for r in plain])
        gap = teacher["dense"] - np.mean([r["dense"] for r in plain])
        share = gain / gap if gap > 0 else float("nan")
        lines += [
            "",
            f"Teacher dense {teacher['dense']:.4f}. Relations minus MSE: {gain:+.4f} nDCG@10 "
            f"({share:.0%} of the teacher–student gap; the pre-registered bar is ≥ 20 % or "
            "≥ +0.005 with the spreads apart). "
            + (
                "The relations win: they could join the default."
                if share >= RELATION_BAR
                else "The relations do not win here, so the default stays MSE alone."
            ),
        ]
    return lines


def albert_table(results: dict, folder: Path) -> list[str]:
    albert = results.get("albert")
    student = results.get("quality", {}).get("student 4 layers")
    card = results.get("student", {}).get("card", {})
    if not (albert and student):
        return []
    speed = results.get("speed", {})

    def size(name: str) -> str:
        path = folder / name
        total = sum(p.stat().st_size for p in path.rglob("*.safetensors")) if path.is_dir() else 0
        return f"{total / 1e6:.0f}"

    lines = [
        "",
        "### ALBERT-style student",
        "",
        f"`{COMMAND} --stages albert,speed` — the teacher's embedding matrix factorised to "
        "E=128 (its top singular directions), 4 layers sharing one set of weights (started from "
        "teacher layer 12), trained with its factorised embeddings unfrozen, as many epochs as "
        f"the layer-dropped student, on {sources_line(albert)}.",
        "",
        "| student | parameters | weights MB | passages/s | dense nDCG@10 | hybrid | KorSTS |",
        "|---|---|---|---|---|---|---|",
        f"| 4 layers, dropped | {card.get('student', {}).get('parameters', 0) / 1e6:.1f}M | "
        f"{size('e5-l4')} | {speed.get('student 4 layers', {}).get('passages_per_second', '')} | "
        f"{student['dense']:.4f} | {student['hybrid']:.4f} | {student['korsts']:.2f} |",
        f"| ALBERT-style | {albert['parameters'] / 1e6:.1f}M | {size('e5-albert')} | "
        f"{speed.get(ALBERT_LABEL, {}).get('passages_per_second', '')} | {albert['dense']:.4f} | "
        f"{albert['hybrid']:.4f} | {albert['korsts']:.2f} |",
    ]
    return lines


def targets(quality: dict, speed: dict) -> list[str]:
    labels = list(models(Path(".")))
    teacher, student, int8 = (quality.get(label) for label in labels)
    if not (teacher and student and int8):
        return []
    rate = {label: speed.get(label, {}).get("passages_per_second") for label in labels}
    lines = ["Targets of issue 16:", ""]
    for prefix, name in SETS.items():
        if prefix + "dense" not in student:
            continue
        kept = student[prefix + "dense"] / teacher[prefix + "dense"]
        met = verdict(kept >= DENSE_KEPT)
        lines.append(f"- {name}: 4-layer dense nDCG@10 kept: {kept:.1%} (≥ 97 %): {met}")
        kept = student[prefix + "hybrid"] / teacher[prefix + "hybrid"]
        met = verdict(kept >= HYBRID_KEPT)
        lines.append(f"- {name}: 4-layer hybrid kept: {kept:.1%} (≥ 99 %): {met}")
        loss = 1 - int8[prefix + "dense"] / teacher[prefix + "dense"]
        from_student = 1 - int8[prefix + "dense"] / student[prefix + "dense"]
        met = verdict(loss <= INT8_DENSE_LOSS)
        lines.append(
            f"- {name}: 4 layers + int8 dense loss: {loss:.1%} of the teacher's (≤ 3 %): {met}; "
            f"{from_student:.1%} of the float32 student's"
        )
        gap = teacher[prefix + "hybrid"] - int8[prefix + "hybrid"]
        met = verdict(gap <= INT8_HYBRID_GAP)
        lines.append(f"- {name}: 4 layers + int8 hybrid gap: {gap:+.4f} (≤ 0.01): {met}")
    kept = student["korsts"] / teacher["korsts"]
    lines.append(f"- 4-layer KorSTS kept: {kept:.1%} (≥ 98.5 %): {verdict(kept >= STS_KEPT)}")
    if all(rate.values()):
        ratio = rate[labels[1]] / rate[labels[0]]
        met = verdict(ratio >= STUDENT_SPEEDUP)
        lines.append(f"- 4-layer passage speed-up: {ratio:.2f}x (≥ 2.7x): {met}")
        ratio = rate[labels[2]] / rate[labels[0]]
        met = verdict(ratio >= INT8_SPEEDUP)
        lines.append(f"- 4 layers + int8 speed-up: {ratio:.2f}x (≥ 5x): {met}")
    return lines


def recipe_of(card: dict) -> str:
    """A reranker student's recipe in a few words: losses, matches, learning rates, epochs."""
    distillation, training = card["distillation"], card["training"]
    losses = [term["loss"] for term in distillation["terms"]]
    matches = sorted({match["loss"] for match in distillation.get("matches", [])})
    head = training.get("head_learning_rate")
    return (
        f"{' + '.join(losses + matches)}, lr {training['learning_rate']:g}"
        + (f" (head {head:g})" if head else "")
        + f", {training['epochs']} epochs"
    )


def remember_recipe(results: dict) -> None:
    """Keep each reranker recipe tried, with its scores, so the report shows them all."""
    runs = results["reranker"]
    student = runs[RERANKER_LABELS[1]]
    recipe = recipe_of(runs["student_card"])
    tried = [row for row in results.get("reranker_recipes", []) if row["recipe"] != recipe]
    tried.append(
        {
            "recipe": recipe,
            "alone": student["alone"],
            "mixed": student["mixed"],
            "gain": student["mixed"] - student["hybrid"],
            "minutes": runs["student_card"]["seconds"] / 60,
        }
    )
    results["reranker_recipes"] = tried


def reranker_table(results: dict) -> list[str]:
    runs = results.get("reranker")
    if not runs:
        return []
    teacher, student = (runs[label] for label in RERANKER_LABELS)
    card = runs["student_card"]
    calibration = card.get("calibration", {})
    before, after = (
        calibration.get(f"held_out_ece_{when}", float("nan")) for when in ("before", "after")
    )
    lines = [
        "",
        "### Reranker student (SciFact subset)",
        "",
        f"`{COMMAND} --stages reranker` — the teacher is the Reranking section's cross-encoder "
        f"(multilingual-e5-small + a 1-logit head, {TEACHER_EPOCHS:g} epochs, "
        f"{TEACHER_NEGATIVES} BM25-mined negatives per positive, {RERANK_MAX_LENGTH} tokens), "
        f"trained here on SciFact's train queries but the {TUNING_QUERIES} tuning ones. The "
        f"student keeps its layers {KEEP} and its head, and learns on the same queries with "
        f"{card['data']['examples']:,} pairs (BM25 negatives): {recipe_of(card)}, "
        f"temperature {card['distillation']['temperature']['start']:g}, "
        f"{card['seconds'] / 60:.1f} min; held-out queries pick the epoch and fit its "
        f"temperature (ECE on their pairs {before:.3f} → {after:.3f}). Each reorders the "
        f"top {RERANK_DEPTH} of the teacher embedder's default hybrid search on the SciFact "
        f"subset ({teacher['queries']} test queries); mixed = w · z(logit) + (1 − w) · z(hybrid), "
        f"w chosen on the {TUNING_QUERIES} tuning queries. ECE on the {teacher['pairs']:,} judged "
        "test pairs: plain sigmoid, the temperature the model carries, and one fitted on the "
        "tuning queries' top documents (as `seoga calibrate --rerank` fits it).",
        "",
        "| reranker | hybrid | reranker alone | mixed (w) | gain | ms per query (top "
        f"{RERANK_DEPTH}) | × faster | ECE plain / own / fitted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label in RERANKER_LABELS:
        row = runs[label]
        ece = row["ece"]
        lines.append(
            f"| {label} | {row['hybrid']:.4f} | {row['alone']:.4f} | {row['mixed']:.4f} "
            f"({row['weight']}) | {row['mixed'] - row['hybrid']:+.4f} | "
            f"{row['rerank_ms_p50']:.0f} | {teacher['rerank_ms_p50'] / row['rerank_ms_p50']:.2f}x "
            f"| {ece['plain']:.3f} / {ece['own']:.3f} / {ece['fitted']:.3f} |"
        )
    gain = teacher["mixed"] - teacher["hybrid"]
    kept = (student["mixed"] - student["hybrid"]) / gain if gain > 0 else float("nan")
    speedup = teacher["rerank_ms_p50"] / student["rerank_ms_p50"]
    best_ece = min(student["ece"]["own"], student["ece"]["fitted"])
    lines += [
        "",
        f"- Gain kept: {kept:.1%} of the teacher's {gain:+.4f} (≥ 98 %): "
        f"{verdict(kept >= RERANK_GAIN_KEPT)}",
        f"- Speed: {speedup:.2f}x (≥ 2.5x): {verdict(speedup >= RERANK_SPEEDUP)}",
        f"- ECE after temperature scaling: {best_ece:.3f} (≤ 0.02): "
        f"{verdict(best_ece <= RERANK_ECE)}",
    ]
    tried = results.get("reranker_recipes", [])
    if len(tried) > 1:
        lines += ["", "Student recipes tried (the last is the one above):", ""]
        lines += ["| recipe | alone | mixed | gain | min |", "|---|---|---|---|---|"]
        lines += [
            f"| {row['recipe']} | {row['alone']:.4f} | {row['mixed']:.4f} | {row['gain']:+.4f} "
            f"| {row['minutes']:.1f} |"
            for row in tried
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--folder", default=str(seoga_home() / "bench" / "distill"))
    parser.add_argument("--losses", default="mse")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--max-texts", type=int, default=None)
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--relation-seeds", default="0,1,2")
    parser.add_argument("--relation-epochs", type=int, default=1)
    parser.add_argument("--relation-texts", type=int, default=6000)
    parser.add_argument("--match-weight", type=float, default=0.01)
    parser.add_argument("--embedding-size", type=int, default=128)
    parser.add_argument("--index-passages", type=int, default=INDEX_PASSAGES)
    parser.add_argument("--rerank-epochs", type=int, default=3)
    parser.add_argument("--rerank-negatives", type=int, default=4)
    parser.add_argument("--rerank-temperature", type=float, default=4.0)
    parser.add_argument("--rerank-losses", default=RERANK_LOSSES)
    parser.add_argument("--rerank-match-weight", type=float, default=1.0)
    parser.add_argument("--rerank-lr", type=float, default=RERANK_LR)
    parser.add_argument("--rerank-head-lr", type=float, default=RERANK_HEAD_LR)
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from saved results"
    )
    arguments = parser.parse_args()
    folder = run_folder(arguments)
    results = load_results(folder)
    stages = [] if arguments.report_only else arguments.stages.split(",")
    if stages:
        results["machine"] = machine_line()
    for stage in stages:
        started = time.perf_counter()
        if stage == "student":
            results["student"] = stage_student(folder, arguments)
        elif stage == "optimize":
            results["optimize"] = stage_optimize(folder)
        elif stage == "quality":
            results["quality"] = stage_quality(folder)
        elif stage == "speed":
            results["speed"] = stage_speed(folder, arguments)
        elif stage == "relations":
            results["relations"] = stage_relations(folder, arguments)
        elif stage == "albert":
            results["albert"] = stage_albert(folder, arguments)
        elif stage == "index":
            results["index"] = stage_index(folder, arguments)
        elif stage == "reranker":
            results["reranker"] = stage_reranker(folder, arguments)
            remember_recipe(results)
        else:
            raise SystemExit(f"unknown stage {stage}; stages: {', '.join(STAGES)}")
        results.setdefault("minutes", {})[stage] = round((time.perf_counter() - started) / 60, 1)
        save_results(folder, results)
        print(f"stage {stage}: {results['minutes'][stage]} min", flush=True)
    if not arguments.no_report:
        write_section("## Distillation", render(results, arguments))


if __name__ == "__main__":
    main()
