"""smemu's Lambda adapter: runs one step of a python:PATH[:HANDLER] rotation function.

smemu compiles this file in and runs it per step as

    PYTHON -u -c SOURCE PATH HANDLER FUNCTION_NAME FUNCTION_ARN DEADLINE_NS

with the event JSON on standard input (see process_function.h). It reports on fd 3, once:
{} when the handler returned, else Lambda's error shape {"errorType", "errorMessage",
"stackTrace"}; then it ends the process at once, as Lambda ends an invocation when the handler
returns, whatever threads the function left running. Standard output and error are the
function's log.

What it does as Lambda's Python runtime does: PATH's directory first on sys.path and as the
working directory (Lambda's /var/task); no bytecode written there (/var/task is read-only); a
root log handler at INFO in Lambda's format; a context object; errorType = the exception's class
name; Runtime.ImportModuleError, Runtime.UserCodeSyntaxError and Runtime.HandlerNotFound for a
module that cannot be loaded or has no such handler.

What it adds so that an unchanged function can never reach real AWS: every botocore client (boto3
makes its clients through botocore.session.Session.create_client) gets the endpoint as its
endpoint_url, whatever the function passed (Debian's boto3 ignores AWS_ENDPOINT_URL); clients of
any other service than Secrets Manager refuse every call before it is sent.
"""
import functools
import importlib.util
import inspect
import json
import logging
import os
import sys
import time
import traceback
import uuid

RESULT_FD = 3
SERVICE = "secretsmanager"
ADAPTER_FILENAME = "<string>"  # how the frames of this file (run with -c) are named


class SmemuRefusedCall(Exception):
    """A call to a service smemu does not emulate: it would have gone to real AWS."""


class LambdaContext:
    """The context object Lambda passes to a Python handler (the members rotation code reads)."""

    def __init__(self, function_name, function_arn, request_id, deadline_ns):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "smemu"
        self.identity = None
        self.client_context = None
        self._deadline_ns = deadline_ns

    def get_remaining_time_in_millis(self):
        # time.monotonic_ns() reads CLOCK_MONOTONIC, the clock of smemu's deadline.
        return max(0, (self._deadline_ns - time.monotonic_ns()) // 1_000_000)


def install_log_handler(request_id):
    """Lambda's root handler: '[LEVEL]\\tTIMESTAMPZ\\tREQUEST_ID\\tmessage' to standard error."""
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t" + request_id + "\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def pin_clients_to_endpoint(endpoint):
    """Points every botocore client at `endpoint`; non-Secrets Manager clients refuse their calls."""
    try:
        import botocore.session
    except ImportError:
        return  # no botocore on this sys.path: the function cannot make clients either
    original = botocore.session.Session.create_client
    signature = inspect.signature(original)

    def refuse(service, model, **_):
        raise SmemuRefusedCall(
            f"smemu emulates only Secrets Manager; {service}.{model.name} would have gone to real AWS, "
            "so the call was refused before it was sent")

    @functools.wraps(original)
    def create_client(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.arguments["endpoint_url"] = endpoint
        client = original(*bound.args, **bound.kwargs)
        service = bound.arguments["service_name"]
        if service != SERVICE:
            client.meta.events.register("before-call", functools.partial(refuse, service))
        return client

    botocore.session.Session.create_client = create_client


def error(error_type, message, tb=None):
    """Lambda's error shape; the stack holds the function's frames, not the adapter's."""
    frames = [] if tb is None else [f for f in traceback.extract_tb(tb) if f.filename != ADAPTER_FILENAME]
    return {"errorType": error_type, "errorMessage": message, "stackTrace": traceback.format_list(frames)}


def load_handler(path, handler_name):
    """The handler function, or Lambda's error for a module or handler that cannot be had."""
    module_name = os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    # These two carry no stack in Lambda either: the message says it all.
    except SyntaxError as e:
        return None, error("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}")
    except ImportError as e:
        return None, error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}")
    except BaseException as e:  # noqa: B036 - whatever the module raises is its failure
        return None, error(type(e).__name__, str(e), e.__traceback__)
    handler = getattr(module, handler_name, None)
    if not callable(handler):
        return None, error("Runtime.HandlerNotFound", f"Handler '{handler_name}' missing on module '{module_name}'")
    return handler, None


def run(path, handler_name, function_name, function_arn, deadline_ns):
    directory = os.path.dirname(path)
    # -c puts the working directory ('') first, unless PYTHONSAFEPATH says not to.
    if sys.path and sys.path[0] == "":
        sys.path[0] = directory
    else:
        sys.path.insert(0, directory)
    os.chdir(directory)
    sys.dont_write_bytecode = True
    request_id = str(uuid.uuid4())
    install_log_handler(request_id)
    event = json.load(sys.stdin)
    pin_clients_to_endpoint(os.environ["SECRETS_MANAGER_ENDPOINT"])
    handler, failure = load_handler(path, handler_name)
    if failure is not None:
        return failure
    try:
        handler(event, LambdaContext(function_name, function_arn, request_id, deadline_ns))
    except BaseException as e:  # noqa: B036 - SystemExit from a handler fails the step too
        return error(type(e).__name__, str(e), e.__traceback__)
    return {}


def main():
    path, handler_name, function_name, function_arn, deadline_ns = sys.argv[1:6]
    outcome = run(path, handler_name, function_name, function_arn, int(deadline_ns))
    if outcome:
        # Lambda logs the error as well as returning it.
        stack = "".join(outcome["stackTrace"])
        sys.stderr.write(f"[ERROR] {outcome['errorType']}: {outcome['errorMessage']}\n"
                         + (f"Traceback (most recent call last):\n{stack}" if stack else ""))
    data = json.dumps(outcome).encode("utf-8")
    while data:
        data = data[os.write(RESULT_FD, data):]
    os.close(RESULT_FD)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


main()
