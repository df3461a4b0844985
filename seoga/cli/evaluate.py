"""`seoga eval retrieval`."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import (
    DaskOption,
    DenseWeightOption,
    ExtraWeightOption,
    FusionOption,
    JsonOption,
    WorkersOption,
    given_options,
)
from seoga.cli.output import report_metrics
from seoga.evaluate import RETRIEVAL_METRICS
from seoga.parallel.executors import make_executor
from seoga.settings import CollectionSettings

app = typer.Typer(help="Measure seoga on labelled data.", no_args_is_help=True)

TABLE_COLUMNS = [*RETRIEVAL_METRICS, "n_queries", "index_seconds", "query_ms_p50"]


@app.command("retrieval")
def retrieval_command(
    data: Annotated[Path, typer.Argument(help="A BEIR-layout folder (corpus, queries, qrels).")],
    retriever: Annotated[str, typer.Option(help="bm25, dense or hybrid.")] = "hybrid",
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the metrics as JSON here.")
    ] = None,
    embedder: Annotated[str | None, typer.Option(help="Bi-encoder name or path.")] = None,
    extra_embedder: Annotated[
        list[str] | None,
        typer.Option(help="A further bi-encoder for hybrid (repeatable); 'none' for none."),
    ] = None,
    analyzer: Annotated[str | None, typer.Option(help="BM25 analyzer.")] = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Chunk size in tokens.")] = None,
    fusion: FusionOption = None,
    dense_weight: DenseWeightOption = None,
    extra_weight: ExtraWeightOption = None,
    normalization: Annotated[
        str | None, typer.Option(help="Score normalisation for convex fusion: zscore, minmax.")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Where built collections are cached.")
    ] = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    as_json: JsonOption = False,
) -> None:
    """Index DATA's corpus (cached) and score a retriever on its queries."""
    # ranx (and numba) take seconds to import: only `eval` pays for them.
    from seoga.evaluate.retrieval import evaluate_retrieval

    chosen = given_options(
        embedder=embedder,
        extra_embedders=extra_embedder,
        analyzer=analyzer,
        chunk_tokens=chunk_tokens,
    )
    if retriever == "bm25" and "embedder" not in chosen:
        chosen["embedder"] = None
    settings = CollectionSettings(**chosen)
    fusion_settings = replace(
        settings.fusion,
        **given_options(
            method=fusion,
            dense_weight=dense_weight,
            extra_weight=extra_weight,
            normalization=normalization,
        ),
    )
    executor = make_executor(workers, dask)
    try:
        metrics = evaluate_retrieval(
            data,
            retriever,
            settings=settings,
            fusion=fusion_settings,
            cache_dir=cache_dir,
            show_progress=True,
            executor=executor,
        )
    finally:
        executor.close()
    title = f"{metrics['dataset']} · {metrics['retriever']}"
    report_metrics(metrics, title, TABLE_COLUMNS, as_json=as_json, out=output)


@app.command("sts")
def sts_command(
    data: Annotated[
        Path, typer.Argument(help="Scored pairs: KorSTS / STS-B files, or s1, s2, score rows.")
    ],
    model: Annotated[
        str, typer.Option(help="Model name or folder (e.g. a `seoga train` output).")
    ] = "multilingual-e5-small",
    seed: Annotated[int, typer.Option(help="Recorded with the result.")] = 0,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the result as JSON here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Spearman ×100 of a model's cosine similarities against gold similarity scores."""
    from seoga.evaluate.sts import evaluate_sts

    result = evaluate_sts(data, model, seed=seed, show_progress=True)
    title, names = f"{result['dataset']} · {result['model']}", ["spearman", "pearson", "pairs"]
    report_metrics(result, title, names, as_json=as_json, out=output)
