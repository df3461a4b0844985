"""Answers as the API shows them: passages with their public ids, and the stream of a reader's
answer (the passages found, the pieces as they are written, then the answer)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from queue import Queue
from typing import TYPE_CHECKING, Any

from seoga.errors import SeogaError

if TYPE_CHECKING:
    from seoga.answer.base import Answer
    from seoga.answer.pipeline import Asker
    from seoga.serve.gate import SearchGate
    from seoga.serve.public import PublicIds

STREAM_END = object()
ID_FIELDS = ("doc_id", "source")  # the fields of passages and related documents that name files


def public_passages(passages: list[dict[str, Any]], ids: PublicIds) -> list[dict[str, Any]]:
    return [ids.fields(passage, ID_FIELDS) for passage in passages]


def answer_payload(answer: Answer, ids: PublicIds) -> dict[str, Any]:
    payload = answer.to_dict()
    payload["seconds"] = round(payload["seconds"], 3)
    payload["passages"] = public_passages(payload["passages"], ids)
    return payload


def stream_answer(
    asker: Asker,
    question: str,
    *,
    gate: SearchGate,
    public_ids: Callable[[], PublicIds],
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs: the passages found, the answer's pieces as a generating reader
    writes them, then the answer; an error ends the stream with an error event. The work runs
    in a thread of its own, so that a slow client never holds a search slot."""
    pieces: Queue = Queue()

    def work() -> None:
        try:
            with gate:
                found = asker.passages(question)
                passages = public_passages([p.to_dict() for p in found], public_ids())
                pieces.put(("passages", {"passages": passages}))
                answer = asker.read(
                    question, found, on_token=lambda text: pieces.put(("token", {"text": text}))
                )
            pieces.put(("answer", answer_payload(answer, public_ids())))
        except SeogaError as error:
            pieces.put(("error", {"detail": str(error)}))
        finally:
            pieces.put(STREAM_END)

    threading.Thread(target=work, name="seoga-ask", daemon=True).start()
    while (item := pieces.get()) is not STREAM_END:
        yield item
