"""Options more than one command takes, defined once so their names and help stay alike."""

from pathlib import Path
from typing import Annotated, Any

import typer

from seoga.answer.loading import READER_HELP

CollectionOption = Annotated[
    Path, typer.Option("--collection", "-c", help="The collection folder.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

# Indexing: where the work runs and how files are read.
WorkersOption = Annotated[
    int | None,
    typer.Option(help="Local processes that load, chunk and encode (default: this one)."),
]
DaskOption = Annotated[
    str | None,
    typer.Option(help="A Dask scheduler (tcp://HOST:PORT) or local:N for N local workers."),
]
OcrOption = Annotated[
    str,
    typer.Option(
        help="Tesseract OCR: auto (pages and images with no text layer), always (every PDF "
        "page), never."
    ),
]
OcrLanguagesOption = Annotated[
    str, typer.Option(help="Tesseract languages, e.g. kor+eng (each needs its language data).")
]

# Fusion of the retrievers' scores.
FusionOption = Annotated[str | None, typer.Option("--fusion", help="convex or rrf.")]
DenseWeightOption = Annotated[
    float | None,
    typer.Option("--dense-weight", help="Main bi-encoder's share in convex fusion (0–1)."),
]
ExtraWeightOption = Annotated[
    float | None,
    typer.Option("--extra-weight", help="Each extra bi-encoder's weight in convex fusion."),
]

# The ask pipeline (ask, calibrate, eval qa).
ReaderOption = Annotated[str, typer.Option("--reader", help=f"Reader: {READER_HELP}.")]
LlmOption = Annotated[
    Path | None,
    typer.Option(
        "--llm", help="GGUF file or transformers folder for --reader llm (default: offline pack)."
    ),
]
LlmBackendOption = Annotated[
    str, typer.Option("--llm-backend", help="auto, llama-cpp or transformers.")
]
ExamplesOption = Annotated[
    Path | None,
    typer.Option("--examples", help="Few-shot examples (JSONL) for --reader llm."),
]
RerankOption = Annotated[
    Path | None, typer.Option("--rerank", help="A cross-encoder trained by seoga train reranker.")
]
PassagesOption = Annotated[
    int, typer.Option("-k", "--passages", help="How many passages the reader reads.")
]

# Training (train, distill).
FreezeEmbeddingsOption = Annotated[
    bool, typer.Option(help="Keep word embeddings fixed (faster with large vocabularies).")
]


# Interaction logs and recommenders (recommend, eval recommend, related).
MODEL_NAMES = "popular, mf, als, itemknn, fm, rules, sr, sknn or gru4rec"
UserColumn = Annotated[
    str | None, typer.Option("--user-column", help="User column (name or 0-based).")
]
SessionColumn = Annotated[
    str | None, typer.Option("--session-column", help="Session column: a session log's 'user'.")
]
SessionGap = Annotated[
    float | None,
    typer.Option(
        help="Cut each --user-column's events into sessions at idle gaps longer than this many "
        "seconds (needs --time-column; 3600 is usual)."
    ),
]
ItemColumn = Annotated[
    str | None, typer.Option("--item-column", help="Item column (name or 0-based).")
]
RatingColumn = Annotated[
    str | None, typer.Option("--rating-column", help="Rating column (explicit).")
]
WeightColumn = Annotated[
    str | None, typer.Option("--weight-column", help="Weight column (implicit: clicks, plays).")
]
TimeColumn = Annotated[
    str | None, typer.Option("--time-column", help="Time column (Unix s or ISO).")
]
ItemTables = Annotated[
    list[Path] | None,
    typer.Option("--items", help="Item side table (repeatable; rows of one id merge)."),
]
UserTables = Annotated[list[Path] | None, typer.Option("--users", help="User side table.")]
TextFields = Annotated[
    list[str] | None,
    typer.Option(
        "--text-field",
        help="Item field(s) whose text the FM encodes (repeatable; needs --items). Without it "
        "no text is encoded; a title or name column is only shown beside the id.",
    ),
]
TextModel = Annotated[
    str | None,
    typer.Option(
        help="Embedder for the --text-field text: a model name or path, a collection folder, "
        "or none (the fields are read and shown, not encoded). Default multilingual-e5-small."
    ),
]
Implicit = Annotated[
    bool, typer.Option("--implicit", help="Read ratings as implicit feedback (positives).")
]
MinRating = Annotated[
    float | None, typer.Option(help="Ratings below this are not positives (top-N, --implicit).")
]
Seed = Annotated[int, typer.Option(help="Random seed (initialisation, order, splits).")]
Settings = Annotated[
    list[str] | None,
    typer.Option("--set", help="A model setting, NAME=VALUE (repeatable), e.g. factors=128."),
]
Tune = Annotated[
    bool,
    typer.Option(
        "--tune",
        help="Choose the settings for this log on an inner split of it (those --set stay).",
    ),
]
TuneBudget = Annotated[
    float | None,
    typer.Option(help="--tune: seconds of trials at most (default 180; the one under way ends)."),
]
Debias = Annotated[
    str | None,
    typer.Option(help="ipw: weigh each rating by 1 / P(observed) (mf, fm; needs --propensities)."),
]
Propensities = Annotated[
    str | None,
    typer.Option(
        help="P(observed) of each rating: a users × items matrix file, logistic (fitted to "
        "who rates and what is rated), or naive-bayes (with --random-ratings)."
    ),
]
RandomRatings = Annotated[
    Path | None,
    typer.Option(help="Ratings missing at random (naive-bayes propensities' P(rating))."),
]
ModelFolder = Annotated[
    Path, typer.Option("--recommender", help="A fitted recommender's folder (from `fit`).")
]
TopK = Annotated[int, typer.Option("-k", help="How many items.")]
Readers = Annotated[
    Path | None,
    typer.Option(
        "--interactions",
        help="Who read what: a log (user, doc id[, weight, time]) or a model folder from "
        "`seoga recommend fit` whose items are the collection's doc ids.",
    ),
]
Blend = Annotated[
    float | None,
    typer.Option(help="Weight of the readers' side, 0 (content only) to 1; default measured."),
]


def given_options(**chosen: Any) -> dict[str, Any]:
    """The options the user gave explicitly (the others keep their defaults)."""
    return {name: value for name, value in chosen.items() if value is not None}
