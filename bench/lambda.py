"""Lambda figures: cold start (first invoke round trip) of hello-world Python and Node.js
functions, warm invoke latency (p50/p99 over 1,000 sequential invokes), 64 concurrent warm
invokes, and Aloft's own RSS per idle execution environment.

Invokes go over one kept-alive HTTP connection per client with a fixed SigV4-shaped
Authorization header (Aloft reads the scope; it does not need a fresh signature), so the
figures measure Aloft and the runtime, not boto3.
"""

import http.client
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile

import boto3
import botocore.config

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/aloft"
COLD_RUNS = int(os.environ.get("COLD_RUNS", "5"))
WARM = int(os.environ.get("WARM", "1000"))
CONC = int(os.environ.get("CONC", "64"))
AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)

PY = "def handler(event, context):\n    return {'hello': 'world'}\n"
JS = "exports.handler = async (event) => ({hello: 'world'});\n"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def zip_of(name: str, body: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, body)
    return buf.getvalue()


def rss_kib(pid: int) -> int:
    return int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")).split()[1])


class Invoker:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def invoke(self, name: str, payload: bytes = b"{}") -> tuple[float, int, bytes]:
        t0 = time.perf_counter()
        self.conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=payload, headers={
            "Authorization": AUTH, "X-Amz-Date": "20260101T000000Z", "Content-Type": "application/json"})
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000
        failed = r.status != 200 or r.getheader("X-Amz-Function-Error") is not None
        return ms, failed, body


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    port = free_port()
    proc = subprocess.Popen([BIN, "--port", str(port), "--log-level", "error"], stdout=subprocess.PIPE)
    proc.stdout.readline()
    url = f"http://127.0.0.1:{port}"
    lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=botocore.config.Config(retries={"max_attempts": 1}))
    try:
        inv = Invoker(port)
        for runtime, file, body, handler in [("python3.12", "app.py", PY, "app.handler"),
                                             ("nodejs20.x", "index.js", JS, "index.handler")]:
            colds = []
            for i in range(COLD_RUNS):
                name = f"cold-{runtime.replace('.', '')}-{i}"
                lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role="arn:aws:iam::000000000000:role/r",
                                    Code={"ZipFile": zip_of(file, body)})
                ms, failed, out = inv.invoke(name)
                assert not failed, out
                colds.append(ms)
            print(f"cold start {runtime:<11} median {statistics.median(colds):6.1f} ms  (min {min(colds):.1f}, max {max(colds):.1f}, {COLD_RUNS} runs)")

        lam.create_function(FunctionName="warm", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": zip_of("app.py", PY)})
        inv.invoke("warm")
        for _ in range(50):
            inv.invoke("warm")
        lat, fails = [], 0
        for _ in range(WARM):
            ms, failed, _ = inv.invoke("warm")
            lat.append(ms)
            fails += failed
        print(f"warm invoke (python, {WARM} sequential): p50 {pct(lat, 0.5):.2f} ms  p99 {pct(lat, 0.99):.2f} ms  failures {fails}")

        # Warm CONC environments, then measure CONC concurrent clients.
        lam.create_function(FunctionName="conc", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": zip_of("app.py", PY)})
        before = rss_kib(proc.pid)
        envs_before = sum(p.get("idle", 0) for p in json.loads(urlopen_json(url + "/_aloft/lambda/environments") or "{}").values())
        results, lock = [], threading.Lock()

        def worker(n):
            c = Invoker(port)
            local = [c.invoke("conc") for _ in range(n)]
            with lock:
                results.extend(local)

        for rounds in (1, 10):
            results.clear()
            ts = [threading.Thread(target=worker, args=(rounds,)) for _ in range(CONC)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            wall = time.perf_counter() - t0
            fails = sum(r[1] for r in results)
            label = "cold+warm" if rounds == 1 else "warm"
            print(f"{CONC} concurrent ({label}, {len(results)} invokes): failures {fails}  p50 {pct([r[0] for r in results], 0.5):.1f} ms  "
                  f"p99 {pct([r[0] for r in results], 0.99):.1f} ms  {len(results) / wall:.0f} invokes/s")
        time.sleep(0.5)
        pools = json.loads(urlopen_json(url + "/_aloft/lambda/environments") or "{}")
        envs = sum(p.get("idle", 0) for p in pools.values())
        after = rss_kib(proc.pid)
        print(f"Aloft RSS: {before / 1024:.1f} MiB with {envs_before} idle environments, {after / 1024:.1f} MiB with {envs} "
              f"→ {(after - before) / max(envs - envs_before, 1):.0f} KiB per idle environment (Aloft only, not the runtimes)")
    finally:
        proc.terminate()
        proc.wait()


def urlopen_json(u):
    import urllib.request
    try:
        with urllib.request.urlopen(u, timeout=5) as r:
            return r.read().decode()
    except Exception:
        return None


if __name__ == "__main__":
    main()
