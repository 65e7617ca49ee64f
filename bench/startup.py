"""Time from exec to the first answered request, and idle RSS, over several runs."""

import os
import socket
import statistics
import subprocess
import sys
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/aloft"
RUNS = int(os.environ.get("RUNS", "20"))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_answer_ms() -> tuple[float, int]:
    port = free_port()
    req = b"GET /_aloft/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    t0 = time.perf_counter()
    p = subprocess.Popen([BIN, "--port", str(port), "--log-level", "error"], stdout=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(req)
                if c.recv(12).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.0002)
    elapsed = (time.perf_counter() - t0) * 1000
    time.sleep(0.3)
    rss = int(next(l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")).split()[1])
    p.terminate()
    p.wait()
    return elapsed, rss


def main():
    times, rss = zip(*(first_answer_ms() for _ in range(RUNS)))
    print(f"ready (exec → first answered request): median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f} ms, max {max(times):.1f} ms over {RUNS} runs")
    print(f"idle RSS: {statistics.median(rss) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
