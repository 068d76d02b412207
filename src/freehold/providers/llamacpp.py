"""Local GGUF models served in-process by llama.cpp (the ``local`` extra: llama-cpp-python).

Each of the model's ``workers`` threads loads its own ``Llama`` (llama.cpp contexts are not
thread-safe) and takes requests from one fair FIFO queue (``worker_pool``); inference never
runs on the event loop. The chat template comes from the GGUF metadata
(``tokenizer.chat_template``), else the configured ``chat_format``.

Usage is counted by freehold as the tokens llama.cpp evaluated and sampled: prompt tokens
as templated, completion tokens as sampled (the end-of-sequence token included), the same
for whole and streamed answers. The same hook stops generation at the next token once the
client has gone away. ``compute_s`` is the measured generation time, for energy pricing.

llama.cpp's own output never reaches the console at the default log level, and freehold
never redirects the process's stdout/stderr to hide it (llama-cpp-python's ``verbose=False``
points file descriptors 1 and 2 at /dev/null while a model loads, which silently swallows
whatever any other thread prints meanwhile, uvicorn's start-up lines included; with two
workers loading at once it can even leave them pointing there). Instead ``prepare()`` sends
llama.cpp's log lines to the ``freehold.llama_cpp`` logger at DEBUG, and a failed load
quotes llama.cpp's error lines. On CPUs with AMX it also turns off llama.cpp's extra weight
buffers (AMX and repacked weights): its AMX matrix kernels crash the whole process on some
such machines (ggml-org/llama.cpp#20824; a quantized model's first prompt segfaults).

Sampling input that llama.cpp would crash on is refused with 400 before it gets there: a
``response_format`` schema whose grammar llama.cpp cannot parse (llama-cpp-python would
sample with a null grammar) and ``logit_bias`` token ids beyond the vocabulary.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import numpy as np
import numpy.typing as npt
from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar, json_schema_to_gbnf

from freehold.config.schema import ModelSettings
from freehold.core.errors import InvalidRequest
from freehold.core.types import ChatRequest, ChatResult, Chunk, Usage
from freehold.providers import llamacpp_wire as wire
from freehold.providers.http import ClientPool
from freehold.providers.worker_pool import Job, WorkerPool


class TokenMeter:
    """A llama.cpp stopping criterion that counts instead of stopping, unless cancelled.

    llama.cpp calls it after sampling each token with the context before that token (so the
    lengths run prompt, prompt + 1, …), and once more at the end with the whole context,
    which adds no length: counting the calls that lengthen the context counts the sampled
    tokens exactly."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled
        self.prompt_tokens: int | None = None
        self.sampled = 0
        self._longest = -1

    def __call__(self, input_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]) -> bool:
        length = len(input_ids)
        if self.prompt_tokens is None:
            self.prompt_tokens = length
        if length > self._longest:
            self._longest = length
            self.sampled += 1
        return self.cancelled.is_set()

    def usage(self, fallback: dict[str, Any] | None, seconds: float) -> Usage:
        prompt = self.prompt_tokens
        if prompt is None:  # nothing was sampled: take llama.cpp's own count
            prompt = int((fallback or {}).get("prompt_tokens", 0))
        return Usage(prompt, self.sampled, compute_s=seconds)


class MeteredLlama(llama_cpp.Llama):
    """``Llama`` whose completions run under the current request's TokenMeter."""

    meter: TokenMeter | None = None

    def create_completion(self, *args: Any, **kwargs: Any) -> Any:
        if self.meter is not None:
            criteria = llama_cpp.StoppingCriteriaList([self.meter])
            criteria.extend(kwargs.get("stopping_criteria") or [])
            kwargs["stopping_criteria"] = criteria
        return super().create_completion(*args, **kwargs)


def load(settings: ModelSettings) -> MeteredLlama:
    """Load the GGUF; a template-less model falls back to the configured ``chat_format``.
    A file llama.cpp cannot load raises ValueError quoting llama.cpp's reasons."""
    assert settings.path is not None
    prepare()
    _LOG_STATE.errors = []
    try:
        llm = MeteredLlama(
            model_path=os.path.expanduser(settings.path),
            n_ctx=settings.n_ctx,
            n_threads=settings.threads or os.cpu_count() or 1,
            n_gpu_layers=settings.n_gpu_layers,
            verbose=False,
        )
    except ValueError as exc:
        reasons = "; ".join(_LOG_STATE.errors[-3:])
        raise ValueError(f"{exc} ({reasons})" if reasons else str(exc)) from None
    finally:
        _LOG_STATE.errors = None
    if settings.chat_format and "tokenizer.chat_template" not in llm.metadata:
        llm.chat_format = settings.chat_format
    return llm


# -- llama.cpp's output -------------------------------------------------------------------
LOG = logging.getLogger("freehold.llama_cpp")
_GGML_LOG_ERROR, _GGML_LOG_CONT = 4, 5  # ggml.h: enum ggml_log_level


class _LogState(threading.local):
    def __init__(self) -> None:
        self.partial = ""  # a line llama.cpp has not finished yet (it logs in pieces)
        self.level = 0
        self.errors: list[str] | None = None  # collecting while this thread loads a model


_LOG_STATE = _LogState()


def _on_log(level: int, text: bytes | None, user_data: ctypes.c_void_p) -> None:
    """llama.cpp's log, line by line, to ``freehold.llama_cpp`` at DEBUG (it may be called
    from llama.cpp's own threads: it must never raise)."""
    try:
        state = _LOG_STATE
        if level != _GGML_LOG_CONT:
            state.level = level
        state.partial += (text or b"").decode("utf-8", errors="replace")
        if not state.partial.endswith("\n"):
            return
        lines, state.partial = state.partial.splitlines(), ""
        for line in filter(None, (line.strip() for line in lines)):
            if state.level == _GGML_LOG_ERROR and state.errors is not None:
                state.errors.append(line)
            LOG.debug("%s", line)
    except Exception:  # pragma: no cover - a logging failure must not reach C
        pass


#: the C function pointer handed to llama.cpp (kept alive here for the process's life)
_ON_LOG = llama_lib.llama_log_callback(_on_log)


class _KeepStreams:
    """Stands in for llama-cpp-python's ``suppress_stdout_stderr``: redirects nothing."""

    def __init__(self, disable: bool = True) -> None:
        pass

    def __enter__(self) -> _KeepStreams:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_prepared = False
_prepare_lock = threading.Lock()
#: llama-cpp-python's modules that silence the process while loading unless verbose.
_SILENCING_MODULES = ("llama_cpp.llama", "llama_cpp._internals", "llama_cpp.llama_chat_format")


def has_amx() -> bool:
    """Whether this llama.cpp build runs AMX kernels on this CPU."""
    return "AMX_INT8 = 1" in llama_lib.llama_print_system_info().decode(errors="replace")


def prepare() -> None:
    """Set llama.cpp up for a server, once per process: its log lines go to logging, it
    never redirects stdout/stderr, and on AMX CPUs its extra weight buffers are off."""
    global _prepared
    with _prepare_lock:
        if _prepared:
            return
        llama_lib.llama_log_set(_ON_LOG, ctypes.c_void_p(0))
        for name in _SILENCING_MODULES:
            module = sys.modules.get(name) or importlib.import_module(name)
            if "suppress_stdout_stderr" in vars(module):
                vars(module)["suppress_stdout_stderr"] = _KeepStreams
        if has_amx():
            _without_extra_buffers()
        _prepared = True


def _without_extra_buffers() -> None:
    """Make every model load with ``use_extra_bufts`` off (llama.cpp's ``--no-repack``)."""
    defaults = llama_lib.llama_model_default_params

    def model_params() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    llama_lib.llama_model_default_params = model_params
    LOG.debug("AMX CPU: llama.cpp's extra weight buffers (AMX, repacking) are turned off")


@dataclass(frozen=True, slots=True)
class _Done:
    usage: Usage
    result: dict[str, Any] | None = None


#: Tokens a chat template adds per message at most, for the context-window check.
TEMPLATE_TOKENS_PER_MESSAGE = 8


def _check_context(llm: MeteredLlama, messages: list[dict[str, Any]]) -> None:
    """Refuse (400) a prompt that cannot fit the context window, before llama.cpp fails on
    it less clearly: its messages' tokens plus the template's few per message."""
    needed = sum(
        len(llm.tokenize(str(m.get("content") or "").encode(), add_bos=False, special=False))
        + TEMPLATE_TOKENS_PER_MESSAGE
        for m in messages
    )
    window = llm.n_ctx()
    if needed >= window:
        raise InvalidRequest(
            f"The prompt needs about {needed} tokens; this model's context window is "
            f"{window} tokens (n_ctx).",
            param="messages",
            code="context_length_exceeded",
        )


def _relay(output: Iterator[Any], job: Job[MeteredLlama]) -> None:
    """Hand each chunk to the loop as llama.cpp makes it; stop when the client has gone."""
    try:
        for piece in output:
            job.emit(piece)
            if job.cancelled.is_set():
                break
    finally:
        close = getattr(output, "close", None)
        if close is not None:
            close()


#: a grammar rule with nothing on its right: what an empty ``enum``/``anyOf`` becomes
_EMPTY_RULE = re.compile(r"^[\w-]+ ::= *$", re.MULTILINE)


def grammar_for(llm: MeteredLlama, response_format: dict[str, Any]) -> LlamaGrammar:
    """The llama.cpp grammar for a ``json_object`` format (any JSON object, or one that
    follows its ``schema``), checked by llama.cpp's own parser first: given a grammar it
    cannot parse, llama-cpp-python would sample with a null grammar and crash the process.
    A schema that cannot be followed is a 400."""
    schema = response_format.get("schema")
    if schema is None:
        text = JSON_GBNF
    else:
        try:
            text = json_schema_to_gbnf(json.dumps(schema))
        except Exception as exc:  # the converter's errors are many and unnamed
            raise _unfollowable(f"{type(exc).__name__}: {exc}") from None
        if _EMPTY_RULE.search(text):
            raise _unfollowable("it allows no value at all (an empty enum, anyOf or oneOf?)")
    vocabulary = llama_lib.llama_model_get_vocab(llm.model)
    sampler = llama_lib.llama_sampler_init_grammar(vocabulary, text.encode(), b"root")
    if not sampler:
        raise _unfollowable("llama.cpp cannot parse the grammar made from it")
    llama_lib.llama_sampler_free(sampler)
    return LlamaGrammar.from_string(text, verbose=False)


def _unfollowable(reason: str) -> InvalidRequest:
    return InvalidRequest(
        f"response_format: this JSON schema cannot be followed by a local model: {reason}"[:500],
        param="response_format",
    )


def _generate(llm: MeteredLlama, job: Job[MeteredLlama], kwargs: dict[str, Any]) -> None:
    """Run one chat completion in a worker thread, emitting chunks (stream) and a _Done."""
    _check_context(llm, kwargs["messages"])
    if "logit_bias" in kwargs:
        wire.check_tokens(kwargs["logit_bias"], llm.n_vocab())
    response_format = kwargs.pop("response_format", None)
    if response_format is not None:
        kwargs["grammar"] = grammar_for(llm, response_format)
    meter = TokenMeter(job.cancelled)
    llm.meter = meter
    started = time.perf_counter()
    result: dict[str, Any] | None = None
    try:
        output: Any = llm.create_chat_completion(**kwargs)
        if kwargs.get("stream"):
            _relay(output, job)
        else:
            result = dict(output)
    except ValueError as exc:
        if "exceed context window" in str(exc):  # the template pushed it over
            raise InvalidRequest(
                str(exc), param="messages", code="context_length_exceeded"
            ) from None
        raise
    finally:
        llm.meter = None
    seconds = time.perf_counter() - started
    usage = meter.usage(result.get("usage") if result else None, seconds)
    job.emit(_Done(usage, result))


class LlamaCppProvider:
    def __init__(self, settings: ModelSettings, pool: ClientPool) -> None:
        self._name = settings.name
        self._default_max_tokens = settings.default_max_tokens
        self._workers: WorkerPool[MeteredLlama] = WorkerPool(
            settings.name,
            lambda: load(settings),
            workers=settings.workers,
            max_queue=settings.max_queue,
        )
        self._workers.start()

    def _submit(self, request: ChatRequest, *, stream: bool) -> Job[MeteredLlama]:
        kwargs = wire.chat_kwargs(request, self._default_max_tokens)
        kwargs["stream"] = stream
        return self._workers.submit(lambda llm, job: _generate(llm, job, kwargs))

    async def complete(self, request: ChatRequest) -> ChatResult:
        job = self._submit(request, stream=False)
        async for item in job.results():
            if isinstance(item, _Done) and item.result is not None:
                return ChatResult(wire.answer(item.result, self._name, item.usage), item.usage)
        raise InvalidRequest("the local model produced no answer")  # pragma: no cover

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        job = self._submit(request, stream=True)
        completion_id, created = None, int(time.time())
        async for item in job.results():
            if isinstance(item, _Done):
                yield Chunk(
                    wire.usage_chunk(completion_id, created, self._name, item.usage), item.usage
                )
                return
            assert isinstance(item, dict)
            completion_id, created = item.get("id"), item.get("created", created)
            yield Chunk(wire.chunk(item, self._name))

    async def aclose(self) -> None:
        self._workers.close()
