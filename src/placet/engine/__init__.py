"""The service layer: the one door to state for every interface.

``core`` is the orchestrator (submit, claim, draft, decide, wait, cancel);
``identity`` says who acts through a local channel (the CLI, the review
folder, the SDK); ``accounts`` keeps users, tokens and the security log.
"""

from placet.domain.decisions import DecisionRequest
from placet.engine.core import DRAFT_FAILURES, ChunkSink, Engine, ProviderFactory

__all__ = ["DRAFT_FAILURES", "ChunkSink", "DecisionRequest", "Engine", "ProviderFactory"]
