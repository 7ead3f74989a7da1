"""Turning a file a reviewer moved into approved/ or rejected/ into a decision.

The file names the draft and the task version the reviewer saw, so the
engine's compare-and-set refuses a stale file with a ``ConflictError``; the
channel then quarantines it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from placet.channels import folder_files as files
from placet.channels.folder_files import (
    APPROVED,
    PENDING,
    REJECTED,
    BadReviewFileError,
    FileKey,
    ReviewedFile,
)
from placet.channels.folder_fs import FolderTree
from placet.config import default_actor
from placet.domain.models import Decision, DecisionKind, JsonObject, Task
from placet.domain.policy import Principal
from placet.engine import DecisionRequest, Engine
from placet.errors import ConflictError, NotFoundError, PermissionDeniedError

_VERBS = {
    DecisionKind.APPROVE: "approved",
    DecisionKind.EDIT: "approved with an edit",
    DecisionKind.REVISE: "revision requested for",
    DecisionKind.REJECT: "rejected",
}


class FileDecider:
    """Decides reviewed files and writes each outcome back into its file."""

    def __init__(self, engine: Engine, root: Path, say: Callable[[str], None]) -> None:
        self.engine = engine
        self.root = root
        self._say = say
        self._settled: dict[Path, FileKey] = {}  # decided files, skipped until they change

    def decide_file(self, tree: FolderTree, path: Path) -> None:
        """Decide what the file in approved/ or rejected/ asks for; skip decided files."""
        folder = path.parent.name
        if folder not in (APPROVED, REJECTED) or not tree.holds(path):
            return
        key = tree.file_key(path)
        if key is None or self._settled.get(path) == key:
            return
        document = files.read_document(tree, path)
        if files.is_decided(document):
            self._settled[path] = key  # never processed twice
            return
        self._decide(tree, path, folder, document, files.reviewed_file(document))

    def _decide(
        self,
        tree: FolderTree,
        path: Path,
        folder: str,
        document: JsonObject,
        reviewed: ReviewedFile,
    ) -> None:
        draft = self.engine.get_draft(reviewed.draft_id)
        if draft.task_id != reviewed.task_id:
            raise BadReviewFileError(
                f"draft {reviewed.draft_id} does not belong to task {reviewed.task_id}",
                "Put back the task_id and draft_id Placet wrote, then move the file again.",
            )
        # What the file showed: the draft, or the text a quorum is counting (an edit of it).
        count = self.engine.approvals(self.engine.get(reviewed.task_id))
        shown = count.text if count is not None else draft.output
        request = self._request(folder, reviewed, shown, self.principal(reviewed))
        try:
            task = self.engine.decide(request)
        except ConflictError:
            if not self._already_recorded(request):
                raise
            task = self.engine.get(request.task_id)
        decision = self.decision_on(reviewed.task_id, reviewed.draft_id)
        assert decision is not None
        note = outcome_note(decision, task)
        count = self.engine.approvals(task)
        if count is not None:
            note = f"counted: {count.shown()}; the task waits for the other approvals it needs"
        record = files.decision_record(decision, task.status.value, note)
        self.record(tree, path, document, record)
        self._report(decision, task, note)

    def identity(self) -> str:
        """The name this folder decides as: review_as, else whoever runs Placet."""
        return self.engine.settings.review_as or default_actor()

    def identity_problem(self) -> str | None:
        """Why every moved file would be refused, or None; said as the folder starts."""
        name = self.identity()
        if not self.engine.accounts.exist():
            return None  # single-user mode: the one local person decides
        try:
            if not self.engine.accounts.get_user(name).disabled:
                return None
        except NotFoundError:
            pass
        return (
            f"the review folder decides as {name}, which is not an enabled account here, so "
            "moved files will be refused: set review_as in placet.toml's [placet] table (or "
            f"PLACET_REVIEW_AS) to a reviewer's account, or add one: placet users add {name} "
            "--role reviewer"
        )

    def principal(self, reviewed: ReviewedFile) -> Principal:
        """Who decides a moved file: the folder's identity, never a name written in the file.

        The folder decides as ``review_as`` from placet.toml (PLACET_REVIEW_AS),
        else as the person running this process (PLACET_USER or the OS user).
        A ``reviewer`` written in the file must be that name once accounts
        exist; in single-user mode it is kept as the name the one person gave.
        """
        name = self.identity()
        written = reviewed.reviewer.strip() or None
        if written not in (None, name) and self.engine.accounts.exist():
            detail = f"the file names reviewer {written} (through the folder)"
            self.engine.accounts.record(name, "decide", "refused", reviewed.task_id, detail)
            raise PermissionDeniedError(
                f"the file names reviewer {written!r}, but this review folder decides as "
                f"{name!r}; nothing was changed"
            )
        return self.engine.local_principal("folder", name, written)

    def _request(
        self, folder: str, reviewed: ReviewedFile, stored_text: str, principal: Principal
    ) -> DecisionRequest:
        approve = DecisionRequest(
            task_id=reviewed.task_id,
            kind=DecisionKind.APPROVE,
            principal=principal,
            draft_id=reviewed.draft_id,
            expected_version=reviewed.task_version,  # a stale file loses with a conflict
        )
        if folder == APPROVED:
            approve = replace(approve, fields=reviewed.fields)
            if reviewed.draft == stored_text:
                return approve
            return replace(approve, kind=DecisionKind.EDIT, text=reviewed.draft)
        if reviewed.feedback.strip():
            return replace(approve, kind=DecisionKind.REVISE, feedback=reviewed.feedback)
        reason = reviewed.reason.strip() or files.DEFAULT_REJECT_REASON
        return replace(approve, kind=DecisionKind.REJECT, reason=reason)

    def _already_recorded(self, request: DecisionRequest) -> bool:
        """True when the store already holds exactly the decision this file asks for.

        That happens when a process stopped between deciding and writing the
        file back: recording the decision in the file is right then, and
        quarantining the file as a conflict would not be.
        """
        assert request.draft_id is not None
        found = self.decision_on(request.task_id, request.draft_id)
        actor = request.principal.name
        if found is None or found.actor != actor or found.kind is not request.kind:
            return False
        return (found.text, found.feedback, found.reason) == (
            request.text,
            request.feedback if request.kind is DecisionKind.REVISE else None,
            request.reason if request.kind is DecisionKind.REJECT else None,
        )

    def decision_on(self, task_id: str, draft_id: str) -> Decision | None:
        """The decision made on a draft, if any."""
        for decision in reversed(self.engine.detail(task_id).decisions):
            if decision.draft_id == draft_id:
                return decision
        return None

    def record(
        self, tree: FolderTree, path: Path, document: JsonObject, record: JsonObject
    ) -> Path:
        """Write the decision into the file; a revised task's file frees its name."""
        document["decision"] = record
        tree.write(path, files.dump(document))
        name = files.decided_name(path, document, record)
        if name != path.name:
            path = tree.move_unique(path, path.parent.name, name)
        self.settle(tree, path)
        return path

    def settle(self, tree: FolderTree, path: Path) -> None:
        """Remember a decided file, so it is not even read again until it changes."""
        key = tree.file_key(path)
        if key is not None:
            self._settled[path] = key

    def _report(self, decision: Decision, task: Task, note: str | None) -> None:
        message = f"{_VERBS[decision.kind]} {task.id} ({decision.actor})"
        self._say(f"{message}; {note}" if note else message)


def outcome_note(decision: Decision, task: Task) -> str | None:
    """What happens next after a revision request; None for the other kinds."""
    if decision.kind is not DecisionKind.REVISE:
        return None
    if task.status.is_final:
        return f"no attempts were left, so the task is {task.status.value}"
    return f"a new draft will appear in {PENDING}/{task.id}.json"
