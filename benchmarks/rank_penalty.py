"""How much a span should lose for each place its passage is ranked below the first
(seoga.answer.span.RANK_PENALTY), chosen on SQuAD v1.1 dev questions that no benchmark row
reports: the 501st to 1,000th of the test half, in the order benchmarks/qa_readers.py and
benchmarks/korean_qa.py take them (both report the first 500).

Each question's candidate spans are read once with no penalty; every penalty then re-ranks
them (each distinct answer text at its best span), and "first passage" takes the best span
of the top-ranked passage alone.

Run from the repository root, with a span reader folder (benchmarks/korean_qa.py trains one):
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/rank_penalty.py READER
Writes the "Span reader: passage rank penalty" section of BENCHMARKS.md.
"""

import argparse
from pathlib import Path

import numpy as np

from benchmarks.korean_qa import SQUAD, SQUAD_QUESTIONS
from benchmarks.qa_readers import split_articles, test_order
from benchmarks.report import machine_line, write_section
from seoga.answer.pipeline import Asker, AskSettings
from seoga.answer.span import RANK_PENALTY, SpanReader
from seoga.datasets.answers import best_scores
from seoga.evaluate.qa import open_or_build, read_qa_set, retrieve
from seoga.progress import track

HEADING = "## Span reader: passage rank penalty"
COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/rank_penalty.py"
PENALTIES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0)
PASSAGES = (3, 5)
PERCENT = 100.0


def f1_by_penalty(
    reader: SpanReader, collection, qa_set, ids: list[str], passages: int
) -> dict[str, float]:
    """Mean F1 for each penalty and for the first passage alone."""
    searcher = Asker(collection, settings=AskSettings(passages=passages))
    retrieved = retrieve(searcher, qa_set, ids, show_progress=True)
    scored = []  # per question: (score, rank from 0, F1) of each candidate
    for qid in track(ids, f"reading {passages} passages", enabled=True):
        found = retrieved[qid].passages
        texts = {passage.number: passage.text for passage in found}
        candidates = reader.candidates(qa_set.beir.queries[qid], found)
        golds = qa_set.answers[qid]
        scored.append(
            [(s, n - 1, best_scores(texts[n][a:b], golds)[1]) for s, n, a, b in candidates]
        )

    def mean_f1(pick) -> float:
        return PERCENT * float(np.mean([pick(spans)[2] if spans else 0.0 for spans in scored]))

    row = {
        f"{penalty:g}": mean_f1(lambda spans, p=penalty: max(spans, key=lambda c: c[0] - p * c[1]))
        for penalty in PENALTIES
    }
    row["first passage"] = mean_f1(
        lambda spans: max([c for c in spans if c[1] == 0] or spans, key=lambda c: c[0])
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reader", type=Path, help="a span reader folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load = machine_line()
    qa_set = read_qa_set(SQUAD)
    order = test_order(qa_set, split_articles(args.seed)[2], args.seed)
    ids = order[SQUAD_QUESTIONS : 2 * SQUAD_QUESTIONS]
    reader = SpanReader(args.reader, rank_penalty=0.0)
    collection = open_or_build(qa_set, None, show_progress=True)
    rows = {
        passages: f1_by_penalty(reader, collection, qa_set, ids, passages) for passages in PASSAGES
    }
    columns = [f"{penalty:g}" for penalty in PENALTIES] + ["first passage"]
    lines = [
        f"`{COMMAND} READER` — {load}.",
        "",
        f"SQuAD v1.1 dev, test half (seed {args.seed}), questions {SQUAD_QUESTIONS + 1:,} to "
        f"{2 * SQUAD_QUESTIONS:,} (not the {SQUAD_QUESTIONS} the QA benchmarks report); word "
        f"F1 of the span reader `{args.reader.name}` when each place down the hybrid search's "
        "ranking lowers a span's score by the penalty. seoga uses "
        f"{RANK_PENALTY:g}.",
        "",
        "| passages | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for passages, row in rows.items():
        lines.append(f"| {passages} | " + " | ".join(f"{row[c]:.1f}" for c in columns) + " |")
    write_section(HEADING, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
