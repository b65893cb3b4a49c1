"""The one error type the user sees."""

from __future__ import annotations


class HccrError(Exception):
    """An error the user can fix; the CLI prints its message on one line, no traceback."""
