"""Server start-up: from launching `healthequity serve` to the first 200 from /healthz.

Run by hand: `.venv/bin/python benchmarks/startup_bench.py`. The baseline, measured in the
same run, is a bare FastAPI app with one route served by uvicorn: the floor that any
FastAPI service pays. Uses a temporary migrated SQLite database. Best of five.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

RUNS = 5
BIN = Path(sys.executable).parent

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_until_healthy(command: list[str], port: int, env: dict[str, str]) -> float:
    started = time.perf_counter()
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"{command[0]} did not answer within 60 s")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "HEALTHEQUITY_DATABASE_URL": f"sqlite:///{folder}/bench.db"}
        subprocess.run(
            [BIN / "healthequity", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        Path(folder, "bare_app.py").write_text(BARE_APP)
        ours, bare = [], []
        for _ in range(RUNS):
            port = free_port()
            ours.append(
                time_until_healthy(
                    [str(BIN / "healthequity"), "serve", "--port", str(port)], port, env
                )
            )
            port = free_port()
            bare.append(
                time_until_healthy(
                    [
                        str(BIN / "uvicorn"),
                        "--app-dir",
                        folder,
                        "--port",
                        str(port),
                        "bare_app:app",
                    ],
                    port,
                    env,
                )
            )
    print(f"start-up to first healthy response, best of {RUNS}:")
    print(f"  healthequity serve:       {min(ours):.2f} s")
    print(f"  bare FastAPI on uvicorn:  {min(bare):.2f} s (baseline)")
    print(f"  ratio: {min(ours) / min(bare):.2f}x the baseline")


if __name__ == "__main__":
    main()
