"""Find landed export files: recursively, by content hash, never outside the landing folder."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Folders and files starting with these are not exports (the generator's manifest, editors'
# and uploaders' temporary files).
SKIPPED_PREFIXES = (".", "_")
# A `<file>.request.json` beside a saved response says what was requested (its owner): context
# for that file (ingestion.readers.file_context), not an export of its own.
SKIPPED_SUFFIXES = (".tmp", ".part", ".crdownload", ".request.json")


@dataclass(frozen=True)
class LandedFile:
    """A file in the landing folder, identified by its content hash."""

    path: Path
    relative: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class RefusedFile:
    """A path that is not read, and why (a symlink leading out of the landing folder)."""

    relative: str
    reason: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def discover(landing: Path) -> tuple[list[LandedFile], list[RefusedFile]]:
    """Every export file under `landing`, in path order, and the paths refused with why.

    Nothing here raises for one bad entry: a symlink loop, a dangling symlink, a FIFO or
    socket (opening one would block), a file or folder this process may not read are each
    refused with a reason (recorded as a failed file by ingest), and the rest is found.
    """
    root = landing.resolve()
    found: list[LandedFile] = []
    refused: list[RefusedFile] = []

    def unlisted(error: OSError) -> None:
        relative = Path(error.filename).relative_to(root).as_posix() if error.filename else "."
        refused.append(RefusedFile(relative, f"cannot list the folder: {_why(error)}"))

    for folder, subfolders, names in os.walk(root, onerror=unlisted, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(SKIPPED_PREFIXES))
        for name in sorted(names):
            if name.startswith(SKIPPED_PREFIXES) or name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            landed = _landed(path, relative, root)
            if isinstance(landed, RefusedFile):
                refused.append(landed)
            elif landed is not None:
                found.append(landed)
    return found, refused


def _landed(path: Path, relative: str, root: Path) -> LandedFile | RefusedFile | None:
    """The file at `path`, or why it is not read (None: a symlink to a folder, walked apart)."""
    try:
        info = path.lstat()
    except OSError as error:
        return RefusedFile(relative, f"cannot read the file: {_why(error)}")
    target = path
    if stat.S_ISLNK(info.st_mode):
        # Only a symlink needs resolving: the walk never follows one, so every other path under
        # the resolved root is already its own target (resolving each of 23,000 files, a
        # system call per path component, was a quarter of a night's discovery).
        try:
            target = path.resolve(strict=True)
        except RuntimeError:  # Python 3.11 raises this for a symlink loop
            return RefusedFile(relative, "symlink loop; not read")
        except FileNotFoundError:
            return RefusedFile(relative, "dangling symlink: its target does not exist")
        except OSError as error:
            return RefusedFile(relative, f"cannot resolve the path: {_why(error)}")
        if not target.is_relative_to(root):
            return RefusedFile(relative, "symlink points outside the landing folder; not read")
        try:
            info = target.stat()
        except OSError as error:
            return RefusedFile(relative, f"cannot read the file: {_why(error)}")
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        return RefusedFile(relative, "not a regular file (a FIFO, socket or device); not read")
    try:
        return LandedFile(target, relative, info.st_size, sha256_of(target))
    except OSError as error:
        return RefusedFile(relative, f"cannot read the file: {_why(error)}")


def _why(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()
