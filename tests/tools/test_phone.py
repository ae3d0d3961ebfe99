"""`dialin call`'s TwiML following, against scripted answers (built with twilio's builders) that
check each request's signature the way Twilio's own RequestValidator does."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from dialin_tools.commands.call.phone import CallFailed, Phone, entry_url
from dialin_tools.errors import DialinError
from dialin_tools.lib.simulated_time import SIMULATED_SECONDS_HEADER

TOKEN = "phone-test-token"
BASE = "https://voice.example.com/Prod"


class Endpoint:
    """Answers by path; records each request after checking its signature."""

    def __init__(self, pages: dict[str, Callable[[dict[str, str]], VoiceResponse]]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float):
        params = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        assert RequestValidator(TOKEN).validate(url, params, headers["X-Twilio-Signature"])
        if method == "GET":
            params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        self.requests.append((method, url, params))
        self.headers.append(headers)
        page = self.pages.get(urlsplit(url).path)
        if page is None:
            return 404, b"Not Found"
        return 200, page(params).to_xml().encode()


def play(endpoint: Endpoint, **options) -> tuple[object, list[str]]:
    lines: list[str] = []
    phone = Phone(to="+15555550101", token=TOKEN, out=lines.append, transport=endpoint, **options)
    return phone.call(f"{BASE}/voice/incoming"), lines


def gather(action: str = "/Prod/pin", **attrs) -> Callable[[dict[str, str]], VoiceResponse]:
    def page(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        g = response.gather(action=action, **attrs)
        g.say("Enter your PIN.")
        response.say("Nothing entered.")
        response.hangup()
        return response

    return page


def join(params: dict[str, str]) -> VoiceResponse:
    response = VoiceResponse()
    connect = response.connect()
    connect.room(f"Room-{params.get('Digits', '')}", participant_identity="alice")
    response.say("Room not started.")
    return response


def test_standard_parameters_and_a_signed_gather():
    endpoint = Endpoint({"/Prod/voice/incoming": gather(finish_on_key="#"), "/Prod/pin": join})
    outcome, lines = play(endpoint, digits=["246810"])
    assert (outcome.joined, outcome.room, outcome.identity, outcome.requests) == (
        True,
        "Room-246810",
        "alice",
        2,
    )
    (_, first_url, first), (_, pin_url, pin) = endpoint.requests
    assert first_url == f"{BASE}/voice/incoming"
    assert pin_url == f"{BASE}/pin"  # a relative action, resolved against the document's URL
    assert first["CallStatus"] == "ringing" and pin["CallStatus"] == "in-progress"
    assert (
        first["CallSid"] == pin["CallSid"]
        and first["CallSid"].startswith("CA")
        and len(first["CallSid"]) == 34
    )
    for key in ("AccountSid", "From", "To", "Direction", "ApiVersion"):
        assert first[key] == pin[key] and first[key]
    assert "Digits" not in first
    assert (pin["Digits"], pin["FinishedOnKey"]) == ("246810", "#")
    assert "    hears: Enter your PIN." in lines
    assert "    presses: 246810#" in lines


def test_gather_timeout_without_action_on_empty_result_goes_to_the_next_verb():
    endpoint = Endpoint({"/Prod/voice/incoming": gather(), "/Prod/pin": join})
    outcome, lines = play(endpoint)
    assert not outcome.joined and outcome.reason == "the call was hung up"
    assert len(endpoint.requests) == 1
    assert "    hears: Nothing entered." in lines


def test_gather_timeout_with_action_on_empty_result_posts_empty_digits():
    endpoint = Endpoint({"/Prod/voice/incoming": gather(action_on_empty_result=True), "/Prod/pin": join})
    outcome, _ = play(endpoint)
    assert outcome.joined and outcome.room == "Room-"
    assert endpoint.requests[1][2]["Digits"] == ""


def test_num_digits_ends_input_without_the_finish_key():
    endpoint = Endpoint({"/Prod/voice/incoming": gather(num_digits=4), "/Prod/pin": join})
    outcome, _ = play(endpoint, digits=["123456"])
    assert outcome.room == "Room-1234"
    assert "FinishedOnKey" not in endpoint.requests[1][2]


def test_room_not_started_falls_through_like_twilio():
    endpoint = Endpoint({"/Prod/voice/incoming": join})
    outcome, lines = play(endpoint, rooms_not_started=1)
    assert not outcome.joined and outcome.reason == "the TwiML ended, so Twilio hung up"
    assert "    hears: Room not started." in lines


def test_get_redirect_signs_the_full_url():
    def first(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.pause(length=3)
        response.redirect("next?step=2", method="GET")
        return response

    endpoint = Endpoint({"/Prod/voice/incoming": first, "/Prod/voice/next": join})
    outcome, lines = play(endpoint)
    assert outcome.joined
    method, url, params = endpoint.requests[1]
    assert method == "GET" and url.startswith(f"{BASE}/voice/next?step=2&")
    assert params["step"] == "2" and params["To"] == "+15555550101"
    assert "    (pause, 3 s)" in lines


def test_a_hold_of_a_minute_is_followed_and_told_sensibly():
    """A room-aware hold document: reminders between pauses, music played N times."""

    def hold(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.say("Not started.")
        response.play("https://music.example.com/hold.mp3", loop=3)
        response.pause(length=45)
        response.say("Still waiting.")
        response.pause(length=15)
        response.redirect("/Prod/voice/wait")
        return response

    endpoint = Endpoint({"/Prod/voice/incoming": hold, "/Prod/voice/wait": join})
    outcome, lines = play(endpoint)
    assert outcome.joined
    assert "    hears audio: https://music.example.com/hold.mp3 (3 times)" in lines
    assert (
        lines.index("    (pause, 45 s)")
        < lines.index("    hears: Still waiting.")
        < lines.index("    (pause, 15 s)")
    )
    assert [h[SIMULATED_SECONDS_HEADER] for h in endpoint.headers] == ["0", "60"]


def test_each_request_says_how_many_seconds_were_simulated_before_it():
    def hold(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.pause(length=20)
        response.redirect("/Prod/voice/pin")
        return response

    endpoint = Endpoint(
        {
            "/Prod/voice/incoming": hold,
            "/Prod/voice/pin": gather(timeout=8, action_on_empty_result=True),
            "/Prod/pin": join,
        }
    )
    outcome, lines = play(endpoint)
    assert outcome.joined
    assert [h[SIMULATED_SECONDS_HEADER] for h in endpoint.headers] == ["0", "20", "28"]
    assert "    presses nothing (the <Gather> times out after 8 s)" in lines


def test_steps_are_bounded():
    def loop(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.redirect("/Prod/voice/incoming")
        return response

    outcome, _ = play(Endpoint({"/Prod/voice/incoming": loop}), max_steps=4)
    assert not outcome.joined and outcome.requests == 4 and "stopped after 4" in outcome.reason


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (403, b"Forbidden", "HTTP 403"),
        (500, b"", "HTTP 500"),
        (200, b"not xml", "not TwiML"),
        (200, b"<a/>", "<a>"),
    ],
)
def test_endpoint_failures(status: int, body: bytes, message: str):
    def transport(*args):
        return status, body

    with pytest.raises(CallFailed, match=message) as caught:
        Phone(to="+15555550101", token=TOKEN, out=lambda line: None, transport=transport).call(
            f"{BASE}/voice/incoming"
        )
    assert isinstance(caught.value, DialinError) and caught.value.exit_code == 2


def test_entry_url():
    assert entry_url("http://127.0.0.1:3000") == "http://127.0.0.1:3000/voice/incoming"
    assert entry_url(f"{BASE}/") == f"{BASE}/voice/incoming"
    assert entry_url(f"{BASE}/voice/incoming") == f"{BASE}/voice/incoming"
    with pytest.raises(CallFailed):
        entry_url("file:///etc/passwd")
