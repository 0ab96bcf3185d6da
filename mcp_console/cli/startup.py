"""The console's start-up: garbage collection waits until its first results are drawn."""

from __future__ import annotations

import gc

# Starting the console builds a great many objects (modules, classes, the first screen, the
# database's mappings) and frees few: collecting meanwhile scans them over and over (a few
# hundred passes before the first results) and finds next to nothing. Collection resumes
# once the first results are on the screen, or the backend has failed, whichever is first.


def pause_collection() -> None:
    """Stop automatic garbage collection until ``resume_collection``."""
    gc.disable()


def resume_collection() -> None:
    """Collect garbage automatically again (once the first results are drawn)."""
    gc.enable()
