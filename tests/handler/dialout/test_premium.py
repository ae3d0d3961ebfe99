"""Dial-out never calls a premium-rate or revenue-share range, whatever the allow-list says,
and still calls the ordinary mobile and geographic numbers of the same countries (sources of
the ranges: docs/dial-out.md)."""

from __future__ import annotations

import pytest
from support.dial_events import calls_event

from dialin.dialout.request import BadDialRequest, DialOutSettings, DialRequest, is_premium, parse_request

# Every destination allowed: only the premium check can refuse.
SETTINGS = DialOutSettings.from_env(
    {"DIALOUT_CALLER_NUMBER": "+14155550100", "DIALOUT_ALLOWED_PREFIXES": "+1,+2,+3,+4,+5,+6,+7,+8,+9"}
)

PREMIUM = [
    "+19005550123",  # NANP 900
    "+12129761234",  # New York, exchange 976
    "+18769761234",  # Jamaica, exchange 976
    "+18099761234",  # Dominican Republic, exchange 976
    "+12469761234",  # Barbados, exchange 976
    "+447012345678",  # UK 070 personal numbering
    "+447612345678",  # UK 076 pagers
    "+448431234567",  # UK 0843
    "+448441234567",  # UK 0844
    "+448451234567",  # UK 0845
    "+448711234567",  # UK 0871
    "+448721234567",  # UK 0872
    "+448731234567",  # UK 0873
    "+449091234567",  # UK 09 premium rate
    "+449821234567",  # UK 098 sexual entertainment services
    "+97912345678",  # international premium rate service
    "+881612345678",  # global mobile satellite
    "+33891234567",  # France 089
    "+499001234567",  # Germany 0900
]

ORDINARY = [
    "+14155550123",  # San Francisco
    "+12125550976",  # New York, 976 only in the line number
    "+12019875555",  # New Jersey
    "+18765550123",  # Jamaica
    "+18095551234",  # Dominican Republic
    "+12465551234",  # Barbados
    "+17875551234",  # Puerto Rico
    "+447700900123",  # UK mobile 077
    "+447911123456",  # UK mobile 079
    "+447400123456",  # UK mobile 074
    "+447624123456",  # Isle of Man mobile 07624
    "+442079460123",  # London 020
    "+441614960000",  # Manchester 0161
    "+443001234567",  # UK 03, charged as geographic
    "+448001234567",  # UK 0800 freephone
    "+33612345678",  # France mobile
    "+4915112345678",  # Germany mobile
    "+4930123456",  # Berlin
    "+61412345678",  # Australia mobile
    "+97150123456",  # United Arab Emirates mobile (+971, not +979)
]


def _parse(to: str) -> DialRequest:
    return parse_request(calls_event({"to": to, "room": "Board"}), SETTINGS, "req-1")


@pytest.mark.parametrize("number", PREMIUM)
def test_premium_ranges_are_refused_whatever_the_allow_list_says(number: str):
    assert is_premium(number)
    with pytest.raises(BadDialRequest, match="premium-rate") as refused:
        _parse(number)
    assert refused.value.field == "to"


@pytest.mark.parametrize("number", ORDINARY)
def test_ordinary_mobile_and_geographic_numbers_are_called(number: str):
    assert not is_premium(number)
    assert _parse(number).to == number
