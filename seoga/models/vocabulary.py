"""Vocabulary trimming: keep the tokens a corpus (and a base Korean/English list) uses.

Most of a multilingual encoder's weights are its token embeddings (82 % of mE5-small: 250k
rows × 384), most of them for scripts a Korean/English collection never holds. Dropping the
rows nobody reads, and the pieces from the tokenizer, shrinks the model without retraining
(Ushio et al. 2023). On text whose pieces all survive the output is unchanged: a Unigram
tokenizer's best segmentation is still available and nothing better was added; WordPiece's
longest match at each step was a kept piece, and no longer piece exists. Other text falls back
to shorter pieces or the unknown token, as any tokenizer does with what it has not seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seoga.errors import InputError
from seoga.text.scripts import has_hangul

TRIMMABLE = ("Unigram", "WordPiece")
# Word-start and continuation marks of SentencePiece and WordPiece pieces.
PIECE_MARKS = ("▁", "##")
# Texts tokenised together while counting which pieces a corpus uses.
TOKENISE_BATCH = 1024
# A Roberta/Bert post-processor names its sep and cls tokens as [token, id].
NAMED_TOKEN = 2
# Ids the config names for special tokens, remapped with the vocabulary.
CONFIG_TOKEN_IDS = ("pad_token_id", "bos_token_id", "eos_token_id", "unk_token_id", "sep_token_id")


@dataclass(frozen=True)
class TrimReport:
    """How many pieces were kept, and why."""

    before: int
    after: int
    from_corpus: int
    from_base: int
    special: int

    def to_dict(self) -> dict[str, int]:
        return {
            "before": self.before,
            "after": self.after,
            "from_corpus": self.from_corpus,
            "from_base": self.from_base,
            "special": self.special,
        }


def _bare(piece: str) -> str:
    for mark in PIECE_MARKS:
        if piece.startswith(mark):
            return piece[len(mark) :]
    return piece


def in_base_list(piece: str) -> bool:
    """Pieces every Korean/English collection may need: Hangul, ASCII, or one character.

    Single characters of any script stay so that rare text falls back to characters rather
    than to the unknown token.
    """
    text = _bare(piece)
    if len(text) <= 1:
        return True
    return all(character.isascii() or has_hangul(character) for character in text)


def _pieces(model_json: dict[str, Any]) -> list[str]:
    kind = model_json["type"]
    if kind == "Unigram":
        return [piece for piece, _score in model_json["vocab"]]
    by_id = sorted(model_json["vocab"].items(), key=lambda item: item[1])
    return [piece for piece, _id in by_id]


def used_ids(tokenizer: Any, texts: Iterable[str]) -> set[int]:
    """Every token id the tokenizer gives for `texts`."""
    seen: set[int] = set()
    batch: list[str] = []

    def flush() -> None:
        for ids in tokenizer(batch, add_special_tokens=False, verbose=False)["input_ids"]:
            seen.update(ids)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) == TOKENISE_BATCH:
            flush()
    if batch:
        flush()
    return seen


def _remap_processor(processor: Any, mapping: dict[int, int]) -> Any:
    """A post-processor's JSON with its special-token ids remapped (Template, Roberta, Bert)."""
    if isinstance(processor, dict):
        out = {}
        for key, value in processor.items():
            if key == "ids" and isinstance(value, list):
                out[key] = [mapping[item] for item in value]
            elif key in ("sep", "cls") and isinstance(value, list) and len(value) == NAMED_TOKEN:
                out[key] = [value[0], mapping[value[1]]]
            else:
                out[key] = _remap_processor(value, mapping)
        return out
    if isinstance(processor, list):
        return [_remap_processor(item, mapping) for item in processor]
    return processor


def trimmed_tokenizer_json(tokenizer_json: dict[str, Any], keep: list[int]) -> dict[str, Any]:
    """The fast tokenizer's JSON with only the pieces `keep` (sorted old ids), renumbered."""
    mapping = {old: new for new, old in enumerate(keep)}
    result = json.loads(json.dumps(tokenizer_json))
    model_json = result["model"]
    if model_json["type"] == "Unigram":
        model_json["vocab"] = [model_json["vocab"][old] for old in keep]
        if model_json.get("unk_id") is not None:
            model_json["unk_id"] = mapping[model_json["unk_id"]]
    else:
        pieces = _pieces(model_json)
        model_json["vocab"] = {pieces[old]: new for new, old in enumerate(keep)}
    for token in result.get("added_tokens", []):
        token["id"] = mapping[token["id"]]
    if result.get("post_processor") is not None:
        result["post_processor"] = _remap_processor(result["post_processor"], mapping)
    return result


def trim_vocabulary(model: Any, texts: Iterable[str], *, base: bool = True) -> TrimReport:
    """Keep, in a sentence-transformers model, only the pieces `texts` use (and the base list).

    The tokenizer and the token embeddings change in place; special tokens are always kept.
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    transformer = model[0]
    tokenizer = transformer.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("vocabulary trimming needs a fast (Rust) tokenizer; this model has none.")
    tokenizer_json = json.loads(tokenizer.backend_tokenizer.to_str())
    kind = tokenizer_json["model"]["type"]
    if kind not in TRIMMABLE:
        raise InputError(
            f"seoga trims {' and '.join(TRIMMABLE)} vocabularies; this model's is {kind}."
        )
    pieces = _pieces(tokenizer_json["model"])
    special = set(tokenizer.all_special_ids) | {
        token["id"] for token in tokenizer_json.get("added_tokens", [])
    }
    from_corpus = used_ids(tokenizer, texts)
    from_base = (
        {index for index, piece in enumerate(pieces) if in_base_list(piece)} if base else set()
    )
    keep = sorted(special | from_corpus | from_base)
    backbone = transformer.auto_model
    embeddings = backbone.get_input_embeddings()
    if embeddings.num_embeddings < len(pieces):
        raise InputError("the tokenizer has more pieces than the model has token embeddings.")
    mapping = {old: new for new, old in enumerate(keep)}

    new_json = trimmed_tokenizer_json(tokenizer_json, keep)
    new_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(new_json)),
        model_max_length=tokenizer.model_max_length,
        padding_side=tokenizer.padding_side,
        **tokenizer.special_tokens_map,
    )
    rows = torch.tensor(keep, dtype=torch.long)
    padding = mapping.get(embeddings.padding_idx) if embeddings.padding_idx is not None else None
    trimmed = nn.Embedding(len(keep), embeddings.embedding_dim, padding_idx=padding)
    trimmed.weight.data = embeddings.weight.data[rows].clone()
    backbone.set_input_embeddings(trimmed)
    backbone.config.vocab_size = len(keep)
    for name in CONFIG_TOKEN_IDS:
        value = getattr(backbone.config, name, None)
        if isinstance(value, int) and value in mapping:
            setattr(backbone.config, name, mapping[value])
    transformer.processor = new_tokenizer
    return TrimReport(
        before=len(pieces),
        after=len(keep),
        from_corpus=len(from_corpus),
        from_base=len(from_base),
        special=len(special),
    )
