"""Drafting a revision from the best of several candidates (``revision_candidates``).

Each candidate is one sampling of the same revision request with its own seed;
the one that shows most of what the reviewer asked (``domain.revisions``) is the
draft, saved with its own seed, so the same request and seed write it again.
The tokens of every candidate are counted: they were all spent.
"""

from __future__ import annotations

from collections.abc import Callable

from placet.domain import revisions
from placet.domain.fastinit import evolve
from placet.domain.ids import new_seed
from placet.domain.models import Usage
from placet.providers.base import CompletionRequest

Generate = Callable[[CompletionRequest], tuple[str, Usage]]
Restart = Callable[[str], None]  # drop what was streamed; show this text instead


def generate_revision(
    generate: Generate,
    request: CompletionRequest,
    feedback: str,
    candidates: int,
    restart: Restart,
) -> tuple[str, Usage, CompletionRequest]:
    """The chosen candidate's text, the tokens all candidates used, and its request."""
    made: list[tuple[str, CompletionRequest]] = []
    prompt_tokens = completion_tokens = 0
    for number in range(max(1, candidates)):
        if number:  # another seed: the same one writes the same answer again
            request = evolve(request, seed=new_seed())
            restart("")
        text, usage = generate(request)
        prompt_tokens += usage.prompt_tokens
        completion_tokens += usage.completion_tokens
        made.append((text, request))
    chosen = revisions.best([text for text, _ in made], feedback)
    if chosen != len(made) - 1:  # the stream showed the last; the draft is another
        restart(made[chosen][0])
    text, request = made[chosen]
    return text, Usage(prompt_tokens, completion_tokens), request
