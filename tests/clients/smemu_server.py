"""Shared by the real-client tests: runs `smemu serve` on 127.0.0.1 with a port the kernel picks,
and builds an environment in which the clients can reach only that server.

Usage (from a test run by /usr/bin/python3 -I):
    args = parse_args()                      # --smemu BINARY --data-path DIR [unittest args]
    with SmemuServer(args.smemu) as server:   # stopped with SIGTERM on exit; must exit 0 (or .close())
        env = client_environment(args.data_path, home)
"""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
ACCOUNT = "123456789012"  # smemu serve's default --account
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
_ANNOUNCEMENT = re.compile(r"smemu listening on http://127\.0\.0\.1:([0-9]+)")


def fail(message):
    """Ends the test run as a failure with `message`: a missing client is a broken set-up, and a
    test that skips silently would hide it."""
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def parse_args(argv=None):
    """--smemu and --data-path; whatever follows goes to unittest (e.g. -v, a test name)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smemu", required=True, help="the smemu executable")
    parser.add_argument("--data-path", required=True, help="the vendored botocore model dir (AWS_DATA_PATH)")
    args, rest = parser.parse_known_args(argv)
    if not os.access(args.smemu, os.X_OK):
        fail(f"smemu executable {args.smemu!r} is missing or not executable")
    if not os.path.isfile(os.path.join(args.data_path, "secretsmanager", "2017-10-17", "service-2.json")):
        fail(f"{args.data_path!r} holds no secretsmanager/2017-10-17/service-2.json")
    args.unittest_argv = [sys.argv[0]] + rest
    return args


def client_environment(data_path, home):
    """The environment for a client process (or this one): dummy credentials, us-east-1, the
    vendored model first on AWS_DATA_PATH, and no profile, config file, proxy or Python setting
    from the caller's environment, so nothing can reach real AWS or load another botocore."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYTHON", "BOTO_"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    # An empty file: no profile, no credentials but the variables below.
    config = os.path.join(home, "aws-config")
    open(config, "w", encoding="ascii").close()
    env.update({
        "HOME": home,  # no ~/.aws/models, ~/.aws/cli cache or ~/.local site-packages of the caller
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DATA_PATH": os.path.abspath(data_path),
        "AWS_CONFIG_FILE": config,
        "AWS_SHARED_CREDENTIALS_FILE": config,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    return env


class SmemuServer:
    """`smemu serve --host 127.0.0.1 --port 0 [extra_args]` as a child; `stop()` sends SIGTERM and
    requires exit 0."""

    def __init__(self, binary, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None
        self.log = tempfile.NamedTemporaryFile(prefix="smemu-serve-", suffix=".log", delete=False)

    @property
    def endpoint_url(self):
        return f"http://{HOST}:{self.port}"

    def start(self):
        try:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--host", HOST, "--port", "0"] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)
            line = self._first_line()
            match = _ANNOUNCEMENT.fullmatch(line)
            if not match:
                raise RuntimeError(f"smemu serve's first line is {line!r}, not 'smemu listening on "
                                   f"http://{HOST}:PORT'; its stderr:\n{self.stderr()}")
            self.port = int(match.group(1))
            if not 0 < self.port < 65536:
                raise RuntimeError(f"smemu serve announced port {self.port}")
        except BaseException:
            self._kill()
            self._remove_log()
            raise
        return self

    def _first_line(self):
        # Read byte by byte so that nothing after the first line is consumed from the pipe.
        deadline = time.monotonic() + START_TIMEOUT
        out = self.process.stdout.fileno()
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([out], [], [], max(left, 0))
            if not ready:
                raise RuntimeError(f"smemu serve printed no line within {START_TIMEOUT:.0f} s; "
                                   f"stderr:\n{self.stderr()}")
            chunk = os.read(out, 1)
            if not chunk:
                code = self.process.wait()
                raise RuntimeError(f"smemu serve exited ({code}) before announcing its address; "
                                   f"stderr:\n{self.stderr()}")
            data += chunk
        return data[:-1].decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then the exit status must be 0 within STOP_TIMEOUT (AssertionError otherwise)."""
        if self.process is None:
            return
        code = self.process.poll()
        if code is not None:
            self.process.stdout.close()
            self.process = None
            raise AssertionError(f"smemu serve died during the test with status {code}; stderr:\n{self.stderr()}")
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"smemu serve did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM")
        finally:
            if self.process is not None:
                self.process.stdout.close()
        self.process = None
        if code != 0:
            raise AssertionError(f"smemu serve exited with status {code} after SIGTERM, not 0; "
                                 f"stderr:\n{self.stderr()}")

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process is not None:
            self.process.stdout.close()
        self.process = None

    def stderr(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            text = f.read()
        return text[-4000:]

    def close(self):
        """stop(), and whatever happens, no process or log file left behind."""
        try:
            self.stop()
        finally:
            self._kill()
            self._remove_log()

    def _remove_log(self):
        if not self.log.closed:
            self.log.close()
            os.unlink(self.log.name)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
