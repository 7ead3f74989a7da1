"""Background threads that keep the review folder in step with the store.

One thread follows file events (inotify through ``watchfiles``, no polling of
the folder) in the root and in pending/, approved/ and rejected/, each watched
on its own and only while it is a real folder: a recursive watch would follow a
link planted there out of the review folder (one to / would walk the whole
disk). The other follows the store's change signal, so a decision made in
the terminal moves the pending file out at once. Both call the same ``sync``,
which is serialised by the channel.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from placet.channels.folder_fs import APPROVED, PENDING, REJECTED, TMP
from placet.engine.reading import Reads

# watchfiles yields once no new event came for STEP_MS (and at the latest after
# DEBOUNCE_MS of continuous events), so a move is seen in about 0.1 s.
STEP_MS = 50
DEBOUNCE_MS = 400
# Also how often the watcher thread wakes with nothing to do; its first wake-up
# runs a sync that covers moves made while the watch was being set up.
WATCH_TIMEOUT_MS = 1000
# How long one wait on the store's change signal lasts before stop is checked.
STORE_WAIT_SECONDS = 0.2
RETRY_SECONDS = 1.0
JOIN_SECONDS = 10.0
WATCHED = (PENDING, APPROVED, REJECTED)  # where reviewers move and edit files


class FolderWatcher:
    """Runs ``sync`` on every file event under ``root`` and every store commit."""

    def __init__(
        self, root: Path, sync: Callable[[], None], store: Reads, report: Callable[[str], None]
    ) -> None:
        self._root = root.resolve()
        self._sync = sync
        self._store = store
        self._report = report
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start both threads."""
        for target, name in ((self._follow_files, "files"), (self._follow_store, "store")):
            thread = threading.Thread(target=target, name=f"placet-folder-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Ask both threads to stop and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(JOIN_SECONDS)
            if thread.is_alive():
                self._report(f"{thread.name} did not stop within {JOIN_SECONDS:.0f} s")
        self._threads.clear()

    def _follow_files(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch_once()
            except Exception as exc:  # e.g. the folder was deleted: report, then watch again
                self._report(f"watching {self._root} failed ({exc}); retrying")
                self._stop.wait(RETRY_SECONDS)

    def _watch_once(self) -> None:
        first = True
        self._root.mkdir(parents=True, exist_ok=True)
        targets = self._targets()
        for changes in watchfiles.watch(
            *targets,
            recursive=False,
            watch_filter=self._is_relevant,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self._stop,
            rust_timeout=WATCH_TIMEOUT_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if changes or first:
                first = False
                self._sync()
            if self._targets() != targets:
                return  # a folder appeared, went, or became a link: watch the new set

    def _targets(self) -> list[Path]:
        """The root, and those of its reviewers' folders that are real folders, not links."""
        found = [self._root]
        for name in WATCHED:
            try:
                mode = (self._root / name).lstat().st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                found.append(self._root / name)
        return found

    def _is_relevant(self, _change: watchfiles.Change, path: str) -> bool:
        """Ignore our own temp files and the lock: only reviewers' moves and writes matter."""
        try:
            parts = Path(path).relative_to(self._root).parts
        except ValueError:
            return True
        return bool(parts) and parts[0] != TMP and not parts[-1].startswith(".")

    def _follow_store(self) -> None:
        token: int | None = None
        while not self._stop.is_set():
            try:
                if token is None:
                    token = self._store.change_token()
                latest = self._store.wait_for_change(token, STORE_WAIT_SECONDS)
            except Exception as exc:  # the database is unreachable: try again shortly
                self._report(f"waiting for store changes failed ({exc}); retrying")
                token = None
                self._stop.wait(RETRY_SECONDS)
                continue
            if latest != token:
                token = latest  # read before the sync, so a commit during it is not missed
                self._sync()
