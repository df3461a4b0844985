"""`seoga search`."""

from dataclasses import replace
from typing import Annotated

import typer

from seoga.cli.options import (
    Blend,
    CollectionOption,
    DenseWeightOption,
    ExtraWeightOption,
    FusionOption,
    JsonOption,
    Readers,
    given_options,
)
from seoga.cli.output import print_json, print_results
from seoga.collection import Collection
from seoga.search.filters import DocumentFilter

DEFAULT_RESULTS = 10


def search_command(
    query: Annotated[str, typer.Argument(help="What to look for, in Korean or English.")],
    collection: CollectionOption,
    mode: Annotated[str | None, typer.Option(help="hybrid (default), bm25 or dense.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many documents to show.")] = DEFAULT_RESULTS,
    fusion: FusionOption = None,
    dense_weight: DenseWeightOption = None,
    extra_weight: ExtraWeightOption = None,
    related: Annotated[
        int, typer.Option("--related", help="Show this many related documents per result.")
    ] = 0,
    interactions: Readers = None,
    blend: Blend = None,
    source: Annotated[
        str | None, typer.Option(help="Only documents whose source starts with this.")
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="Only documents whose metadata has KEY:VALUE (repeatable), e.g. author:홍길동.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Search a collection: hybrid BM25 + dense by default, fused as the collection stores it
    unless fusion options are given (this search only)."""
    opened = Collection.open(collection)
    given = given_options(method=fusion, dense_weight=dense_weight, extra_weight=extra_weight)
    opened.settings.fusion = replace(opened.settings.fusion, **given)
    where = DocumentFilter.parse(source, filters or [])
    results = opened.search(query, k=k, mode=mode, where=where)
    lists = {}
    if related > 0:
        from seoga.recommend.related import open_readers, related_documents

        finder = related_documents(opened, open_readers(interactions), blend)
        lists = {result.doc_id: finder.related(result.doc_id, related) for result in results}
    if as_json:
        print_json(
            [
                result.to_dict()
                | ({"related": [hit.to_dict() for hit in lists[result.doc_id]]} if lists else {})
                for result in results
            ]
        )
    else:
        print_results(results, lists)


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
