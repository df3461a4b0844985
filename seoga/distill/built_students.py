"""Students of another architecture than the teacher's: ALBERT-style, or any Hugging Face config.

ALBERT (Lan et al. 2020) factorises the token embeddings (V×E, then E→H, with E < H) and shares
layers across depth. For seoga that is a size lever, not a speed one: shared layers still run
once per depth. Transformers' AlbertModel shares whole layers in groups (attention and
feed-forward together), so `share_layers` is "all" (one group, ALBERT's default), "none" (a
group per layer) or a number of groups; sharing attention alone is not an ALBERT folder and is
refused. The student starts warm: the factorisation is the teacher's embedding matrix cut to
its top E singular directions, and each group's layer is the teacher's layer it stands for.

Both kinds keep the teacher's tokenizer, pooling and normalisation, and are written as normal
sentence-transformers folders.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seoga.errors import InputError

SHARE_CHOICES = ("all", "none")
# Models whose position ids start after the padding id (RoBERTa's scheme); ALBERT starts at 0.
OFFSET_POSITIONS = ("xlm-roberta", "roberta", "camembert")
BERT_LIKE = ("bert", "xlm-roberta", "roberta", "camembert")


def _groups(share_layers: str, layers: int) -> int:
    if share_layers == "all":
        return 1
    if share_layers == "none":
        return layers
    if (
        share_layers.isdigit()
        and 1 <= int(share_layers) <= layers
        and layers % int(share_layers) == 0
    ):
        return int(share_layers)
    raise InputError(
        f"--share-layers is all, none or a number of layer groups dividing {layers}; got "
        f"{share_layers!r} (ALBERT shares whole layers: attention alone cannot be shared)."
    )


def _as_student(teacher: Any, backbone: nn.Module) -> Any:
    """A sentence-transformers model: `backbone` with the teacher's tokenizer and later modules."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Transformer

    with tempfile.TemporaryDirectory() as folder:
        backbone.save_pretrained(folder)
        teacher.tokenizer.save_pretrained(folder)
        transformer = Transformer(folder, max_seq_length=teacher.max_seq_length)
    modules = [transformer, *list(teacher)[1:]]
    return SentenceTransformer(modules=modules, prompts=dict(teacher.prompts))


def fresh_student(teacher: Any, config_path: Path) -> Any:
    """A randomly initialised student from a Hugging Face config (a file or a folder)."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(config_path))
    hidden = teacher[0].auto_model.config.hidden_size
    if config.hidden_size != hidden:
        raise InputError(
            f"the student's hidden size ({config.hidden_size}) must equal the teacher's "
            f"({hidden}): its vectors are compared directly."
        )
    config.vocab_size = len(teacher.tokenizer)
    return _as_student(teacher, AutoModel.from_config(config))


def _factorise(weight: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(V×E, E×H) factors of a V×H matrix: its best rank-E approximation."""
    left, values, right = torch.linalg.svd(weight.float(), full_matrices=False)
    return left[:, :size] * values[:size], right[:size]


def _copy_layer(target: nn.Module, source: nn.Module) -> None:
    """A BERT-style layer's weights into an ALBERT layer (the same maths, other names)."""
    pairs = {
        target.attention.query: source.attention.self.query,
        target.attention.key: source.attention.self.key,
        target.attention.value: source.attention.self.value,
        target.attention.dense: source.attention.output.dense,
        target.attention.LayerNorm: source.attention.output.LayerNorm,
        target.ffn: source.intermediate.dense,
        target.ffn_output: source.output.dense,
        target.full_layer_layer_norm: source.output.LayerNorm,
    }
    for mine, theirs in pairs.items():
        mine.load_state_dict(theirs.state_dict())


def albert_student(teacher: Any, keep: list[int], embedding_size: int, share_layers: str) -> Any:
    """An ALBERT-style student as deep as `keep`, initialised from the teacher."""
    from transformers import AlbertConfig, AlbertModel

    source = teacher[0].auto_model
    config = source.config
    if config.model_type not in BERT_LIKE:
        raise InputError(
            f"ALBERT students are made from BERT-style teachers, not {config.model_type}."
        )
    if not 0 < embedding_size < config.hidden_size:
        raise InputError(
            f"--embedding-size must be between 1 and the hidden size ({config.hidden_size}) "
            f"to factorise; got {embedding_size}."
        )
    groups = _groups(share_layers, len(keep))
    offset = config.pad_token_id + 1 if config.model_type in OFFSET_POSITIONS else 0
    positions = config.max_position_embeddings - offset
    albert_config = AlbertConfig(
        vocab_size=config.vocab_size,
        embedding_size=embedding_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=len(keep),
        num_hidden_groups=groups,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        inner_group_num=1,
        hidden_act=config.hidden_act,
        hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob,
        max_position_embeddings=positions,
        type_vocab_size=config.type_vocab_size,
        layer_norm_eps=config.layer_norm_eps,
        pad_token_id=config.pad_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
    )
    student = AlbertModel(albert_config)
    words, mapping = _factorise(source.embeddings.word_embeddings.weight.data, embedding_size)
    with torch.no_grad():
        student.embeddings.word_embeddings.weight.copy_(words)
        # Positions and types move to the same E-dimensional basis as the words.
        teacher_positions = source.embeddings.position_embeddings.weight[offset:]
        student.embeddings.position_embeddings.weight.copy_(teacher_positions @ mapping.T)
        types = source.embeddings.token_type_embeddings.weight
        student.embeddings.token_type_embeddings.weight.copy_(types @ mapping.T)
        student.encoder.embedding_hidden_mapping_in.weight.copy_(mapping.T)
        student.encoder.embedding_hidden_mapping_in.bias.zero_()
    per_group = len(keep) // groups
    for index, group in enumerate(student.encoder.albert_layer_groups):
        # A group stands for its run of kept layers; it starts as the last of them.
        teacher_layer = keep[(index + 1) * per_group - 1]
        _copy_layer(group.albert_layers[0], source.encoder.layer[teacher_layer - 1])
    return _as_student(teacher, student)
