"""The benchmark's pieces run and measure what they claim to (timing is `make bench`'s
business, never a test's)."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path
from typing import Any

import boto3
import pytest

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import load_handler, load_module
from dialin_tools.lib import template as tpl

BENCH = tpl.ROOT / "bench"
VOICE_DIR = tpl.ROOT / "functions" / "voice"
DEPLOYED = {
    "TABLE_NAME": "dialin-DirectoryTable-BENCH",
    "TWILIO_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:TwilioSecret-AbCdEf",
    "PIN_PEPPER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:PinPepperSecret-AbCdEf",
}


@pytest.fixture
def deployed_handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real handler module, its ``voice`` configured as deployed (secrets by ARN)."""
    module, _ = load_handler(VOICE_DIR, "app.lambda_handler")
    settings = Settings.from_env(DEPLOYED)
    client = boto3.client("dynamodb", region_name="us-east-1")
    monkeypatch.setattr(module, "voice", VoiceApp.on_table(settings, client, Credentials(settings)))
    return module


def test_warm_bench_answers_each_scenario_and_its_floor_builds_the_same_twiml(deployed_handler: Any):
    warm = load_module(BENCH, "warm")
    results = warm.run_all(deployed_handler, iterations=3, warmup=1)
    assert [r["name"] for r in results] == [
        "incoming call (PIN number)",
        "correct PIN",
        "wrong PIN",
        "wrong PIN (attested caller)",
    ]
    for result in results:
        for measure in ("ours", "floor", "botocore_dynamodb"):
            assert result[measure]["n"] == 3
            assert 0 < result[measure]["median_us"] <= result[measure]["p99_us"]


def test_warm_bench_fails_loudly_when_the_handler_does_not_answer_as_expected(deployed_handler: Any):
    warm = load_module(BENCH, "warm")
    bench = warm.Bench(deployed_handler)
    wrong = bench.scenarios[2]
    wrong.expect = "<Room"  # a wrong PIN never joins a room
    with pytest.raises(AssertionError, match="unexpected answer"):
        bench.run(wrong, iterations=1, warmup=0)


def test_cold_probe_imports_the_handler_in_a_clean_interpreter(tmp_path: Path):
    run = load_module(BENCH, "run")
    env = run.lambda_env(tmp_path, VOICE_DIR)
    assert env["TWILIO_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert env["TWILIO_AUTH_TOKEN"] == ""  # deployed: no plain token in the environment
    paths = [VOICE_DIR, tpl.ROOT / "layers" / "dialin", Path(sysconfig.get_paths()["purelib"])]
    assert run.cold_once(sys.executable, "handler", paths, env, tmp_path) > 0  # raises if the probe failed


def test_join_bench_moves_every_held_caller_through_dialin_serve(tmp_path: Path):
    import sys as _sys

    _sys.path.insert(0, str(BENCH))
    try:
        join = load_module(BENCH, "join")
        server = load_module(BENCH, "server")
        command = server.serve_command(Path(sys.executable).with_name("dialin"))
        assert command is not None
        from dialin_tools.lib.apigw import DEV_AUTH_TOKEN

        result = join.run(command, DEV_AUTH_TOKEN, tmp_path / "serve.log", callers=3)
    finally:
        _sys.path.remove(str(BENCH))
    assert result["callers"] == result["moved"] == 3, (tmp_path / "serve.log").read_text()
    assert 0 < result["median_ms"] <= result["max_ms"]
