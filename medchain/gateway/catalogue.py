"""A hospital's export directory as the gateway sees it: record hash -> where the record's bytes are.

Every regular file below the directory is one record (hashed like ``records anchor`` does: a FHIR JSON
resource canonically, anything else by its bytes), except FHIR Bulk Data NDJSON exports (``*.ndjson``):
each of their lines is one FHIR resource, hashed canonically (DESIGN §6.6) and served as that line's bytes.
A rescan re-reads only files whose size or modification time changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medchain.errors import InputError
from medchain.hashing import hash_fhir_line, hash_file
from medchain.ndjson import SUFFIXES as NDJSON_SUFFIXES

__all__ = ["Catalogue", "Source", "ndjson_lines"]


@dataclass(frozen=True)
class Source:
    """Where one record's bytes are: a whole file, or one line of an NDJSON export."""

    path: Path
    method: str
    offset: int = 0
    length: int = -1  # -1: the whole file
    line: int = 0  # NDJSON line number (1-based); 0 for a whole file

    @property
    def suffix(self) -> str:
        return ".json" if self.line else self.path.suffix

    @property
    def content_type(self) -> str:
        if self.line or self.method != "sha256":
            return "application/fhir+json"
        return "application/json" if self.path.suffix.lower() == ".json" else "application/octet-stream"

    def read(self) -> bytes:
        with self.path.open("rb") as handle:
            if self.length < 0:
                return handle.read()
            handle.seek(self.offset)
            return handle.read(self.length)


def ndjson_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """``(line number, byte offset, line bytes without the newline)`` of an NDJSON file's non-blank lines,
    read as a stream."""
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield number, offset, line
            offset += len(raw)


class Catalogue:
    """Record hash -> sources, for one export directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"{self.root}: not a directory (the hospital's export to serve)")
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[int, int, list[tuple[bytes, Source]]]] = {}
        self._by_hash: dict[bytes, list[Source]] = {}
        self.skipped: list[str] = []  # unreadable files / malformed NDJSON lines (not served)

    def scan(self) -> list[bytes]:
        """Reads new and changed files; returns the record hashes found in them."""
        with self._lock:
            fresh: list[bytes] = []
            seen: set[Path] = set()
            for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
                seen.add(path)
                stat = path.stat()
                known = self._files.get(path)
                if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
                    continue
                entries = self._read(path)
                self._files[path] = (stat.st_mtime_ns, stat.st_size, entries)
                fresh += [h for h, _ in entries]
            for gone in set(self._files) - seen:
                del self._files[gone]
            self._by_hash = {}
            for _, _, entries in self._files.values():
                for record_hash, source in entries:
                    self._by_hash.setdefault(record_hash, []).append(source)
            return fresh

    def sources(self, record_hash: bytes) -> list[Source]:
        return list(self._by_hash.get(bytes(record_hash), ()))

    def hashes(self) -> list[bytes]:
        return list(self._by_hash)

    def _read(self, path: Path) -> list[tuple[bytes, Source]]:
        try:
            if path.suffix.lower() in NDJSON_SUFFIXES:
                return self._read_ndjson(path)
            result = hash_file(path)
            return [(result.record_hash, Source(path, result.method))]
        except (InputError, OSError) as exc:
            self.skipped.append(f"{path}: {exc}")
            return []

    def _read_ndjson(self, path: Path) -> list[tuple[bytes, Source]]:
        out = []
        for number, offset, line in ndjson_lines(path):
            try:
                result = hash_fhir_line(line, f"{path} line {number}")
            except InputError as exc:
                self.skipped.append(str(exc))
                continue
            out.append((result.record_hash, Source(path, result.method, offset, len(line), number)))
        return out
