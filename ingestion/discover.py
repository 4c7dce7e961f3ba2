"""Find landed export files: recursively, by content hash, never outside the landing folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

# Folders and files starting with these are not exports (the generator's manifest, editors'
# and uploaders' temporary files).
SKIPPED_PREFIXES = (".", "_")
SKIPPED_SUFFIXES = (".tmp", ".part", ".crdownload")


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
    """Every export file under `landing`, in path order, and the paths refused."""
    root = landing.resolve()
    found: list[LandedFile] = []
    refused: list[RefusedFile] = []
    for folder, subfolders, names in os.walk(root, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(SKIPPED_PREFIXES))
        for name in sorted(names):
            if name.startswith(SKIPPED_PREFIXES) or name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            target = path.resolve()
            if path.is_symlink() and not target.is_relative_to(root):
                refused.append(
                    RefusedFile(relative, "symlink points outside the landing folder; not read")
                )
                continue
            if not target.is_file():
                continue
            found.append(LandedFile(target, relative, target.stat().st_size, sha256_of(target)))
    return found, refused
