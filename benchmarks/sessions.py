"""Next-item recommendation on the rsc15 sample: session models side by side, one run.

The shipped time split (train_full / test), the next-item protocol of `seoga eval recommend
--protocol next-item` (every next click ranked among all items, ties against the model), as
shipped and with consecutive repeats removed; recall@20 and MRR@20 beside the research notes'
anchors (popularity .089 / .026 and sequential rules .622 / .349; .070 / .017 and .523 / .253
without repeats).

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/sessions.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.report import DATA, machine_line, write_section
from seoga.evaluate.next_item import evaluate_next_item
from seoga.recommend import Columns, make_recommender, read_interactions
from seoga.recommend.data.interactions import align
from seoga.recommend.data.sessions import SessionSettings, prepare_split
from seoga.recommend.data.splits import Split

FOLDER = DATA / "rsc15_sample"
HEADING = "## Sessions: next item (rsc15 sample)"
COLUMNS = Columns(user="SessionId", item="ItemId", time="Time")
MODELS = ("popular", "sr", "sknn", "gru4rec")
# gru4rec: its defaults (cross-entropy, 100 units, 5 epochs), chosen on train_tr / train_valid.
# The choice `seoga tune benchmarks/grids/gru4rec_rsc15.yaml` made there, when it has been run.
TUNED = Path(__file__).parent / "results" / "gru4rec_rsc15" / "best.json"
K = 20
ANCHORS = {
    (False, "popular"): (0.0894, 0.0264),
    (False, "sr"): (0.6222, 0.3485),
    (True, "popular"): (0.0696, 0.0168),
    (True, "sr"): (0.5233, 0.2526),
    (False, "sknn"): (0.6098, 0.3342),  # V-SKNN's saved lists, 387 predictions only (±0.05)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--tuned", type=Path, default=TUNED, help="a seoga tune best.json")
    args = parser.parse_args()
    runs = [(name, name, {}) for name in MODELS]
    if args.tuned.is_file():
        trial = json.loads(args.tuned.read_text(encoding="utf-8"))["trial"]
        label = ", ".join(f"{key} {value}" for key, value in trial.items())
        runs.append((f"gru4rec ({label}; seoga tune)", "gru4rec", trial))
    train = read_interactions(FOLDER / "yoochoose-clicks-100k_train_full.txt", COLUMNS)
    test = read_interactions(FOLDER / "yoochoose-clicks-100k_test.txt", COLUMNS)
    test, train = align(test, train)
    lines = [
        "Command: `flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/sessions.py`",
        f"Machine: {machine_line()}",
        "",
        f"| variant | model | recall@{K} | MRR@{K} | anchor (research notes) | events | fit s "
        "| ms / event |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for drop in (False, True):
        parts = prepare_split(Split(train, test, "shipped"), SessionSettings(drop_repeats=drop))
        for label, name, settings in runs:
            scores = evaluate_next_item(make_recommender(name, **settings), parts, k=K)
            anchor = ANCHORS.get((drop, label))
            anchor_text = f"{anchor[0]:.4f} / {anchor[1]:.4f}" if anchor else "—"
            lines.append(
                f"| {'repeats removed' if drop else 'as shipped'} | {label} "
                f"| {scores[f'recall@{K}']:.4f} | {scores[f'mrr@{K}']:.4f} "
                f"| {anchor_text} | {scores['events']} | {scores['fit_seconds']:.2f} "
                f"| {scores['ms_per_event']:.3f} |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "Popularity here counts the sessions an item is in (the anchors count clicks); ties go "
        "against the model. gru4rec's settings (cross-entropy with log-q, 100 units, batch 32, "
        "2,048 samples at α 0.5, Adagrad 0.05, 5 epochs) were chosen on `train_tr` / "
        "`train_valid` as shipped (sr there: 0.5693 / 0.3167; gru4rec 0.6277 / 0.3466); the "
        "repeats-removed variant uses the same settings. sknn (V-SKNN: 100 neighbours among the "
        "500 most recent sessions sharing an item) scored 0.6120 / 0.3254 there; its anchor is "
        "session-rec's saved V-SKNN lists for the first 99 test sessions (387 predictions). "
        "The tuned row takes the best trial of `seoga tune benchmarks/grids/gru4rec_rsc15.yaml "
        "--seed 0` (loss × epochs, MRR@20 on `train_valid`; its table is "
        "`benchmarks/results/gru4rec_rsc15/results.md`).",
    ]
    if not args.no_report:
        write_section(HEADING, "\n".join(lines))


if __name__ == "__main__":
    main()
