"""One cold init, in a fresh interpreter laid out as Lambda lays out a function.

Run by bench/run.py as ``python3.13 -I -S -B bench/cold.py KIND PATH[:PATH...]``: the paths
stand for /var/task (the function's code), /opt/python (the layer) and /var/runtime (the
runtime's boto3), in Lambda's order. Prints the milliseconds taken by:

- ``handler``: importing ``app`` (the handler module) and running its module-level setup;
- ``floor``: ``import boto3; boto3.client("dynamodb")``.

Nothing here touches the network: clients are only created, never called.
"""

import os
import sys
import time


def main() -> None:
    kind, paths = sys.argv[1], sys.argv[2].split(os.pathsep)
    sys.path[:0] = paths
    start = time.perf_counter()
    if kind == "floor":
        import boto3

        boto3.client("dynamodb")
    elif kind == "handler":
        __import__("app")
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    elapsed = time.perf_counter() - start
    print(f"{elapsed * 1000:.3f}")


if __name__ == "__main__":
    main()
