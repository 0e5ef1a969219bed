"""Debian's AWS CLI v2 (/usr/bin/aws) against `smemu serve` (issue 2 item 6).

Run: /usr/bin/python3 -I tests/clients/test_awscli.py --smemu build/emulator/cli/smemu \
         --data-path tests/data/botocore-data [-v] [TestClass.test_name]

Every call goes through `/usr/bin/aws secretsmanager ... --endpoint-url http://127.0.0.1:PORT
--output json`; a failed call must exit 254 (the service answered with an error) and print the
exact `An error occurred (<Code>) when calling the <Op> operation: <Message>` line. The CLI takes
about half a second to start, so the round trips share secrets and stay near 40 calls.
"""
import json
import os
import re
import string
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smemu_server  # noqa: E402

ARGS = smemu_server.parse_args()
AWS = "/usr/bin/aws"
if not os.access(AWS, os.X_OK):
    smemu_server.fail(f"{AWS} is missing: the set-up installs Debian's awscli (AWS CLI v2)")

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
NOT_FOUND = "Secrets Manager can't find the specified secret."
CALL_TIMEOUT = 30

SERVER = None
HOME = None
ENV = None
CALLS = []  # (seconds, argv) of every CLI call, for the summary


def setUpModule():
    global SERVER, HOME, ENV
    HOME = tempfile.TemporaryDirectory(prefix="smemu-awscli-")
    ENV = smemu_server.client_environment(ARGS.data_path, HOME.name)
    SERVER = smemu_server.SmemuServer(ARGS.smemu).start()


def tearDownModule():
    try:
        SERVER.close()  # raises unless smemu exits 0 on SIGTERM
    finally:
        HOME.cleanup()
        total = sum(seconds for seconds, _ in CALLS)
        print(f"\n{len(CALLS)} aws calls, {total:.1f} s in the CLI", file=sys.stderr)


def token():
    return str(uuid.uuid4())


def run(*args, region=None):
    argv = [AWS, "secretsmanager", *args, "--endpoint-url", SERVER.endpoint_url, "--output", "json"]
    if region:
        argv += ["--region", region]
    started = time.monotonic()
    done = subprocess.run(argv, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CALL_TIMEOUT)
    CALLS.append((time.monotonic() - started, argv))
    return done


def arn_pattern(name, region="us-east-1"):
    return re.compile(re.escape(f"arn:aws:secretsmanager:{region}:{smemu_server.ACCOUNT}:secret:{name}-")
                      + "[A-Za-z0-9]{6}")


class CliTestCase(unittest.TestCase):
    maxDiff = None

    def aws(self, *args, region=None):
        """The call's JSON output; the test fails unless the CLI exits 0."""
        done = run(*args, region=region)
        self.assertEqual(done.returncode, 0, f"aws secretsmanager {' '.join(args)} failed:\n{done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def aws_error(self, code, operation, message, *args, region=None):
        """The call must fail as the service answered: exit 254 and the exact error line."""
        done = run(*args, region=region)
        self.assertEqual(done.returncode, 254, f"aws secretsmanager {' '.join(args)}: stdout {done.stdout!r}, "
                                               f"stderr {done.stderr!r}")
        self.assertEqual(done.stdout, "")
        self.assertEqual(done.stderr.strip(),
                         f"An error occurred ({code}) when calling the {operation} operation: {message}")

    def name(self, suffix=""):
        return f"awscli/{self._testMethodName}{suffix}"

    def assert_versions(self, secret_id, expected, include_deprecated):
        """`expected`: version id -> labels; [] is a deprecated version (no VersionStages member)."""
        args = ["list-secret-version-ids", "--secret-id", secret_id]
        if include_deprecated:
            args.append("--include-deprecated")
        listed = self.aws(*args)
        self.assertEqual({v["VersionId"]: sorted(v["VersionStages"]) if "VersionStages" in v else None
                          for v in listed["Versions"]},
                         {k: sorted(v) if v else None for k, v in expected.items()
                          if v or include_deprecated})
        return listed


class RoundTrips(CliTestCase):
    def test_versions_labels_and_reads(self):
        name = self.name()
        t1, t2, t3, t4 = token(), token(), token(), token()
        created = self.aws("create-secret", "--name", name, "--secret-string", "v1", "--client-request-token", t1,
                           "--description", "first", "--tags", "Key=team,Value=blue")
        self.assertEqual((created["Name"], created["VersionId"]), (name, t1))
        self.assertRegex(created["ARN"], arn_pattern(name))
        arn = created["ARN"]

        updated = self.aws("update-secret", "--secret-id", name, "--secret-string", "v2",
                           "--client-request-token", t2)
        self.assertEqual((updated["ARN"], updated["Name"], updated["VersionId"]), (arn, name, t2))
        described_only = self.aws("update-secret", "--secret-id", arn, "--description", "second")
        self.assertEqual(described_only, {"ARN": arn, "Name": name})  # no VersionId: no new version

        put = self.aws("put-secret-value", "--secret-id", name, "--secret-string", "v3",
                       "--client-request-token", t3)
        self.assertEqual(put, {"ARN": arn, "Name": name, "VersionId": t3, "VersionStages": [CURRENT]})
        staged = self.aws("put-secret-value", "--secret-id", name, "--secret-string", "v4",
                          "--client-request-token", t4, "--version-stages", PENDING, "CUSTOM")
        self.assertEqual(staged["VersionId"], t4)
        self.assertEqual(sorted(staged["VersionStages"]), [PENDING, "CUSTOM"])

        # Spec 4.4 (AWS-recorded): moving AWSCURRENT gives its old holder AWSPREVIOUS.
        moved = self.aws("update-secret-version-stage", "--secret-id", name, "--version-stage", CURRENT,
                         "--remove-from-version-id", t3, "--move-to-version-id", t4)
        self.assertEqual(moved, {"ARN": arn, "Name": name})
        self.assert_versions(name, {t1: [], t2: [], t3: [PREVIOUS], t4: [CURRENT, PENDING, "CUSTOM"]},
                             include_deprecated=True)
        listed = self.assert_versions(name, {t3: [PREVIOUS], t4: [CURRENT, PENDING, "CUSTOM"]},
                                      include_deprecated=False)
        self.assertEqual((listed["ARN"], listed["Name"]), (arn, name))
        self.assertEqual({tuple(v["KmsKeyIds"]) for v in listed["Versions"]}, {("DefaultEncryptionKey",)})

        # And back: the roles swap.
        self.aws("update-secret-version-stage", "--secret-id", name, "--version-stage", CURRENT,
                 "--remove-from-version-id", t4, "--move-to-version-id", t3)
        described = self.aws("describe-secret", "--secret-id", name)
        self.assertEqual({k: sorted(v) for k, v in described["VersionIdsToStages"].items()},
                         {t3: [CURRENT], t4: sorted([PREVIOUS, PENDING, "CUSTOM"])})
        self.assertEqual((described["ARN"], described["Name"], described["Description"], described["Tags"]),
                         (arn, name, "second", [{"Key": "team", "Value": "blue"}]))
        for member in ("CreatedDate", "LastChangedDate"):
            self.assertIn(member, described)
        for absent in ("KmsKeyId", "RotationEnabled", "RotationRules", "DeletedDate", "ReplicationStatus"):
            self.assertNotIn(absent, described)

        for args, (version, value, stages) in [
            (("--version-stage", PREVIOUS), (t4, "v4", [PREVIOUS, PENDING, "CUSTOM"])),
            (("--version-id", t3), (t3, "v3", [CURRENT])),
            (("--version-id", t4, "--version-stage", "CUSTOM"), (t4, "v4", [PREVIOUS, PENDING, "CUSTOM"])),
        ]:
            with self.subTest(args=args):
                got = self.aws("get-secret-value", "--secret-id", name, *args)
                self.assertEqual((got["ARN"], got["Name"], got["VersionId"], got["SecretString"],
                                  sorted(got["VersionStages"])), (arn, name, version, value, sorted(stages)))
                self.assertIn("CreatedDate", got)

        # Errors of spec section 10 on this secret: #2, #4, #9.
        self.aws_error("ResourceExistsException", "CreateSecret",
                       f"The operation failed because the secret {name} already exists.",
                       "create-secret", "--name", name, "--secret-string", "x")
        self.aws_error("ResourceNotFoundException", "GetSecretValue",
                       "Secrets Manager can't find the specified secret value for staging label: NOPE",
                       "get-secret-value", "--secret-id", name, "--version-stage", "NOPE")
        self.aws_error("ResourceExistsException", "PutSecretValue",
                       f"You can't use ClientRequestToken {t3} because that value is already in use for a version "
                       f"of secret {arn}.",
                       "put-secret-value", "--secret-id", name, "--secret-string", "other",
                       "--client-request-token", t3)

    def test_list_secrets_filter_and_pages(self):
        prefix = self.name("/")
        names = [f"{prefix}{i}" for i in range(3)]
        # The secrets of the other tests are in the server too: the filter must leave them out.
        for n in names:
            self.aws("create-secret", "--name", n, "--secret-string", "x")
        filters = ["--filters", f"Key=name,Values={prefix}"]
        # --max-items 1: one secret per call, NextToken to go on, until it is done.
        seen, starting = [], []
        for _ in range(len(names) + 1):
            page = self.aws("list-secrets", *filters, "--max-items", "1", "--page-size", "1", *starting)
            self.assertLessEqual(len(page["SecretList"]), 1)
            seen += [s["Name"] for s in page["SecretList"]]
            if "NextToken" not in page:
                break
            starting = ["--starting-token", page["NextToken"]]
        else:
            self.fail("list-secrets kept returning NextToken")
        self.assertEqual(sorted(seen), names)
        # The CLI follows NextToken by itself, asking for pages of one.
        everything = self.aws("list-secrets", *filters, "--page-size", "1")
        self.assertEqual(sorted(s["Name"] for s in everything["SecretList"]), names)
        self.assertNotIn("NextToken", everything)
        for entry in everything["SecretList"]:
            self.assertRegex(entry["ARN"], arn_pattern(entry["Name"]))
            self.assertEqual(list(entry["SecretVersionsToStages"].values()), [[CURRENT]])

    def test_tags_delete_restore(self):
        name = self.name()
        created = self.aws("create-secret", "--name", name, "--secret-string", "kept",
                           "--tags", "Key=team,Value=blue")
        self.aws("tag-resource", "--secret-id", name, "--tags", "Key=env,Value=prod", "Key=team,Value=red")
        self.aws("untag-resource", "--secret-id", name, "--tag-keys", "team", "missing")
        self.assertEqual(self.aws("describe-secret", "--secret-id", name)["Tags"], [{"Key": "env", "Value": "prod"}])

        deleted = self.aws("delete-secret", "--secret-id", name, "--recovery-window-in-days", "7")
        self.assertEqual((deleted["ARN"], deleted["Name"]), (created["ARN"], name))
        self.assertIn("DeletionDate", deleted)
        self.aws_error("InvalidRequestException", "GetSecretValue",
                       "You can't perform this operation on the secret because it was marked for deletion.",
                       "get-secret-value", "--secret-id", name)
        self.aws_error("InvalidRequestException", "CreateSecret",
                       "You can't create this secret because a secret with this name is already scheduled for "
                       "deletion.", "create-secret", "--name", name, "--secret-string", "again")
        restored = self.aws("restore-secret", "--secret-id", name)
        self.assertEqual(restored, {"ARN": created["ARN"], "Name": name})
        self.assertEqual(self.aws("get-secret-value", "--secret-id", name)["SecretString"], "kept")

        forced = self.aws("delete-secret", "--secret-id", name, "--force-delete-without-recovery")
        self.assertEqual((forced["ARN"], forced["Name"]), (created["ARN"], name))
        self.aws_error("ResourceNotFoundException", "DescribeSecret", NOT_FOUND,
                       "describe-secret", "--secret-id", name)

    def test_random_password(self):
        password = self.aws("get-random-password", "--password-length", "40",
                            "--exclude-punctuation")["RandomPassword"]
        self.assertEqual(len(password), 40)
        self.assertTrue(set(password) <= set(string.ascii_letters + string.digits), password)
        for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            self.assertTrue(set(password) & set(kind), password)

    def test_batch_get_secret_value_with_the_vendored_model(self):
        a, b = self.name("/a"), self.name("/b")
        ta, tb = token(), token()
        arn_a = self.aws("create-secret", "--name", a, "--secret-string", "value-a",
                         "--client-request-token", ta)["ARN"]
        self.aws("create-secret", "--name", b, "--secret-string", "value-b", "--client-request-token", tb)
        missing = self.name("/missing")
        got = self.aws("batch-get-secret-value", "--secret-id-list", arn_a, b, missing)
        values = {v["Name"]: (v["ARN"], v["VersionId"], v["SecretString"], v["VersionStages"])
                  for v in got["SecretValues"]}
        self.assertEqual(set(values), {a, b})
        self.assertEqual(values[a], (arn_a, ta, "value-a", [CURRENT]))
        self.assertEqual(values[b][1:], (tb, "value-b", [CURRENT]))
        self.assertEqual(got["Errors"], [{"SecretId": missing, "ErrorCode": "ResourceNotFoundException",
                                          "Message": NOT_FOUND}])

    def test_region_and_errors(self):
        name = self.name()
        west = self.aws("create-secret", "--name", name, "--secret-string", "west", region="us-west-2")
        self.assertRegex(west["ARN"], arn_pattern(name, "us-west-2"))
        # #1: not visible from us-east-1 (the CLI's default region here).
        self.aws_error("ResourceNotFoundException", "GetSecretValue", NOT_FOUND,
                       "get-secret-value", "--secret-id", name)
        # #13: invalid name.
        self.aws_error("ValidationException", "CreateSecret",
                       "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
                       "following: -/_+=.@!", "create-secret", "--name", "has space", "--secret-string", "x")
        # #14: a model constraint the CLI does not check itself.
        self.aws_error("ValidationException", "GetRandomPassword",
                       "1 validation error detected: Value '5000' at 'passwordLength' failed to satisfy constraint: "
                       "Member must have value less than or equal to 4096",
                       "get-random-password", "--password-length", "5000")


if __name__ == "__main__":
    version = subprocess.run([AWS, "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    version = (version.stdout or version.stderr).strip()
    print(f"{AWS}: {version}", flush=True)
    if not version.startswith("aws-cli/2."):
        smemu_server.fail(f"{AWS} is not the AWS CLI v2 (Debian's awscli package) the set-up installs")
    unittest.main(argv=ARGS.unittest_argv, verbosity=2)
