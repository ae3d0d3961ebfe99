"""Load the real Lambda handlers from their code directories, as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


def load_module(code_dir: Path, module: str) -> ModuleType:
    """Import ``code_dir/module.py`` under a name unique to its function (both are ``app``)."""
    name = f"dialin_fn_{code_dir.name}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, code_dir / f"{module}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {code_dir / module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def load_handler(code_dir: Path, handler: str) -> tuple[ModuleType, Callable[[dict, Any], dict]]:
    module_name, _, function = handler.rpartition(".")
    module = load_module(code_dir, module_name)
    return module, getattr(module, function)


@dataclass
class LocalContext:
    """The parts of Lambda's context object that Powertools reads."""

    function_name: str = "local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
