"""Which modules a function's handler imports, loaded in a fresh interpreter as Lambda would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dialin_tools.lib import template as tpl


def modules_after_import(function: str) -> set[str]:
    code_dir = Path(tpl.ROOT) / "functions" / function
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from dialin_tools.commands.serve.handlers import load_handler\n"
        f"load_handler(Path({str(code_dir)!r}), 'app.lambda_handler')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    return set(result.stdout.split())
