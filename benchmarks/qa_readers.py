"""Question answering on SQuAD v1.1 dev, split by article: the highlighter, a span reader and a
Fusion-in-Decoder reader trained on the train half, and the in-context LLM, all reading the
same retrieved passages for the same test-half questions; then calibration of the readers'
confidence with cross-fitting (temperature fitted on one half of the questions, ECE measured on
the other, and the other way round), so every question's confidence is a held-out one.

Run from the repository root (training and answering: about an hour on 2 busy cores):
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. \\
        python benchmarks/qa_readers.py
Writes the "Question answering (SQuAD)" and "Calibration" sections of BENCHMARKS.md and
benchmarks/qa_calibration.png. Models, splits and every question's outcome (records/*.jsonl)
are kept in $SEOGA_HOME/bench/qa; `--from-records` redoes the report from those records.
"""

import argparse
import json
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.report import DATA, ROOT, machine_line, write_section
from seoga.answer.fid import FidReader
from seoga.answer.highlighter import Highlighter
from seoga.answer.llm import LlmReader, load_generator, read_examples
from seoga.answer.loading import DEFAULT_EXAMPLES
from seoga.answer.pipeline import Asker, AskSettings
from seoga.answer.span import SpanReader
from seoga.answer.train_fid import FidExample, FidTrainingConfig, train_fid
from seoga.answer.train_span import SpanTrainingConfig, train_span_reader
from seoga.calibrate.fit import cross_fit
from seoga.calibrate.metrics import ece_noise_floor, expected_calibration_error
from seoga.calibrate.plot import plot_reliability
from seoga.evaluate.qa import QARecord, open_or_build, qa_metrics, read_qa_set, retrieve
from seoga.evaluate.qa import run_questions as answer_questions
from seoga.paths import seoga_home

SQUAD = DATA / "squad_v1.1_dev"
SQUAD_JSON = SQUAD / "dev-v1.1.reconstructed.json"
WORK_DEFAULT = seoga_home() / "bench" / "qa"
PLOT = ROOT / "benchmarks" / "qa_calibration.png"
COMMAND = (
    "flock /tmp/seoga-heavy.lock env OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. "
    "python benchmarks/qa_readers.py"
)
ECE_TARGET = 0.05
SPAN_GAIN_TARGET = 15
SECONDS_PER_MINUTE = 60
HIGHLIGHTER, SPAN, FID = "highlighter", "span reader", "FiD"
RUN_RECORD = "run.json"


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


def test_order(qa_set, test_ids: set[str], seed: int) -> list[str]:
    """The test half's questions in the seeded order the benchmarks take them in."""
    test = sorted(test_ids & set(qa_set.beir.queries))
    random.Random(seed).shuffle(test)
    return test


def span_config(args) -> SpanTrainingConfig:
    return SpanTrainingConfig(
        epochs=args.span_epochs,
        max_examples=args.span_examples,
        max_length=384,
        stride=128,
        batch_size=args.span_batch,
        learning_rate=args.span_lr,
        freeze_embeddings=True,
        seed=args.seed,
    )


def train_span(work: Path, train_file: Path, args) -> Path:
    """The span reader of this recipe, trained unless the one in `work` has the same recipe."""
    out = work / "span"
    config = span_config(args)
    record = out / "seoga_model.json"
    if not record.exists() or json.loads(record.read_text())["config"] != asdict(config):
        train_span_reader(train_file, out, config)
    return out


def train_fid_reader(work: Path, asker: Asker, qa_set, train_ids: set[str], args) -> Path:
    out = work / "fid"
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


def records_path(work: Path, name: str) -> Path:
    return work / "records" / (name.split(" (")[0].replace(" ", "-") + ".jsonl")


def save_records(path: Path, records: list[QARecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(json.dumps(asdict(r), ensure_ascii=False) for r in records) + "\n",
        encoding="utf-8",
    )


def load_records(path: Path) -> list[QARecord]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [QARecord(**json.loads(line)) for line in lines if line.strip()]


def answer_all(collection, qa_set, readers: dict, retrieved: dict, args) -> dict:
    """Each reader answers its questions (a prefix of the shared order) from the passages
    retrieved once for all; every question's outcome is saved."""
    found = {}
    for name, (reader, ids) in readers.items():
        asker = Asker(collection, reader, settings=AskSettings(passages=args.passages))
        asker.calibration = None  # the readers' own scaling: nothing fitted, nothing withheld
        started = time.perf_counter()
        records = answer_questions(asker, qa_set, ids, show_progress=True, retrieved=retrieved)
        print(name, f"{time.perf_counter() - started:.0f} s", qa_metrics(records)["f1"])
        save_records(records_path(args.work, name), records)
        found[name] = records
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--passages", type=int, default=3)
    parser.add_argument("--eval-questions", type=int, default=500)
    parser.add_argument(
        "--calibration-questions",
        type=int,
        default=1000,
        help="questions the highlighter and the span reader answer for calibration "
        "(the eval ones among them)",
    )
    parser.add_argument("--llm-questions", type=int, default=50)
    parser.add_argument("--fid-questions", type=int, default=30)
    parser.add_argument("--span-examples", type=int, default=1500)
    parser.add_argument("--span-epochs", type=float, default=1.0)
    parser.add_argument("--span-lr", type=float, default=1e-4)
    parser.add_argument("--span-batch", type=int, default=8)
    parser.add_argument("--fid-examples", type=int, default=240)
    parser.add_argument("--fid-passages", type=int, default=2)
    parser.add_argument("--folds", type=int, default=2, help="calibration cross-fitting folds")
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT, help="models and records")
    parser.add_argument(
        "--from-records", action="store_true", help="report from the saved records, run nothing"
    )
    parser.add_argument("--no-report", action="store_true", help="print, do not write")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    run_file = args.work / RUN_RECORD
    if args.from_records:
        run = json.loads(run_file.read_text())
        records = {name: load_records(Path(path)) for name, path in run["records"].items()}
    else:
        run, records = measure(args)
        run_file.write_text(json.dumps(run, indent=1))
    results = {name: qa_metrics(found[: run["subsets"][name]]) for name, found in records.items()}
    calibration = calibrate(records, run, args)
    if args.no_report:
        print(json.dumps({"results": results, "calibration": calibration}, indent=1))
    else:
        write_report(results, calibration, run, args)


def measure(args) -> tuple[dict, dict]:
    started = time.perf_counter()
    load = machine_line()
    train_payload, train_ids, test_ids = split_articles(args.seed)
    train_file = args.work / f"squad-train-half-{args.seed}.json"
    train_file.write_text(json.dumps(train_payload), encoding="utf-8")
    qa_set = read_qa_set(SQUAD)
    collection = open_or_build(qa_set, None, show_progress=True)
    highlighter = Highlighter(collection.analyzer, collection.embedder)
    span_path = train_span(args.work, train_file, args)
    trained = time.perf_counter()
    fid_path = train_fid_reader(args.work, Asker(collection, highlighter), qa_set, train_ids, args)

    test = test_order(qa_set, test_ids, args.seed)
    ordered = test[: max(args.eval_questions, args.calibration_questions)]
    evaluated = ordered[: args.eval_questions]
    searcher = Asker(collection, highlighter, settings=AskSettings(passages=args.passages))
    retrieved = retrieve(searcher, qa_set, ordered, show_progress=True)
    llm = LlmReader(load_generator(None), read_examples(DEFAULT_EXAMPLES))
    llm_name = f"in-context LLM ({llm.generator.model_name}, {llm.generator.backend})"
    readers = {
        HIGHLIGHTER: (highlighter, ordered),
        SPAN: (SpanReader(span_path), ordered),
        llm_name: (llm, evaluated[: args.llm_questions]),
        FID: (FidReader(fid_path), evaluated[: args.fid_questions]),
    }
    records = answer_all(collection, qa_set, readers, retrieved, args)
    span_record = json.loads((span_path / "seoga_model.json").read_text())
    fid_record = json.loads((fid_path / "seoga_model.json").read_text())
    run = {
        "machine": load,
        "argv": sys.argv[1:],
        "minutes": (time.perf_counter() - started) / 60,
        "train_minutes": (trained - started) / 60,
        "subsets": {name: min(len(ids), args.eval_questions) for name, (_, ids) in readers.items()},
        "records": {name: str(records_path(args.work, name)) for name in readers},
        "span": span_record,
        "fid": fid_record,
        "collection": collection.root.name,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    return run, records


def calibrate(records: dict, run: dict, args) -> dict:
    """Cross-fitted temperature scaling of each trained or lexical reader's confidence."""
    found, panels = {}, {}
    for name in (HIGHLIGHTER, SPAN):
        chosen = records[name]
        scores = [r.scores for r in chosen]
        supports = [r.support for r in chosen]
        correct = [r.correct for r in chosen]
        before = [r.confidence for r in chosen]
        fitted = cross_fit(scores, correct, supports, folds=args.folds, seed=args.seed)
        after = fitted.confidences
        answered = [c for c, keep in zip(correct, fitted.answered, strict=True) if keep]
        top_only = cross_fit(scores, correct, None, folds=args.folds, seed=args.seed)
        found[name] = {
            "questions": len(chosen),
            "accuracy": float(np.mean(correct)),
            "ece_before": expected_calibration_error(before, correct),
            "ece_after": expected_calibration_error(after, correct),
            "ece_after_top_span_only": expected_calibration_error(top_only.confidences, correct),
            "ece_noise_floor": ece_noise_floor(after, seed=args.seed),
            "temperatures": fitted.temperatures,
            "forms": fitted.forms,
            "thresholds": fitted.thresholds,
            "abstention": 1 - len(answered) / len(correct),
            "answered_accuracy": float(np.mean(answered)) if answered else 0.0,
        }
        panels[f"{name}, before"] = (before, correct)
        panels[f"{name}, after"] = (after, correct)
        print(name, found[name])
    if not args.no_report:
        plot_reliability(
            PLOT, panels, title="SQuAD test-half questions, held-out (cross-fitted) confidence"
        )
    return found


def ece_verdict(name: str, found: dict) -> str:
    after, before = found["ece_after"], found["ece_before"]
    met = "met" if after <= ECE_TARGET else "missed"
    return f"{name} {met} ({after:.3f}, {'lower' if after < before else 'not lower'} than before)"


def command_line(run: dict) -> str:
    """The command that measured this run, with the options it was given."""
    return " ".join([COMMAND, *run.get("argv", [])])


def training_note(run: dict) -> str:
    """How long this run spent training the span reader, or that it reused an earlier one."""
    if run["train_minutes"] * SECONDS_PER_MINUTE < run["span"]["train_seconds"]:
        return "the span reader of an earlier run with the same recipe reused"
    return f"{run['train_minutes']:.0f} min training the span reader"


def write_report(results: dict, calibration: dict, run: dict, args) -> None:
    span, fid = run["span"], run["fid"]
    base_latency = results[HIGHLIGHTER]["seconds_per_question_mean"]
    lines = [
        f"Command: `{command_line(run)}` ({run['minutes']:.0f} min in all: "
        f"{training_note(run)}, the rest answering).",
        f"Machine: {run['machine']}.",
        "",
        "SQuAD v1.1 dev, its 48 articles shuffled (seed "
        f"{args.seed}) and halved: readers are trained on the first half and tested on questions "
        f"of the second (a seeded sample of {results[HIGHLIGHTER]['n_questions']}; the LLM and "
        "FiD rows answer the first questions of that same sample). Every reader reads the same "
        f"top {args.passages} passages that seoga's hybrid search ({run['collection']}) "
        "retrieves from all 2,067 paragraphs (open-domain, not the gold paragraph), retrieved "
        "once and shared. EM/F1 use SQuAD normalisation. Seconds per question include the "
        "retrieval.",
        "",
        "| reader | questions | EM | F1 | gold passage retrieved | s / question | × highlighter |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, metrics in results.items():
        lines.append(
            f"| {name} | {metrics['n_questions']} | {metrics['exact_match']:.1f} | "
            f"{metrics['f1']:.1f} | {metrics['gold_passage_recall']:.2f} | "
            f"{metrics['seconds_per_question_mean']:.2f} | "
            f"{metrics['seconds_per_question_mean'] / base_latency:.2f} |"
        )
    gain = results[SPAN]["f1"] - results[HIGHLIGHTER]["f1"]
    config = span["config"]
    lines += [
        "",
        f"- Span reader F1 − highlighter F1 = {gain:+.1f} (target +{SPAN_GAIN_TARGET}: "
        f"{'met' if gain >= SPAN_GAIN_TARGET else 'missed'}).",
        "- Span reader: multilingual-e5-small + a QA head (transformers), trained "
        f"{span['train_seconds'] / 60:.0f} min on {span['examples']} questions sampled from "
        f"the train half ({span['features']} windows of at most {span['max_length']} tokens, "
        f"stride {span['stride']}; {config['epochs']:g} epoch, batch {config['batch_size']}, "
        f"lr {config['learning_rate']:g} with 10% warm-up and linear decay, word embeddings "
        f"frozen; seed {config['seed']}); mean training loss {span['train_loss']:.2f}.",
        "- FiD: no pretrained T5/BART exists offline, so this FiD is multilingual-e5-small "
        "warm-started into an encoder–decoder (encoder and decoder from e5, cross-attention "
        "new; word embeddings frozen), trained "
        f"{fid['train_seconds'] / 60:.0f} min ({fid['steps']} steps of 4 "
        f"questions) on {fid['examples']} train-half questions with their top "
        f"{fid['max_passages']} retrieved passages; loss {fid['first_loss']:.2f} "
        f"→ {fid['final_loss']:.2f}. A decoder that never learnt to generate text, trained this "
        "little, does not produce answers: its score is reported as measured, on a few "
        "questions only because it is the slowest reader.",
        "- The LLM reads the same passages with the few-shot examples seoga ships "
        "(seoga/data/fewshot.jsonl), greedy decoding.",
    ]
    write_section("## Question answering (SQuAD)", "\n".join(lines))
    cal = [
        f"Command: `{command_line(run)}` (same run). Machine: {run['machine']}.",
        "",
        "Temperature scaling (seoga.calibrate: T and a bias, in the form with the lower NLL on "
        "the fitting part — softmax over the candidates and a no-answer score, or sigmoid of "
        "the chosen answer's logit against the other candidates), "
        f"{args.folds}-fold cross-fitted on test-half questions (the "
        f"{calibration[SPAN]['questions']} each reader answered, the evaluation sample among "
        "them): the temperature, bias and "
        "threshold fitted on one part score the other, so every confidence below is a held-out "
        'one. "Right" = the answer holds a gold answer or reaches F1 0.5 with one. ECE with 15 '
        "equal-width bins. The threshold maximises right − wrong answers on the fitting part.",
        "",
        "| reader | questions | accuracy | ECE before | ECE after | ECE of a perfectly "
        "calibrated reader (same n) | T (form) per fold | abstains | accuracy when answering |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, found in calibration.items():
        temperatures = ", ".join(
            f"{t:.3g} ({form})"
            for t, form in zip(found["temperatures"], found["forms"], strict=True)
        )
        cal.append(
            f"| {name} | {found['questions']} | {found['accuracy']:.3f} | "
            f"{found['ece_before']:.3f} | {found['ece_after']:.3f} | "
            f"{found['ece_noise_floor']:.3f} | {temperatures} | {found['abstention']:.2f} | "
            f"{found['answered_accuracy']:.3f} |"
        )
    cal += [
        "",
        "- The span reader's confidence sums the probability of the candidate spans that give "
        "the chosen answer (F1 ≥ 0.5 with it, e.g. “Denver Broncos” and “Broncos”); with the "
        "chosen span's probability alone, the held-out ECE is "
        f"{calibration[SPAN]['ece_after_top_span_only']:.3f}.",
        f"- Target ECE ≤ {ECE_TARGET} after scaling, on held-out questions: "
        + "; ".join(ece_verdict(name, found) for name, found in calibration.items())
        + ".",
        "- The noise floor is the mean ECE of labels drawn from the calibrated confidences "
        "themselves: what sampling alone gives with this many questions and 15 bins.",
        "",
        f"![reliability diagrams](benchmarks/{PLOT.name})",
    ]
    write_section("## Calibration", "\n".join(cal))


if __name__ == "__main__":
    main()
