"""When `dialin serve` may use the public dev secrets: on loopback, on its embedded table or
another `dialin serve`'s, with no tunnel in front; anything else needs the account's own."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from dialin_tools.errors import Invalid


def refuse_public_dev_secrets(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    """The documented dev token (and pepper) are public: anyone can sign requests with them.
    They serve only a loopback server on the embedded table, with no tunnel in front. An
    embedded DynamoDB beyond loopback (``--dynamodb-host``, for `sam local`'s containers) is
    reachable by others too (it takes anyone's reads and writes): as for ``--host``, it runs
    only once the user has set a token of their own."""
    db_host = getattr(args, "dynamodb_host", "")
    exposed = [
        reason
        for reason, applies in (
            ("--table (a real table)", bool(args.table) and not shared_local_table(env)),
            (f"--host {args.host} (not loopback)", not is_loopback(args.host)),
            (f"--dynamodb-host {db_host} (not loopback)", bool(db_host) and not is_loopback(db_host)),
            ("--public-url (a tunnel)", bool(args.public_url)),
        )
        if applies
    ]
    if not exposed:
        return
    missing = [name for name in ("TWILIO_AUTH_TOKEN",) if not env.get(name)]
    if args.table and not shared_local_table(env) and not env.get("PIN_PEPPER"):
        missing.append("PIN_PEPPER")
    if missing:
        raise Invalid(
            f"with {' and '.join(exposed)} the public dev secrets would let anyone in: "
            f"set {' and '.join(missing)} (your account's values)"
        )


def shared_local_table(env: Mapping[str, str]) -> str:
    """Another `dialin serve`'s embedded DynamoDB, named by AWS_ENDPOINT_URL_DYNAMODB on
    loopback: this server serves its table as one more environment (dev secrets, fake keys)."""
    endpoint = env.get("AWS_ENDPOINT_URL_DYNAMODB", "").strip().rstrip("/")
    host = urlsplit(endpoint).hostname or ""
    return endpoint if endpoint.startswith("http://") and is_loopback(host) else ""


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
