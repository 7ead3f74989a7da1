"""The review folder: drafts wait in pending/; moving a file decides.

Layout under the root (``settings.review_dir``, ``human_feedback/`` by default)::

    pending/<task id>.json   a draft awaiting review, written by Placet
    approved/                move a file here to approve it (or edit: change "draft" first)
    rejected/                move a file here to reject it (or revise: fill "feedback" first)
    _bad/                    files Placet could not use, each with <name>.error.txt beside it

Nothing outside the root is ever read, moved or written: a symbolic link in
pending/, approved/ or rejected/ is moved into _bad/ as a link, unread, and a
folder that is itself a link stops the channel (it says so, and retries on the
next change) rather than be followed; see ``folder_fs``.

The channel only turns files into decision requests for the engine; the
engine's compare-and-set on the draft and task version decides who wins when a
file move races a decision made elsewhere. ``sync()`` reconciles the folder
with the store; ``start()`` runs it on every file event and every store change.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from placet.channels import folder_files as files
from placet.channels.folder_decide import FileDecider, outcome_note
from placet.channels.folder_files import (
    APPROVED,
    BAD,
    PENDING,
    REJECTED,
    BadReviewFileError,
    FileKey,
)
from placet.channels.folder_fs import FolderLock, FolderTree, UnsafeFolderError
from placet.channels.folder_watch import FolderWatcher
from placet.domain import examples, supervision
from placet.domain.models import DecisionKind, JsonObject, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import Engine
from placet.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PlacetError,
    UsageError,
)

MessageSink = Callable[[str], None]
PAGE = 200
# What a reviewer writes into a pending file (besides the draft itself).
REVIEWER_FIELDS = ("feedback", "reason", "reviewer")
_log = logging.getLogger(__name__)
_ADVICE = {
    NotFoundError: "The file names a task or draft this Placet database does not have. Check "
    "that the review folder belongs to this database (review_dir and database in placet.toml).",
    PermissionDeniedError: "The review folder decides as one identity: review_as in placet.toml's "
    "[placet] table (or PLACET_REVIEW_AS), else the user running Placet (PLACET_USER or the OS "
    "user). Leave the file's reviewer empty or set it to that name, make sure that account may "
    "review this kind and did not ask for the task, or decide it on the dashboard or with "
    "placet approve. Then move the file back into approved/ or rejected/.",
    ConflictError: "The draft was already decided elsewhere (the terminal, another reviewer) or "
    "the task moved on; nothing was changed. See `placet show TASK_ID`. This copy is kept only "
    "for reference.",
}


class FolderChannel:
    """Review by moving files: publish drafts to pending/, turn moves into decisions."""

    name = "folder"

    def __init__(
        self, engine: Engine, root: Path | str | None = None, on_message: MessageSink | None = None
    ) -> None:
        self.engine = engine
        self.root = Path(root if root is not None else engine.settings.review_dir)
        self._say: MessageSink = on_message or _log.info
        self._decider = FileDecider(engine, self.root, self._say)
        settings = engine.settings
        origin = settings.source_of("review_dir") if self.root == settings.review_dir else None
        self._mutex = FolderLock(self.root, origin)
        self._watcher: FolderWatcher | None = None
        self._refusal: str | None = None  # why the folder is not used now, once said
        # pending/ files by (inode, mtime, size) -> the task and draft they name; saves
        # reading every pending file on every store change.
        # A pending file as last read: its key, and the task, draft and version it shows.
        self._pending_seen: dict[Path, tuple[FileKey, str, str, object]] = {}

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Reconcile once, then follow file events and store changes in background threads."""
        if self._watcher is not None:
            return
        problem = self._decider.identity_problem()
        if problem is not None:
            self._say(f"warning: {problem}")
        self._sync_or_refuse()  # a review_dir that cannot be a folder is an error here
        self._watcher = FolderWatcher(self.root, self._sync_quietly, self.engine, self._say)
        self._watcher.start()

    def stop(self) -> None:
        """Stop the background threads and wait for them; safe when not started."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def __enter__(self) -> FolderChannel:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public operations -------------------------------------------------------------

    def sync(self) -> None:
        """Make the folder mirror the store: decide moved files, retire stale ones, publish."""
        with self._mutex as tree:
            # Moved files first: a draft being decided must not be published again.
            for path in self._files(tree, APPROVED) + self._files(tree, REJECTED):
                self._guarded(tree, path, lambda p: self._decider.decide_file(tree, p))
            awaiting = {task.id: task for task in self._awaiting()}
            for path in self._files(tree, PENDING):
                self._guarded(tree, path, lambda p: self._check_pending(tree, p, awaiting))
            for task in awaiting.values():
                self._guarded(tree, self._pending_path(task.id), self._publisher(tree, task))

    def publish(self, task: Task) -> Path | None:
        """Write pending/<task id>.json now (idempotent); None if the task no longer awaits review.

        The background threads publish too, a few milliseconds after the draft
        is committed; call this to be sure the file exists before pointing a
        person at it. A review folder Placet refuses to work in (a folder in it
        is a link) is reported, and gives None.
        """
        try:
            with self._mutex as tree:
                current = self.engine.get(task.id)
                if current.status is not TaskStatus.AWAITING_REVIEW:
                    return None
                path = self._pending_path(task.id)
                if tree.exists(path):
                    self._check_pending(tree, path, {current.id: current})
                self._publish(tree, current)
                return path
        except UnsafeFolderError as exc:
            self._refuse(exc)
            return None

    def process(self, path: Path | str) -> None:
        """Turn one file in approved/ or rejected/ into a decision, or quarantine it."""
        with self._mutex as tree:
            self._guarded(tree, Path(path), lambda p: self._decider.decide_file(tree, p))

    # -- pending files -----------------------------------------------------------------

    def _check_pending(self, tree: FolderTree, path: Path, awaiting: dict[str, Task]) -> None:
        """Retire a pending file whose draft is no longer the one awaiting review."""
        if path.suffix.lower() != ".json":
            return  # a reviewer's notes in pending/ are left alone
        key = tree.file_key(path)
        seen = self._pending_seen.get(path)
        if seen is not None and seen[0] == key:
            known = awaiting.get(seen[1])
            if known is not None and (known.current_draft_id, known.version) == seen[2:]:
                return  # unchanged and still current: no need to read it again
        try:
            document = files.read_document(tree, path)
            task_id, draft_id = str(document["task_id"]), str(document["draft_id"])
        except (BadReviewFileError, KeyError):
            self._check_unreadable_pending(path)
            return
        if key is not None:
            self._pending_seen[path] = (key, task_id, draft_id, document.get("task_version"))
        known = awaiting.get(task_id)
        if known is not None and known.current_draft_id == draft_id:
            if document.get("task_version") != known.version and self._as_written(document):
                # Counted toward a quorum since: show the new count (and text) in place.
                self._publish(tree, known, refresh=True)
            return
        task = self.engine.get(task_id)
        if task.status is TaskStatus.AWAITING_REVIEW and task.current_draft_id == draft_id:
            return
        self._retire(tree, path, document, task, draft_id)

    def _check_unreadable_pending(self, path: Path) -> None:
        # Perhaps half-saved by an editor: leave it, unless its task has moved on.
        try:
            task = self.engine.get(path.stem)
        except NotFoundError:
            raise BadReviewFileError(
                f"{path.name} in pending/ cannot be read and names no known task",
                "Only the files Placet writes belong in pending/.",
            ) from None
        if task.status is not TaskStatus.AWAITING_REVIEW:
            raise BadReviewFileError(
                f"{path.name} in pending/ cannot be read, and task {task.id} is now "
                f"{task.status.value}",
                f"The task was decided elsewhere; see `placet show {task.id}`.",
            )

    def _retire(
        self, tree: FolderTree, path: Path, document: JsonObject, task: Task, draft_id: str
    ) -> None:
        """Move a stale pending file where the store's outcome puts it, with the decision."""
        folder, record = self._outcome_record(document, task, draft_id)
        # Written in place first: if we stop before the move, the next sync retires it again.
        document["decision"] = record
        tree.write(path, files.dump(document))
        name = files.decided_name(path, document, record)
        moved = tree.move_unique(path, folder, name)
        self._decider.settle(tree, moved)
        self._say(f"{PENDING}/{path.name} moved to {folder}/{moved.name}: {record['note']}")

    def _outcome_record(
        self, document: JsonObject, task: Task, draft_id: str
    ) -> tuple[str, JsonObject]:
        decision = self._decider.decision_on(task.id, draft_id)
        if decision is None:  # cancelled, expired: no verdict on this draft
            last = self.engine.task_events(task.id)[-1]
            record = {
                "kind": task.status.value,
                "actor": last.actor,
                "at": files.iso_time(last.created_at),
                "status": task.status.value,
                "note": f"no decision was made on this draft; the task is {task.status.value}",
            }
            return REJECTED, record
        note = f"decided elsewhere: {decision.kind.value} by {decision.actor}"
        if files.draft_as_written(document) != self.engine.get_draft(draft_id).output:
            note += "; the changes made to the draft in this file were not applied"
        follow_up = outcome_note(decision, task)
        note = f"{note}; {follow_up}" if follow_up else note
        approved = decision.kind in (DecisionKind.APPROVE, DecisionKind.EDIT)
        record = files.decision_record(decision, task.status.value, note)
        return (APPROVED if approved else REJECTED), record

    def _publisher(self, tree: FolderTree, task: Task) -> Callable[[Path], None]:
        return lambda _path: self._publish(tree, task)

    def _as_written(self, document: JsonObject) -> bool:
        """True when a reviewer has not touched a pending file: rewriting it loses nothing."""
        detail = self.engine.detail(str(document["task_id"]))
        draft = detail.current_draft
        shown = {draft.output} if draft is not None else set()
        shown |= {d.text for d in detail.decisions if d.draft_id == document["draft_id"] and d.text}
        untouched = all(not str(document.get(name, "")).strip() for name in REVIEWER_FIELDS)
        asked = document.get("decision_fields")
        untouched = untouched and not (isinstance(asked, dict) and any(asked.values()))
        return untouched and files.draft_as_written(document) in shown

    def _publish(self, tree: FolderTree, task: Task, refresh: bool = False) -> None:
        path = self._pending_path(task.id)
        if (tree.exists(path) and not refresh) or self._in_review_elsewhere(tree, task):
            return
        detail = self.engine.detail(task.id)
        draft = detail.current_draft
        if detail.task.status is not TaskStatus.AWAITING_REVIEW or draft is None:
            return
        earlier = files.earlier_feedback(detail.decisions)
        count = self.engine.approvals(detail.task)
        reading = supervision.reading_for(detail.events, draft.id)
        kind = self.engine.kinds.get(task.kind)
        document = files.pending_document(detail.task, draft, earlier, count, reading, kind)
        copies = examples.copied_example(detail.events, draft.id)
        if copies is not None:  # for the reader's eye, as the supervisor's findings
            document["copies_example"] = copies.said()
        tree.write(path, files.dump(document))
        if count is not None:
            self._say(
                f"draft {draft.attempt} of {task.id} awaits review ({count.shown()}) in {path}"
            )
            return
        self._say(f"draft {draft.attempt} of {task.id} is ready for review in {path}")

    def _in_review_elsewhere(self, tree: FolderTree, task: Task) -> bool:
        """True when a moved copy of this draft still waits to be decided (the DB was busy)."""
        for folder in (APPROVED, REJECTED):
            path = self.root / folder / f"{task.id}.json"
            try:
                document = files.read_document(tree, path)
            except (OSError, PlacetError):
                continue
            if document.get("draft_id") == task.current_draft_id:
                return not files.is_decided(document)
        return False

    # -- helpers -----------------------------------------------------------------------

    def _guarded(self, tree: FolderTree, path: Path, action: Callable[[Path], None]) -> None:
        """Run one file's work; a bad file is quarantined, and nothing stops the channel."""
        try:
            action(path)
        except FileNotFoundError:
            pass  # moved away meanwhile, by the reviewer or another process
        except UsageError as exc:
            self._quarantine_quietly(tree, path, exc)
        except Exception as exc:  # the world failed (database, disk): keep the file, retry later
            self._say(f"could not handle {self._relative(path)} yet: {_describe(exc)}")

    def _quarantine_quietly(self, tree: FolderTree, path: Path, error: UsageError) -> None:
        try:
            self._quarantine(tree, path, error)
        except OSError as exc:
            self._say(f"could not move {self._relative(path)} to {BAD}/: {exc}")

    def _quarantine(self, tree: FolderTree, path: Path, error: UsageError) -> None:
        """Move a file Placet cannot use into _bad/, unchanged, with <name>.error.txt beside it.

        A symbolic link is moved as the link it is: what it points to is never touched.
        """
        status = tree.lstat(path)
        if status is None or not (stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode)):
            return
        what = "link" if stat.S_ISLNK(status.st_mode) else "file"
        advice = getattr(error, "advice", None) or _advice_for(error)
        moved = tree.move_unique(path, BAD, path.name)
        text = (
            f"Placet could not use {self._relative(path)}: {error.message}\n\n"
            f"The {what} was moved here unchanged, as {BAD}/{moved.name}.\n"
            f"What to do: {advice}\n"
        )
        tree.write(moved.with_name(moved.name + ".error.txt"), text.encode("utf-8"))
        self._say(f"{self._relative(path)} moved to {BAD}/{moved.name}: {error.message}")

    def _awaiting(self) -> Iterator[Task]:
        after: str | None = None
        while True:
            page = self.engine.list_tasks(
                TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), after_id=after, limit=PAGE)
            )
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1].id

    def _files(self, tree: FolderTree, folder: str) -> list[Path]:
        """The regular files in a folder; a link found there is quarantined as a link."""
        regular, links = tree.listing(folder)
        for name in links:
            if not files.is_editor_noise(name):  # an editor's lock link (.#name) is left be
                link = self.root / folder / name
                self._quarantine_quietly(tree, link, tree.link_error(link))
        return [self.root / folder / name for name in regular if not files.is_editor_noise(name)]

    def _pending_path(self, task_id: str) -> Path:
        return self.root / PENDING / f"{task_id}.json"

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _sync_or_refuse(self) -> None:
        """Sync; a folder Placet refuses to work in is said once, not raised."""
        try:
            self.sync()
        except UnsafeFolderError as exc:
            self._refuse(exc)
            return
        if self._refusal is not None:
            self._refusal = None
            self._say(f"the review folder {self.root} is in use again")

    def _refuse(self, error: UnsafeFolderError) -> None:
        # Said once per problem: the store's thread syncs on every commit.
        if error.message != self._refusal:
            self._refusal = error.message
            self._say(f"warning: {error.message}")

    def _sync_quietly(self) -> None:
        try:
            self._sync_or_refuse()
        except Exception as exc:  # a background thread must outlive a failing database
            self._say(f"review folder sync failed: {_describe(exc)}")


def _advice_for(error: UsageError) -> str:
    for kind, advice in _ADVICE.items():
        if isinstance(error, kind):
            return advice
    return "Fix what the message says and move the file back into approved/ or rejected/."


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, PlacetError) else f"{type(exc).__name__}: {exc}"
