"""One exception root for Placet.

Each class's docstring is its default message. ``UsageError`` means "you used
Placet wrong" (fix the call); ``WorldError`` means "something outside failed"
(a database, a model server, the disk). Driver errors are wrapped at the
boundary, so callers only ever catch ``PlacetError`` subclasses.
"""

from __future__ import annotations


class PlacetError(Exception):
    """Placet failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        return str(self.args[0]) if self.args else ""


class UsageError(PlacetError):
    """Placet was used in a way it does not support."""


class WorldError(PlacetError):
    """Something outside Placet failed."""


# --- usage errors -----------------------------------------------------------


class ConfigError(UsageError):
    """The configuration is invalid."""


class UnusableModelError(ConfigError):
    """The kind's model cannot be used as configured; nothing was submitted."""


class UnknownKindError(UsageError):
    """No task kind has that name."""


class InvalidInputError(UsageError):
    """The task input is invalid."""


class NotFoundError(UsageError):
    """No task has that id."""


class AmbiguousIdError(UsageError):
    """More than one task has an id that starts (or ends) with that; give more of it."""


class ConflictError(UsageError):
    """The task changed since you looked at it; nothing was changed."""


class PermissionDeniedError(UsageError):
    """You may not do that; nothing was changed."""


class InvalidTransitionError(ConflictError):
    """That action is not allowed in the task's current state."""


class PausedError(ConflictError):
    """Placet is paused: nothing is drafted or run until placet resume."""


# --- world errors -----------------------------------------------------------


class StoreError(WorldError):
    """The task store failed."""


class ProviderError(WorldError):
    """The language model provider failed."""


class ProviderAuthError(ProviderError):
    """The language model provider rejected the API key."""


class ProviderRequestTooLargeError(ProviderError):
    """The request is too large for the model."""


class ProviderUnavailableError(ProviderError):
    """The language model provider could not be reached."""


class ListenError(WorldError):
    """The server could not listen on its address."""
