"""Settings read from the function's environment, once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .validation import is_account_sid


def _clamped_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return min(max(value, low), high)


def public_base_url_setting(env: Mapping[str, str]) -> str:
    return env.get("PUBLIC_BASE_URL", "").strip().rstrip("/")


def account_list(raw: str) -> tuple[str, ...]:
    """``"AC1..., AC2..."`` -> the well-formed account SIDs, once each."""
    sids = (item.strip() for item in raw.split(","))
    return tuple(dict.fromkeys(sid for sid in sids if is_account_sid(sid)))


def api_base_url_setting(env: Mapping[str, str]) -> str:
    """TWILIO_API_BASE_URL: one base URL for every Twilio REST domain (a local stand-in)."""
    value = env.get("TWILIO_API_BASE_URL", "").strip().rstrip("/")
    return value if value.startswith(("https://", "http://")) else ""


def hold_music_setting(env: Mapping[str, str]) -> str:
    value = env.get("HOLD_MUSIC_URL", "").strip()
    return value if value.startswith("https://") and value.isprintable() and " " not in value else ""


@dataclass(frozen=True)
class Settings:
    table_name: str
    # Base URL under which the routes live, as Twilio requests them
    # (e.g. https://abc.execute-api.us-east-1.amazonaws.com/Prod). Empty: derive it from the event.
    public_base_url: str
    # Deployed: secrets come from Secrets Manager by ARN.
    twilio_secret_arn: str
    pepper_secret_arn: str
    # Local runs only (`dialin serve`, `sam local`): plain values from the environment.
    local_auth_token: str
    local_pepper: str
    dynamodb_endpoint_url: str
    default_pin_attempts: int
    max_wait_seconds: int
    hold_seconds: int
    min_pin_length: int
    # Local runs only: the account for the REST client (dial-out), next to TWILIO_AUTH_TOKEN.
    local_account_sid: str = ""
    # Several Twilio accounts (see dialin.accounts): the SIDs besides the Twilio secret's own,
    # each with a secret named <prefix><AccountSid>.
    twilio_accounts: tuple[str, ...] = ()
    twilio_account_secret_prefix: str = ""
    # Local runs only: webhooks of any account are checked with the local token, even though
    # TWILIO_ACCOUNT_SID names one (`dialin serve` sets both when the user set neither).
    local_any_account: bool = False
    # Brute-force lockout: this many failed PINs from one caller inside the window lock the
    # caller out of PIN entry for lockout_seconds (see dialin.guard.lockout).
    lockout_failures: int = 10
    lockout_window_seconds: int = 900
    lockout_seconds: int = 3600
    # Room-aware joining: audio played while callers wait (HTTPS URL; empty: silence).
    hold_music_url: str = ""
    hold_music_seconds: int = 20  # the clip's length
    # Failure budgets for callers the network has not vouched for (see dialin.guard.budgets):
    # soft = the slow path, hard = "try again later", each per fixed window.
    number_budget: int = 20
    number_ceiling: int = 60
    stack_budget: int = 60
    stack_ceiling: int = 240
    # Attested callers' failures, stack-wide (anyone can buy attested numbers), and every
    # caller's failures in 24 hours.
    attested_budget: int = 60
    attested_ceiling: int = 240
    daily_failures: int = 20
    budget_window_seconds: int = 3600
    slow_path_seconds: int = 20
    # How long after a rotation the previous auth token (AWSPREVIOUS) is still accepted.
    token_rotation_grace_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            public_base_url=public_base_url_setting(env),
            twilio_secret_arn=env.get("TWILIO_SECRET_ARN", ""),
            pepper_secret_arn=env.get("PIN_PEPPER_SECRET_ARN", ""),
            local_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            local_pepper=env.get("PIN_PEPPER", ""),
            dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL", "").strip(),
            default_pin_attempts=_clamped_int(env, "PIN_ATTEMPTS", 3, 1, 10),
            max_wait_seconds=_clamped_int(env, "MAX_WAIT_SECONDS", 600, 0, 3600),
            hold_seconds=_clamped_int(env, "HOLD_SECONDS", 20, 5, 120),
            min_pin_length=_clamped_int(env, "MIN_PIN_LENGTH", 6, 4, 32),
            local_account_sid=env.get("TWILIO_ACCOUNT_SID", "").strip(),
            twilio_accounts=account_list(env.get("TWILIO_ACCOUNTS", "")),
            twilio_account_secret_prefix=env.get("TWILIO_ACCOUNT_SECRET_PREFIX", "").strip(),
            local_any_account=env.get("TWILIO_ANY_ACCOUNT", "").strip().lower() in ("1", "true"),
            lockout_failures=_clamped_int(env, "LOCKOUT_FAILURES", 10, 1, 1000),
            lockout_window_seconds=_clamped_int(env, "LOCKOUT_WINDOW_SECONDS", 900, 60, 86_400),
            lockout_seconds=_clamped_int(env, "LOCKOUT_SECONDS", 3600, 60, 604_800),
            hold_music_url=hold_music_setting(env),
            hold_music_seconds=_clamped_int(env, "HOLD_MUSIC_SECONDS", 20, 5, 600),
            **_budget_settings(env),
            token_rotation_grace_seconds=_clamped_int(env, "TOKEN_ROTATION_GRACE_SECONDS", 3600, 0, 604_800),
        )


def _budget_settings(env: Mapping[str, str]) -> dict[str, int]:
    number_budget = _clamped_int(env, "NUMBER_FAILURE_BUDGET", 20, 1, 100_000)
    stack_budget = _clamped_int(env, "STACK_FAILURE_BUDGET", 60, 1, 100_000)
    attested_budget = _clamped_int(env, "ATTESTED_FAILURE_BUDGET", 60, 1, 100_000)
    return {
        "number_budget": number_budget,
        "number_ceiling": _clamped_int(env, "NUMBER_FAILURE_CEILING", 60, number_budget, 100_000),
        "stack_budget": stack_budget,
        "stack_ceiling": _clamped_int(env, "STACK_FAILURE_CEILING", 240, stack_budget, 100_000),
        "attested_budget": attested_budget,
        "attested_ceiling": _clamped_int(env, "ATTESTED_FAILURE_CEILING", 240, attested_budget, 100_000),
        "daily_failures": _clamped_int(env, "DAILY_FAILURE_LIMIT", 20, 1, 10_000),
        "budget_window_seconds": _clamped_int(env, "FAILURE_BUDGET_WINDOW_SECONDS", 3600, 60, 86_400),
        "slow_path_seconds": _clamped_int(env, "SLOW_PATH_SECONDS", 20, 5, 60),
    }
