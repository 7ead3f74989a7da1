"""The service layer: the one door to state for every interface.

``core`` is the orchestrator (submit, claim, draft, decide, wait, cancel), with
``drafting`` (making a draft) and ``waiting`` (timers and holds) mixed in;
``identity`` says who acts through a local channel (the CLI, the review
folder, the SDK); ``accounts`` keeps users, tokens and the security log.
"""

from placet.domain.decisions import DecisionRequest
from placet.engine.core import Engine, ProviderFactory
from placet.engine.drafting import DRAFT_FAILURES, ChunkSink

__all__ = ["DRAFT_FAILURES", "ChunkSink", "DecisionRequest", "Engine", "ProviderFactory"]
