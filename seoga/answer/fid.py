"""Fusion-in-Decoder (Izacard & Grave 2021) over any Hugging Face encoder–decoder.

Each (question, passage) pair is encoded on its own by the encoder; the encoder states of all
passages are laid end to end, and one decoder attends over all of them while it generates the
answer. Passages missing from a batch (a question with fewer passages than the batch's widest)
are padding: they are never encoded, their states are zero and their attention mask is zero, so
they cannot change the answer.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seoga.answer.base import Answer, Passage, Reader, TokenCallback, cited_numbers
from seoga.models.folders import read_model_config

KIND = "fid"
DEFAULT_PASSAGES = 5
DEFAULT_PASSAGE_TOKENS = 192
DEFAULT_ANSWER_TOKENS = 24
DEFAULT_BEAMS = 4


def passage_input(question: str, title: str, text: str) -> str:
    """The text the encoder reads for one passage, as in the FiD paper."""
    return f"question: {question} title: {title} context: {text}"


def load_seq2seq(location: str):
    """An encoder–decoder model and its tokenizer from a folder or hub id.

    A plain encoder (BERT-like, e.g. multilingual-e5-small) is warm-started into an
    encoder–decoder (Rothe et al. 2020): encoder and decoder both start from its weights, the
    decoder's cross-attention starts random.
    """
    from transformers import (
        AutoConfig,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
        EncoderDecoderModel,
    )

    tokenizer = AutoTokenizer.from_pretrained(location)
    config = AutoConfig.from_pretrained(location)
    if getattr(config, "is_encoder_decoder", False):
        model = AutoModelForSeq2SeqLM.from_pretrained(location)
    else:
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(location, location)
        start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else None
        model.config.decoder_start_token_id = start if start is not None else tokenizer.bos_token_id
        model.config.eos_token_id = (
            tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        )
        model.config.pad_token_id = tokenizer.pad_token_id
        model.config.vocab_size = model.config.decoder.vocab_size
        model.generation_config.decoder_start_token_id = model.config.decoder_start_token_id
        model.generation_config.eos_token_id = model.config.eos_token_id
        model.generation_config.pad_token_id = model.config.pad_token_id
    return model, tokenizer


class FusionInDecoder:
    """The FiD computation around one seq2seq model: batching, fused encoding, loss, generation."""

    def __init__(
        self,
        model,
        tokenizer,
        *,
        max_passages: int = DEFAULT_PASSAGES,
        passage_tokens: int = DEFAULT_PASSAGE_TOKENS,
        answer_tokens: int = DEFAULT_ANSWER_TOKENS,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_passages = max_passages
        self.passage_tokens = passage_tokens
        self.answer_tokens = answer_tokens

    def batch(
        self,
        questions: Sequence[str],
        passage_lists: Sequence[Sequence[tuple[str, str]]],
        *,
        width: int | None = None,
    ) -> dict[str, Any]:
        """input_ids and attention_mask of shape (questions, passages, tokens).

        Each question keeps its first `max_passages` (title, text) pairs; questions with fewer
        get padding passages (all pad ids, mask 0) up to `width` (default: the widest).
        """
        import torch

        kept = [list(passages)[: self.max_passages] for passages in passage_lists]
        width = width or max(1, max(len(passages) for passages in kept))
        texts = [
            passage_input(question, title, text)
            for question, passages in zip(questions, kept, strict=True)
            for title, text in passages
        ]
        encoded = self.tokenizer(
            texts or [""],
            truncation=True,
            max_length=self.passage_tokens,
            padding=True,
            return_tensors="pt",
        )
        length = encoded["input_ids"].shape[1]
        ids = torch.full(
            (len(questions), width, length), self.tokenizer.pad_token_id, dtype=torch.long
        )
        mask = torch.zeros((len(questions), width, length), dtype=torch.long)
        row = 0
        for index, passages in enumerate(kept):
            count = len(passages)
            ids[index, :count] = encoded["input_ids"][row : row + count]
            mask[index, :count] = encoded["attention_mask"][row : row + count]
            row += count
        return {"input_ids": ids, "attention_mask": mask}

    def encode(self, input_ids, attention_mask):
        """Encode each passage separately; return the states laid end to end and their mask."""
        from transformers.modeling_outputs import BaseModelOutput

        questions, passages, length = input_ids.shape
        flat_ids = input_ids.reshape(questions * passages, length)
        flat_mask = attention_mask.reshape(questions * passages, length)
        live = flat_mask.any(dim=1)
        states = self.model.get_encoder()(
            input_ids=flat_ids[live], attention_mask=flat_mask[live]
        ).last_hidden_state
        hidden = states.new_zeros((questions * passages, length, states.shape[-1]))
        hidden[live] = states
        # Padding tokens (and padding passages) carry zeros: masked, and no NaN can leak through.
        hidden = hidden * flat_mask.unsqueeze(-1).to(hidden.dtype)
        fused = hidden.reshape(questions, passages * length, hidden.shape[-1])
        return BaseModelOutput(last_hidden_state=fused), flat_mask.reshape(
            questions, passages * length
        )

    def loss(self, input_ids, attention_mask, labels):
        encoded, mask = self.encode(input_ids, attention_mask)
        return self.model(encoder_outputs=encoded, attention_mask=mask, labels=labels).loss

    def logits(self, input_ids, attention_mask, decoder_input_ids):
        encoded, mask = self.encode(input_ids, attention_mask)
        return self.model(
            encoder_outputs=encoded, attention_mask=mask, decoder_input_ids=decoder_input_ids
        ).logits

    def labels(self, answers: Sequence[str]):
        """Target ids for the answers; padding becomes -100 so the loss ignores it."""
        encoded = self.tokenizer(
            list(answers),
            truncation=True,
            max_length=self.answer_tokens,
            padding=True,
            return_tensors="pt",
        )
        labels = encoded["input_ids"]
        labels[encoded["attention_mask"] == 0] = -100
        return labels

    def generate(
        self, input_ids, attention_mask, *, beams: int = DEFAULT_BEAMS
    ) -> list[list[tuple[str, float]]]:
        """Per question, the beams' (answer, length-normalised log-probability), best first."""
        import torch

        encoded, mask = self.encode(input_ids, attention_mask)
        beams = max(2, beams)
        with torch.inference_mode():
            output = self.model.generate(
                encoder_outputs=encoded,
                attention_mask=mask,
                max_new_tokens=self.answer_tokens,
                num_beams=beams,
                num_return_sequences=beams,
                output_scores=True,
                return_dict_in_generate=True,
                do_sample=False,
            )
        texts = self.tokenizer.batch_decode(output.sequences, skip_special_tokens=True)
        scores = output.sequences_scores.tolist()
        return [
            [(texts[q * beams + b].strip(), scores[q * beams + b]) for b in range(beams)]
            for q in range(input_ids.shape[0])
        ]


class FidReader(Reader):
    """Generates an answer from all passages at once with a trained FiD model folder."""

    name = "fid"

    def __init__(self, path: str | Path, *, beams: int = DEFAULT_BEAMS) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.path = Path(path).resolve()
        config = read_model_config(self.path, KIND)
        model = AutoModelForSeq2SeqLM.from_pretrained(self.path).eval()
        self.fid = FusionInDecoder(
            model,
            AutoTokenizer.from_pretrained(self.path),
            max_passages=config.get("max_passages", DEFAULT_PASSAGES),
            passage_tokens=config.get("passage_tokens", DEFAULT_PASSAGE_TOKENS),
            answer_tokens=config.get("answer_tokens", DEFAULT_ANSWER_TOKENS),
        )
        self.beams = beams

    @property
    def calibration_key(self) -> str:
        return f"fid:{self.path}"

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        if not passages:
            return self.no_passages(question)
        used = list(passages)[: self.fid.max_passages]
        batch = self.fid.batch([question], [[(p.title, p.text) for p in used]])
        beams = self.fid.generate(batch["input_ids"], batch["attention_mask"], beams=self.beams)[0]
        # Beams that decode to the same text compete once, with their best score.
        distinct: dict[str, float] = {}
        for text, score in beams:
            distinct[text] = max(score, distinct.get(text, score))
        text = beams[0][0]
        scores = [distinct.pop(text), *sorted(distinct.values(), reverse=True)]
        if on_token is not None:
            on_token(text)
        return self.answer(
            text, cited_numbers(text, used) or [p.number for p in used], scores, passages
        )
