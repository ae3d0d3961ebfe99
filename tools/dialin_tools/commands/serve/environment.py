"""What the handlers read locally instead of a deployed stack's resources and settings."""

from __future__ import annotations

import os

# Caller ID of dry-run dial-outs when DIALOUT_CALLER_NUMBER is not set (a fictional 555-01xx number).
DEMO_CALLER_NUMBER = "+15555550100"


def _dial_out_dry_run() -> dict[str, str]:
    """POST /calls never places a real call from here: it shows what it would send."""
    return {
        "DIALOUT_DRY_RUN": "true",
        "DIALOUT_CALLER_NUMBER": os.environ.get("DIALOUT_CALLER_NUMBER") or DEMO_CALLER_NUMBER,
        "DIALOUT_ALLOWED_PREFIXES": os.environ.get("DIALOUT_ALLOWED_PREFIXES") or "+1",
    }


def local_environment(
    verbose: bool, public_url: str, table: str, endpoint: str, token: str, pepper: str
) -> dict[str, str]:
    """What the handlers read locally instead of the deployed stack's resources."""
    return {
        "TABLE_NAME": table,
        "PUBLIC_BASE_URL": public_url,
        "TWILIO_SECRET_ARN": "",
        "PIN_PEPPER_SECRET_ARN": "",
        "TWILIO_AUTH_TOKEN": token,
        "PIN_PEPPER": pepper,
        "DYNAMODB_ENDPOINT_URL": endpoint,
        **_dial_out_dry_run(),
        "POWERTOOLS_LOG_LEVEL": "INFO" if verbose else "WARNING",
        # Enabled either way: disabled, Powertools keeps every value and prints them at 100.
        # Without --verbose the environments' output goes nowhere (serve.environments).
        "POWERTOOLS_METRICS_DISABLED": "false",
    }
