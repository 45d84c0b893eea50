"""Where the local state folder is: found the way git finds `.git` (no heavy imports; the CLI starts fast).

`$MEDCHAIN_HOME` wins when set. Otherwise the current directory and each of its parents is searched for a
`.medchain/` folder, and the nearest one is used, so a command run from a sub-folder of a project shares that
project's manifest, salt key and journals. When there is none, `.medchain/` in the current directory is used
(created on the first write).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MEDCHAIN_HOME"
HOME_NAME = ".medchain"


def find_home(start: Path | None = None) -> Path:
    """$MEDCHAIN_HOME, else the nearest `.medchain/` in `start` (default: the cwd) or a parent, else
    `start/.medchain`."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / HOME_NAME
        if candidate.is_dir():
            return candidate
    return here / HOME_NAME
