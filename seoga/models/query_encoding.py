"""How a process encodes its queries: a runtime choice, not a collection setting (the index is
the same whatever it says)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryEncoding:
    """`int8`: queries run on dynamically quantised int8 copies of the models (about a third of
    the CPU per query, vectors at cosine ~0.997 to float32). `threads`: ONNX Runtime threads per
    query; None uses as many as PyTorch does. A server that answers several searches at once
    keeps the cores busy with one thread each, without threads contending for them."""

    int8: bool = False
    threads: int | None = None


DEFAULT_QUERY_ENCODING = QueryEncoding()
