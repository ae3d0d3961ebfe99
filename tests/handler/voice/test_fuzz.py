"""Property tests: hostile bodies, headers, query strings, Digits, room names and identities.

Whatever arrives, the handler never raises and never answers 5xx: a bad or missing
signature gets 403, an unknown route 404, and everything else well-formed TwiML that parses.
Bounded (``max_examples``) so the suite stays quick; `pytest --hypothesis-show-statistics`
prints how many cases ran.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.callers import CALLER, DIRECT, INCOMING, PIN_NUMBER, twilio_post
from support.voice import BASE, TABLE, Handler

from dialin.calls.steps import PinState, Speech, Urls, WaitState
from dialin.core.pins import hash_pin
from dialin.core.records import PinGrant, Route
from dialin.core.validation import name_problem
from dialin.speech import messages
from dialin_tools.lib.apigw import DEV_PIN_PEPPER, rest_event, signed_twilio_event

ROUTES = ["/voice/incoming", "/voice/pin", "/voice/wait", "/voice/fallback"]
XML_SPECIALS = ["<", ">", "&", "'", '"', "]]>", "<![CDATA[", "<?xml", "&amp;", "&#0;", "<Hangup/>"]
CONTROL = [chr(c) for c in [*range(32), 127]] + ["\u2028", "\u202e", "\ufeff", "\ufffe", "\uffff"]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a caller or a careless admin could produce: XML specials, control characters, long.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(XML_SPECIALS + CONTROL + ["a", "1", "+", "%", "=", "#"]), max_size=20).map(
        "".join
    ),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "9", "<", "\x00", "é", "🎉"]), st.integers(100, 3000)
    ),
)
# Text an API Gateway event cannot really carry (lone surrogates), for the unsigned paths.
any_text = st.one_of(hostile_text, st.text(alphabet=st.characters(codec=None), max_size=30))
garbage_base64 = st.one_of(
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode("ascii")),
    st.text(alphabet="ABCDEFabcdef0123456789+/=-_!", max_size=60),
)
header_names = st.sampled_from(
    [
        "X-Twilio-Signature",
        "Host",
        "X-Forwarded-Proto",
        "X-Forwarded-Port",
        "Content-Type",
        "x-twilio-signature",
    ]
)


def assert_answer(response: dict[str, Any], allowed: tuple[int, ...] = (200, 403, 404)) -> ET.Element | None:
    assert response["statusCode"] in allowed, response
    if response["statusCode"] != 200:
        return None
    assert response["headers"]["Content-Type"] == "application/xml"
    root = ET.fromstring(response["body"])  # well-formed XML: raises otherwise
    assert root.tag == "Response" and len(root) > 0
    return root


@FUZZ
@given(
    route=st.one_of(st.sampled_from(ROUTES), any_text),
    headers=st.dictionaries(st.one_of(header_names, any_text), any_text, max_size=6),
    body=st.one_of(st.none(), any_text, garbage_base64),
    is_base64=st.booleans(),
    query=st.one_of(st.none(), st.dictionaries(any_text, any_text, max_size=5)),
)
def test_unsigned_anything_is_403_404_or_twiml(
    voice_handler: Handler,
    route: str,
    headers: dict[str, str],
    body: str | None,
    is_base64: bool,
    query: dict[str, str] | None,
):
    event = rest_event(method="POST", resource=route, path=route, stage="Prod", headers=headers, body=body)
    event["isBase64Encoded"] = is_base64
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    root = assert_answer(voice_handler(event))
    if route in ROUTES[:3]:
        assert root is None  # no valid signature: never an answer from a signed route


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    headers=st.dictionaries(header_names, any_text, max_size=4),
    body=st.one_of(st.none(), any_text, garbage_base64),
    is_base64=st.one_of(st.none(), st.booleans()),
    query=st.one_of(st.none(), st.dictionaries(any_text, any_text, max_size=3)),
)
@example(route="/voice/incoming", headers={}, body="To=\udcff", is_base64=None, query=None)
@example(route="/voice/incoming", headers={"Host": "\udcff"}, body=None, is_base64=None, query=None)
@example(route="/voice/pin", headers={}, body=None, is_base64=None, query={"a": "\ud800"})
@example(route="/voice/incoming", headers={}, body="/w==", is_base64=True, query=None)  # non-UTF-8
def test_tampered_signed_requests_are_403_or_twiml(
    voice_handler: Handler,
    route: str,
    headers: dict[str, str],
    body: str | None,
    is_base64: bool | None,
    query: dict[str, str] | None,
):
    """A genuine signed request, then hostile changes to its parts (each None: kept)."""
    event = twilio_post(f"{BASE}{route}", To=PIN_NUMBER, Digits="246810")
    event["headers"].update(headers)
    if body is not None:
        event["body"] = body
    if is_base64 is not None:
        event["isBase64Encoded"] = is_base64
    if query is not None:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    assert_answer(voice_handler(event))


@FUZZ
@given(
    signature=st.one_of(garbage_base64, any_text),
    params=st.dictionaries(st.sampled_from(["Digits", "From", "To", "CallSid", "x"]), any_text, max_size=5),
)
def test_forged_signatures_are_refused(voice_handler: Handler, signature: str, params: dict[str, str]):
    for route in ROUTES[:3]:
        event = signed_twilio_event(base_url=BASE, route=route, params=[], stage="Prod", signature=signature)
        event["body"] = "&".join(f"{k}={v}" for k, v in params.items())
        assert voice_handler(event)["statusCode"] == 403


# Signed requests (Twilio would forward whatever the caller or network gives it).
step_query = st.dictionaries(
    st.sampled_from(["a", "m", "p", "v", "l", "r", "i", "t", "s", "n", "zz"]), hostile_text, max_size=8
)


@FUZZ
@given(
    digits=hostile_text,
    from_number=st.one_of(hostile_text, st.just(CALLER), st.just("anonymous")),
    to_number=st.one_of(hostile_text, st.sampled_from([DIRECT, PIN_NUMBER])),
    call_sid=hostile_text,
    extra=st.dictionaries(hostile_text, hostile_text, max_size=3),
)
def test_signed_hostile_call_parameters_get_twiml(
    voice_handler: Handler,
    digits: str,
    from_number: str,
    to_number: str,
    call_sid: str,
    extra: dict[str, str],
):
    pin_url = Urls(BASE).pin(PinState(1, 3, Speech()))
    for url in (INCOMING, pin_url):
        params = {**extra, "Digits": digits, "From": from_number, "To": to_number, "CallSid": call_sid}
        assert_answer(voice_handler(twilio_post(url, **params)), allowed=(200,))


@FUZZ
@given(route=st.sampled_from(["/voice/pin", "/voice/wait"]), query=step_query, digits=hostile_text)
def test_signed_hostile_step_state_gets_twiml(
    voice_handler: Handler, route: str, query: dict[str, str], digits: str
):
    """Step state comes back in our own signed URLs; even a nonsensical one answers politely."""
    params = {"CallSid": "CA1", "From": CALLER, "To": PIN_NUMBER, "Digits": digits}
    event = signed_twilio_event(base_url=BASE, route=route, params=params, query=query.items(), stage="Prod")
    assert_answer(voice_handler(event), allowed=(200,))


@FUZZ
@given(
    room=hostile_text,
    greeting=hostile_text,
    voice=hostile_text,
    language=hostile_text,
)
def test_hostile_route_items_give_twiml_and_the_exact_room(
    voice_handler: Handler, dynamodb: Any, room: str, greeting: str, voice: str, language: str
):
    route = Route(number=DIRECT, room=room, greeting=greeting, voice=voice, language=language)
    dynamodb.put_item(TableName=TABLE, Item=route.to_item())
    root = assert_answer(voice_handler(twilio_post(INCOMING, To=DIRECT)), allowed=(200,))
    assert root is not None
    joined = root.find("Connect/Room")
    if joined is None:
        assert " ".join(el.text or "" for el in root.iter("Say")) == messages.UNAVAILABLE
    else:
        assert name_problem(room, "room") is None
        assert joined.text == room  # escaped on the way out, exactly the same name on the way in


@FUZZ
@given(room=hostile_text, identity=hostile_text, label=hostile_text)
def test_hostile_pin_grants_give_twiml_and_the_exact_identity(
    voice_handler: Handler, dynamodb: Any, room: str, identity: str, label: str
):
    grant = PinGrant(hash_pin(DEV_PIN_PEPPER, "505050"), room=room, identity=identity, label=label)
    dynamodb.put_item(TableName=TABLE, Item=grant.to_item())
    pin_url = Urls(BASE).pin(PinState(1, 3, Speech()))
    root = assert_answer(voice_handler(twilio_post(pin_url, To=PIN_NUMBER, Digits="505050")), allowed=(200,))
    assert root is not None
    joined = root.find("Connect/Room")
    if joined is not None:
        assert joined.text == room
        assert joined.get("participantIdentity", "").startswith(identity[:100] if identity else "guest-")


@FUZZ
@given(room=hostile_text, identity=hostile_text, loops=st.integers(0, 10_000))
def test_wait_step_with_any_room_and_identity(voice_handler: Handler, room: str, identity: str, loops: int):
    now = int(voice_handler.app.clock())
    state = WaitState(room, identity, now, now, loops, Speech())
    root = assert_answer(voice_handler(twilio_post(Urls(BASE).wait(state), To=DIRECT)), allowed=(200,))
    assert root is not None
    joined = root.find("Connect/Room")
    if joined is not None:
        assert (joined.text, joined.get("participantIdentity")) == (room, identity)


# What fuzzing found, pinned as plain tests.


def test_found_names_and_greetings_twiml_cannot_carry(voice_handler: Handler, dynamodb: Any):
    assert name_problem("Room\ufffe", "room") and name_problem("Room\ud800", "room")
    for route in (Route(DIRECT, room="Daily\uffff"), Route(DIRECT, room="Daily", greeting="Hi\x01")):
        dynamodb.put_item(TableName=TABLE, Item=route.to_item())
        root = assert_answer(voice_handler(twilio_post(INCOMING, To=DIRECT)), allowed=(200,))
        assert root is not None and root.findtext("Say") == messages.UNAVAILABLE


def test_found_bad_port_or_surrogates_in_the_url_are_403_not_a_crash(voice_handler: Handler):
    for header, value in (("Host", "abc123.example.com:A"), ("Host", "\udcff"), ("X-Forwarded-Port", "x")):
        event = twilio_post(INCOMING, To=DIRECT)
        event["headers"][header] = value
        assert voice_handler(event)["statusCode"] == 403
    event = twilio_post(INCOMING, To=DIRECT)
    event["body"] += "&x=\udcff"
    assert voice_handler(event)["statusCode"] == 403
