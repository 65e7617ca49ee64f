"""SQS and SNS figures: SendMessage msgs/s and ReceiveMessage+DeleteMessageBatch msgs/s in
batches of 10 (wrk, json 1.0 protocol), the wake latency of a long-polling receiver after a
send, and SNS → SQS delivery latency (publish sent → message received by a long poller)."""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/aloft"
DURATION = os.environ.get("DURATION", "10s")
SAMPLES = int(os.environ.get("SAMPLES", "200"))
ACCOUNT = "000000000000"


def auth(service):
    return (f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def sqs(self, op, body):
        self.conn.request("POST", "/", body=json.dumps(body), headers={
            "X-Amz-Target": f"AmazonSQS.{op}", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": auth("sqs"), "X-Amz-Date": "20260101T000000Z"})
        r = self.conn.getresponse()
        data = r.read()
        assert r.status == 200, data
        return json.loads(data) if data else {}

    def sns(self, params):
        self.conn.request("POST", "/", body=urllib.parse.urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": auth("sns"),
            "X-Amz-Date": "20260101T000000Z"})
        r = self.conn.getresponse()
        data = r.read()
        assert r.status == 200, data
        return data


SEND_LUA = """
wrk.method = "POST"
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["Authorization"] = "%s"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.body = '{"QueueUrl": "%s", "MessageBody": "hello from wrk, a small message"}'
"""

RECV_LUA = """
local handles = {}
local url = "%s"
local headers = {["Content-Type"] = "application/x-amz-json-1.0", ["Authorization"] = "%s",
                 ["X-Amz-Date"] = "20260101T000000Z"}
request = function()
  if #handles > 0 then
    local entries, rest = {}, {}
    for i, h in ipairs(handles) do
      if i <= 10 then
        entries[#entries + 1] = string.format('{"Id":"%%d","ReceiptHandle":"%%s"}', i, h)
      else
        rest[#rest + 1] = h
      end
    end
    handles = rest
    headers["X-Amz-Target"] = "AmazonSQS.DeleteMessageBatch"
    return wrk.format("POST", "/", headers, '{"QueueUrl":"' .. url .. '","Entries":[' .. table.concat(entries, ",") .. ']}')
  end
  headers["X-Amz-Target"] = "AmazonSQS.ReceiveMessage"
  return wrk.format("POST", "/", headers, '{"QueueUrl":"' .. url .. '","MaxNumberOfMessages":10}')
end
response = function(status, hdrs, body)
  for h in string.gmatch(body, '"ReceiptHandle":"([^"]+)"') do
    handles[#handles + 1] = h
  end
end
"""


def wrk(port, script, conns=16):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{DURATION}", "-s", f.name, f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True).stdout
    os.unlink(f.name)
    rps = float(next(l for l in out.splitlines() if "Requests/sec" in l).split()[1])
    non2xx = [l for l in out.splitlines() if "Non-2xx" in l]
    return rps, non2xx


def depth(c, url):
    a = c.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def main():
    port = free_port()
    proc = subprocess.Popen([BIN, "--port", str(port), "--log-level", "error"], stdout=subprocess.PIPE)
    proc.stdout.readline()
    try:
        c = Client(port)
        url = c.sqs("CreateQueue", {"QueueName": "bench"})["QueueUrl"]
        rps, bad = wrk(port, SEND_LUA % (auth("sqs"), url))
        print(f"SendMessage: {rps:,.0f} msgs/s (wrk -t2 -c16, {DURATION}){'  ' + bad[0] if bad else ''}")
        before = depth(c, url)
        t0 = time.perf_counter()
        _, bad = wrk(port, RECV_LUA % (url, auth("sqs")))
        secs = time.perf_counter() - t0
        after = depth(c, url)
        print(f"ReceiveMessage + DeleteMessageBatch (10 per batch): {(before - after) / secs:,.0f} msgs/s "
              f"({before - after:,} of {before:,} queued messages consumed){'  ' + bad[0] if bad else ''}")

        # Long-poll wake latency: a receiver waits; the sender's clock starts just before the send.
        lp_url = c.sqs("CreateQueue", {"QueueName": "longpoll"})["QueueUrl"]
        lat = []
        for _ in range(SAMPLES):
            got = {}
            ready = threading.Event()

            def receive():
                r = Client(port)
                ready.set()
                out = r.sqs("ReceiveMessage", {"QueueUrl": lp_url, "WaitTimeSeconds": 20})
                got["t"] = time.perf_counter()
                for m in out.get("Messages", []):
                    r.sqs("DeleteMessage", {"QueueUrl": lp_url, "ReceiptHandle": m["ReceiptHandle"]})

            t = threading.Thread(target=receive)
            t.start()
            ready.wait()
            time.sleep(0.01)  # let the receive reach the server and park
            t_send = time.perf_counter()
            c.sqs("SendMessage", {"QueueUrl": lp_url, "MessageBody": "wake"})
            t.join()
            lat.append((got["t"] - t_send) * 1000)
        print(f"long-poll wake (send issued → receiver has it): p50 {statistics.median(lat):.2f} ms  "
              f"p99 {sorted(lat)[int(len(lat) * 0.99) - 1]:.2f} ms")

        topic = c.sns({"Action": "CreateTopic", "Name": "bench"}).decode()
        topic_arn = topic.split("<TopicArn>")[1].split("</TopicArn>")[0]
        sub_url = c.sqs("CreateQueue", {"QueueName": "fanout"})["QueueUrl"]
        q_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:fanout"
        # The default (non-raw) delivery: a JSON envelope, RSA-signed per message.
        c.sns({"Action": "Subscribe", "TopicArn": topic_arn, "Protocol": "sqs", "Endpoint": q_arn})
        lat = []
        for _ in range(SAMPLES):
            got = {}
            ready = threading.Event()

            def receive():
                r = Client(port)
                ready.set()
                out = r.sqs("ReceiveMessage", {"QueueUrl": sub_url, "WaitTimeSeconds": 20})
                got["t"] = time.perf_counter()
                for m in out.get("Messages", []):
                    r.sqs("DeleteMessage", {"QueueUrl": sub_url, "ReceiptHandle": m["ReceiptHandle"]})

            t = threading.Thread(target=receive)
            t.start()
            ready.wait()
            time.sleep(0.01)
            t_pub = time.perf_counter()
            c.sns({"Action": "Publish", "TopicArn": topic_arn, "Message": "fan"})
            t.join()
            lat.append((got["t"] - t_pub) * 1000)
        print(f"SNS → SQS delivery (signed envelope; publish issued → long poller has it): p50 {statistics.median(lat):.2f} ms  "
              f"p99 {sorted(lat)[int(len(lat) * 0.99) - 1]:.2f} ms")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
