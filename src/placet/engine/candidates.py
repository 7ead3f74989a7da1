"""Drafting from the best of several candidates (``draft_candidates``, ``revision_candidates``).

Each candidate is one sampling of the request with its own seed; ``choose`` says
which is the draft (``domain.revisions`` for a revision: the one that shows most
of what the reviewer asked; ``domain.defects`` for a first draft: the one with
the fewest plain defects). The draft is saved with its own seed and messages, so
they write it again. The last candidate may be asked with other messages
(``plain``: without the kind's worked examples, for a revision). The tokens of
every candidate are counted: they were all spent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from placet.domain.fastinit import evolve
from placet.domain.ids import new_seed
from placet.domain.models import Usage
from placet.providers.base import CompletionRequest

Generate = Callable[[CompletionRequest], tuple[str, Usage]]
Restart = Callable[[str, str], None]  # drop what was streamed; show this text; why
Choose = Callable[[Sequence[str]], int]  # the index of the candidate that is the draft


def generate_best(
    generate: Generate,
    request: CompletionRequest,
    candidates: int,
    choose: Choose,
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
            restart("", f"writing candidate {number + 1} of {count}")
        if number and number == count - 1 and plain is not None:
            request = evolve(request, messages=plain)
        text, usage = generate(request)
        prompt_tokens += usage.prompt_tokens
        completion_tokens += usage.completion_tokens
        made.append((text, request))
    chosen = choose([text for text, _ in made])
    if chosen != len(made) - 1:  # the stream showed the last; the draft is another
        restart(made[chosen][0], f"keeping candidate {chosen + 1} of {count}")
    text, request = made[chosen]
    return text, Usage(prompt_tokens, completion_tokens), request
