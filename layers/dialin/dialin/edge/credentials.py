"""The Twilio auth token(s) and the PIN pepper: from Secrets Manager when deployed, from
the environment for local runs. Read once per container and cached."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..core.config import Settings
from ..core.errors import CredentialsUnavailable
from ..core.validation import is_account_sid

MAX_AGE_SECONDS = 300
# A further account's secret that could not be read is not asked for again this long: each
# request naming that account would cost a Secrets Manager read (and anyone can name one).
UNREADABLE_SECONDS = 60


class Credentials:
    """Accepts the current token and, during a rotation, the previous one.

    Twilio signs with whichever token is primary at that moment. Secrets Manager's
    managed Twilio rotation (secret type TwilioAuthToken, JSON ``{"accountSid", "authToken"}``)
    keeps the token it replaced under the AWSPREVIOUS stage, which is read only when the
    current token does not match, and cached like the current one (also when absent).
    """

    def __init__(
        self,
        settings: Settings,
        secrets_client: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._client_factory = secrets_client or _default_secrets_client
        self._providers: dict[str, Any] = {}
        self._missing_until: dict[str, float] = {}
        self._clock = clock
        self._wall_clock = wall_clock
        # Per secret: when its AWSCURRENT version was created (epoch seconds), and until when
        # that is cached.
        self._rotated_at: dict[str, tuple[float, float]] = {}
        self._versions_client: Any = None

    def _provider(self, stage: str) -> Any:
        # One provider per stage: Powertools caches by secret name alone.
        if stage not in self._providers:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._providers[stage] = SecretsProvider(boto3_client=self._client_factory())
        return self._providers[stage]

    def _secret(self, arn: str, stage: str = "AWSCURRENT", remember_failure: bool = False) -> str | None:
        """The secret's value; None for a stage it does not have. An unreadable current
        version raises, and with ``remember_failure`` raises again without a read for
        UNREADABLE_SECONDS."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        key = f"{stage}:{arn}"
        if self._missing_until.get(key, 0.0) > self._clock():
            if stage == "AWSCURRENT":
                raise CredentialsUnavailable("secret could not be read (cached)")
            return None
        try:
            value = self._provider(stage).get(arn, max_age=MAX_AGE_SECONDS, VersionStage=stage)
        except GetParameterError:
            if stage == "AWSCURRENT":
                if remember_failure:
                    self._missing_until[key] = self._clock() + UNREADABLE_SECONDS
                raise CredentialsUnavailable("secret could not be read") from None
            self._missing_until[key] = self._clock() + MAX_AGE_SECONDS
            return None
        return value if isinstance(value, str) else None

    @staticmethod
    def _field(secret_string: str | None, name: str) -> str:
        if not secret_string:
            return ""
        try:
            data = json.loads(secret_string)
        except ValueError:
            return ""
        value = data.get(name, "") if isinstance(data, dict) else ""
        return value if isinstance(value, str) else ""

    @classmethod
    def _auth_token(cls, secret_string: str | None) -> str:
        return cls._field(secret_string, "authToken")

    def account_sid(self) -> str:
        """The account the REST client acts for (dial-out), from the same secret as the token."""
        if not self.settings.twilio_secret_arn:
            value = self.settings.local_account_sid
        else:
            value = self._field(self._secret(self.settings.twilio_secret_arn), "accountSid")
        if not value:
            raise CredentialsUnavailable("Twilio account SID is not configured")
        return value

    def auth_tokens(self) -> Iterator[str]:
        """Tokens to try, current first; the previous one is fetched only if asked for."""
        if not self.settings.twilio_secret_arn:
            if self.settings.local_auth_token:
                yield self.settings.local_auth_token
            return
        current = self._auth_token(self._secret(self.settings.twilio_secret_arn))
        if not current:
            raise CredentialsUnavailable("Twilio secret has no authToken")
        yield current
        if not self._previous_in_grace():
            return
        previous = self._auth_token(self._secret(self.settings.twilio_secret_arn, "AWSPREVIOUS"))
        if previous and previous != current:
            yield previous

    def auth_tokens_for(self, account_sid: str) -> Iterator[str]:
        """Tokens of the account that signed a request (its ``AccountSid``); none for an
        account the stack does not know, so its request is refused.

        Deployed: the Twilio secret's own account, else one of ``TWILIO_ACCOUNTS``, each
        with a secret of its own (``<prefix><AccountSid>``, same JSON shape and stages).
        A Twilio secret whose ``accountSid`` is not set signs for every other account, as
        before accounts were checked. Local: ``TWILIO_ACCOUNT_SID`` when set, else any.
        """
        settings = self.settings
        if not settings.twilio_secret_arn:
            local = settings.local_account_sid
            if not local or settings.local_any_account or local == account_sid:
                yield from self.auth_tokens()
            return
        if account_sid in settings.twilio_accounts and settings.twilio_account_secret_prefix:
            yield from self._tokens(f"{settings.twilio_account_secret_prefix}{account_sid}", account_sid)
            return
        own = self._field(self._secret(settings.twilio_secret_arn), "accountSid")
        if own == account_sid or not is_account_sid(own):
            yield from self.auth_tokens()

    def _tokens(self, secret_id: str, account_sid: str) -> Iterator[str]:
        """Current then previous token of an extra account's secret (which must name it)."""
        current_secret = self._secret(secret_id, remember_failure=True)
        if self._field(current_secret, "accountSid") != account_sid:
            return
        current = self._auth_token(current_secret)
        if current:
            yield current
        if not self._previous_in_grace(secret_id):
            return
        previous = self._auth_token(self._secret(secret_id, "AWSPREVIOUS"))
        if previous and previous != current:
            yield previous

    def _previous_in_grace(self, secret_id: str = "") -> bool:
        """The previous token is accepted only for the grace period after the current version
        was created, so rotating a leaked token revokes it within that time. Fails closed.
        ``secret_id``: another account's secret (default: the Twilio secret)."""
        secret_id = secret_id or self.settings.twilio_secret_arn
        grace = self.settings.token_rotation_grace_seconds
        if grace <= 0:
            return False
        rotated = self._rotated_at.get(secret_id)
        if rotated is None or rotated[1] <= self._clock():
            rotated = (self._current_created(secret_id), self._clock() + MAX_AGE_SECONDS)
            self._rotated_at[secret_id] = rotated
        return self._wall_clock() < rotated[0] + grace

    def _current_created(self, secret_id: str) -> float:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._versions_client is None:
                self._versions_client = self._client_factory()
            request = {"SecretId": secret_id}
            while True:
                page = self._versions_client.list_secret_version_ids(**request)
                for version in page.get("Versions", []):
                    if "AWSCURRENT" in version.get("VersionStages", []):
                        return float(version["CreatedDate"].timestamp())
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        except (BotoCoreError, ClientError, KeyError, AttributeError):
            pass
        return 0.0  # unknown: the previous token is not accepted

    def pepper(self) -> str:
        if not self.settings.pepper_secret_arn:
            value = self.settings.local_pepper
        else:
            value = self._secret(self.settings.pepper_secret_arn) or ""
        if not value:
            raise CredentialsUnavailable("PIN pepper is not configured")
        return value


def secrets_config() -> Any:
    """Bounds like the table's: a dead Secrets Manager costs at most 2 x (1 s + 1 s) plus a
    backoff under 1 s, so the caller still hears a polite answer within 5 s."""
    from botocore.config import Config

    return Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 2, "mode": "standard"})


def _default_secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager", config=secrets_config())
