"""Files only their owner may read: the database holds pending `response_url`s and Discord
interaction tokens, which let anyone who reads them answer as the bot.

Modes are set with chmod, not left to the umask, so a permissive umask (0o022, 0o000)
changes nothing. SQLite gives the `-wal` and `-shm` files the database file's mode.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from bot.errors import UserError

_log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path, narrow_existing: bool) -> None:
    """Make the folder `path` (and any missing parents) if it is missing, itself 0700.
    An existing folder is narrowed only with `narrow_existing` (a folder that is
    paperwire's own): a folder someone chose to share, say /tmp, is theirs to set."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the folder {path} ({exc.strerror or exc})") from None
    try:
        path.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        if narrow_existing and path.is_dir():
            narrow(path, FOLDER_MODE)
        return
    except OSError as exc:
        raise UserError(f"cannot create the folder {path} ({exc.strerror or exc})") from None
    os.chmod(path, FOLDER_MODE)  # mkdir's mode is cut by the umask, this one is not


def private_file(path: Path) -> None:
    """Create the empty file `path` 0600 if it is missing, so that it never exists with
    a wider mode, not even between its creation and a chmod."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise UserError(f"cannot create {path} ({exc.strerror or exc})") from None
    try:
        os.fchmod(fd, FILE_MODE)  # the umask can only narrow 0600, but set it exactly
    finally:
        os.close(fd)


def narrow(path: Path, mode: int) -> None:
    """Take away what `path` grants beyond `mode`, saying so; a missing path is fine. A
    path paperwire may not narrow (another user's, in a shared folder) stops the start:
    the outbox's response URLs and tokens would be written where others can read them."""
    try:
        old = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    new = old & mode
    if new == old:
        return
    try:
        os.chmod(path, new)
    except OSError as exc:
        raise UserError(
            f"{path} is open to others (mode {old:04o}) and paperwire cannot narrow it"
            f" ({exc.strerror or exc}): keep the database in a folder of your own"
        ) from None
    _log.warning("narrowed %s from mode %04o to %04o: only its owner may read it", path, old, new)
