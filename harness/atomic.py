"""Replace a file whole: write a temporary file beside it, then rename it over the old one.

A reader (a server worker loading a cache, a replay reading a cassette) or a writer killed at
any moment sees the old file or the new one, never half of one. Used for every file the
harness writes that something else may read meanwhile: cassettes (``harness record``, the
vcrpy persister), the effective-spec cache and the drift-target cache.

Written by hand: the standard library has the pieces (``tempfile.mkstemp``, ``os.replace``)
but not their combination, and the small libraries that do it (atomicwrites, now archived)
do not keep the ordinary file mode or sync the folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

# The mode an ordinary new file gets (0666 less the umask), read once at import.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def replace_file(path: Path, content: str | bytes, *, durable: bool = True) -> os.stat_result:
    """Make ``content`` (text is written as UTF-8) the whole of ``path``, atomically.

    ``durable``: the data and the rename are synced to disk before returning, so a power cut
    cannot undo them (what a cassette needs; a cache, which only saves time, does not).
    The temporary file is hidden (``.name.*.tmp``), so folder scans skip it, and is removed
    when the write fails. The parent folder must exist.

    Returns the written file's status, taken before the rename: once renamed, another
    process may replace it at once, and a ``stat`` of ``path`` could describe that file.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); what is written here is an ordinary file.
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
            written = os.fstat(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise
    if durable:
        sync_folder(path.parent)
    return written


def sync_folder(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a power cut after it could otherwise undo it)."""
    if sys.platform == "win32":  # pragma: no cover - folders cannot be opened there
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is atomic all the same
    finally:
        os.close(handle)
