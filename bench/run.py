"""`make bench`: cold init, warm requests, the local server and sizes, measured on the
artifacts `sam build` left in .aws-sam/build, laid out as Lambda lays them out.

Prints a table and writes bench/results/latest.json. Targets are printed PASS/FAIL;
they are not tests (``--strict`` makes a missed target exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BUILD = ROOT / ".aws-sam" / "build"
FUNCTION_DIR = BUILD / "VoiceFunction"
LAYER_DIR = BUILD / "DialinLayer"
RUNTIME_DIR = ROOT / ".tools" / "bench-runtime"  # stands for Lambda's /var/runtime (boto3)
CONVENTIONAL_DEPS = ROOT / ".tools" / "bench-conventional"  # a conventional layer's python/
CONVENTIONAL_CODE = BENCH / "conventional"
RESULTS = BENCH / "results" / "latest.json"
TOOLS_DIR = ROOT / "tools"
DIALIN = ROOT / ".venv" / "bin" / "dialin"

TARGETS = {
    "cold_vs_floor": 1.3,
    "cold_vs_conventional": 0.6,
    "warm_vs_floor": 2.0,
    "function_zip_bytes": 100 * 1024,
    "join_max_ms": 2000,
}


def python313() -> str:
    """The real python3.13 binary (not a pyenv shim, whose start-up is not Lambda's)."""
    candidate = os.environ.get("BENCH_PYTHON") or shutil.which("python3.13")
    if not candidate:
        raise SystemExit("python3.13 is needed (Lambda's runtime); set BENCH_PYTHON or put it on the PATH")
    found = subprocess.run(  # noqa: S603 - a Python interpreter we located
        [candidate, "-I", "-c", "import sys; print(sys.executable, sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not found[1].startswith("3.13."):
        raise SystemExit(f"{candidate} is Python {found[1]}, not 3.13")
    return found[0]


# -- the environment a deployed function sees --------------------------------------------


def _resolve(value: Any, template: dict[str, Any]) -> str:
    """A template value as the deployed function would see it (fake ARNs, parameter defaults)."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        param = template.get("Parameters", {}).get(name)
        if param is not None:
            return str(param.get("Default", ""))
        resource = template["Resources"].get(name, {})
        if resource.get("Type") == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
        return f"dialin-{name}-BENCH"
    return "bench"


def lambda_env(home: Path, function_dir: Path) -> dict[str, str]:
    from dialin_tools.lib import template as tpl

    template = tpl.load()
    variables: dict[str, Any] = {}
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    variables.update(globals_env.get("Variables", {}))
    function = template["Resources"]["VoiceFunction"]["Properties"]
    variables.update(function.get("Environment", {}).get("Variables", {}))
    env = {name: _resolve(value, template) for name, value in variables.items()}
    env.update(
        {
            # What Lambda sets. Fake credentials: nothing here calls AWS.
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "bench-fake-secret-key",
            "AWS_SESSION_TOKEN": "bench-fake-session-token",
            "AWS_LAMBDA_FUNCTION_NAME": "VoiceFunction",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(template["Globals"]["Function"].get("MemorySize", 512)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "LAMBDA_TASK_ROOT": str(function_dir),
            "LAMBDA_RUNTIME_DIR": str(RUNTIME_DIR),
            "_HANDLER": "app.lambda_handler",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),  # empty: no developer AWS config is read
        }
    )
    return env


# -- sizes ---------------------------------------------------------------------------------


def zipped_size(directory: Path, skip_pyc: bool = False) -> int:
    """Bytes of ``directory``'s contents zipped (deflate), as `sam deploy` uploads them."""
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.rglob("*")):
                if path.is_file() and not (skip_pyc and "__pycache__" in path.parts):
                    archive.write(path, path.relative_to(directory).as_posix())
        handle.seek(0, os.SEEK_END)
        return handle.tell()


def tree_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


# -- cold init -------------------------------------------------------------------------------


def search_path(paths: Iterable[Path]) -> str:
    return os.pathsep.join(str(path) for path in paths)


def copy_without_pyc(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def cold_once(py: str, kind: str, paths: Iterable[Path], env: dict[str, str], cwd: Path) -> float:
    result = subprocess.run(  # noqa: S603 - the python3.13 we located, our own probe
        [py, "-I", "-S", "-B", str(BENCH / "cold.py"), kind, search_path(paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold init ({kind}) failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def describe(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "q1_ms": round(quartiles[0], 1),
        "q3_ms": round(quartiles[2], 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
    }


IMPORT_GROUPS = {
    "boto3 + botocore (runtime)": {
        "boto3",
        "botocore",
        "s3transfer",
        "dateutil",
        "six",
        "urllib3",
        "jmespath",
    },
    "Powertools": {"aws_lambda_powertools", "typing_extensions"},
    "twilio": {"twilio"},
    "dialin (layer)": {"dialin"},
    "app.py body (settings, DynamoDB client)": {"app"},
}


def importtime(py: str, paths: list[Path], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Self time per group, from one ``-X importtime`` run of the handler (inflated by the
    tracing itself: read it as shares, not as the cold init)."""
    result = subprocess.run(  # noqa: S603 - the python3.13 we located, our own probe
        [py, "-I", "-S", "-B", "-X", "importtime", str(BENCH / "cold.py"), "handler", search_path(paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    groups: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if not match:
            continue
        top = match.group(2).split(".")[0]
        group = next((name for name, tops in IMPORT_GROUPS.items() if top in tops), "standard library")
        groups[group] = groups.get(group, 0.0) + int(match.group(1)) / 1000
    return {name: round(ms, 1) for name, ms in sorted(groups.items(), key=lambda kv: -kv[1])}


def cold(py: str, rounds: int, env: dict[str, str], scratch: Path) -> dict[str, Any]:
    layer = LAYER_DIR / "python"
    layer_src = copy_without_pyc(layer, scratch / "layer-no-pyc")
    conventional_src = copy_without_pyc(CONVENTIONAL_DEPS, scratch / "conventional-no-pyc")
    conventional_env = {**env, "LAMBDA_TASK_ROOT": str(CONVENTIONAL_CODE)}
    variants: dict[str, tuple[str, list[Path], dict[str, str]]] = {
        "floor": ("floor", [RUNTIME_DIR], env),
        "voice": ("handler", [FUNCTION_DIR, layer, RUNTIME_DIR], env),
        "voice_layer_without_pyc": ("handler", [FUNCTION_DIR, layer_src, RUNTIME_DIR], env),
        "conventional": ("handler", [CONVENTIONAL_CODE, CONVENTIONAL_DEPS, RUNTIME_DIR], conventional_env),
        "conventional_without_pyc": (
            "handler",
            [CONVENTIONAL_CODE, conventional_src, RUNTIME_DIR],
            conventional_env,
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    shuffle = random.Random(20261121).shuffle  # noqa: S311 - only the order of the runs
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            kind, paths, variant_env = variants[name]
            samples[name].append(cold_once(py, kind, paths, variant_env, scratch))
    stats = {name: describe(values) for name, values in samples.items()}
    median = {name: s["median_ms"] for name, s in stats.items()}
    return {
        "rounds": rounds,
        "variants": stats,
        "samples_ms": {name: [round(v, 1) for v in values] for name, values in samples.items()},
        "ratios": {
            "voice_vs_floor": round(median["voice"] / median["floor"], 2),
            "voice_vs_conventional": round(median["voice"] / median["conventional"], 2),
            "voice_vs_conventional_without_pyc": round(
                median["voice"] / median["conventional_without_pyc"], 2
            ),
            "layer_without_pyc_vs_with": round(median["voice_layer_without_pyc"] / median["voice"], 2),
        },
        "importtime_self_ms": importtime(py, variants["voice"][1], env, scratch),
    }


# -- warm requests ---------------------------------------------------------------------------


def warm(py: str, iterations: int, env: dict[str, str], scratch: Path) -> dict[str, Any]:
    out = scratch / "warm.json"
    paths = [FUNCTION_DIR, LAYER_DIR / "python", RUNTIME_DIR, TOOLS_DIR]
    result = subprocess.run(  # noqa: S603 - the python3.13 we located, our own worker
        [py, "-I", "-S", "-B", str(BENCH / "warm.py"), str(out), str(iterations), search_path(paths)],
        stdout=subprocess.DEVNULL,  # the handler's JSON logs and metrics
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=scratch,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"warm requests failed:\n{result.stderr[-3000:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    for scenario in data["scenarios"]:
        ours, floor, boto = scenario["ours"], scenario["floor"], scenario["botocore_dynamodb"]
        scenario["ratio"] = round(ours["median_us"] / floor["median_us"], 2)
        without = ours["median_us"] - boto["median_us"]
        scenario["ratio_without_botocore"] = round(without / floor["median_us"], 2)
    return data


# -- report ----------------------------------------------------------------------------------


def check(name: str, value: float, limit: float, unit: str = "x", below: bool = False) -> dict[str, Any]:
    ok = value < limit if below else value <= limit
    return {"measure": name, "value": value, "target": limit, "unit": unit, "pass": ok}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    ratios = results["cold"]["ratios"]
    worst_warm = max(s["ratio"] for s in results["warm"]["scenarios"])
    function_kb = round(results["sizes"]["function_zip_bytes"] / 1024, 1)
    return [
        check("cold init vs floor", ratios["voice_vs_floor"], TARGETS["cold_vs_floor"]),
        check(
            "cold init vs conventional (as sam builds it)",
            ratios["voice_vs_conventional_without_pyc"],
            TARGETS["cold_vs_conventional"],
        ),
        check(
            "cold init vs conventional (both with .pyc)",
            ratios["voice_vs_conventional"],
            TARGETS["cold_vs_conventional"],
        ),
        check("warm request vs floor (worst scenario)", worst_warm, TARGETS["warm_vs_floor"]),
        check("function code zipped", function_kb, TARGETS["function_zip_bytes"] / 1024, " KB", below=True),
        *_join_targets(results.get("join") or {}),
    ]


def _join_targets(join: dict[str, Any]) -> list[dict[str, Any]]:
    if join.get("skipped"):
        return []
    every = join["moved"] == join["callers"]
    value = join["max_ms"] if every and join["max_ms"] is not None else float("inf")
    return [
        check(f"room-created to Calls API, max of {join['callers']}", value, TARGETS["join_max_ms"], " ms")
    ]


COLD_LABELS = {
    "floor": "floor: import boto3; boto3.client('dynamodb')",
    "voice": "VoiceFunction, layer with .pyc",
    "voice_layer_without_pyc": "VoiceFunction, same layer without .pyc",
    "conventional": "conventional handler, deps with .pyc",
    "conventional_without_pyc": "conventional handler, no .pyc (as sam builds)",
}


def report(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    add = lines.append
    cold_r, sizes = results["cold"], results["sizes"]
    add(f"Cold init, ms: median of {cold_r['rounds']} fresh python3.13 processes per variant, interleaved")
    add(f"  {'':48s} {'median':>7s} {'q1':>7s} {'q3':>7s} {'min':>7s}")
    for key, label in COLD_LABELS.items():
        s = cold_r["variants"][key]
        add(f"  {label:48s} {s['median_ms']:7.1f} {s['q1_ms']:7.1f} {s['q3_ms']:7.1f} {s['min_ms']:7.1f}")
    r = cold_r["ratios"]
    add(f"  VoiceFunction: {r['voice_vs_floor']}x the floor; {r['voice_vs_conventional_without_pyc']}x the")
    add(f"  conventional handler as sam builds it, {r['voice_vs_conventional']}x with .pyc for both;")
    add(f"  the same layer without .pyc is {r['layer_without_pyc_vs_with']}x slower")
    add("  VoiceFunction import self time by group (one -X importtime run, ms; inflated by tracing):")
    add("    " + ", ".join(f"{k} {ms}" for k, ms in cold_r["importtime_self_ms"].items()))
    add("")
    w = results["warm"]
    n = w["scenarios"][0]["ours"]["n"]
    add(f"Warm request, µs: {n} signed webhooks per scenario, in-process, DynamoDB by botocore Stubber")
    header = ("median", "p99", "floor", "fl.p99", "ratio", "botocore", "w/o")
    add(f"  {'':27s} " + " ".join(f"{h:>8s}" for h in header))
    for s in w["scenarios"]:
        o, f, b = s["ours"], s["floor"], s["botocore_dynamodb"]
        cells = (o["median_us"], o["p99_us"], f["median_us"], f["p99_us"])
        add(
            f"  {s['name']:27s} "
            + " ".join(f"{c:8.1f}" for c in cells)
            + f" {s['ratio']:7.2f}x {b['median_us']:8.1f} {s['ratio_without_botocore']:7.2f}x"
        )
    add("  floor: RequestValidator.validate + the same TwiML. botocore: the step's stubbed DynamoDB calls")
    add("  alone (client-side work inside ours). w/o: the ratio without that share.")
    add("")
    srv = results["server"]
    if srv.get("skipped"):
        add(f"Local server: skipped ({srv['skipped']})")
    else:
        add(
            f"Local server, POST /voice/incoming via dialin serve on loopback, {srv['clients']} clients: "
            f"{srv['requests_per_second']} req/s, median {srv['median_ms']} ms, p99 {srv['p99_ms']} ms "
            f"({srv['requests']} requests in {srv['seconds']} s, {srv['failures']} failed)"
        )
    add("")
    join = results.get("join") or {"skipped": "not run"}
    if join.get("skipped"):
        add(f"Room-aware joining: skipped ({join['skipped']})")
    else:
        add(
            f"Room-aware joining via dialin serve: signed room-created -> Calls API request, "
            f"{join['moved']} of {join['callers']} held callers moved: median {join['median_ms']} ms, "
            f"max {join['max_ms']} ms"
        )
    add("")
    add(
        f"Sizes: function code zipped {sizes['function_zip_bytes'] / 1024:.1f} KB; layer zipped "
        f"{sizes['layer_zip_bytes'] / 1e6:.2f} MB ({sizes['layer_zip_without_pyc_bytes'] / 1e6:.2f} MB "
        f"without .pyc; {sizes['layer_unzipped_bytes'] / 1e6:.1f} MB unzipped)."
    )
    add(f"  boto3 + botocore in the layer would add {sizes['runtime_boto3_zip_bytes'] / 1e6:.1f} MB zipped.")
    add("")
    add("Targets")
    for t in results["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        limit = f"< {t['target']}" if t["unit"] == " KB" else f"<= {t['target']}"
        add(f"  {verdict}  {t['measure']:48s} {t['value']}{t['unit']} (target {limit}{t['unit']})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_COLD_ROUNDS", "21")))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_WARM_REQUESTS", "5000")))
    parser.add_argument("--server-requests", type=int, default=2000)
    parser.add_argument("--server-seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    for needed in (FUNCTION_DIR, LAYER_DIR / "python", RUNTIME_DIR, CONVENTIONAL_DEPS):
        if not needed.is_dir():
            raise SystemExit(f"{needed} is missing: run `make bench` (it builds and installs what it needs)")

    sys.path.insert(0, str(BENCH))
    import server

    py = python313()
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
            "python": py,
        },
        "command": "make bench",
    }
    with tempfile.TemporaryDirectory(prefix="dialin-bench-") as tmp:
        scratch = Path(tmp)
        home = scratch / "home"
        home.mkdir()
        env = lambda_env(home, FUNCTION_DIR)
        print(f"cold init: {args.rounds} rounds x {len(COLD_LABELS)} variants ...", flush=True)
        results["cold"] = cold(py, args.rounds, env, scratch)
        print(f"warm requests: 4 scenarios x {args.requests} ...", flush=True)
        results["warm"] = warm(py, args.requests, env, scratch)
        command = server.serve_command(DIALIN)
        if command is None:
            note = "this checkout's `dialin` has no `serve --port --dynamodb-port` yet"
            print(f"local server: skipped ({note})", flush=True)
            results["server"] = results["join"] = {"skipped": note}
        else:
            print(f"local server: {server.CLIENTS} clients ...", flush=True)
            from dialin_tools.lib.apigw import DEV_AUTH_TOKEN

            results["server"] = server.run(
                command, DEV_AUTH_TOKEN, scratch / "serve.log", args.server_requests, args.server_seconds
            )
            import join

            print(f"room-aware joining: {join.CALLERS} held callers ...", flush=True)
            results["join"] = join.run(command, DEV_AUTH_TOKEN, scratch / "join.log")
    results["sizes"] = {
        "function_zip_bytes": zipped_size(FUNCTION_DIR),
        "layer_zip_bytes": zipped_size(LAYER_DIR),
        "layer_zip_without_pyc_bytes": zipped_size(LAYER_DIR, skip_pyc=True),
        "layer_unzipped_bytes": tree_size(LAYER_DIR),
        "runtime_boto3_zip_bytes": zipped_size(RUNTIME_DIR),
    }
    results["targets"] = targets(results)
    results["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    results["seconds"] = round(time.monotonic() - started, 1)
    print()
    print("\n".join(report(results)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nResults: {args.out} ({results['seconds']} s)")
    missed = [t for t in results["targets"] if not t["pass"]]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
