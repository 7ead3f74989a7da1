"""Drafting a revision from the best of several candidates (``revision_candidates``).

Each candidate is one sampling of the revision request with its own seed; the
one that shows most of what the reviewer asked (``domain.revisions``) is the
draft, saved with its own seed and messages, so they write it again. The last
candidate may be asked without the kind's worked examples (``plain``): a small
model copies an example's shape so faithfully that feedback asking for another
shape ("start with ...", "sign it as ...") is followed only without one. The
tokens of every candidate are counted: they were all spent.
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
    plain: list[dict[str, str]] | None = None,
) -> tuple[str, Usage, CompletionRequest]:
    """The chosen candidate's text, the tokens all candidates used, and its request."""
    made: list[tuple[str, CompletionRequest]] = []
    prompt_tokens = completion_tokens = 0
    count = max(1, candidates)
    for number in range(count):
        if number:  # another seed: the same one writes the same answer again
            request = evolve(request, seed=new_seed())
            restart("")
        if number and number == count - 1 and plain is not None:
            request = evolve(request, messages=plain)
        text, usage = generate(request)
        prompt_tokens += usage.prompt_tokens
        completion_tokens += usage.completion_tokens
        made.append((text, request))
    chosen = revisions.best([text for text, _ in made], feedback)
    if chosen != len(made) - 1:  # the stream showed the last; the draft is another
        restart(made[chosen][0])
    text, request = made[chosen]
    return text, Usage(prompt_tokens, completion_tokens), request
