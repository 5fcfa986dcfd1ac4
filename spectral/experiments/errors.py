"""The two ways a request to the runner ends early: a bad request, and Ctrl-C."""

from __future__ import annotations

__all__ = ["ExperimentError", "Interrupted"]


class ExperimentError(ValueError):
    """A problem with the user's request (experiment, profile, parameter, folder)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the grid; the message says what finished and what was stopped."""
