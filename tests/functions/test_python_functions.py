"""python: rotation functions under `smemu serve` (issue 5 item 2), driven by Debian's boto3.

Run: /usr/bin/python3 -I tests/functions/test_python_functions.py --smemu build/bin/smemu \
         --data-path tests/data/botocore-data [-v] [TestClass.test_name]

One server for the module, with a function per behaviour registered by --function (all from
template_rotation.py, a template-style function written for Lambda, and no_endpoint_rotation.py)
and --events FILE. Rotations start with boto3's rotate_secret, as a user's test would; the test
waits by polling describe_secret and the events file (RotationSucceeded / RotationFailed, whose
Reason is what smemu reports for the step).
"""
import json
import os
import re
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "clients"))
import smemu_server  # noqa: E402

ARGS = smemu_server.parse_args()
try:
    import boto3
except ImportError as error:
    smemu_server.fail(f"boto3 is not importable by {sys.executable} ({error}); the set-up installs Debian's "
                      "python3-boto3")

PYTHON = "/usr/bin/python3"
TEMPLATE = os.path.join(HERE, "template_rotation.py")
WAIT_SECONDS = 40


def lambda_arn(name):
    return f"arn:aws:lambda:us-east-1:{smemu_server.ACCOUNT}:function:{name}"


FUNCTIONS = {
    "template-rotation": f"python:{TEMPLATE}:reporting_handler",
    "failing-set-secret": f"python:{TEMPLATE}:failing_set_secret_handler",
    "hanging-rotation": f"python:{TEMPLATE}:hanging_test_secret_handler?timeout=2",
    "crash-after-create": f"python:{TEMPLATE}:crash_after_create_handler",
    "no-endpoint": f"python:{os.path.join(HERE, 'no_endpoint_rotation.py')}",
    "broken-import": f"python:{os.path.join(HERE, 'broken_import.py')}",
}

SERVER = None
HOME = None
EVENTS = None
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def setUpModule():
    global SERVER, HOME, EVENTS
    HOME = tempfile.TemporaryDirectory(prefix="smemu-functions-")
    env = smemu_server.client_environment(ARGS.data_path, HOME.name)
    os.environ.clear()
    os.environ.update(env)
    EVENTS = os.path.join(HOME.name, "events.jsonl")
    args = ["--events", EVENTS, "--python", PYTHON]
    for name, spec in FUNCTIONS.items():
        args += ["--function", f"{lambda_arn(name)}={spec}"]
    SERVER = smemu_server.SmemuServer(ARGS.smemu, args).start()


def tearDownModule():
    try:
        SERVER.close()  # raises unless smemu exits 0 on SIGTERM
    finally:
        HOME.cleanup()


def server_log():
    SERVER.log.flush()
    with open(SERVER.log.name, encoding="utf-8", errors="replace") as f:
        return f.read()


def rotation_events(arn):
    """The service events of `arn` in the events file so far."""
    events = []
    with open(EVENTS, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            if event.get("eventType") == "AwsServiceEvent" and event["additionalEventData"]["SecretId"] == arn:
                events.append(event)
    return events


class PythonFunctionTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sm = boto3.session.Session(region_name="us-east-1").client(
            "secretsmanager", endpoint_url=SERVER.endpoint_url)
        self.addCleanup(self.sm.close)

    def create(self, name):
        value = {"engine": "postgres", "host": "db.example.com", "username": "app", "password": "initial-password"}
        created = self.sm.create_secret(Name=name, SecretString=json.dumps(value))
        return created["ARN"], created["VersionId"]

    def rotate(self, arn, function=None):
        request = {"SecretId": arn}
        if function is not None:
            request["RotationLambdaARN"] = lambda_arn(function)
        return self.sm.rotate_secret(**request)["VersionId"]

    def stages(self, arn):
        return self.sm.describe_secret(SecretId=arn).get("VersionIdsToStages", {})

    def wait_for_end(self, arn, token):
        """The RotationSucceeded or RotationFailed event of the rotation with `token`, polling the
        events file and describe_secret (a successful rotation's token version holds AWSCURRENT)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ends = [e for e in rotation_events(arn)
                    if e["eventName"] in ("RotationSucceeded", "RotationFailed")
                    and e["additionalEventData"].get("VersionId") == token]
            if ends:
                if ends[0]["eventName"] == "RotationSucceeded":
                    self.assertIn("AWSCURRENT", self.stages(arn)[token])
                return ends[0]
            time.sleep(0.05)
        self.fail(f"the rotation {token} of {arn} did not end within {WAIT_SECONDS} s; server log:\n"
                  f"{SERVER.stderr()}")

    def assert_succeeded(self, arn, token):
        end = self.wait_for_end(arn, token)
        self.assertEqual(end["eventName"], "RotationSucceeded", end["additionalEventData"].get("Reason"))

    def assert_failed(self, arn, token, step):
        end = self.wait_for_end(arn, token)
        self.assertEqual(end["eventName"], "RotationFailed")
        data = end["additionalEventData"]
        self.assertEqual(data["Step"], step)
        self.assertEqual(data["Attempt"], 1)
        return data["Reason"]

    def assert_current_unmoved(self, arn, original, token):
        """D1: AWSCURRENT stays on the original version; AWSPENDING stays on the token's."""
        stages = self.stages(arn)
        self.assertIn("AWSCURRENT", stages[original])
        self.assertEqual(stages[token], ["AWSPENDING"])
        current = json.loads(self.sm.get_secret_value(SecretId=arn)["SecretString"])
        self.assertEqual(current["password"], "initial-password")

    def test_two_full_rotations_in_a_row(self):
        arn, original = self.create("python-two-rotations")
        first = self.rotate(arn, "template-rotation")
        self.assert_succeeded(arn, first)
        after_first = json.loads(self.sm.get_secret_value(SecretId=arn)["SecretString"])
        self.assertNotEqual(after_first["password"], "initial-password")
        self.assertEqual({k: v for k, v in after_first.items() if k != "password"},
                         {"engine": "postgres", "host": "db.example.com", "username": "app"})
        self.assertFalse(set(after_first["password"]) & set("/@\"'\\"))

        second = self.rotate(arn)  # the stored function and rules
        self.assert_succeeded(arn, second)
        after_second = self.sm.get_secret_value(SecretId=arn)
        self.assertEqual(after_second["VersionId"], second)
        self.assertNotIn(json.loads(after_second["SecretString"])["password"],
                         ("initial-password", after_first["password"]))
        stages = self.stages(arn)
        self.assertIn("AWSCURRENT", stages[second])
        self.assertEqual(stages[first], ["AWSPREVIOUS"])
        self.assertNotIn(original, stages)  # deprecated: no label left
        names = [e["eventName"] for e in rotation_events(arn)]
        self.assertEqual(names.count("RotationStarted"), 2)
        self.assertEqual(names.count("RotationSucceeded"), 2)
        self.assertNotIn("RotationFailed", names)

        # What the function saw, as it tagged the secret: the context and Lambda's variables.
        tags = {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId=arn)["Tags"]}
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            name, arn_seen, request_id, remaining, env_name, handler, cwd = tags[f"seen-{step}"].split("|")
            self.assertEqual(name, "template-rotation")
            self.assertEqual(arn_seen, lambda_arn("template-rotation"))
            self.assertRegex(request_id, UUID)
            self.assertTrue(0 < int(remaining) <= 30_000, remaining)  # the default timeout's deadline
            self.assertEqual(env_name, "template-rotation")
            self.assertEqual(handler, "template_rotation.reporting_handler")
            self.assertEqual(cwd, HERE)
        # The function's log lines (Lambda's format, root handler at INFO) reached smemu's log.
        self.assertRegex(server_log(), r"\[template-rotation\] \[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
                                       r"[0-9a-f-]{36}\tfinishSecret: Successfully set AWSCURRENT stage to version "
                                       + re.escape(second))

    def test_failure_at_set_secret_reports_the_python_error_and_leaves_awscurrent(self):
        arn, original = self.create("python-fails-at-set-secret")
        token = self.rotate(arn, "failing-set-secret")
        reason = self.assert_failed(arn, token, "setSecret")
        self.assertTrue(reason.startswith(
            "DatabaseUnreachable: cannot reach db.example.com to set the new password of app\n"
            "Traceback (most recent call last):\n"), reason)
        self.assertRegex(reason, r'File "' + re.escape(TEMPLATE) + r'", line \d+, in set_secret\n')
        self.assertNotIn("smemu_lambda_adapter", reason)  # the adapter's own frames are not the function's
        self.assert_current_unmoved(arn, original, token)
        pending = self.sm.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")
        self.assertEqual(pending["VersionId"], token)
        # D19: neither value is in the failure smemu reports.
        self.assertNotIn("initial-password", reason)
        self.assertNotIn(json.loads(pending["SecretString"])["password"], reason)

    def test_a_step_past_its_timeout_is_killed_and_times_out(self):
        arn, original = self.create("python-times-out")
        token = self.rotate(arn, "hanging-rotation")
        reason = self.assert_failed(arn, token, "testSecret")
        self.assertEqual(reason, "Task timed out after 2.00 seconds")
        self.assert_current_unmoved(arn, original, token)
        self.assertIn("[hanging-rotation] [INFO]", server_log())
        self.assertIn("testSecret: waiting for a database that never answers", server_log())
        # The function's process is gone (killed with its group, reaped), not sleeping on.
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            # The adapter's arguments: the handler's name is one of them (smemu's own has it in a spec).
            self.assertNotIn(b"\0hanging_test_secret_handler\0", cmdline, f"process {pid} is still there")

    def test_raising_in_create_secret_after_writing_leaves_the_value_at_awspending(self):
        arn, original = self.create("python-crashes-after-create")
        token = self.rotate(arn, "crash-after-create")
        reason = self.assert_failed(arn, token, "createSecret")
        self.assertTrue(reason.startswith("RuntimeError: the function crashed after writing the pending value\n"
                                          "Traceback (most recent call last):\n"), reason)
        self.assertRegex(reason, r"in create_secret\n")
        self.assert_current_unmoved(arn, original, token)
        pending = self.sm.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")
        self.assertEqual(pending["VersionId"], token)
        pending_value = json.loads(pending["SecretString"])
        self.assertEqual(pending_value["username"], "app")
        self.assertNotEqual(pending_value["password"], "initial-password")

    def test_a_client_made_without_an_endpoint_still_reaches_smemu(self):
        arn, original = self.create("python-no-endpoint")
        token = self.rotate(arn, "no-endpoint")
        self.assert_succeeded(arn, token)
        self.assertEqual(self.stages(arn)[original], ["AWSPREVIOUS"])
        self.assertIn("[no-endpoint] [INFO]", server_log())
        self.assertIn("sts refused as it should be: smemu emulates only Secrets Manager; sts.GetCallerIdentity "
                      "would have gone to real AWS", server_log())

    def test_a_module_that_cannot_be_imported_fails_the_step_as_lambda_does(self):
        arn, original = self.create("python-broken-import")
        token = self.rotate(arn, "broken-import")
        reason = self.assert_failed(arn, token, "createSecret")
        self.assertEqual(reason, "Runtime.ImportModuleError: Unable to import module 'broken_import': "
                                 "No module named 'module_smemu_does_not_ship'")
        self.assertEqual(self.stages(arn)[original], ["AWSCURRENT"])


if __name__ == "__main__":
    unittest.main(argv=ARGS.unittest_argv)
