"""The `dialin` command's user errors: every one is a ``DialinError`` (dialin.core.errors), printed
once by ``cli.main`` as ``dialin COMMAND: message`` with the error's exit status."""

from __future__ import annotations

from dialin.core.errors import Conflict, DialinError, Invalid, NotFound


class Unreachable(DialinError):
    """A service (DynamoDB, CloudFormation, Twilio, an HTTP endpoint) could not be used."""

    exit_code = 2


class BadArguments(Invalid):
    """Arguments refused before anything was looked up or sent (argparse's exit status)."""

    exit_code = 2


class Refused(DialinError):
    """A service answered, but refused the request; the message says what it said."""


__all__ = ["BadArguments", "Conflict", "DialinError", "Invalid", "NotFound", "Refused", "Unreachable"]
