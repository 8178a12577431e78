"""What a log file's stat is recorded as, so that an unchanged file is not opened again: its
size, modification time (ns) and inode, recorded only once the file has been still for a
settle time (a file still being written is read again next time). Used by the Claude Code and
agent CLI loaders."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

# size, modification time (ns), inode
Stamp = tuple[int, int, int]
# The coarsest file times kept (FAT's 2 s): a write that soon after the one before may leave the
# time as it was.
TIME_GRANULARITY_NS = 2_000_000_000


def stamp_of(status: os.stat_result) -> Stamp:
    # Inode numbers are unsigned 64-bit; the column is PostgreSQL's signed bigint.
    inode = status.st_ino - (1 << 64) if status.st_ino >= 1 << 63 else status.st_ino
    return status.st_size, status.st_mtime_ns, inode


def settled_stamp(path: Path, settle_seconds: float) -> Stamp | None:
    """A file's stamp if it has been still for `settle_seconds` (and longer than the coarsest
    file time): reading it again while it stays so adds nothing, even its last line without a
    newline was judged for good. None for a file still being written: read again next time."""
    try:
        status = path.stat()
    except OSError:
        return None  # the read says why
    still_ns = time.time_ns() - status.st_mtime_ns
    if still_ns < max(settle_seconds * 1e9, TIME_GRANULARITY_NS):
        return None
    return stamp_of(status)


def unchanged(path: Path, recorded: Stamp | None) -> bool:
    """Whether a file is a regular file whose stat is the one recorded (a stat, no read)."""
    if recorded is None:
        return False
    try:
        status = path.stat()
    except OSError:
        return False  # the read says why
    return stat.S_ISREG(status.st_mode) and stamp_of(status) == recorded
