"""`seoga index`, `seoga remove` and `seoga info`."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import (
    CollectionOption,
    DaskOption,
    DenseWeightOption,
    ExtraWeightOption,
    FusionOption,
    JsonOption,
    OcrLanguagesOption,
    OcrOption,
    WorkersOption,
    given_options,
)
from seoga.cli.output import console, print_json, print_report
from seoga.collection import Collection
from seoga.index.generations import MANIFEST_NAME
from seoga.parallel.executors import make_executor
from seoga.parallel.pipeline import DEFAULT_BATCH_FILES
from seoga.settings import CollectionSettings, settings_changes
from seoga.text.loaders import DEFAULT_OCR_LANGUAGES, ReadOptions

EXIT_NOTHING_INDEXED = 1


def index_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to index.")],
    collection: CollectionOption,
    embedder: Annotated[
        str | None,
        typer.Option(help="Bi-encoder: a name, a local path or a hub id; 'none' for BM25 only."),
    ] = None,
    extra_embedder: Annotated[
        list[str] | None,
        typer.Option(
            help="A further bi-encoder for the texts it reads (repeatable); 'none' for none. "
            "Default: all-MiniLM-L6-v2 for English beside the default embedder."
        ),
    ] = None,
    analyzer: Annotated[
        str | None, typer.Option(help="BM25 analyzer: mixed, korean, english, bigram.")
    ] = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Chunk size in tokens.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Chunk overlap in tokens.")] = None,
    dense_index: Annotated[str | None, typer.Option(help="auto, flat or hnsw.")] = None,
    fusion: FusionOption = None,
    dense_weight: DenseWeightOption = None,
    extra_weight: ExtraWeightOption = None,
    prune: Annotated[
        bool, typer.Option(help="Remove files indexed earlier from these paths that are gone.")
    ] = False,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    batch_files: Annotated[
        int | None,
        typer.Option(
            help=f"Files per task (default: the workers share the files evenly, at most "
            f"{DEFAULT_BATCH_FILES} a task)."
        ),
    ] = None,
    ocr: OcrOption = "auto",
    ocr_languages: OcrLanguagesOption = DEFAULT_OCR_LANGUAGES,
    as_json: JsonOption = False,
) -> None:
    """Index files and folders; re-running it picks up new and changed files only.

    On an existing collection, another --embedder re-encodes every chunk with it (say, a model
    `seoga train embedder` made from this collection) and the fusion options replace the stored
    ones (say, weights `seoga tune` chose); the other settings are fixed.
    """
    fusion_given = given_options(
        method=fusion, dense_weight=dense_weight, extra_weight=extra_weight
    )
    if embedder and embedder != "none" and Path(embedder).exists():
        embedder = str(Path(embedder).resolve())  # a model folder, wherever seoga runs from
    chosen = given_options(
        embedder=embedder,
        extra_embedders=extra_embedder,
        analyzer=analyzer,
        chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap,
        dense_index=dense_index,
    )
    if (collection / MANIFEST_NAME).exists():
        target = Collection.open(collection)
        differing = settings_changes(target.settings, chosen, collection)
        if "embedder" in differing:
            encoded = target.change_embedder(chosen["embedder"], show_progress=not as_json)
            if not as_json:
                console.print(f"re-encoded {encoded} chunks with {chosen['embedder']}.")
        if fusion_given:
            target.set_fusion(replace(target.settings.fusion, **fusion_given))
    else:
        settings = CollectionSettings(**chosen)
        settings.fusion = replace(settings.fusion, **fusion_given)
        target = Collection.create(collection, settings)
    executor = make_executor(workers, dask)
    try:
        report = target.add(
            paths,
            prune=prune,
            show_progress=not as_json,
            executor=executor,
            batch_files=batch_files,
            read_options=ReadOptions(ocr=ocr, ocr_languages=ocr_languages),
        )
    finally:
        executor.close()
    if as_json:
        print_json(report.to_dict())
    else:
        print_report(report, str(collection))
    if report.nothing_indexed:
        raise typer.Exit(EXIT_NOTHING_INDEXED)


def remove_command(
    paths: Annotated[list[str], typer.Argument(help="Indexed files or folders to remove.")],
    collection: CollectionOption,
) -> None:
    """Remove files (or everything from under folders) from every index."""
    removed = Collection.open(collection).remove(paths)
    console.print(f"removed {len(removed)} files from {collection}.")


def info_command(collection: CollectionOption, as_json: JsonOption = False) -> None:
    """Show what a collection holds and how it was built."""
    stats = Collection.open(collection).stats()
    if as_json:
        print_json(stats)
        return
    counts = stats["counts"]
    console.print(
        f"{stats['path']}: {counts['files']} files, {counts['documents']} documents, "
        f"{counts['chunks']} chunks (seoga {stats['seoga_version']}, {stats['generation']})",
        highlight=False,
    )
    console.print(f"analyzer: {stats['analyzer']}", highlight=False)
    console.print(f"embedder: {stats['embedder']}", highlight=False)
    for extra in stats["extra_embedders"]:
        console.print(f"extra embedder: {extra}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("index")(index_command)
    app.command("remove")(remove_command)
    app.command("info")(info_command)
