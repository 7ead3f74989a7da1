"""``placet groups``: reviewer groups, kept in placet.toml's ``[groups]`` table.

A kind's ``reviewers = ["group:legal"]`` names a group; who is in it decides.
``add`` and ``remove`` edit placet.toml in place (its comments and layout
kept) and refuse a change that would leave a kind unable to be approved.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import tomlkit
import typer
from rich.text import Text

from placet.cli.common import handle_errors
from placet.cli.render import err, out
from placet.config import CONFIG_FILE, load_settings
from placet.domain.policy import GROUP_PREFIX, kind_policy_problems
from placet.errors import ConfigError, InvalidInputError, NotFoundError

groups_app = typer.Typer(
    help="Reviewer groups (placet.toml's [groups]): list, add people, remove them.",
    no_args_is_help=True,
)
Group = Annotated[str, typer.Argument(help="The group's name, as kinds name it: group:NAME.")]
People = Annotated[list[str], typer.Argument(help="User names.")]


@groups_app.command("list")
@handle_errors
def list_groups() -> None:
    """Each group, its people, and the kinds it reviews."""
    settings = load_settings()
    if not settings.groups:
        err.print("no groups yet: placet groups add NAME PERSON... makes one")
        return
    for name, people in settings.groups.items():
        line = Text(f"{name}: ", "bold").append(", ".join(people) or "(nobody)", "")
        users = [kind.name for kind in settings.kinds.values() if _names(kind.reviewers, name)]
        line.append(f"  reviews {', '.join(users)}" if users else "  (no kind names it)", "dim")
        out.print(line)


@groups_app.command("add")
@handle_errors
def add(group: Group, people: People) -> None:
    """Add people to a group (made if new), in placet.toml."""
    _refuse_bad_name(group)
    document, path = _document()
    table = document.setdefault("groups", tomlkit.table())
    members = table.setdefault(group, tomlkit.array())
    added = [name for name in dict.fromkeys(people) if name not in members]
    members.extend(added)
    _save(document, path)
    said = ", ".join(added) if added else "nobody new"
    err.print(f"group {group}: added {said}; it is now {', '.join(members)} ({path})")


@groups_app.command("remove")
@handle_errors
def remove(
    group: Group,
    people: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer reads the annotation at run time on 3.10
        typer.Argument(help="User names; none: the whole group."),
    ] = None,
) -> None:
    """Remove people from a group, or (naming nobody) the whole group, in placet.toml."""
    document, path = _document()
    table = document.get("groups", {})
    if group not in table:
        raise NotFoundError(f"there is no group {group!r} in {path}")
    if not people:
        del table[group]
        _save(document, path)
        err.print(f"group {group} removed ({path})")
        return
    members = table[group]
    missing = [name for name in people if name not in members]
    if missing:
        raise NotFoundError(f"{', '.join(missing)} not in group {group}; nothing was changed")
    for name in people:
        members.remove(name)
    _save(document, path)
    err.print(f"group {group}: removed {', '.join(people)}; left: {', '.join(members) or 'nobody'}")


def _names(reviewers: tuple[str, ...], group: str) -> bool:
    return f"{GROUP_PREFIX}{group}" in reviewers


def _refuse_bad_name(group: str) -> None:
    if not group.strip() or ":" in group or group != group.strip():
        raise InvalidInputError(f"a group name is a plain word, not {group!r}")


def _document() -> tuple[Any, Path]:
    """placet.toml as tomlkit reads it (kept as written), and where it is."""
    path = Path(os.environ.get("PLACET_CONFIG") or CONFIG_FILE)
    if not path.exists():
        return tomlkit.document(), path
    return tomlkit.parse(path.read_text(encoding="utf-8")), path


def _save(document: Any, path: Path) -> None:
    """Write placet.toml only if the kinds still work with the groups as changed."""
    groups = {name: tuple(members) for name, members in document.get("groups", {}).items()}
    settings = load_settings()
    for kind in settings.kinds.values():
        problems = kind_policy_problems(kind, groups)
        if problems:
            raise ConfigError(f"[kinds.{kind.name}] {problems[0]}; placet.toml was not changed")
    text = tomlkit.dumps(document)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent.resolve(), delete=False, suffix=".tmp"
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)  # whole or not at all
