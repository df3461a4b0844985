"""Question answering on SQuAD v1.1 dev, split by article: the highlighter, a span reader and a
Fusion-in-Decoder reader trained on the train half, and the in-context LLM, all reading the
same retrieved passages for the same test-half questions; then calibration of the highlighter
and the span reader: temperature fitted on some test-half questions, ECE measured on others.

Run from the repository root (about 45 minutes on 2 busy cores):
    flock /tmp/seoga-heavy.lock env OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \\
        python benchmarks/qa_readers.py
Writes the "Question answering (SQuAD)" and "Calibration" sections of BENCHMARKS.md and
benchmarks/qa_calibration.png. Models and splits are kept in $SEOGA_HOME/bench/qa.
"""

import argparse
import json
import random
import time
from pathlib import Path

from benchmarks.report import DATA, ROOT, machine_line, write_section
from seoga.answer.fid import FidReader
from seoga.answer.highlighter import Highlighter
from seoga.answer.llm import LlmReader, load_generator, read_examples
from seoga.answer.loading import DEFAULT_EXAMPLES
from seoga.answer.pipeline import Asker, AskSettings
from seoga.answer.span import SpanReader
from seoga.answer.train_fid import FidExample, FidTrainingConfig, train_fid
from seoga.answer.train_span import SpanTrainingConfig, train_span_reader
from seoga.calibrate.fit import fit_reader
from seoga.calibrate.metrics import expected_calibration_error
from seoga.calibrate.plot import plot_reliability
from seoga.evaluate.qa import evaluate_qa, open_or_build, read_qa_set, run_questions
from seoga.paths import seoga_home

SQUAD = DATA / "squad_v1.1_dev"
SQUAD_JSON = SQUAD / "dev-v1.1.reconstructed.json"
WORK_DEFAULT = seoga_home() / "bench" / "qa"
PLOT = ROOT / "benchmarks" / "qa_calibration.png"
COMMAND = (
    "flock /tmp/seoga-heavy.lock env OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. "
    "python benchmarks/qa_readers.py"
)


WORK = WORK_DEFAULT


def split_articles(seed: int) -> tuple[dict, set[str], set[str]]:
    """Half the articles (seeded) for training; the question ids of each half."""
    payload = json.loads(SQUAD_JSON.read_text(encoding="utf-8"))
    articles = sorted(payload["data"], key=lambda article: article["title"])
    random.Random(seed).shuffle(articles)
    half = len(articles) // 2
    train, test = articles[:half], articles[half:]

    def ids(part):
        return {qa["id"] for a in part for p in a["paragraphs"] for qa in p["qas"]}

    return {"version": "1.1", "data": train}, ids(train), ids(test)


def train_span(train_file: Path, args) -> Path:
    out = WORK / "span"
    if not (out / "seoga_model.json").exists():
        config = SpanTrainingConfig(
            epochs=1.0,
            max_examples=args.span_examples,
            max_length=256,
            stride=96,
            batch_size=8,
            learning_rate=1e-4,
            seed=args.seed,
        )
        train_span_reader(train_file, out, config)
    return out


def train_fid_reader(asker: Asker, qa_set, train_ids: set[str], args) -> Path:
    out = WORK / "fid"
    if (out / "seoga_model.json").exists():
        return out
    ids = sorted(train_ids & set(qa_set.beir.queries))
    ids = random.Random(args.seed).sample(ids, min(args.fid_examples, len(ids)))
    examples = []
    for qid in ids:
        question = qa_set.beir.queries[qid]
        passages = asker.passages(question)[: args.fid_passages]
        examples.append(
            FidExample(
                question, tuple(qa_set.answers[qid]), tuple((p.title, p.text) for p in passages)
            )
        )
    config = FidTrainingConfig(
        base="multilingual-e5-small",
        epochs=1.0,
        batch_size=4,
        learning_rate=2e-4,
        max_passages=args.fid_passages,
        passage_tokens=128,
        answer_tokens=16,
        freeze_embeddings=True,
        seed=args.seed,
    )
    train_fid(examples, out, config)
    return out


def evaluate_readers(collection, qa_set, readers: dict, ids: list[str], args) -> dict:
    results = {}
    for name, (reader, subset) in readers.items():
        asker = Asker(collection, reader, settings=AskSettings(passages=args.passages))
        chosen = set(ids[:subset])
        started = time.perf_counter()
        results[name] = evaluate_qa(asker, qa_set, only=chosen, show_progress=True)
        results[name]["wall_seconds"] = time.perf_counter() - started
        print(name, {k: results[name][k] for k in ("exact_match", "f1", "n_questions")})
    return results


def calibrate_readers(collection, qa_set, readers: dict, fit_ids, held_ids, args) -> dict:
    found, panels = {}, {}
    for name, reader in readers.items():
        asker = Asker(collection, reader, settings=AskSettings(passages=args.passages))
        fit_records = run_questions(asker, qa_set, fit_ids, show_progress=True)
        held_records = run_questions(asker, qa_set, held_ids, show_progress=True)
        report = fit_reader(
            [r.scores for r in fit_records],
            [r.correct for r in fit_records],
            reader.default_scaling,
            holdout=0.0,
        )
        scaling = report.fitted.scaling
        correct = [r.correct for r in held_records]
        before = [reader.default_scaling.confidence(r.scores) for r in held_records]
        after = [scaling.confidence(r.scores) for r in held_records]
        answered = [c for c, p in zip(correct, after, strict=True) if p >= report.fitted.threshold]
        found[name] = {
            "temperature": scaling.temperature,
            "null_score": scaling.null_score,
            "threshold": report.fitted.threshold,
            "fit_questions": len(fit_records),
            "held_questions": len(held_records),
            "held_accuracy": sum(correct) / len(correct),
            "ece_before": expected_calibration_error(before, correct),
            "ece_after": expected_calibration_error(after, correct),
            "abstention": 1 - len(answered) / len(correct),
            "answered_accuracy": sum(answered) / len(answered) if answered else 0.0,
        }
        panels[f"{name}, before"] = (before, correct)
        panels[f"{name}, after"] = (after, correct)
        print(name, found[name])
    plot_reliability(PLOT, panels, title="SQuAD held-out questions")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--passages", type=int, default=3)
    parser.add_argument("--eval-questions", type=int, default=120)
    parser.add_argument("--llm-questions", type=int, default=50)
    parser.add_argument("--llm-transformers-questions", type=int, default=15)
    parser.add_argument("--calibration-questions", type=int, default=250)
    parser.add_argument("--span-examples", type=int, default=800)
    parser.add_argument("--fid-examples", type=int, default=240)
    parser.add_argument("--fid-passages", type=int, default=2)
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT, help="models and splits")
    parser.add_argument("--no-report", action="store_true", help="print, do not write")
    args = parser.parse_args()
    global WORK  # noqa: PLW0603 - one run, one work folder
    WORK = args.work
    started = time.perf_counter()
    load = machine_line()
    WORK.mkdir(parents=True, exist_ok=True)
    train_payload, train_ids, test_ids = split_articles(args.seed)
    train_file = WORK / f"squad-train-half-{args.seed}.json"
    train_file.write_text(json.dumps(train_payload), encoding="utf-8")
    qa_set = read_qa_set(SQUAD)
    collection = open_or_build(qa_set, None, show_progress=True)
    highlighter = Highlighter(collection.analyzer, collection.embedder)
    span_path = train_span(train_file, args)
    fid_path = train_fid_reader(Asker(collection, highlighter), qa_set, train_ids, args)

    test = sorted(test_ids & set(qa_set.beir.queries))
    random.Random(args.seed).shuffle(test)
    eval_ids = test[: args.eval_questions]
    rest = test[args.eval_questions :]
    fit_ids = sorted(rest[: args.calibration_questions])
    held_ids = sorted(rest[args.calibration_questions : 2 * args.calibration_questions])

    span = SpanReader(span_path)
    llm = LlmReader(load_generator(None), read_examples(DEFAULT_EXAMPLES))
    readers = {
        "highlighter": (highlighter, args.eval_questions),
        "span reader": (span, args.eval_questions),
        "FiD": (FidReader(fid_path), args.eval_questions),
        f"in-context LLM ({llm.generator.model_name}, {llm.generator.backend})": (
            llm,
            args.llm_questions,
        ),
    }
    if args.llm_transformers_questions and llm.generator.backend != "transformers":
        # The same model through transformers (dequantised): decides the default backend.
        other = LlmReader(load_generator(None, backend="transformers"), llm.examples)
        readers[f"in-context LLM ({other.generator.model_name}, transformers)"] = (
            other,
            args.llm_transformers_questions,
        )
    results = evaluate_readers(collection, qa_set, readers, eval_ids, args)
    calibration = calibrate_readers(
        collection,
        qa_set,
        # The span reader only: the highlighter embeds every sentence it reads, too slow to
        # answer hundreds more questions within this run's hour on 2 cores.
        {"span reader": span},
        fit_ids,
        held_ids,
        args,
    )
    minutes = (time.perf_counter() - started) / 60
    if not args.no_report:
        write_report(results, calibration, span_path, fid_path, args, load, minutes)


def write_report(results, calibration, span_path, fid_path, args, load, minutes) -> None:
    span_record = json.loads((span_path / "seoga_model.json").read_text())
    fid_record = json.loads((fid_path / "seoga_model.json").read_text())
    base_latency = results["highlighter"]["seconds_per_question_mean"]
    lines = [
        f"Command: `{COMMAND}` ({minutes:.0f} min in all, training included).",
        f"Machine: {load}.",
        "",
        "SQuAD v1.1 dev, its 48 articles shuffled (seed "
        f"{args.seed}) and halved: readers are trained on the first half and tested on questions "
        "of the second. Every reader reads the same top "
        f"{args.passages} passages that seoga's hybrid search retrieves from all 2,067 "
        "paragraphs (open-domain, not the gold paragraph). EM/F1 use SQuAD normalisation.",
        "",
        "| reader | questions | EM | F1 | gold passage retrieved | s / question | × highlighter |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, metrics in results.items():
        lines.append(
            f"| {name} | {metrics['n_questions']} | {metrics['exact_match']:.1f} | "
            f"{metrics['f1']:.1f} | {metrics['gold_passage_recall']:.2f} | "
            f"{metrics['seconds_per_question_mean']:.2f} | "
            f"{metrics['seconds_per_question_mean'] / base_latency:.1f} |"
        )
    gain = results["span reader"]["f1"] - results["highlighter"]["f1"]
    lines += [
        "",
        f"- Span reader F1 − highlighter F1 = {gain:+.1f} (target +15).",
        "- Span reader: multilingual-e5-small + a QA head, trained "
        f"{span_record['train_seconds'] / 60:.0f} min "
        f"on {span_record['examples']} questions of the train half ({span_record['features']} "
        f"windows of {span_record['max_length']} tokens, stride {span_record['stride']}, "
        f"1 epoch, lr {span_record['config']['learning_rate']}).",
        "- FiD: no pretrained T5/BART exists offline, so this FiD is multilingual-e5-small "
        "warm-started into an encoder–decoder (encoder and decoder from e5, cross-attention "
        "new; word embeddings frozen), trained "
        f"{fid_record['train_seconds'] / 60:.0f} min ({fid_record['steps']} steps of 4 "
        f"questions) on {fid_record['examples']} train-half questions with their top "
        f"{fid_record['max_passages']} retrieved passages; loss {fid_record['first_loss']:.2f} "
        f"→ {fid_record['final_loss']:.2f}. A decoder that never learnt to generate "
        "text, trained this little, is expected to score near zero: the figure is reported as "
        "measured.",
        "- The LLM reads the same passages with the few-shot examples seoga ships "
        "(seoga/data/fewshot.jsonl), greedy decoding, on the first "
        f"{args.llm_questions} of the questions (the transformers backend on the first "
        f"{args.llm_transformers_questions}: same model, dequantised to float32).",
    ]
    write_section("## Question answering (SQuAD)", "\n".join(lines))
    cal = [
        f"Command: `{COMMAND}` (same run). Machine: {load}.",
        "",
        "Temperature scaling with a learned no-answer score (seoga.calibrate), fitted on "
        f"{args.calibration_questions} test-half SQuAD questions and measured on "
        f'{args.calibration_questions} other test-half questions (held out). "Right" = the '
        "answer holds a gold answer or reaches F1 0.5. ECE with 15 bins. Threshold: maximises "
        "right − wrong answers on the fitting questions.",
        "",
        "| reader | accuracy | ECE before | ECE after | T | threshold | abstains "
        "| accuracy when answering |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, found in calibration.items():
        cal.append(
            f"| {name} | {found['held_accuracy']:.3f} | {found['ece_before']:.3f} | "
            f"{found['ece_after']:.3f} | {found['temperature']:.3g} | {found['threshold']:.2f} | "
            f"{found['abstention']:.2f} | {found['answered_accuracy']:.3f} |"
        )
    cal += ["", f"![reliability diagrams](benchmarks/{PLOT.name})"]
    write_section("## Calibration", "\n".join(cal))


if __name__ == "__main__":
    main()
