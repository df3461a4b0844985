"""SQuAD-format question-answering data (SQuAD v1.1, KorQuAD v1): read and check it."""

import json
from dataclasses import dataclass
from pathlib import Path

from seoga.errors import InputError


@dataclass(frozen=True)
class QAExample:
    """One question over one context; `answer_start` is the first answer's character offset."""

    qid: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_start: int


@dataclass
class SquadFile:
    examples: list[QAExample]
    skipped: list[str]  # why questions could not be used, "file: qid: reason"


def read_squad(path: str | Path) -> SquadFile:
    """Examples of a SQuAD JSON file; unusable questions are listed in `skipped`, not raised.

    A wrong `answer_start` is repaired when the answer text occurs in the context.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(f"{path} does not exist; give a SQuAD-format JSON file.") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path} is not readable JSON: {error}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise InputError(
            f'{path} is not SQuAD format: expected {{"data": [{{"title", "paragraphs": '
            '[{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}'
        )
    found = SquadFile([], [])
    for article_number, article in enumerate(payload["data"]):
        where = f"{path}: data[{article_number}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise InputError(f"{where} has no list of paragraphs.")
        for paragraph in article["paragraphs"]:
            _read_paragraph(paragraph, str(article.get("title", "")), where, found)
    if not found.examples:
        raise InputError(f"{path} holds no usable question with an answer.")
    return found


def _read_paragraph(paragraph: dict, title: str, where: str, found: SquadFile) -> None:
    context = paragraph.get("context") if isinstance(paragraph, dict) else None
    if not isinstance(context, str) or not isinstance(paragraph.get("qas"), list):
        raise InputError(f"{where}: a paragraph lacks a context string or a qas list.")
    for qa in paragraph["qas"]:
        qid = str(qa.get("id", "?"))
        answers = [a for a in qa.get("answers", []) if isinstance(a, dict) and a.get("text")]
        question = qa.get("question")
        if not isinstance(question, str) or not question.strip() or not answers:
            found.skipped.append(f"{where}: {qid}: no question text or no answer")
            continue
        first = answers[0]
        text = first["text"]
        start = int(first.get("answer_start", -1))
        if context[start : start + len(text)] != text:
            start = context.find(text)
        if start < 0:
            found.skipped.append(f"{where}: {qid}: answer {text!r} is not in the context")
            continue
        found.examples.append(
            QAExample(
                qid=qid,
                title=title,
                question=question.strip(),
                context=context,
                answers=tuple(a["text"] for a in answers),
                answer_start=start,
            )
        )
