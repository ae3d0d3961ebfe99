"""End to end: `dialin serve` runs as its own process (free ports, embedded DynamoDB, the
demo seed) and `dialin call` plays complete calls against it over HTTP."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from support.served import DIALIN, ROOT, Served, dialin_serve

from dialin.speech import messages, prompts
from dialin_tools import cli
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, twilio_signature


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def dial(served: Served, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["call", *args, "--url", served.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_direct_number_joins_its_room(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550100")
    assert code == 0, out
    assert "hears: Welcome to the daily stand-up. Connecting you now." in out
    assert re.search(r"^Joined room DailyStandup as phone-0123-[a-z2-7]{5}\.$", out, re.M), out


def test_personal_pin_joins_as_alice(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550101", "--digits", "246810")
    assert code == 0, out
    assert messages.PIN_PROMPT in out
    assert re.search(r"^Joined room ClinicRoom1 as alice-[a-z2-7]{5}\.$", out, re.M), out


def test_guest_pin_gets_a_generated_identity(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550101", "--from", "+14155559876", "--digits", "135790")
    assert code == 0, out
    assert re.search(r"^Joined room ClinicRoom1 as guest-9876-[a-z2-7]{5}\.$", out, re.M), out


def test_wrong_pin_three_times_hangs_up(served: Served, capsys):
    code, out = dial(
        served, capsys, "--to", "+15555550101", "--digits", "111111", "222222", "333333", "246810"
    )
    assert code == 1, out
    assert out.count(f"{messages.PIN_WRONG} {messages.PIN_PROMPT}") == 2
    assert messages.PIN_FAILED in out
    assert len(re.findall(r"POST /voice/pin -> 200", out)) == 3
    assert "Did not join a room: the call was hung up." in out


def test_no_pin_entered_times_out_like_twilio(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550101")
    assert code == 1, out
    assert out.count(messages.PIN_MISSING) == 2
    assert messages.PIN_FAILED in out


def test_room_not_started_then_started(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550100", "--room-not-started")
    assert code == 0, out
    assert messages.NOT_STARTED in out
    assert "POST /voice/wait -> 200" in out
    assert re.search(r"^Joined room DailyStandup as phone-0123-", out, re.M), out
    # A longer wait: the caller is reminded every third attempt.
    code, out = dial(served, capsys, "--to", "+15555550100", "--room-not-started", "4")
    assert code == 0, out
    assert messages.STILL_WAITING in out


def test_a_long_wait_ends_at_max_wait_seconds_in_simulated_time(served: Served, capsys):
    # HoldSeconds 20, MaxWaitSeconds 600 (the template's defaults): the server's clock follows
    # the call's simulated pauses, so the caller gives up after 600 s, long before room 41.
    code, out = dial(served, capsys, "--to", "+15555550100", "--room-not-started", "40")
    assert code == 1, out
    assert messages.GAVE_UP in out
    waited = 20 * out.count("(pause, 20 s)")
    assert 600 <= waited < 600 + 2 * 20  # it gives up at the first wait step past 600 s
    assert "Joined room" not in out


def test_unknown_number_hears_goodbye(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550199")
    assert code == 1, out
    assert messages.UNKNOWN_NUMBER in out


def test_forged_signature_is_refused(served: Served, capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-servers-token")
    code, out = dial(served, capsys, "--to", "+15555550100")
    assert code == 2, out
    assert "POST /voice/incoming -> 403" in out
    assert "refused the request (HTTP 403)" in out


def post(url: str, params: dict[str, str], signature: str) -> int:
    body = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in params.items()).encode()
    request = urllib.request.Request(  # noqa: S310 - the local test server
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - local test server
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_signature_is_checked_for_the_local_url(served: Served):
    url = f"{served.url}/voice/incoming"
    params = {"CallSid": "CA" + "1" * 32, "From": "+15555550123", "To": "+15555550100"}
    assert post(url, params, twilio_signature(url, params, DEV_AUTH_TOKEN)) == 200
    stage_url = f"{served.url}/Prod/voice/incoming"
    assert post(url, params, twilio_signature(stage_url, params, DEV_AUTH_TOKEN)) == 403
    assert post(url, params, "") == 403
    assert post(f"{served.url}/voice/nowhere", params, "x") == 404


def test_the_printed_demo_lines_join(served: Served, capsys):
    banner = served.lines[: served.banner_end]
    assert "  (the embedded table lives in memory: changes vanish when `dialin serve` stops)" in banner
    assert any(line.endswith("# PIN: joins ClinicRoom1 as alice-xxxxx") for line in banner), banner
    calls = [line.split("#", 1)[0] for line in banner if re.match(r"^\s+\S*dialin call ", line)]
    assert any("--to +15555550100 " in line for line in calls), banner
    assert any("--to +15555550101 --digits 246810 " in line for line in calls), banner
    for line in calls:
        argv = shlex.split(line)
        assert argv[1] == "call" and "--url" in argv
        code = cli.main(argv[1:])
        assert code == 0, capsys.readouterr().out
    # The first one also through the installed console script, as a user would paste it.
    if DIALIN.exists():
        argv = shlex.split(calls[0])
        done = subprocess.run(  # noqa: S603 - our own console script
            [str(DIALIN), *argv[1:]], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Joined room DailyStandup" in done.stdout


def test_admin_local_changes_the_running_server(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["pin", "add", "--room", "ClinicRoom1", "--identity", "bob", *local]) == 0
    out = capsys.readouterr().out
    # Generated PINs are 10 digits, printed in groups for reading aloud.
    spoken = re.search(r"^PIN (\d{3} \d{3} \d{4}) -> room ClinicRoom1 as bob", out, re.M).group(1)
    pin = spoken.replace(" ", "")
    code, out = dial(served, capsys, "--to", "+15555550101", "--digits", pin)
    assert code == 0 and "Joined room ClinicRoom1 as bob-" in out, out

    assert cli.main(["pin", "list", *local]) == 0
    listing = capsys.readouterr().out
    assert "bob" in listing and pin not in listing and "246810" not in listing

    assert cli.main(["pin", "add", "--room", "Elsewhere", "--pin", "246810", *local]) == 1
    assert "already in use" in capsys.readouterr().err

    assert cli.main(["pin", "revoke", pin, *local]) == 0
    capsys.readouterr()
    code, out = dial(served, capsys, "--to", "+15555550101", "--digits", pin, pin, pin)
    assert code == 1 and messages.PIN_FAILED in out, out

    assert cli.main(["route", "add", "+15555550177", "--room", "Board Room", *local]) == 0
    code, out = dial(served, capsys, "--to", "+15555550177")
    assert code == 0 and "Joined room Board Room as phone-0123-" in out, out
    assert cli.main(["route", "remove", "+15555550177", *local]) == 0
    code, out = dial(served, capsys, "--to", "+15555550177")
    assert code == 1 and messages.UNKNOWN_NUMBER in out


def test_a_room_given_to_a_pin_number_is_ignored_with_a_warning(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["route", "add", "+15555550178", "--pin", "--room", "Board", *local]) == 0
    captured = capsys.readouterr()
    assert "warning: --room Board is ignored with --pin" in captured.err
    assert "Route +15555550178 -> PIN entry saved" in captured.out
    assert cli.main(["route", "list", *local]) == 0
    (line,) = [row for row in capsys.readouterr().out.splitlines() if row.startswith("+15555550178")]
    assert line.split()[:2] == ["+15555550178", "pin"] and "Board" not in line
    assert cli.main(["route", "remove", "+15555550178", *local]) == 0


def test_one_log_line_per_request_without_bodies(served: Served, capsys):
    code, out = dial(served, capsys, "--to", "+15555550101", "--digits", "246810")
    assert code == 0
    sid = re.search(r"^CallSid (CA[0-9a-f]{32}) ", out, re.M)
    assert sid is not None, out  # `dialin call` says which call it is
    pattern = re.compile(rf"^\d\d:\d\d:\d\d POST /voice/pin 200 \d+ ms {sid.group(1)}$")
    served.read(pattern, 10)
    requests = served.lines[served.banner_end :]
    assert all("246810" not in line and "Digits" not in line for line in requests)
    assert all("+1555" not in line for line in requests)  # no phone numbers either
    assert not [line for line in requests if line.startswith("{")]  # handlers' logs, metrics: --verbose


def test_verbose_adds_the_handlers_json_logs():
    with dialin_serve(flags=["--verbose"]) as served:
        assert cli.main(["call", "--to", "+15005550006", "--url", served.url]) == 1  # unknown number
        logged = served.read(re.compile(r'^\{"level":"INFO".*"message":"unknown number"'), 10)
        assert "…" in json.loads(logged)["from"]  # masked even here


def test_dial_out_against_the_local_server_shows_the_twilio_request(served: Served, capsys):
    code = cli.main(["dial", "--to", "+15555550142", "--room", "DailyStandup", "--url", served.url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no call was placed" in out
    request = json.loads(out[out.index("{") : out.rindex("}") + 1])
    data = request["data"]
    assert request["url"].endswith("/Calls.json")
    assert (data["To"], data["From"]) == ("+15555550142", "+15555550100")
    assert data["StatusCallback"] == f"{served.url}/voice/status"
    twiml = ET.fromstring(data["Twiml"])
    assert [verb.tag for verb in twiml] == ["Gather", "Hangup"]  # the callee presses 1 first
    assert twiml.find("Gather").get("action").startswith(f"{served.url}/voice/confirm?")
    trusted = ["dial", "--to", "+15555550142", "--room", "DailyStandup", "--no-confirm", "--url", served.url]
    assert cli.main(trusted) == 0
    out = capsys.readouterr().out
    twiml = ET.fromstring(json.loads(out[out.index("{") : out.rindex("}") + 1])["data"]["Twiml"])
    assert twiml.find("Connect/Room").text == "DailyStandup"
    assert twiml.find("Redirect").text.startswith(f"{served.url}/voice/wait?")
    code = cli.main(["dial", "--to", "+445555550142", "--room", "DailyStandup", "--url", served.url])
    assert code != 0  # outside the allow-list (the caller number's country code, +1)
    assert "not an allowed destination" in capsys.readouterr().err


LANGUAGES = [
    ("en-US", "Polly.Joanna", "+15555550160"),
    ("es-ES", "Polly.Lucia", "+15555550161"),
    ("fr-FR", "Polly.Lea", "+15555550162"),
    ("de-DE", "Polly.Vicki", "+15555550163"),
    ("pt-BR", "Polly.Camila", "+15555550164"),
]


@pytest.mark.parametrize(("language", "voice", "number"), LANGUAGES)
def test_a_call_in_each_language(served: Served, capsys, language: str, voice: str, number: str):
    """A PIN number in each language: a wrong PIN, then the right one, then a meeting that has
    not started; every prompt in the route's language, said by its default voice."""
    texts = prompts.CATALOGUES[prompts.language_code(language)]
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["route", "add", number, "--pin", "--language", language, "--replace", *local]) == 0
    assert "Note:" not in capsys.readouterr().out
    caller = "+1415555" + number[-4:]  # a caller of its own: other tests' wrong PINs count too
    code, out = dial(
        served, capsys, "--to", number, "--from", caller, "--digits", "111111", "246810", "--room-not-started"
    )
    assert code == 0, out
    heard = [line.strip() for line in out.splitlines() if line.strip().startswith("hears")]
    assert heard == [
        f"hears ({voice}, {language}): {texts['PIN_PROMPT']}",
        f"hears ({voice}, {language}): {texts['PIN_WRONG']} {texts['PIN_PROMPT']}",
        f"hears ({voice}, {language}): {texts['PIN_ACCEPTED']}",
        f"hears ({voice}, {language}): {texts['NOT_STARTED']}",
    ], out
    assert re.search(r"^Joined room ClinicRoom1 as alice-[a-z2-7]{5}\.$", out, re.M), out


def test_a_spoken_pin_through_the_local_server(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    number = "+15555550165"
    assert cli.main(["route", "add", number, "--pin", "--spoken-pin", "--language", "es-MX", *local]) == 0
    capsys.readouterr()
    code, out = dial(served, capsys, "--to", number, "--say", "dos cuatro seis ocho uno cero")
    assert code == 0, out
    assert "says: dos cuatro seis ocho uno cero" in out
    assert re.search(r"^Joined room ClinicRoom1 as alice-[a-z2-7]{5}\.$", out, re.M), out


def test_an_unknown_language_is_english_and_route_add_says_so(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    number = "+15555550167"
    assert cli.main(["route", "add", number, "--room", "Board", "--language", "ja-JP", *local]) == 0
    assert "Note: no prompts in ja-JP: callers hear English prompts" in capsys.readouterr().out
    code, out = dial(served, capsys, "--to", number)
    assert code == 0 and f"hears (ja-JP): {messages.CONNECTING}" in out, out


def admin_request(served: Served, method: str, path: str, body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the local test server
        f"{served.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - local test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_admin_routes_through_dialin_serve(served: Served, capsys):
    status, route = admin_request(served, "POST", "/admin/routes", {"number": "+15555550188", "mode": "pin"})
    assert status == 201, route
    assert admin_request(served, "POST", "/admin/routes", {"number": "+15555550188", "mode": "pin"})[0] == 409
    status, created = admin_request(
        served, "POST", "/admin/pins", {"room": "Serve Room", "number": "+15555550188", "label": "e2e"}
    )
    assert status == 201 and created["numbers"] == ["+15555550188"], created
    code, out = dial(served, capsys, "--to", "+15555550188", "--digits", created["pin"])
    assert code == 0 and "Joined room Serve Room as guest-0123-" in out, out
    status, listing = admin_request(served, "GET", "/admin/pins?room=Serve%20Room")
    assert status == 200 and [p["id"] for p in listing["pins"]] == [created["id"]]
    assert created["pin"] not in json.dumps(listing)
    assert admin_request(served, "POST", "/admin/pins", {"room": ""}) == (
        400,
        {"error": "invalid_request", "field": "room", "message": "room is empty"},
    )
    assert admin_request(served, "DELETE", f"/admin/pins/{created['id']}")[0] == 200
    assert admin_request(served, "DELETE", f"/admin/pins/{created['id']}")[0] == 404
    code, out = dial(served, capsys, "--to", "+15555550188", "--digits", created["pin"], created["pin"])
    assert code == 1, out
    assert admin_request(served, "DELETE", "/admin/routes/%2B15555550188")[0] == 200
    assert admin_request(served, "GET", "/admin/nowhere")[0] == 404


def test_admin_commands_through_the_api_with_url(served: Served, capsys):
    api = ["--url", served.url]
    spoken = ["--spoken-pin", "--language", "de-DE", "--prompt", "PIN_PROMPT_SPOKEN=Ihre Raum-PIN, bitte."]
    assert cli.main(["route", "add", "+15555550166", "--pin", *spoken, *api]) == 0
    assert "Route +15555550166 -> PIN entry saved in the admin API" in capsys.readouterr().out
    assert cli.main(["route", "add", "+15555550166", "--pin", *api]) == 1
    assert "409" in capsys.readouterr().err
    assert (
        cli.main(
            ["pin", "add", "--room", "Api Room", "--identity", "carol", "--number", "+15555550166", *api]
        )
        == 0
    )
    printed = re.search(r"^PIN ([\d ]+) -> room Api Room as carol", capsys.readouterr().out, re.M)
    pin = printed.group(1).replace(" ", "")
    code, out = dial(served, capsys, "--to", "+15555550166", "--say", " ".join(pin))
    assert code == 0 and "Joined room Api Room as carol-" in out, out
    assert "hears (Polly.Vicki, de-DE): Ihre Raum-PIN, bitte." in out

    assert cli.main(["pin", "list", "--room", "Api Room", *api]) == 0
    listing = capsys.readouterr().out
    pin_id = re.search(r"^([0-9a-f]{64})\s+Api Room\s+carol", listing, re.M).group(1)
    assert pin not in listing
    assert cli.main(["pin", "list", *api]) == 1
    assert "give --room ROOM" in capsys.readouterr().err
    assert cli.main(["pin", "add", "--room", "Api Room", "--pin", "97531086", *api]) == 1
    assert "always generated" in capsys.readouterr().err

    assert cli.main(["pin", "revoke", "--hash-prefix", pin_id, *api]) == 0
    assert pin_id in capsys.readouterr().out
    assert cli.main(["pin", "revoke", "--hash-prefix", pin_id, *api]) == 1
    assert "404" in capsys.readouterr().err
    assert cli.main(["route", "list", *api]) == 0
    assert "+15555550166" in capsys.readouterr().out
    assert cli.main(["route", "remove", "+15555550166", *api]) == 0
    capsys.readouterr()
    assert cli.main(["route", "remove", "+15555550166", *api]) == 1
    assert "404" in capsys.readouterr().err


def test_two_variables_point_every_command_at_another_local_server(
    served: Served, capsys, monkeypatch: pytest.MonkeyPatch
):
    """`dialin serve` on other ports: DIALIN_URL and DIALIN_DYNAMODB_URL, set once, serve every
    command; none needs --url or --endpoint-url."""
    monkeypatch.setenv("DIALIN_URL", served.url)
    monkeypatch.setenv("DIALIN_DYNAMODB_URL", served.dynamodb)
    assert cli.main(["route", "add", "+15555550168", "--room", "EnvRoom", "--local"]) == 0
    assert cli.main(["route", "list", "--local"]) == 0
    assert "EnvRoom" in capsys.readouterr().out
    assert cli.main(["call", "--to", "+15555550168"]) == 0
    assert "Joined room EnvRoom as phone-0123-" in capsys.readouterr().out
    assert cli.main(["dial", "--to", "+15555550143", "--room", "EnvRoom"]) == 0
    assert "no call was placed" in capsys.readouterr().out


def test_an_operator_sees_and_lifts_a_callers_lockout_without_the_pepper(served: Served, capsys):
    """Ten wrong PINs lock a caller out (the template's LockoutFailures); `dialin lockout list`
    says so and until when, `clear` lifts it, and their next call hears the PIN prompt."""
    number, caller = "+15555550169", "+14155550169"
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["route", "add", number, "--pin", *local]) == 0
    for _ in range(4):  # three wrong PINs a call
        dial(served, capsys, "--to", number, "--from", caller, "--digits", "111111", "222222", "333333")
    code, out = dial(served, capsys, "--to", number, "--from", caller)
    assert code == 1 and messages.LOCKED_OUT in out, out
    assert cli.main(["lockout", "list", "--caller", caller, "--number", number, *local]) == 0
    listed = capsys.readouterr().out
    assert re.search(
        rf"^{re.escape(number)}: 1[0-2] failed PIN\(s\), LOCKED OUT until 20\d\d-", listed, re.M
    ), listed
    assert "attested calls, any number: no failed PINs" in listed
    assert cli.main(["lockout", "clear", "--caller", caller, *local]) == 0  # every PIN number
    assert "Cleared 1 counter(s)" in capsys.readouterr().out
    code, out = dial(served, capsys, "--to", number, "--from", caller, "--digits", "246810")
    assert code == 0 and messages.PIN_PROMPT in out and messages.LOCKED_OUT not in out, out
    assert cli.main(["lockout", "list", "--caller", caller, *local]) == 0
    assert "is locked out on 0 of" in capsys.readouterr().out


def test_lockout_refuses_a_bad_number_through_every_door(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    for target in (local, ["--url", served.url]):
        assert cli.main(["lockout", "list", "--caller", "4155550169", *target]) == 1
        assert "caller must be an E.164 phone number" in capsys.readouterr().err
        assert cli.main(["lockout", "clear", "--caller", "+14155550169", "--number", "5550169", *target]) == 1
        assert "number must be an E.164 phone number" in capsys.readouterr().err
    # The API itself, as curl would send it: a bare + is a space in a query string.
    assert admin_request(served, "GET", "/admin/lockouts?caller=+14155550169") == (
        400,
        {
            "error": "invalid_request",
            "field": "caller",
            "message": "caller starts with a space: write the + of an E.164 number as %2B",
        },
    )


def test_an_operator_lifts_a_lockout_through_the_admin_api_with_url(served: Served, capsys):
    """`dialin lockout ... --url`: the admin API's /admin/lockouts, with the template's
    Lockout* rules in the admin function; the same lines as --local."""
    number, caller = "+15555550187", "+14155550187"
    api, local = ["--url", served.url], ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["route", "add", number, "--pin", *api]) == 0
    for _ in range(4):  # three wrong PINs a call
        dial(served, capsys, "--to", number, "--from", caller, "--digits", "111111", "222222", "333333")
    code, out = dial(served, capsys, "--to", number, "--from", caller)
    assert code == 1 and messages.LOCKED_OUT in out, out
    listings = []
    for target in (api, local):
        assert cli.main(["lockout", "list", "--caller", caller, "--number", number, *target]) == 0
        listings.append(capsys.readouterr().out)
    through_api, on_table = listings
    assert re.search(
        rf"^{re.escape(number)}: 1[0-2] failed PIN\(s\), LOCKED OUT until 20\d\d-", through_api, re.M
    )
    assert "attested calls, any number: no failed PINs" in through_api
    assert f"{caller} is locked out on 1 of 2 counter(s) in the admin API at {served.url}." in through_api
    assert through_api.splitlines()[:2] == on_table.splitlines()[:2]  # the same counters, the same words
    status, body = admin_request(
        served, "GET", f"/admin/lockouts?caller=%2B{caller[1:]}&number=%2B{number[1:]}"
    )
    assert status == 200 and body["locked"] == 1 and body["counters"][1]["number"] == number, body
    assert cli.main(["lockout", "clear", "--caller", caller, *api]) == 0  # every PIN number
    assert f"Cleared 1 counter(s) of {caller} in the admin API at {served.url}" in capsys.readouterr().out
    code, out = dial(served, capsys, "--to", number, "--from", caller, "--digits", "246810")
    assert code == 0 and messages.PIN_PROMPT in out and messages.LOCKED_OUT not in out, out
    assert cli.main(["lockout", "clear", "--caller", caller, *api]) == 0
    assert "Cleared 0 counter(s)" in capsys.readouterr().out
    assert cli.main(["route", "remove", number, *api]) == 0


def test_localhost_instead_of_the_printed_address_says_why_it_is_refused(served: Served, capsys):
    """The signature covers the host name: `dialin serve` checks it for 127.0.0.1."""
    url = served.url.replace("127.0.0.1", "localhost")
    assert cli.main(["call", "--to", "+15555550100", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "HTTP 403" in err and "use that, not localhost" in err, err
    assert cli.main(["room", "start", "Anywhere", "--url", url]) == 2
    assert "not localhost" in capsys.readouterr().err


def test_pin_add_warns_only_about_a_pin_it_made(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["pin", "add", "--room", "Board", "--pin", "246810", *local]) == 1  # alice's PIN
    err = capsys.readouterr().err
    assert "already in use" in err and "warning" not in err, err  # refused: no warning before it
    assert cli.main(["pin", "add", "--room", "Board", "--pin", "80241357", *local]) == 0
    assert "warning: a 8-digit PIN is below the recommended" in capsys.readouterr().err
    assert cli.main(["pin", "add", "--room", "Board", "--number", "+15555550199", *local]) == 0
    assert "warning: --number +15555550199 has no route" in capsys.readouterr().err
    assert cli.main(["pin", "add", "--room", "Board", "--number", "+15555550101", *local]) == 0
    assert "warning" not in capsys.readouterr().err  # a routed PIN number


def test_a_dial_out_callee_presses_1_locally_and_joins(served: Served, capsys):
    """`dialin dial --answer`: the dry-run call's TwiML, answered as the callee would."""
    args = [
        "dial",
        "--to",
        "+15555550144",
        "--room",
        "DailyStandup",
        "--caller",
        "Dr Smith",
        "--url",
        served.url,
    ]
    assert cli.main([*args, "--answer"]) == 0
    out = capsys.readouterr().out
    assert "hears: Hello. Dr Smith invites you to join a meeting. To join, press 1." in out, out
    assert "presses: 1" in out and f"hears: {messages.CONNECTING}" in out
    assert re.search(r"^Joined room DailyStandup as dialout-0144-\w+\.$", out, re.M), out
    assert cli.main([*args, "--answer", "none"]) == 1  # a voicemail box presses nothing
    out = capsys.readouterr().out
    assert f"hears: {messages.DIAL_OUT_NOT_CONFIRMED}" in out and "Did not join a room" in out, out


def test_the_withheld_caller_of_a_number_can_be_listed_and_cleared(served: Served, capsys):
    """Every hidden number is one caller on each PIN number: ten wrong PINs from `anonymous`
    lock out `restricted` too; `dialin lockout clear --caller withheld` lifts it."""
    number = "+15555550166"
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert cli.main(["route", "add", number, "--pin", *local]) == 0
    for _ in range(4):
        dial(served, capsys, "--to", number, "--from", "anonymous", "--digits", "111111", "222222", "333333")
    code, out = dial(served, capsys, "--to", number, "--from", "restricted")
    assert code == 1 and messages.LOCKED_OUT in out, out
    assert cli.main(["lockout", "list", "--caller", "withheld", "--number", number, *local]) == 0
    listed = capsys.readouterr().out
    assert "LOCKED OUT until" in listed and "attested" not in listed, listed  # never attested
    assert cli.main(["lockout", "clear", "--caller", "anonymous", "--number", number, *local]) == 0
    assert "Cleared 1 counter(s)" in capsys.readouterr().out
    code, out = dial(served, capsys, "--to", number, "--from", "restricted", "--digits", "246810")
    assert code == 0 and messages.LOCKED_OUT not in out, out
