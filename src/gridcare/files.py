"""Files that hold personal data (the SQLite database, the notices file, the report snapshot) are
readable and writable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE = 0o600


def private(path: Path) -> Path:
    """Create `path` (empty) with mode 600 if it does not exist; tighten it to 600 if it does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077 and path.owner() == _me():
            path.chmod(mode & 0o700)
    else:
        os.close(fd)
    return path


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name
