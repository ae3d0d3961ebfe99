"""The project's own exceptions, in one place so every package can raise and catch them.

User errors (``DialinError``: bad input, a clash with what exists, nothing found) are raised
by the admin core and the `dialin` tools, and formatted once where they arrive: the CLI
prints the message and exits with ``exit_code``; an API answers ``status`` with JSON.
Messages never repeat a PIN, a secret or a full phone number.

Service faults (the rest) are what ``edge.faults`` turns into a polite answer.
"""

from __future__ import annotations


class DialinError(Exception):
    """A problem the user can act on. The message names no door's syntax: ``cli_hint`` and
    ``api_hint`` say how to act on it with the `dialin` command or through the admin API,
    and each door adds its own (``for_cli``, ``for_api``)."""

    exit_code = 1
    status = 400

    def __init__(self, message: str, field: str = "", *, cli_hint: str = "", api_hint: str = "") -> None:
        super().__init__(message)
        self.field = field  # the input field at fault, when there is one
        self.cli_hint = cli_hint
        self.api_hint = api_hint

    def for_cli(self) -> str:
        return f"{self} ({self.cli_hint})" if self.cli_hint else str(self)

    def for_api(self) -> str:
        return f"{self} ({self.api_hint})" if self.api_hint else str(self)


class Invalid(DialinError):
    """Input rejected before anything was written."""


class Conflict(DialinError):
    """The change would clash with what is already in the table; nothing was written."""

    status = 409


class NotFound(DialinError):
    """Nothing matches."""

    status = 404


class BadState(ValueError):
    """A step URL whose state cannot be read (only ever our own bug: it is signed)."""


class CredentialsUnavailable(RuntimeError):
    """A secret could not be read or has no usable value."""


class BadRequest(ValueError):
    """The event cannot be read as a Twilio form post (undecodable body)."""


class IncompleteRead(RuntimeError):
    """BatchGetItem left keys unprocessed (throttling): the answer is not complete."""
