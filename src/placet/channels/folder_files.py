"""The review folder's files: the pending document, parsing a reviewed one, safe moves.

Everything here is plain document work with no engine and no threads, so the
channel in ``folder.py`` reads as the workflow it is; the files themselves are
reached only through ``folder_fs``, which never follows a link. Model output
only ever goes into JSON values: nothing read from a file is executed or
interpolated into a shell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from placet.channels.folder_fs import APPROVED, BAD, PENDING, REJECTED, TMP, FileKey, FolderTree
from placet.domain import typed
from placet.domain.models import Decision, Draft, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.quorum import Tally
from placet.domain.supervision import Reading
from placet.errors import UsageError

__all__ = ["APPROVED", "BAD", "PENDING", "REJECTED", "TMP", "FileKey"]  # the folders' names
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_REVIEWER_CHARS = 100
DEFAULT_REJECT_REASON = "rejected in the review folder"

HOW_TO_DECIDE = [
    "To approve: move this file into the approved/ folder.",
    'To approve with changes: edit the "draft" text in this file first, then move it into '
    "approved/ (the edit is recorded with a diff).",
    'To ask for a revision: write what to change in "feedback", then move the file into '
    "rejected/. A new draft will appear in pending/.",
    'To reject for good: leave "feedback" empty, say why in "reason" (optional), and move the '
    "file into rejected/.",
    "The folder decides as the person running Placet (or review_as in placet.toml); "
    '"reviewer" may stay empty or name that person. Do not change task_id, draft_id or '
    "task_version.",
]
CHOICE_HOW = (
    'To pick another choice: change "choice" in "draft" to one of "choices" (and say why in '
    'its "reason"), then move the file into approved/.'
)
FIELDS_HOW = (
    'To approve, fill in "decision_fields" first (the values this kind asks for); leave null '
    "those you do not give."
)
_INFO_FIELDS = {
    "kind",
    "input",
    "attempt",
    "max_attempts",
    "drafted_at",
    "how_to_decide",
    "approvals",
    "supervisor",
    "choices",
    "copies_example",
}
_KNOWN_FIELDS = _INFO_FIELDS | {
    "task_id",
    "draft_id",
    "task_version",
    "draft",
    "feedback",
    "reason",
    "reviewer",
    "earlier_feedback",
    "decision",
    "decision_fields",
}
_FINAL_STATUSES = {status.value for status in TaskStatus if status.is_final}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EDITOR_NOISE = re.compile(r"(^\.|~$|\.sw.$|^#.*#$)")


class BadReviewFileError(UsageError):
    """The file in the review folder cannot be read as a decision."""

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(message)
        self.advice = advice


@dataclass(frozen=True)
class ReviewedFile:
    """What a reviewer's file says, checked: the draft it answers and the verdict."""

    task_id: str
    draft_id: str
    task_version: int
    draft: str
    feedback: str
    reason: str
    reviewer: str
    fields: JsonObject | None = None  # the values given for the kind's decision_fields


# -- the pending document -----------------------------------------------------------


def pending_document(
    task: Task,
    draft: Draft,
    earlier: list[JsonObject],
    count: Tally | None = None,
    reading: Reading | None = None,
    kind: TaskKind | None = None,
) -> JsonObject:
    """The JSON a reviewer reads in pending/: the task, the draft, how to decide.

    While a quorum is counted, ``draft`` is the text under approval (an edit
    of the draft, once someone edited it) and ``approvals`` says who approved it.
    """
    document: JsonObject = {
        "task_id": task.id,
        "kind": task.kind,
        "input": task.input,
        "attempt": draft.attempt,
        "max_attempts": task.max_attempts,
        "drafted_at": iso_time(draft.created_at),
        "draft": count.text if count is not None else draft.output,
        "feedback": "",
        "reason": "",
        "reviewer": "",
        "how_to_decide": HOW_TO_DECIDE,
    }
    if kind is not None and typed.is_typed(kind):  # the object itself, editable in place
        document.update(_typed_fields(kind, str(document["draft"])))
    if kind is not None and kind.decision_fields is not None:  # to fill in when approving
        names = kind.decision_fields.get("properties", {})
        document["decision_fields"] = {name: None for name in names}
        document["how_to_decide"] = [FIELDS_HOW, *document["how_to_decide"]]
    if count is not None:
        document["approvals"] = count.shown()
    if reading is not None:  # what the supervisor flagged, for the reader's eye only
        document["supervisor"] = reading.payload()
    if earlier:
        document["earlier_feedback"] = earlier
    document["draft_id"] = draft.id
    document["task_version"] = task.version
    return document


def _typed_fields(kind: TaskKind, text: str) -> JsonObject:
    """A typed kind's draft as the object it is, and the choices it may be changed to."""
    try:
        value: object = json.loads(text)
    except ValueError:
        return {}  # not an object (a caller's draft): shown as the text it is
    fields: JsonObject = {"draft": value}
    if kind.choices:
        fields["choices"] = list(kind.choices)
        fields["how_to_decide"] = [CHOICE_HOW, *HOW_TO_DECIDE]
    return fields


def earlier_feedback(decisions: list[Decision]) -> list[JsonObject]:
    """The revision requests made on earlier drafts, oldest first."""
    return [
        {"by": d.actor, "at": iso_time(d.created_at), "feedback": d.feedback}
        for d in decisions
        if d.feedback
    ]


def decision_record(decision: Decision, status: str, note: str | None = None) -> JsonObject:
    """The ``decision`` object a decided file gains."""
    record: JsonObject = {
        "kind": decision.kind.value,
        "actor": decision.actor,
        "at": iso_time(decision.created_at),
        "status": status,
        "decision_id": decision.id,
    }
    if decision.diff:
        record["diff"] = decision.diff
    if note:
        record["note"] = note
    return record


def decided_name(path: Path, document: JsonObject, record: JsonObject) -> str:
    """<task id>.json, or <task id>.attempt-N.json while the task goes on.

    The next draft arrives as <task id>.json too; a later move into the same
    folder must not overwrite this record.
    """
    if record["status"] in _FINAL_STATUSES:
        return path.name
    task_id = str(document.get("task_id", path.stem))
    return f"{task_id}.attempt-{document.get('attempt', 'earlier')}.json"


def iso_time(timestamp: float) -> str:
    """A Unix time as local ISO 8601 with its offset, to the second."""
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


# -- reading a reviewed file ----------------------------------------------------------


def read_document(tree: FolderTree, path: Path) -> JsonObject:
    """The JSON object in a file, or ``BadReviewFileError`` saying what is wrong with it.

    A symbolic link is refused unread (``LinkedFileError``), whatever it points to.
    """
    if path.suffix.lower() != ".json" and not tree.is_link(path):
        raise BadReviewFileError(
            f"{path.name} is not a .json file",
            "Only the .json files Placet writes in pending/ belong in approved/ and rejected/.",
        )
    raw = tree.read(path, MAX_FILE_BYTES)
    if len(raw) > MAX_FILE_BYTES:
        raise BadReviewFileError(
            f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
            "A review file holds one draft; check that this is the file Placet wrote.",
        )
    return parse_document(raw)


def parse_document(raw: bytes) -> JsonObject:
    """Decode bytes as one JSON object."""
    fix = "Fix the file (a JSON checker shows where) and move it back into approved/ or rejected/."
    try:
        value = json.loads(raw.decode("utf-8-sig"))  # -sig: editors on Windows add a BOM
    except UnicodeDecodeError as exc:
        raise BadReviewFileError(f"the file is not UTF-8 text ({exc.reason})", fix) from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise BadReviewFileError(f"malformed JSON at {where}: {exc.msg}", fix) from exc
    if not isinstance(value, dict):
        raise BadReviewFileError("the file holds JSON but not an object ({...})", fix)
    return value


def reviewed_file(document: JsonObject) -> ReviewedFile:
    """Check the fields a decision depends on; extra or mistyped fields are errors."""
    unknown = sorted(set(document) - _KNOWN_FIELDS)
    if unknown:
        raise BadReviewFileError(
            f"unknown field {', '.join(repr(name) for name in unknown)}",
            f"Use only the fields Placet wrote ({', '.join(sorted(_KNOWN_FIELDS))}); "
            "a misspelt 'feedback' would otherwise turn a revision into a rejection.",
        )
    reviewer = _text(document, "reviewer").strip()
    _check_reviewer(reviewer)
    return ReviewedFile(
        task_id=_required_text(document, "task_id"),
        draft_id=_required_text(document, "draft_id"),
        task_version=_version(document),
        draft=_draft_text(document),
        feedback=_text(document, "feedback"),
        reason=_text(document, "reason"),
        reviewer=reviewer,
        fields=_decision_fields(document),
    )


def _decision_fields(document: JsonObject) -> JsonObject | None:
    """The values filled in for the kind's decision_fields (those left null are not given)."""
    value = document.get("decision_fields")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _field_error("decision_fields", "is not an object of named values")
    given = {name: item for name, item in value.items() if item is not None}
    return given or None


def is_decided(document: JsonObject) -> bool:
    """True when the file already records a decision (it is never processed twice)."""
    return "decision" in document


def _field_error(name: str, problem: str) -> BadReviewFileError:
    return BadReviewFileError(
        f"field {name!r} {problem}",
        f"Put back the {name!r} value Placet wrote (see placet show TASK_ID) and move the file "
        "into approved/ or rejected/ again.",
    )


def _draft_text(document: JsonObject) -> str:
    """The draft as text: a typed kind's object in the form Placet keeps it (the engine
    checks it against the kind's schema)."""
    value = document.get("draft")
    if isinstance(value, dict):
        return typed.object_text(value)
    return _required_text(document, "draft", allow_empty=True)


def draft_as_written(document: JsonObject) -> object:
    """The file's draft as Placet would have written its text (a typed kind's object in
    Placet's form), for comparing with the stored one; anything else as it is."""
    value = document.get("draft")
    return typed.object_text(value) if isinstance(value, dict) else value


def _required_text(document: JsonObject, name: str, allow_empty: bool = False) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise _field_error(name, "is missing or not text")
    if not allow_empty and not value.strip():
        raise _field_error(name, "is empty")
    return value


def _text(document: JsonObject, name: str) -> str:
    value = document.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadReviewFileError(
            f"field {name!r} must be text, not {type(value).__name__}",
            f'Write {name} as a quoted string, e.g. "{name}": "...", and move the file back.',
        )
    return value


def _version(document: JsonObject) -> int:
    value = document.get("task_version")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _field_error("task_version", "is missing or not a whole number")
    return value


def _check_reviewer(reviewer: str) -> None:
    # The name lands in the audit trail and on terminals: keep it short and printable.
    if len(reviewer) > MAX_REVIEWER_CHARS or _CONTROL.search(reviewer):
        raise BadReviewFileError(
            "field 'reviewer' must be a short name without control characters",
            f"Use at most {MAX_REVIEWER_CHARS} printable characters, or leave it empty.",
        )


# -- names and bytes -----------------------------------------------------------------


def is_editor_noise(name: str) -> bool:
    """Dot files, backups and swap files: an editor's, not a reviewer's."""
    return bool(_EDITOR_NOISE.search(name))


def dump(document: JsonObject) -> bytes:
    """A document as people read it: indented, non-ASCII kept."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
