"""Drafting a typed kind: generated until the object fits the kind's schema.

The provider is asked to hold generation to the schema (a grammar on llama.cpp,
``response_format`` on OpenAI-compatible servers, with the fallbacks the provider
has); whatever it did, the answer is validated here (``domain.typed``). An answer
that does not fit is asked for again with another seed, and after ``TYPED_TRIES``
the draft fails with the validation errors, so the task fails saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from placet.domain import typed
from placet.domain.fastinit import evolve
from placet.domain.ids import new_seed
from placet.domain.models import Usage
from placet.providers.base import CompletionRequest

TYPED_TRIES = 3  # answers asked for before the draft fails

Generate = Callable[[CompletionRequest], tuple[str, Usage]]


def generate_typed(
    generate: Generate, request: CompletionRequest
) -> tuple[str, Usage, CompletionRequest]:
    """The object's text (in ``typed.object_text``'s form), the tokens all tries used, and
    the request that made it; InvalidObjectError when no try fitted the schema."""
    schema = request.json_schema
    assert schema is not None, "a typed draft is asked for with its schema"
    why, prompt_tokens, completion_tokens = "", 0, 0
    for attempt in range(TYPED_TRIES):
        if attempt:  # another seed: the same one writes the same answer again
            request = evolve(request, seed=new_seed())
        text, usage = generate(request)
        prompt_tokens += usage.prompt_tokens
        completion_tokens += usage.completion_tokens
        try:
            value = typed.read_object(text, schema)
        except typed.InvalidObjectError as exc:
            why = exc.message
            continue
        return typed.object_text(value), Usage(prompt_tokens, completion_tokens), request
    raise typed.InvalidObjectError(
        f"after {TYPED_TRIES} tries the model's draft does not fit the kind's schema: {why}"
    )
