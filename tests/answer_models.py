"""Tiny random models for the answer tests, built in code: a BERT encoder folder (for QA heads
and cross-encoders), a T5 encoder–decoder (FiD) and a Llama causal LM (in-context reader)."""

import string
from pathlib import Path

from tests.conftest import HANGUL_SAMPLE, SPECIAL_TOKENS, TINY_WORDS

HIDDEN = 32
LAYERS = 2
HEADS = 2
FFN = 64
POSITIONS = 512
CAUSAL_POSITIONS = 4096


def tiny_tokenizer(folder: Path):
    """A WordPiece tokenizer whose vocabulary covers every Latin letter, digit and some Hangul."""
    from transformers import BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    characters = sorted(set(string.ascii_lowercase + string.digits + HANGUL_SAMPLE + ".?,"))
    vocabulary = SPECIAL_TOKENS + TINY_WORDS + characters + [f"##{c}" for c in characters]
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    return BertTokenizerFast.from_pretrained(folder)


def _save_tiny(folder: Path, make_model) -> Path:
    """A random model from `make_model(tokenizer)` (seeded), saved with its tokenizer."""
    import torch

    tokenizer = tiny_tokenizer(folder)
    torch.manual_seed(0)
    make_model(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _tiny_bert_config(tokenizer, **extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=FFN,
        max_position_embeddings=POSITIONS,
        **extra,
    )


def build_tiny_bert(folder: Path) -> Path:
    from transformers import BertModel

    return _save_tiny(folder, lambda tokenizer: BertModel(_tiny_bert_config(tokenizer)))


def build_tiny_bert_classifier(folder: Path) -> Path:
    """A one-logit BertForSequenceClassification: a base that already is a cross-encoder."""
    from transformers import BertForSequenceClassification

    return _save_tiny(
        folder,
        lambda tokenizer: BertForSequenceClassification(_tiny_bert_config(tokenizer, num_labels=1)),
    )


def build_tiny_t5(folder: Path) -> Path:
    from transformers import T5Config, T5ForConditionalGeneration

    def make(tokenizer):
        config = T5Config(
            vocab_size=tokenizer.vocab_size,
            d_model=HIDDEN,
            d_kv=HIDDEN // HEADS,
            d_ff=FFN,
            num_layers=LAYERS,
            num_heads=HEADS,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.sep_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
        model = T5ForConditionalGeneration(config)
        model.generation_config.eos_token_id = tokenizer.sep_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.decoder_start_token_id = tokenizer.pad_token_id
        return model

    return _save_tiny(folder, make)


def build_tiny_causal_lm(folder: Path) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    def make(tokenizer):
        config = LlamaConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=HIDDEN,
            intermediate_size=FFN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            num_key_value_heads=HEADS,
            max_position_embeddings=CAUSAL_POSITIONS,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id,
        )
        return LlamaForCausalLM(config)

    return _save_tiny(folder, make)
