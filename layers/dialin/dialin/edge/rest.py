"""Twilio's REST client as the bridge uses it: one base URL for every domain it calls.

``TWILIO_API_BASE_URL`` (e.g. ``http://127.0.0.1:3000/_twilio``) replaces the scheme and host
of each Twilio REST domain the bridge calls: ``https://api.twilio.com`` (Calls) and
``https://video.twilio.com`` (rooms and participants, ``edge.video``) alike. Their paths do
not overlap (``/2010-04-01/...``, ``/v1/...``), so one stand-in receives them all with
Twilio's own paths, form bodies and Basic auth. Empty: Twilio itself. Only the room-events
and dial-out functions import this module.
"""

from __future__ import annotations

from requests import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ..core.errors import CredentialsUnavailable
from ..core.validation import is_account_sid
from .credentials import Credentials
from .pacing import Pace

# The domains the bridge calls; each gets the configured base URL.
DOMAINS = ("api", "video")
# Connect and read timeout of a REST call, well inside the functions' 10 s. No retries:
# a retried POST could place a dial-out call twice.
TIMEOUT_SECONDS = 6
# Twilio's answers for a call that can no longer be moved (ended, or never was).
CALL_GONE_CODES = (20404, 21220)


def rest_client(
    account_sid: str, token: str, base_url: str = "", http_client: HttpClient | None = None
) -> Client:
    client = Client(account_sid, token, http_client=http_client or TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    if base_url:
        for name in DOMAINS:
            getattr(client, name).base_url = base_url
    return client


class ClientCache:
    """One REST client per account per container, rebuilt when the account's token changes."""

    def __init__(self, credentials: Credentials, base_url: str = "", http_client: HttpClient | None = None):
        self.credentials = credentials
        self.base_url = base_url
        self.http_client = http_client
        self._clients: dict[str, tuple[str, Client]] = {}

    def get(self, account: str = "") -> Client:
        """The client of ``account`` (a room's AccountSid), with that account's token; the
        Twilio secret's own account when empty or the same (see ``Credentials.auth_tokens_for``)."""
        account_sid = self.credentials.account_sid()
        if account and account != account_sid:
            account_sid, token = account, next(iter(self.credentials.auth_tokens_for(account)), "")
        else:
            token = next(iter(self.credentials.auth_tokens()), "")
        if not is_account_sid(account_sid) or not token:
            raise CredentialsUnavailable("the Twilio account SID or auth token is not set")
        cached = self._clients.get(account_sid)
        if cached is None or cached[0] != token:
            if self.http_client is None:
                self.http_client = TwilioHttpClient(timeout=TIMEOUT_SECONDS)
            cached = (token, rest_client(account_sid, token, self.base_url, self.http_client))
            self._clients[account_sid] = cached
        return cached[1]


MOVED = "moved"
GONE = "gone"
FAILED = "failed"


def try_update(client: Client, call_sid: str, twiml: str) -> tuple[str, str, int | None]:
    """One Calls API update: (MOVED | GONE | FAILED, the reason when not moved, Twilio's HTTP
    status when it refused). A network error has no status: it is not retried (its 6 s
    timeout is most of a batch's budget)."""
    try:
        client.calls(call_sid).update(twiml=twiml)
    except TwilioRestException as exc:
        reason = f"twilio {exc.status} {exc.code}"
        if exc.status == 404 or exc.code in CALL_GONE_CODES:
            return GONE, reason, None
        return FAILED, reason, exc.status
    except RequestException as exc:
        return FAILED, type(exc).__name__, None
    return MOVED, "", None


def update_call(client: Client, call_sid: str, twiml: str, pace: Pace | None = None) -> tuple[str, str]:
    """Move a live call to new TwiML: (MOVED | GONE | FAILED | SKIPPED, the reason when not
    moved); with ``pace``, 429 and 5xx answers are retried at Twilio's pace (``edge.pacing``)."""
    if pace is None:
        return try_update(client, call_sid, twiml)[:2]
    return pace.send(lambda: try_update(client, call_sid, twiml))
