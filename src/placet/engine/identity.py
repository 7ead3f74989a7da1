"""Who acts through a local channel: the CLI, the review folder, the SDK.

A local channel knows the operating-system user (or ``PLACET_USER``) and, for
the review folder, the identity configured for it. While no account exists,
that one person is everyone, as in the seed's script: they submit and decide,
and every decision says it was made in single-user mode. Once accounts exist,
the name must be an enabled account, and naming someone else (``--as``) is for
admins only, recorded with the admin's name.
"""

from __future__ import annotations

from placet.domain.policy import Principal, Role
from placet.engine.accounts import Accounts
from placet.errors import NotFoundError, PermissionDeniedError

EVERY_ROLE = frozenset(Role)


def local_principal(
    accounts: Accounts, channel: str, name: str, acting_as: str | None = None
) -> Principal:
    """The principal of ``name`` acting through a local channel, perhaps in another's name."""
    acting_as = acting_as if acting_as and acting_as != name else None
    if not accounts.exist():
        return Principal(acting_as or name, EVERY_ROLE, channel, True, name if acting_as else None)
    own = _account(accounts, name, channel)
    if acting_as is None:
        return own
    if Role.ADMIN not in own.roles:
        raise PermissionDeniedError(
            f"{name} is not an admin, and only admins may act in another's name (--as); "
            "nothing was changed"
        )
    other = _account(accounts, acting_as, channel)
    return Principal(other.name, other.roles, channel, entered_by=name)


def _account(accounts: Accounts, name: str, channel: str) -> Principal:
    try:
        user = accounts.get_user(name)
    except NotFoundError:
        raise PermissionDeniedError(
            f"{name} has no Placet account, and this database has accounts: set PLACET_USER "
            f"to your account's name, or have an admin add one (placet users add {name} "
            "--role reviewer); nothing was changed"
        ) from None
    if user.disabled:
        raise PermissionDeniedError(f"the account {name} is disabled; nothing was changed")
    return accounts.principal(user, channel)
