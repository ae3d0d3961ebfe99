"""Errors the `dialin` command reports as a clear message and a non-zero exit status."""

from __future__ import annotations


class DialinError(Exception):
    """A problem the user can act on. ``main`` prints it (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class Invalid(DialinError):
    """Input rejected before anything was written."""


class Conflict(DialinError):
    """The change would clash with what is already in the table; nothing was written."""


class NotFound(DialinError):
    """Nothing in the table matches."""


class Unreachable(DialinError):
    """A service (DynamoDB, CloudFormation, an HTTP endpoint) could not be used."""

    exit_code = 2
