"""The integration-test harness: every test gets a fresh Aloft process on a free port.

Aloft starts in milliseconds, so isolation per test is cheap and no test depends on another's
state. Fixtures:

- ``aloft``: a running, in-memory Aloft (an :class:`Aloft`), stopped after the test.
- ``aloft_factory``: starts more, e.g. ``aloft_factory(data_dir=tmp_path)`` for persistence
  tests; ``.kill()`` sends SIGKILL, ``.stop()`` SIGTERM.

The binary is ``$ALOFT_BIN`` or ``target/debug/aloft`` (``scripts/test`` builds it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import boto3
import botocore.config
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("ALOFT_BIN", ROOT / "target" / "debug" / "aloft"))

# Clients must never reach real AWS or read the developer's own credentials.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_SESSION_TOKEN", None)


class Aloft:
    """A running Aloft process and clients pointed at it."""

    def __init__(self, data_dir: Path | None = None, args: list[str] | None = None, env: dict | None = None):
        cmd = [str(BIN), "--port", "0", "--log-level", os.environ.get("ALOFT_TEST_LOG", "warn")]
        if data_dir is not None:
            cmd += ["--data-dir", str(data_dir)]
        cmd += args or []
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, text=True
        )
        line = self.proc.stdout.readline()
        if not line.startswith("aloft ready on "):
            # No ready line means the process is exiting: wait for it so its error is complete.
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            raise RuntimeError(f"aloft did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split("aloft ready on ", 1)[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        # Drain output so a chatty server never blocks on a full pipe; keep stderr for failures.
        self.log: list[str] = []
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    def _drain(self, stream):
        for line in stream:
            self.log.append(line)

    # --- clients -------------------------------------------------------------------------
    def client(self, service: str, region: str = "us-east-1", **config):
        """A boto3 client for ``service`` at this Aloft (extra kwargs go to botocore Config)."""
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
        return boto3.client(service, endpoint_url=self.url, region_name=region, config=cfg)

    def resource(self, service: str, region: str = "us-east-1", **config):
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
        return boto3.resource(service, endpoint_url=self.url, region_name=region, config=cfg)

    def env(self) -> dict:
        """Environment for a subprocess (the AWS CLI, a Node test) that should use this Aloft."""
        e = dict(os.environ)
        e["AWS_ENDPOINT_URL"] = self.url
        return e

    def cli(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        """Runs the AWS CLI against this Aloft; returns the completed process (text)."""
        aws = Path(sys.executable).parent / "aws"
        cmd = [str(aws) if aws.exists() else "aws", "--endpoint-url", self.url, "--output", "json", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), input=input, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def cli_json(self, *args: str):
        out = self.cli(*args).stdout
        return json.loads(out) if out.strip() else None

    # --- internal endpoints ----------------------------------------------------------------
    def internal(self, method: str, path: str, body=None):
        """Calls ``/_aloft/{path}``; returns the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_aloft/{path.lstrip('/')}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def advance(self, seconds: float):
        """Moves Aloft's one clock forward."""
        return self.internal("POST", "clock", {"advance_seconds": seconds})

    # --- lifecycle -------------------------------------------------------------------------
    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def kill(self) -> int:
        """SIGKILL: nothing is flushed; what was acknowledged must survive."""
        self.proc.kill()
        return self.proc.wait()

    def logs(self) -> str:
        return "".join(self.log)


@pytest.fixture
def aloft_factory():
    started: list[Aloft] = []

    def start(**kwargs) -> Aloft:
        a = Aloft(**kwargs)
        started.append(a)
        return a

    yield start
    for a in started:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()


@pytest.fixture
def aloft(aloft_factory, request) -> Aloft:
    a = aloft_factory()
    yield a
    # Show the server's log next to a failing test.
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(a.logs())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
