"""Errors a user can act on: bad input, a clash with what exists, nothing found.

Raised by the admin core and the `dialin` tools, and formatted once where they arrive: the
CLI prints the message and exits with ``exit_code``; an API answers ``status`` with JSON.
Messages never repeat a PIN, a secret or a full phone number.
"""

from __future__ import annotations


class DialinError(Exception):
    """A problem the user can act on."""

    exit_code = 1
    status = 400

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field  # the input field at fault, when there is one


class Invalid(DialinError):
    """Input rejected before anything was written."""


class Conflict(DialinError):
    """The change would clash with what is already in the table; nothing was written."""

    status = 409


class NotFound(DialinError):
    """Nothing matches."""

    status = 404
