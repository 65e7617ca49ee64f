# Aloft's Python runtime client: the loop AWS's runtime runs, speaking the Lambda Runtime API.
#
# It keeps imports small (no http.client: it pulls in email.*) so a cold start stays fast.
import json
import os
import socket
import sys
import time

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
PORT = int(PORT)
BASE = "/2018-06-01/runtime"
_sock = None


def _connect():
    global _sock
    _sock = socket.create_connection((HOST, PORT))
    _sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _sock


def _request(method, path, body=b"", headers=None):
    """One HTTP/1.1 request on a kept-alive connection; returns (status, headers, body)."""
    for attempt in (0, 1):
        sock = _sock or _connect()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, API, len(body))
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        try:
            sock.sendall(head.encode() + b"\r\n" + body)
            return _read_response(sock)
        except (OSError, ConnectionError):
            if attempt:
                raise
            _close()


def _close():
    global _sock
    try:
        _sock.close()
    except Exception:
        pass
    _sock = None


def _read_response(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("runtime API closed the connection")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(max(65536, length - len(rest)))
        if not chunk:
            raise ConnectionError("runtime API closed the connection")
        rest += chunk
    return status, headers, rest[:length]


def _flush_and_mark(request_id):
    # The sentinel tells Aloft that every line this invocation printed is already in the pipe.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os.write(1, ("\x1eALOFT_END %s\n" % request_id).encode())


def _error_body(exc, error_type=None, with_trace=True):
    import traceback

    trace = []
    if with_trace and exc.__traceback__ is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        trace = traceback.format_list(frames)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": trace,
    }


def _log_error(body):
    # AWS joins the traceback with \r so the error is one CloudWatch event.
    text = "[ERROR] %s: %s" % (body["errorType"], body["errorMessage"])
    if body.get("stackTrace"):
        text += "\rTraceback (most recent call last):\r" + "".join(body["stackTrace"]).replace("\n", "\r")
    sys.stdout.write(text.rstrip("\r") + "\n")


class LambdaContext(object):
    def __init__(self, request_id, deadline_ms, invoked_arn, client_context, identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_arn
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])" % (
            self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
            self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
            self.client_context, self.identity)


class _Obj(object):
    def __init__(self, d):
        for k, v in (d or {}).items():
            setattr(self, k, v)


def _setup_logging():
    import logging

    class Formatter(logging.Formatter):
        def format(self, record):
            record.aws_request_id = _current_request_id
            return "[%s]\t%s\t%s\t%s" % (
                record.levelname,
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % record.msecs,
                _current_request_id,
                record.getMessage().replace("\n", "\r"),
            )

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(Formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


_current_request_id = ""


def _load_handler():
    """Returns (handler, None) or (None, error body) as AWS's runtime classifies init failures."""
    spec = os.environ.get("_HANDLER", "")
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        return None, {"errorMessage": "Bad handler '%s': %s" % (spec, e), "errorType": "Runtime.MalformedHandlerName", "requestId": "", "stackTrace": []}
    modname = modname.replace("/", ".")
    try:
        import importlib

        mod = importlib.import_module(modname)
    except ImportError as e:
        return None, {"errorMessage": "Unable to import module '%s': %s" % (modname, e), "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    except SyntaxError as e:
        return None, {"errorMessage": "Syntax error in module '%s': %s" % (modname, e), "errorType": "Runtime.UserCodeSyntaxError", "requestId": "", "stackTrace": []}
    except Exception as e:
        return None, _error_body(e)
    fn = getattr(mod, fname, None)
    if fn is None:
        return None, {"errorMessage": "Handler '%s' missing on module '%s'" % (fname, modname), "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
    return fn, None


def main():
    global _current_request_id
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    _setup_logging()
    handler, init_error = _load_handler()
    if init_error is not None:
        _log_error(init_error)
        sys.stdout.flush()
        _request("POST", BASE + "/init/error", json.dumps(init_error).encode(),
                 {"Lambda-Runtime-Function-Error-Type": init_error["errorType"]})
        sys.exit(1)
    while True:
        status, headers, body = _request("GET", BASE + "/invocation/next")
        if status != 200:
            time.sleep(0.01)
            continue
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _current_request_id = request_id
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        client_context = headers.get("lambda-runtime-client-context")
        identity = headers.get("lambda-runtime-cognito-identity")
        ctx = LambdaContext(
            request_id,
            int(headers.get("lambda-runtime-deadline-ms", "0")),
            headers.get("lambda-runtime-invoked-function-arn", ""),
            _Obj(json.loads(client_context)) if client_context else None,
            _Obj(json.loads(identity)) if identity else None,
        )
        try:
            event = json.loads(body) if body else {}
        except ValueError as e:
            err = {"errorMessage": "Unable to unmarshal input: %s" % e, "errorType": "Runtime.UnmarshalError", "requestId": request_id, "stackTrace": []}
            _log_error(err)
            _flush_and_mark(request_id)
            _request("POST", BASE + "/invocation/%s/error" % request_id, json.dumps(err).encode(),
                     {"Lambda-Runtime-Function-Error-Type": err["errorType"]})
            continue
        try:
            result = handler(event, ctx)
            try:
                out = json.dumps(result).encode()
            except (TypeError, ValueError) as e:
                raise _MarshalError("Unable to marshal response: %s" % e)
        except _MarshalError as e:
            err = {"errorMessage": str(e), "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
            _log_error(err)
            _flush_and_mark(request_id)
            _request("POST", BASE + "/invocation/%s/error" % request_id, json.dumps(err).encode(),
                     {"Lambda-Runtime-Function-Error-Type": err["errorType"]})
            continue
        except Exception as e:
            err = _error_body(e)
            err["requestId"] = request_id
            _log_error(err)
            _flush_and_mark(request_id)
            _request("POST", BASE + "/invocation/%s/error" % request_id, json.dumps(err).encode(),
                     {"Lambda-Runtime-Function-Error-Type": "Runtime.Unhandled"})
            continue
        _flush_and_mark(request_id)
        _request("POST", BASE + "/invocation/%s/response" % request_id, out)


class _MarshalError(Exception):
    pass


if __name__ == "__main__":
    # The bootstrap must not be importable as the handler's module namespace.
    sys.path = [p for p in sys.path if p != os.path.dirname(os.path.abspath(__file__))]
    main()
