"""Progress lines on stdout during a run (per epoch, per stage), unless ``--quiet``."""
from __future__ import annotations


def log(quiet: bool, *args) -> None:
    if not quiet:
        print(*args, flush=True)
