"""The review folder on disk, reached so that nothing outside it ever is.

Reviewers write in the review folder, and Placet may run with rights they do not
have, so nothing in it is trusted to stay what it was a moment ago. Each folder
Placet uses (pending/, approved/, rejected/, _bad/ and its own .tmp/) is opened
once per pass with ``O_NOFOLLOW | O_DIRECTORY``, and every file in it is listed,
opened, linked, renamed and unlinked relative to that descriptor, never following
a symbolic link. A folder or a file swapped for a link between a check and its
use still reaches nothing outside: the descriptor keeps naming the real folder,
and ``O_NOFOLLOW`` refuses the link. A link found in a folder is moved as a link
(its target is never opened); a folder that is a link is not worked in at all.

The review folder's own path (``review_dir``) is the operator's setting and may
itself be a link (to a shared drive, say); what is below it may not.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys
import threading
from pathlib import Path

from placet.errors import ConfigError, UsageError

PENDING, APPROVED, REJECTED, BAD = "pending", "approved", "rejected", "_bad"
TMP = ".tmp"  # a dot folder: never one of the names a reviewer moves files into
FOLDERS = (PENDING, APPROVED, REJECTED, BAD, TMP)
LOCK = "lock"
FileKey = tuple[int, int, int]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO dropped in must not block a read
_READ = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC
_FOLDER = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}  # O_NOFOLLOW on a link: Linux ELOOP, BSDs EMLINK


class UnsafeFolderError(UsageError):
    """The review folder is not safe to work in; nothing in it was read or moved."""


class LinkedFileError(UsageError):
    """A file in the review folder is a symbolic link or not a regular file."""

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(message)
        self.advice = advice


def link_error(name: str, target: str | None = None) -> LinkedFileError:
    """The error a symbolic link in pending/, approved/ or rejected/ is quarantined with."""
    to = f" (to {target!r})" if target is not None else ""
    return LinkedFileError(
        f"{name} is a symbolic link{to}; Placet never follows links in the review folder",
        "The link itself was moved here; what it points to was not read, moved or changed. "
        "Move the review file itself, not a link to it, into approved/ or rejected/.",
    )


class FolderTree:
    """The review folder's folders, open: every file operation goes through their descriptors.

    Paths are ``root / folder / name`` for one of ``FOLDERS``; only the folder's
    name and the file's name are used, never the path as a whole.
    """

    def __init__(self, root: Path, fds: dict[str, int]) -> None:
        self.root = root
        self._fds = fds
        self._lock_fd: int | None = None
        self._absolute = Path(os.path.abspath(root))

    @classmethod
    def open(cls, root: Path, origin: str | None = None) -> FolderTree:
        """Create the folders if needed and open them; refuse a folder that is a link."""
        root_fd = _open_root(root, origin)
        fds: dict[str, int] = {}
        try:
            for name in FOLDERS:
                fds[name] = _open_folder(root_fd, root, name)
        except BaseException:
            for fd in fds.values():
                os.close(fd)
            raise
        finally:
            os.close(root_fd)
        return cls(root, fds)

    def close(self) -> None:
        """Close the folders' descriptors (and so release a lock taken through them)."""
        fds, self._fds = [*self._fds.values(), self._lock_fd], {}
        self._lock_fd = None
        for fd in fds:
            if fd is not None:
                os.close(fd)

    # -- where a path is -------------------------------------------------------------

    def holds(self, path: Path) -> bool:
        """True for a file directly in one of the folders (not the folder, not deeper)."""
        parent = Path(os.path.abspath(path)).parent
        return parent.name in self._fds and parent.parent == self._absolute and bool(path.name)

    def _where(self, path: Path) -> tuple[int, str]:
        if not self.holds(path):
            raise FileNotFoundError(errno.ENOENT, "not in the review folder", str(path))
        return self._fds[path.parent.name], path.name

    # -- looking ---------------------------------------------------------------------

    def listing(self, folder: str) -> tuple[list[str], list[str]]:
        """The names of the regular files and of the symbolic links in a folder, sorted."""
        regular, links = [], []
        with os.scandir(self._fds[folder]) as entries:
            for entry in entries:
                if entry.is_symlink():
                    links.append(entry.name)
                elif entry.is_file(follow_symlinks=False):
                    regular.append(entry.name)
        return sorted(regular), sorted(links)

    def lstat(self, path: Path) -> os.stat_result | None:
        """The entry's own status (a link's, not its target's); None when it is gone."""
        fd, name = self._where(path)
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def exists(self, path: Path) -> bool:
        """True when anything has that name, a dangling link included."""
        return self.lstat(path) is not None

    def is_link(self, path: Path) -> bool:
        """True when the entry is a symbolic link."""
        status = self.lstat(path)
        return status is not None and stat.S_ISLNK(status.st_mode)

    def file_key(self, path: Path) -> FileKey | None:
        """What changes when a file is replaced or rewritten; None when it is gone."""
        status = self.lstat(path)
        if status is None:
            return None
        return (status.st_ino, status.st_mtime_ns, status.st_size)

    def read(self, path: Path, limit: int) -> bytes:
        """A regular file's bytes, at most ``limit + 1`` of them; a link is refused unread."""
        fd, name = self._where(path)
        try:
            handle = os.open(name, _READ, dir_fd=fd)
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS and self.is_link(path):
                raise link_error(path.name, self._link_target(path)) from None
            raise
        with os.fdopen(handle, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise LinkedFileError(
                    f"{path.name} is not a regular file",
                    "Only the .json files Placet writes belong in the review folder.",
                )
            return file.read(limit + 1)

    def _link_target(self, path: Path) -> str | None:
        fd, name = self._where(path)
        try:
            return os.readlink(name, dir_fd=fd)  # the link's text; the target is not touched
        except OSError:
            return None

    def link_error(self, path: Path) -> LinkedFileError:
        """The error to quarantine the link at ``path`` with, naming where it points."""
        return link_error(path.name, self._link_target(path))

    # -- changing --------------------------------------------------------------------

    def write(self, path: Path, data: bytes) -> None:
        """Write through a new file in .tmp/, renamed over ``path``: a watcher never sees half
        a file, and a link at ``path`` is replaced, never written through."""
        fd, name = self._where(path)
        tmp_fd = self._fds[TMP]
        tmp_name, handle = self._new_temp()
        try:
            with os.fdopen(handle, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, name, src_dir_fd=tmp_fd, dst_dir_fd=fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name, dir_fd=tmp_fd)
            raise

    def _new_temp(self) -> tuple[str, int]:
        for _ in range(100):
            name = f"{secrets.token_hex(8)}.part"
            try:
                return name, os.open(name, _NEW_FILE, 0o600, dir_fd=self._fds[TMP])
            except FileExistsError:
                continue
        raise OSError(errno.EEXIST, "no free temporary name in .tmp/")

    def move_unique(self, source: Path, folder: str, name: str) -> Path:
        """Move an entry (a link as a link) into a folder without replacing anything there."""
        src_fd, src_name = self._where(source)
        dst_fd = self._fds[folder]
        stem, suffix = _split_name(name)
        for number in range(10_000):
            target = name if number == 0 else f"{stem}.{number}{suffix}"
            if self._taken(dst_fd, target) or self._taken(dst_fd, target + ".error.txt"):
                continue
            try:  # fails rather than replaces if the name was just taken; never follows a link
                os.link(
                    src_name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False
                )
            except FileExistsError:
                continue
            except OSError:  # no hard links here (some network shares)
                os.replace(src_name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
                return self.root / folder / target
            os.unlink(src_name, dir_fd=src_fd)
            return self.root / folder / target
        raise OSError(f"no free name for {name} in {folder}/")

    @staticmethod
    def _taken(fd: int, name: str) -> bool:
        try:
            os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    # -- the lock across processes ---------------------------------------------------

    def lock(self) -> None:
        """Hold .tmp/lock until ``close``: two processes never handle one file twice."""
        if sys.platform == "win32":  # pragma: no cover - one process per folder on Windows
            return
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC
        try:
            fd = os.open(LOCK, flags, 0o600, dir_fd=self._fds[TMP])
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise UnsafeFolderError(_refusal(self.root, f"{TMP}/{LOCK}", "a link")) from None
            raise
        self._lock_fd = fd  # closed with the folders, which releases the lock
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFolderError(_refusal(self.root, f"{TMP}/{LOCK}", "not a regular file"))
        fcntl.flock(fd, fcntl.LOCK_EX)


class FolderLock:
    """Serialises work on one folder and opens it: a re-entrant thread lock, a file lock
    across processes, and the open ``FolderTree`` for as long as both are held."""

    def __init__(self, root: Path, origin: str | None = None) -> None:
        self._root = root
        self._origin = origin
        self._lock = threading.RLock()
        self._depth = 0
        self._tree: FolderTree | None = None

    def __enter__(self) -> FolderTree:
        self._lock.acquire()
        if self._depth == 0:
            try:
                self._tree = _locked_tree(self._root, self._origin)
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1
        assert self._tree is not None
        return self._tree

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._tree is not None:
            tree, self._tree = self._tree, None
            tree.close()
        self._lock.release()


def _locked_tree(root: Path, origin: str | None) -> FolderTree:
    try:
        tree = FolderTree.open(root, origin)
    except OSError as exc:  # e.g. a folder that may not be created there
        raise ConfigError(f"{_named(root, origin)} cannot be used: {exc}") from exc
    try:
        tree.lock()
    except OSError as exc:
        tree.close()
        raise ConfigError(f"{_named(root, origin)} cannot be locked: {exc}") from exc
    except BaseException:
        tree.close()
        raise
    return tree


def _named(root: Path, origin: str | None) -> str:
    return f"the review folder {root}" + (f" ({origin})" if origin else "")


def check_root(root: Path, origin: str | None = None) -> None:
    """Raise ConfigError, naming the setting, when the review folder cannot be used at all."""
    os.close(_open_root(root, origin))


def _open_root(root: Path, origin: str | None) -> int:
    # The root is the operator's own path: following a link there is what they asked for.
    where = _named(root, origin)
    try:
        root.mkdir(parents=True, exist_ok=True)
        return os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except FileExistsError:
        raise ConfigError(f"{where} is a file, not a folder; set review_dir to a folder") from None
    except NotADirectoryError:
        raise ConfigError(
            f"{where} cannot be created: part of its path is a file; set review_dir to a folder"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be created or opened: {exc.strerror or exc}") from exc


def _open_folder(root_fd: int, root: Path, name: str) -> int:
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, dir_fd=root_fd)
    try:
        return os.open(name, _FOLDER, dir_fd=root_fd)
    except OSError as exc:
        if exc.errno not in _LINK_ERRNOS | {errno.ENOTDIR}:
            raise
        status = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
        what = "a symbolic link" if stat.S_ISLNK(status.st_mode) else "not a folder"
        raise UnsafeFolderError(_refusal(root, name, what)) from None


def _refusal(root: Path, name: str, what: str) -> str:
    return (
        f"{root / name} is {what}, so Placet does not use the review folder until it is "
        "replaced by a real one (Placet never follows links in the review folder)"
    )


def _split_name(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]
