"""Local GGUF models served in-process by llama.cpp (the ``local`` extra: llama-cpp-python).

Each of the model's ``workers`` threads loads its own ``Llama`` (llama.cpp contexts are not
thread-safe) and takes requests from one fair FIFO queue (``worker_pool``); inference never
runs on the event loop. The chat template comes from the GGUF metadata
(``tokenizer.chat_template``), else the configured ``chat_format``.

Usage is counted by freehold as the tokens llama.cpp evaluated and sampled: prompt tokens
as templated, completion tokens as sampled (the end-of-sequence token included), the same
for whole and streamed answers. The same hook stops generation at the next token once the
client has gone away. ``compute_s`` is the measured generation time, for energy pricing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

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
    """Load the GGUF; a template-less model falls back to the configured ``chat_format``."""
    assert settings.path is not None
    llm = MeteredLlama(
        model_path=os.path.expanduser(settings.path),
        n_ctx=settings.n_ctx,
        n_threads=settings.threads or os.cpu_count() or 1,
        n_gpu_layers=settings.n_gpu_layers,
        verbose=False,
    )
    if settings.chat_format and "tokenizer.chat_template" not in llm.metadata:
        llm.chat_format = settings.chat_format
    return llm


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


def _generate(llm: MeteredLlama, job: Job[MeteredLlama], kwargs: dict[str, Any]) -> None:
    """Run one chat completion in a worker thread, emitting chunks (stream) and a _Done."""
    _check_context(llm, kwargs["messages"])
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
