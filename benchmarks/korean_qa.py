"""Korean answers on KorQuAD-A (half of KorQuAD 1.0 dev), open-domain: every reader reads the
same top passages of seoga's hybrid search over the set's 547 paragraphs, for the same seeded
sample of questions. Rows: the highlighter as before (a sentence), the highlighter with the
answer-type extractor, with and without particle trimming, and span readers trained on synthetic
questions made from the collection (no labels), with and without reading another passage.

Run from the repository root:
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/korean_qa.py [--stages ...]
Writes the "Korean answers (KorQuAD-A)" section of BENCHMARKS.md. Each stage adds its rows to
$SEOGA_HOME/bench/korean_qa/results.json (the report is made from all rows there); readers
trained earlier with the same recipe are reused. Calibration is cross-fitted (2 folds) on the
evaluated questions, so every confidence after scaling is a held-out one.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.report import DATA, machine_line, write_section
from seoga.answer.highlighter import Highlighter
from seoga.answer.pipeline import Asker, AskSettings
from seoga.answer.span import SpanReader
from seoga.answer.train_span import SpanTrainingConfig, train_span_reader
from seoga.calibrate.fit import cross_fit
from seoga.calibrate.metrics import expected_calibration_error
from seoga.evaluate.qa import open_or_build, qa_metrics, read_qa_set, retrieve, run_questions
from seoga.paths import seoga_home

KORQUAD = DATA / "korquad_v1_dev_a"
WORK_DEFAULT = seoga_home() / "bench" / "korean_qa"
COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/korean_qa.py"
RESULTS = "results.json"
STAGES = ("highlighter", "synthetic")
HEADING = "## Korean answers (KorQuAD-A)"
SECONDS_PER_MINUTE = 60
FOLDS = 2
SENTENCE = "highlighter (a sentence, as before)"
TYPED = "highlighter + answer types"
TYPED_KEPT = TYPED + ", particles kept"
SYNTHETIC = "span reader, {count:,} synthetic questions"
SAME_PASSAGE = ", read in their own passage"
KEPT = ", particles kept"
# Issue 20's goals, character F1 on the 300-question sample.
TYPED_GOAL = 30.0
SYNTHETIC_GOAL = 40.0


def reader_config(args, *, other_passages: bool = True) -> SpanTrainingConfig:
    return SpanTrainingConfig(
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch,
        max_length=384,
        stride=128,
        freeze_embeddings=True,
        seed=args.seed,
        synthetic=str(args.work / "kb"),
        synthetic_max=args.synthetic_max,
        synthetic_other_passages=other_passages,
    )


def trained_reader(args, name: str, config: SpanTrainingConfig) -> tuple[Path, dict]:
    """The reader of this recipe in the work folder, trained unless one already is."""
    out = args.work / name
    record = out / "seoga_model.json"
    if not record.exists() or json.loads(record.read_text())["config"] != asdict(config):
        train_span_reader([], out, config)
    return out, json.loads(record.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic-max", type=int, default=3000)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT)
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from saved results"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / RESULTS
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.report_only:
        write_section(HEADING, report(results, args))
        return
    load = machine_line()
    qa_set = read_qa_set(KORQUAD)
    collection = open_or_build(qa_set, args.work / "kb", show_progress=True)
    ids = qa_set.question_ids(limit=args.questions, seed=args.seed)
    retrieved = retrieve(
        Asker(collection, settings=AskSettings(passages=args.passages)),
        qa_set,
        ids,
        show_progress=True,
    )

    def measure(name: str, reader, *, trim: bool = True, training: dict | None = None) -> None:
        asker = Asker(
            collection, reader, settings=AskSettings(passages=args.passages, trim_particles=trim)
        )
        asker.calibration = None  # the reader's own scaling: nothing fitted, nothing withheld
        started = time.perf_counter()
        records = run_questions(asker, qa_set, ids, show_progress=True, retrieved=retrieved)
        row = qa_metrics(records)
        row["reading_seconds_per_question"] = (time.perf_counter() - started) / len(records)
        correct = [record.correct for record in records]
        fitted = cross_fit(
            [record.scores for record in records],
            correct,
            [record.support for record in records],
            folds=FOLDS,
            seed=args.seed,
        )
        row["ece_before"] = expected_calibration_error(
            [record.confidence for record in records], correct
        )
        row["ece_after"] = expected_calibration_error(fitted.confidences, correct)
        row["training"] = training
        row["load"] = load
        print(name, {key: row[key] for key in ("f1", "exact_match", "ece_after")}, flush=True)
        results[name] = row
        results_path.write_text(json.dumps(results, indent=1, ensure_ascii=False))

    stages = args.stages.split(",")
    if "highlighter" in stages:
        analyzer, embedder = collection.analyzer, collection.embedder
        measure(SENTENCE, Highlighter(analyzer, embedder, extract=False))
        measure(TYPED, Highlighter(analyzer, embedder))
        measure(TYPED_KEPT, Highlighter(analyzer, embedder), trim=False)
    synthetic = SYNTHETIC.format(count=args.synthetic_max)
    if "synthetic" in stages:
        folder = f"span-synthetic-{args.synthetic_max}"
        path, record = trained_reader(args, folder, reader_config(args))
        measure(synthetic, SpanReader(path), training=record)
        measure(synthetic + KEPT, SpanReader(path), trim=False, training=record)
    if "same-passage" in stages:
        config = reader_config(args, other_passages=False)
        path, record = trained_reader(args, f"span-synthetic-same-{args.synthetic_max}", config)
        measure(synthetic + SAME_PASSAGE, SpanReader(path), training=record)
    if not args.no_report:
        write_section(HEADING, report(results, args))


def report(results: dict, args) -> str:
    rows = [name for name in results if not name.startswith("_")]
    load = results[rows[0]]["load"] if rows else machine_line()
    lines = [
        f"`{COMMAND}` — {load}.",
        "",
        f"KorQuAD 1.0 dev, first half (70 articles, 547 paragraphs indexed as a collection), "
        f"a seeded sample of {args.questions} questions (seed {args.seed}), the same for every "
        f"row. Every reader reads the top {args.passages} passages of the collection's hybrid "
        "search, retrieved once and shared. Character F1 and EM as KorQuAD's script computes "
        "them; right = holds a gold answer or reaches F1 0.5. ECE (15 bins) of the reader's own "
        f"confidence, and after temperature scaling cross-fitted in {FOLDS} folds.",
        "",
        "| reader | char F1 | EM | right | gold passage read | s / question | ECE before | "
        "ECE after | training |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in rows:
        row = results[name]
        training = row.get("training")
        trained = (
            f"{training['synthetic_examples']} synthetic questions, "
            f"{training['train_seconds'] / SECONDS_PER_MINUTE:.0f} min"
            if training
            else "none"
        )
        lines.append(
            f"| {name} | {row['f1']:.1f} | {row['exact_match']:.1f} | {row['accuracy']:.2f} | "
            f"{row['gold_passage_recall']:.2f} | {row['reading_seconds_per_question']:.2f} | "
            f"{row['ece_before']:.3f} | {row['ece_after']:.3f} | {trained} |"
        )
    lines.append("")
    synthetic = [
        name
        for name in rows
        if name.startswith("span reader")
        and results[name].get("training")
        and not name.endswith((KEPT, SAME_PASSAGE))
    ]
    goals = [(TYPED, TYPED_GOAL)] + [(name, SYNTHETIC_GOAL) for name in synthetic]
    for name, goal in goals:
        if name in results:
            f1 = results[name]["f1"]
            verdict = "met" if f1 >= goal else "missed"
            lines.append(f"- {name}: char F1 {f1:.1f} (goal ≥ {goal:.0f}): **{verdict}**")
    for trimmed in [TYPED, *synthetic]:
        kept = trimmed + KEPT
        if trimmed in results and kept in results:
            lines.append(
                f"- Particle trimming, {trimmed}: char F1 {results[kept]['f1']:.1f} → "
                f"{results[trimmed]['f1']:.1f}, EM {results[kept]['exact_match']:.1f} → "
                f"{results[trimmed]['exact_match']:.1f}"
            )
    training = next((results[n]["training"] for n in rows if results[n].get("training")), None)
    if training:
        config = training["config"]
        lines.append(
            f"- Span readers: {config['base']} + a QA head, {config['epochs']:g} epoch(s), "
            f"batch {config['batch_size']}, lr {config['learning_rate']:g}, word embeddings "
            f"{'frozen' if config['freeze_embeddings'] else 'trained'}, seed {config['seed']}; "
            "questions made from the collection's own passages, no labels."
        )
    for name in synthetic:
        same = name + SAME_PASSAGE
        if same in results:
            lines.append(
                f"- Reading another passage that holds the answer vs the question's own: char F1 "
                f"{results[same]['f1']:.1f} → {results[name]['f1']:.1f}, EM "
                f"{results[same]['exact_match']:.1f} → {results[name]['exact_match']:.1f} "
                f"({name})"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
