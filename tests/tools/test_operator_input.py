"""An operator's typing mistakes on the `dialin` command line get one clear line, never a
traceback (issue 20)."""

from __future__ import annotations

import pytest

from dialin_tools import cli


@pytest.mark.parametrize("port", ["99999", "-1", "http", "65536"])
@pytest.mark.parametrize("option", ["--port", "--dynamodb-port"])
def test_serve_refuses_a_port_that_is_not_one(option: str, port: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", option, port])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "must be a TCP port, 0 to 65535" in err and "Traceback" not in err
