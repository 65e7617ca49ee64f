"""Large bodies stream both ways: memory stays flat however big the object."""

import hashlib

import requests

SIZE = 256 * 1024 * 1024
CHUNK = 1024 * 1024


def rss_kib(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def test_big_put_and_get_stream(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="stream")
    before = rss_kib(aloft.proc.pid)
    block = bytes(range(256)) * (CHUNK // 256)
    md5 = hashlib.md5()

    def body():
        for _ in range(SIZE // CHUNK):
            md5.update(block)
            yield block

    r = requests.put(f"{aloft.url}/stream/big.bin", data=body())
    assert r.status_code == 200, r.content
    assert r.headers["ETag"] == f'"{md5.hexdigest()}"'
    got = hashlib.md5()
    n = 0
    with requests.get(f"{aloft.url}/stream/big.bin", stream=True) as resp:
        assert int(resp.headers["Content-Length"]) == SIZE
        for chunk in resp.iter_content(CHUNK):
            got.update(chunk)
            n += len(chunk)
    assert n == SIZE and got.hexdigest() == md5.hexdigest()
    peak = rss_kib(aloft.proc.pid, "VmHWM")
    assert (peak - before) < 48 * 1024, f"RSS grew by {(peak - before) // 1024} MiB"
