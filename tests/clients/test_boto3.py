"""Debian's boto3 (under /usr/bin/python3) against `smemu serve` (issue 2 item 6).

Run: /usr/bin/python3 -I tests/clients/test_boto3.py --smemu build/emulator/cli/smemu \
         --data-path tests/data/botocore-data [-v] [TestClass.test_name]

Every round trip asserts what AWS records (spec sections 3, 4, 6, 10): labels after each step,
VersionId == the ClientRequestToken passed, exact error codes, messages and HTTP status.
"""
import datetime
import os
import re
import string
import sys
import tempfile
import unittest
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smemu_server  # noqa: E402

ARGS = smemu_server.parse_args()
try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as error:
    smemu_server.fail(f"boto3 is not importable by {sys.executable} ({error}); the set-up installs Debian's "
                      "python3-boto3")

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

SERVER = None
HOME = None


def setUpModule():
    global SERVER, HOME
    HOME = tempfile.TemporaryDirectory(prefix="smemu-boto3-")
    # The process's own environment: botocore reads AWS_DATA_PATH and the config files from it.
    env = smemu_server.client_environment(ARGS.data_path, HOME.name)
    os.environ.clear()
    os.environ.update(env)
    SERVER = smemu_server.SmemuServer(ARGS.smemu).start()


def tearDownModule():
    try:
        SERVER.close()  # raises unless smemu exits 0 on SIGTERM
    finally:
        HOME.cleanup()


def token():
    return str(uuid.uuid4())


def arn_pattern(name, region="us-east-1"):
    return re.compile(re.escape(f"arn:aws:secretsmanager:{region}:{smemu_server.ACCOUNT}:secret:{name}-")
                      + "[A-Za-z0-9]{6}")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class SecretsTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sm = self.client()

    def client(self, region="us-east-1", validate=True):
        """A client of smemu in `region`; validate=False sends what botocore would reject itself."""
        session = boto3.session.Session(region_name=region)
        client = session.client("secretsmanager", endpoint_url=SERVER.endpoint_url,
                                config=Config(retries={"total_max_attempts": 1}, parameter_validation=validate))
        self.addCleanup(client.close)
        return client

    def name(self, suffix=""):
        """A name no other test uses."""
        return f"boto3/{self._testMethodName}{suffix}"

    def labels(self, secret_id, client=None):
        """version id -> sorted labels, deprecated versions included (None: no VersionStages member)."""
        response = (client or self.sm).list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)
        self.assertNotIn("NextToken", response)
        return {v["VersionId"]: sorted(v["VersionStages"]) if "VersionStages" in v else None
                for v in response["Versions"]}

    def described_labels(self, secret_id):
        described = self.sm.describe_secret(SecretId=secret_id)
        return {k: sorted(v) for k, v in described.get("VersionIdsToStages", {}).items()}

    def assert_labels(self, secret_id, expected):
        """`expected`: version id -> labels, [] for a deprecated version. Checks both views:
        ListSecretVersionIds(IncludeDeprecated) and DescribeSecret (which hides deprecated versions)."""
        self.assertEqual(self.labels(secret_id),
                         {k: sorted(v) if v else None for k, v in expected.items()})
        self.assertEqual(self.described_labels(secret_id),
                         {k: sorted(v) for k, v in expected.items() if v})

    def assert_error(self, context, code, message):
        error = context.exception.response
        self.assertEqual(error["Error"]["Code"], code)
        if isinstance(message, re.Pattern):
            self.assertRegex(error["Error"]["Message"], message)
        else:
            self.assertEqual(error["Error"]["Message"], message)
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 400)

    def create(self, name, value="v1", **kwargs):
        t = kwargs.pop("ClientRequestToken", token())
        response = self.sm.create_secret(Name=name, SecretString=value, ClientRequestToken=t, **kwargs)
        self.assertEqual(response["VersionId"], t)
        return t, response["ARN"]


class VersionTests(SecretsTestCase):
    def test_create_returns_token_as_version_and_arn_with_suffix(self):
        name = self.name()
        t = token()
        created = self.sm.create_secret(Name=name, SecretString="s3cr3t", ClientRequestToken=t)
        self.assertEqual(created["Name"], name)
        self.assertEqual(created["VersionId"], t)
        self.assertRegex(created["ARN"], arn_pattern(name))
        self.assertNotIn("ReplicationStatus", created)
        self.assert_labels(name, {t: [CURRENT]})
        got = self.sm.get_secret_value(SecretId=created["ARN"])
        self.assertEqual((got["Name"], got["ARN"], got["VersionId"], got["SecretString"], got["VersionStages"]),
                         (name, created["ARN"], t, "s3cr3t", [CURRENT]))
        self.assertNotIn("SecretBinary", got)
        self.assertIsInstance(got["CreatedDate"], datetime.datetime)
        # The same token and value again: success, nothing changes (spec 4.2).
        again = self.sm.create_secret(Name=name, SecretString="s3cr3t", ClientRequestToken=t)
        self.assertEqual((again["ARN"], again["VersionId"]), (created["ARN"], t))
        self.assert_labels(name, {t: [CURRENT]})

    def test_binary_value_round_trips(self):
        name = self.name()
        t = token()
        self.sm.create_secret(Name=name, SecretBinary=b"\x00\xffbin", ClientRequestToken=t)
        got = self.sm.get_secret_value(SecretId=name)
        self.assertEqual(got["SecretBinary"], b"\x00\xffbin")
        self.assertNotIn("SecretString", got)

    def test_put_default_moves_current_and_previous(self):
        name = self.name()
        t1, arn = self.create(name, "v1")
        t2 = token()
        put = self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=t2)
        self.assertEqual((put["ARN"], put["Name"], put["VersionId"], put["VersionStages"]), (arn, name, t2, [CURRENT]))
        self.assert_labels(name, {t1: [PREVIOUS], t2: [CURRENT]})
        t3 = token()
        self.sm.put_secret_value(SecretId=arn, SecretString="v3", ClientRequestToken=t3)
        # Spec 4.3 rule 1: AWSPREVIOUS leaves t1, which is now deprecated.
        self.assert_labels(name, {t1: [], t2: [PREVIOUS], t3: [CURRENT]})
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "v3")
        self.assertEqual(self.sm.get_secret_value(SecretId=name, VersionStage=PREVIOUS)["SecretString"], "v2")

    def test_put_with_stages_leaves_current_alone(self):
        # [LS-AWS test_put_secret_value_with_version_stages]: custom stages do not touch AWSCURRENT.
        name = self.name()
        t1, _ = self.create(name, "v1")
        t2 = token()
        put = self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=t2,
                                       VersionStages=["SAMPLESTAGE0", "SAMPLESTAGE1"])
        self.assertEqual(put["VersionId"], t2)
        self.assertEqual(sorted(put["VersionStages"]), ["SAMPLESTAGE0", "SAMPLESTAGE1"])
        self.assert_labels(name, {t1: [CURRENT], t2: ["SAMPLESTAGE0", "SAMPLESTAGE1"]})
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "v1")
        by_stage = self.sm.get_secret_value(SecretId=name, VersionStage="SAMPLESTAGE1")
        self.assertEqual((by_stage["VersionId"], by_stage["SecretString"]), (t2, "v2"))
        # A label lives on one version at a time: attaching SAMPLESTAGE0 elsewhere takes it from t2.
        t3 = token()
        self.sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=t3,
                                 VersionStages=["SAMPLESTAGE0"])
        self.assert_labels(name, {t1: [CURRENT], t2: ["SAMPLESTAGE1"], t3: ["SAMPLESTAGE0"]})

    def test_recorded_custom_stages_sequence(self):
        # [LS-AWS custom_stages_2], recorded against AWS.
        name = self.name()
        v1, _ = self.create(name, "v1")
        v2, v3, v4 = token(), token(), token()
        put = self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=v2,
                                       VersionStages=[CURRENT, "PUT0"])
        self.assertEqual(sorted(put["VersionStages"]), [CURRENT, "PUT0"])
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT, "PUT0"]})
        self.sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=v3,
                                 VersionStages=[CURRENT, "PUT1"])
        self.assert_labels(name, {v1: [], v2: [PREVIOUS, "PUT0"], v3: [CURRENT, "PUT1"]})
        self.sm.put_secret_value(SecretId=name, SecretString="v4", ClientRequestToken=v4,
                                 VersionStages=[PENDING, "PUT2"])
        self.assert_labels(name, {v1: [], v2: [PREVIOUS, "PUT0"], v3: [CURRENT, "PUT1"], v4: [PENDING, "PUT2"]})
        moved = self.sm.update_secret_version_stage(SecretId=name, VersionStage=CURRENT,
                                                    RemoveFromVersionId=v3, MoveToVersionId=v4)
        self.assertEqual(moved["Name"], name)
        self.assertNotIn("VersionId", moved)
        self.assert_labels(name, {v1: [], v2: ["PUT0"], v3: [PREVIOUS, "PUT1"], v4: [CURRENT, PENDING, "PUT2"]})
        # And back (rollback, spec 4.4): the roles of v3 and v4 swap.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage=CURRENT,
                                            RemoveFromVersionId=v4, MoveToVersionId=v3)
        self.assert_labels(name, {v1: [], v2: ["PUT0"], v3: [CURRENT, "PUT1"], v4: [PREVIOUS, PENDING, "PUT2"]})
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "v3")

    def test_recorded_current_pending_sequence(self):
        # [LS-AWS test_update_secret_version_stages_current_pending], recorded against AWS.
        name = self.name()
        v1, _ = self.create(name, "v1")
        v2, v3 = token(), token()
        self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=v2, VersionStages=[PENDING])
        self.assert_labels(name, {v1: [CURRENT], v2: [PENDING]})
        self.sm.update_secret_version_stage(SecretId=name, VersionStage=CURRENT,
                                            RemoveFromVersionId=v1, MoveToVersionId=v2)
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT, PENDING]})
        put = self.sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=v3)
        self.assertEqual(put["VersionStages"], [CURRENT])
        self.assert_labels(name, {v1: [], v2: [PREVIOUS], v3: [CURRENT]})

    def test_custom_label_moves_on_and_off(self):
        name = self.name()
        v1, _ = self.create(name, "v1")
        v2 = token()
        self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=v2)
        # MoveTo only: the label is not held anywhere, so no RemoveFromVersionId is needed.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=v1)
        self.assert_labels(name, {v1: [PREVIOUS, "BLUE"], v2: [CURRENT]})
        # Moving a custom label does not touch AWSPREVIOUS (spec 4.4).
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", RemoveFromVersionId=v1,
                                            MoveToVersionId=v2)
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT, "BLUE"]})
        # RemoveFrom only: detached.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", RemoveFromVersionId=v2)
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT]})
        # Removing the last label of a version deprecates it: hidden unless IncludeDeprecated.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage=PREVIOUS, RemoveFromVersionId=v1)
        self.assert_labels(name, {v1: [], v2: [CURRENT]})

    def test_update_secret_with_value_and_description_only(self):
        name = self.name()
        v1, arn = self.create(name, "v1", Description="first")
        v2 = token()
        updated = self.sm.update_secret(SecretId=name, SecretString="v2", ClientRequestToken=v2)
        self.assertEqual((updated["ARN"], updated["Name"], updated["VersionId"]), (arn, name, v2))
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT]})
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "v2")
        # Description only: no new version, no VersionId in the response (spec 3.3).
        described = self.sm.update_secret(SecretId=name, Description="second")
        self.assertEqual((described["ARN"], described["Name"]), (arn, name))
        self.assertNotIn("VersionId", described)
        self.assertEqual(self.sm.describe_secret(SecretId=name)["Description"], "second")
        self.assert_labels(name, {v1: [PREVIOUS], v2: [CURRENT]})

    def test_get_by_stage_and_by_version(self):
        name = self.name()
        v1, arn = self.create(name, "one")
        v2 = token()
        self.sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=v2)
        for kwargs, (version, value, stages) in [
            ({}, (v2, "two", [CURRENT])),
            ({"VersionStage": CURRENT}, (v2, "two", [CURRENT])),
            ({"VersionStage": PREVIOUS}, (v1, "one", [PREVIOUS])),
            ({"VersionId": v1}, (v1, "one", [PREVIOUS])),
            ({"VersionId": v2}, (v2, "two", [CURRENT])),
            ({"VersionId": v1, "VersionStage": PREVIOUS}, (v1, "one", [PREVIOUS])),
        ]:
            with self.subTest(**kwargs):
                got = self.sm.get_secret_value(SecretId=name, **kwargs)
                self.assertEqual((got["ARN"], got["Name"], got["VersionId"], got["SecretString"],
                                  got["VersionStages"]), (arn, name, version, value, stages))

    def test_list_versions_with_and_without_deprecated(self):
        name = self.name()
        v1, arn = self.create(name, "v1")
        v2, v3 = token(), token()
        self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=v2)
        self.sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=v3)
        listed = self.sm.list_secret_version_ids(SecretId=name)
        self.assertEqual((listed["ARN"], listed["Name"]), (arn, name))
        self.assertNotIn("NextToken", listed)
        self.assertEqual({v["VersionId"]: v["VersionStages"] for v in listed["Versions"]},
                         {v2: [PREVIOUS], v3: [CURRENT]})
        for version in listed["Versions"]:
            self.assertEqual(version["KmsKeyIds"], ["DefaultEncryptionKey"])
            self.assertIsInstance(version["CreatedDate"], datetime.datetime)
        with_deprecated = self.sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
        by_id = {v["VersionId"]: v for v in with_deprecated["Versions"]}
        self.assertEqual(set(by_id), {v1, v2, v3})
        # [LS-AWS test_deprecated_secret_version_stage]: a deprecated version has no VersionStages.
        self.assertNotIn("VersionStages", by_id[v1])
        self.assertEqual(by_id[v1]["KmsKeyIds"], ["DefaultEncryptionKey"])
        # Pages of one.
        seen = []
        kwargs = {"SecretId": name, "IncludeDeprecated": True, "MaxResults": 1}
        for _ in range(10):
            page = self.sm.list_secret_version_ids(**kwargs)
            self.assertLessEqual(len(page["Versions"]), 1)
            seen += [v["VersionId"] for v in page["Versions"]]
            if "NextToken" not in page:
                break
            kwargs["NextToken"] = page["NextToken"]
        self.assertEqual(sorted(seen), sorted([v1, v2, v3]))


class MetadataTests(SecretsTestCase):
    def test_describe_omits_unset_members(self):
        name = self.name()
        v1, arn = self.create(name, "v1")
        described = self.sm.describe_secret(SecretId=name)
        members = set(described) - {"ResponseMetadata"}
        self.assertEqual(members, {"ARN", "Name", "LastChangedDate", "CreatedDate", "VersionIdsToStages"})
        self.assertEqual((described["ARN"], described["Name"], described["VersionIdsToStages"]),
                         (arn, name, {v1: [CURRENT]}))
        # A read records the access day (date resolution, spec 4.6).
        before = utcnow()
        self.sm.get_secret_value(SecretId=name)
        after = utcnow()
        accessed = self.sm.describe_secret(SecretId=name)["LastAccessedDate"]
        midnights = {datetime.datetime.combine(t.date(), datetime.time(), datetime.timezone.utc)
                     for t in (before, after)}
        self.assertIn(accessed, midnights)

    def test_describe_shows_what_was_set(self):
        name = self.name()
        _, arn = self.create(name, "v1", Description="my description", Tags=[{"Key": "team", "Value": "blue"}])
        described = self.sm.describe_secret(SecretId=arn)
        self.assertEqual(described["Description"], "my description")
        self.assertEqual(described["Tags"], [{"Key": "team", "Value": "blue"}])
        for absent in ("KmsKeyId", "RotationEnabled", "RotationLambdaARN", "RotationRules", "LastRotatedDate",
                       "NextRotationDate", "DeletedDate", "OwningService", "PrimaryRegion", "ReplicationStatus"):
            self.assertNotIn(absent, described)

    def test_secret_without_value(self):
        name = self.name()
        created = self.sm.create_secret(Name=name, Description="empty")
        self.assertEqual(set(created) - {"ResponseMetadata"}, {"ARN", "Name"})
        self.assertNotIn("VersionIdsToStages", self.sm.describe_secret(SecretId=name))
        with self.assertRaises(ClientError) as context:
            self.sm.get_secret_value(SecretId=name)
        self.assert_error(context, "ResourceNotFoundException",
                          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
        # The first value gets AWSCURRENT.
        v1 = token()
        put = self.sm.put_secret_value(SecretId=name, SecretString="first", ClientRequestToken=v1)
        self.assertEqual(put["VersionStages"], [CURRENT])
        self.assert_labels(name, {v1: [CURRENT]})

    def test_tag_and_untag(self):
        name = self.name()
        self.create(name, Tags=[{"Key": "a", "Value": "1"}])
        self.sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
        tags = self.sm.describe_secret(SecretId=name)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("a", "3"), ("b", "2")])
        listed = self.sm.list_secrets(Filters=[{"Key": "tag-key", "Values": ["b"]},
                                               {"Key": "name", "Values": [name]}])["SecretList"]
        self.assertEqual([s["Name"] for s in listed], [name])
        # Missing keys are not an error (spec 3.14).
        self.sm.untag_resource(SecretId=name, TagKeys=["a", "missing"])
        self.assertEqual(self.sm.describe_secret(SecretId=name)["Tags"], [{"Key": "b", "Value": "2"}])
        # [LS-AWS test_secret_tags]: once every tag is gone, Tags is an empty list, not absent.
        self.sm.untag_resource(SecretId=name, TagKeys=["b"])
        self.assertEqual(self.sm.describe_secret(SecretId=name)["Tags"], [])

    def test_list_secrets_filter_and_pages(self):
        prefix = self.name("/")
        names = [f"{prefix}{i}" for i in range(3)]
        for n in names:
            self.create(n)
        self.create(self.name("-other"))  # shares the test name but not the prefix
        filters = [{"Key": "name", "Values": [prefix]}]
        seen = []
        kwargs = {"Filters": filters, "MaxResults": 1}
        for _ in range(10):
            page = self.sm.list_secrets(**kwargs)
            self.assertLessEqual(len(page["SecretList"]), 1)
            for entry in page["SecretList"]:
                self.assertRegex(entry["ARN"], arn_pattern(entry["Name"]))
                self.assertEqual(list(entry["SecretVersionsToStages"].values()), [[CURRENT]])
                self.assertNotIn("ReplicationStatus", entry)
            seen += [s["Name"] for s in page["SecretList"]]
            if "NextToken" not in page:
                break
            kwargs["NextToken"] = page["NextToken"]
        else:
            self.fail("ListSecrets kept returning NextToken")
        self.assertEqual(sorted(seen), names)
        # The same through boto3's paginator (paginators-1.json).
        pages = list(self.sm.get_paginator("list_secrets").paginate(Filters=filters,
                                                                    PaginationConfig={"PageSize": 1}))
        self.assertGreaterEqual(len(pages), 3)
        self.assertEqual(sorted(s["Name"] for p in pages for s in p["SecretList"]), names)
        first_two = self.sm.get_paginator("list_secrets").paginate(
            Filters=filters, PaginationConfig={"PageSize": 1, "MaxItems": 2}).build_full_result()
        self.assertEqual(len(first_two["SecretList"]), 2)
        self.assertIn("NextToken", first_two)
        # The name filter is a case-sensitive prefix.
        upper = self.sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix.upper()]}])
        self.assertEqual(upper["SecretList"], [])

    def test_region_comes_from_the_client(self):
        name = self.name()
        west = self.client("us-west-2")
        created = west.create_secret(Name=name, SecretString="west", ClientRequestToken=token())
        self.assertRegex(created["ARN"], arn_pattern(name, "us-west-2"))
        self.assertEqual(west.get_secret_value(SecretId=name)["SecretString"], "west")
        with self.assertRaises(ClientError) as context:
            self.sm.describe_secret(SecretId=name)
        self.assert_error(context, "ResourceNotFoundException", NOT_FOUND)
        self.assertEqual(self.sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"], [])
        # The same name is free in us-east-1 and gets its own ARN there.
        _, east_arn = self.create(name, "east")
        self.assertRegex(east_arn, arn_pattern(name, "us-east-1"))
        self.assertEqual(west.get_secret_value(SecretId=name)["SecretString"], "west")
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "east")


class DeletionTests(SecretsTestCase):
    def test_delete_with_recovery_window_then_restore(self):
        name = self.name()
        v1, arn = self.create(name, "kept")
        before = utcnow()
        deleted = self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        after = utcnow()
        self.assertEqual((deleted["ARN"], deleted["Name"]), (arn, name))
        self.assertGreaterEqual(deleted["DeletionDate"], before.replace(microsecond=0)
                                + datetime.timedelta(days=7, seconds=-1))
        self.assertLessEqual(deleted["DeletionDate"], after + datetime.timedelta(days=7, seconds=1))
        described = self.sm.describe_secret(SecretId=name)
        self.assertIn("DeletedDate", described)
        self.assertEqual(described["VersionIdsToStages"], {v1: [CURRENT]})
        self.assertEqual(self.labels(name), {v1: [CURRENT]})  # still listable (spec 3.8)
        filters = [{"Key": "name", "Values": [name]}]
        self.assertEqual(self.sm.list_secrets(Filters=filters)["SecretList"], [])
        planned = self.sm.list_secrets(Filters=filters, IncludePlannedDeletion=True)["SecretList"]
        self.assertEqual([s["Name"] for s in planned], [name])
        self.assertIn("DeletedDate", planned[0])
        restored = self.sm.restore_secret(SecretId=name)
        self.assertEqual((restored["ARN"], restored["Name"]), (arn, name))
        self.assertNotIn("DeletedDate", self.sm.describe_secret(SecretId=name))
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "kept")
        self.assertEqual([s["Name"] for s in self.sm.list_secrets(Filters=filters)["SecretList"]], [name])

    def test_delete_default_window_is_30_days(self):
        name = self.name()
        self.create(name)
        before = utcnow()
        deleted = self.sm.delete_secret(SecretId=name)
        self.assertGreaterEqual(deleted["DeletionDate"], before.replace(microsecond=0)
                                + datetime.timedelta(days=30, seconds=-1))
        self.assertLessEqual(deleted["DeletionDate"], utcnow() + datetime.timedelta(days=30, seconds=1))

    def test_force_delete(self):
        name = self.name()
        _, arn = self.create(name)
        before = utcnow()
        deleted = self.sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self.assertEqual((deleted["ARN"], deleted["Name"]), (arn, name))
        self.assertGreaterEqual(deleted["DeletionDate"], before.replace(microsecond=0) - datetime.timedelta(seconds=1))
        self.assertLessEqual(deleted["DeletionDate"], utcnow() + datetime.timedelta(seconds=1))
        for call in (self.sm.describe_secret, self.sm.get_secret_value, self.sm.restore_secret):
            with self.subTest(call=call.__name__):
                with self.assertRaises(ClientError) as context:
                    call(SecretId=name)
                self.assert_error(context, "ResourceNotFoundException", NOT_FOUND)
        # Spec 6: force-deleting a secret that is gone is not an error.
        self.sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


class PasswordTests(SecretsTestCase):
    def test_random_password(self):
        password = self.sm.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
        self.assertEqual(len(password), 40)
        self.assertTrue(set(password) <= set(string.ascii_letters + string.digits), password)
        # RequireEachIncludedType defaults to true: one of each included type.
        for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            self.assertTrue(set(password) & set(kind), password)
        default = self.sm.get_random_password()["RandomPassword"]
        self.assertEqual(len(default), 32)
        self.assertNotIn(" ", default)
        self.assertTrue(set(default) & set(PUNCTUATION), default)
        narrow = self.sm.get_random_password(PasswordLength=64, ExcludeCharacters="abcXYZ019",
                                             ExcludeNumbers=True, ExcludeUppercase=True,
                                             IncludeSpace=True)["RandomPassword"]
        self.assertEqual(len(narrow), 64)
        self.assertFalse(set(narrow) & set("abcXYZ019" + string.digits + string.ascii_uppercase), narrow)
        self.assertIn(" ", narrow)


class BatchTests(SecretsTestCase):
    def test_batch_get_secret_value_with_the_vendored_model(self):
        if "BatchGetSecretValue" not in self.sm.meta.service_model.operation_names:
            self.fail(f"boto3 {boto3.__version__} / botocore {botocore.__version__} has no BatchGetSecretValue: "
                      f"AWS_DATA_PATH={os.environ.get('AWS_DATA_PATH')} was not used")
        a, b = self.name("/a"), self.name("/b")
        va, arn_a = self.create(a, "value-a")
        vb, arn_b = self.create(b, "value-b")
        vb2 = token()
        self.sm.put_secret_value(SecretId=b, SecretString="value-b2", ClientRequestToken=vb2)
        response = self.sm.batch_get_secret_value(SecretIdList=[a, arn_b])
        self.assertEqual(response["Errors"] if "Errors" in response else [], [])
        self.assertNotIn("NextToken", response)
        values = {v["Name"]: v for v in response["SecretValues"]}
        self.assertEqual(set(values), {a, b})
        self.assertEqual((values[a]["ARN"], values[a]["VersionId"], values[a]["SecretString"],
                          values[a]["VersionStages"]), (arn_a, va, "value-a", [CURRENT]))
        # Always the AWSCURRENT version.
        self.assertEqual((values[b]["ARN"], values[b]["VersionId"], values[b]["SecretString"],
                          values[b]["VersionStages"]), (arn_b, vb2, "value-b2", [CURRENT]))
        self.assertIsInstance(values[b]["CreatedDate"], datetime.datetime)
        # A secret that is not there is reported in Errors, not as a failed call.
        missing = self.name("/missing")
        partial = self.sm.batch_get_secret_value(SecretIdList=[a, missing])
        self.assertEqual([v["Name"] for v in partial["SecretValues"]], [a])
        self.assertEqual(partial["Errors"], [{"SecretId": missing, "ErrorCode": "ResourceNotFoundException",
                                              "Message": NOT_FOUND}])
        # By filter.
        filtered = self.sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [self.name("/")]}])
        self.assertEqual(sorted(v["Name"] for v in filtered["SecretValues"]), [a, b])


class ErrorTests(SecretsTestCase):
    """Spec section 10, through the client's ClientError: code, message, HTTP 400."""

    def raises(self, call, code, message, **kwargs):
        with self.assertRaises(ClientError) as context:
            call(**kwargs)
        self.assert_error(context, code, message)

    def test_1_unknown_secret(self):
        missing = self.name()
        for call in (self.sm.get_secret_value, self.sm.describe_secret, self.sm.list_secret_version_ids,
                     self.sm.delete_secret, self.sm.restore_secret):
            with self.subTest(call=call.__name__):
                self.raises(call, "ResourceNotFoundException", NOT_FOUND, SecretId=missing)
        self.raises(self.sm.put_secret_value, "ResourceNotFoundException", NOT_FOUND, SecretId=missing,
                    SecretString="x", ClientRequestToken=token())
        arn = f"arn:aws:secretsmanager:us-east-1:{smemu_server.ACCOUNT}:secret:{missing}-AbCdEf"
        self.raises(self.sm.get_secret_value, "ResourceNotFoundException", NOT_FOUND, SecretId=arn)

    def test_2_name_exists(self):
        name = self.name()
        self.create(name)
        self.raises(self.sm.create_secret, "ResourceExistsException",
                    f"The operation failed because the secret {name} already exists.",
                    Name=name, SecretString="other", ClientRequestToken=token())

    def test_3_and_7_marked_for_deletion(self):
        name = self.name()
        v1, _ = self.create(name)
        self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        self.raises(self.sm.create_secret, "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already scheduled for "
                    "deletion.", Name=name, SecretString="again", ClientRequestToken=token())
        for call, kwargs in [
            (self.sm.get_secret_value, {}),
            (self.sm.put_secret_value, {"SecretString": "x", "ClientRequestToken": token()}),
            (self.sm.update_secret, {"SecretString": "x", "ClientRequestToken": token()}),
            (self.sm.update_secret_version_stage, {"VersionStage": "X", "MoveToVersionId": v1}),
        ]:
            with self.subTest(call=call.__name__):
                self.raises(call, "InvalidRequestException", MARKED_FOR_DELETION, SecretId=name, **kwargs)

    def test_4_5_6_get_secret_value(self):
        name = self.name()
        v1, _ = self.create(name)
        v2 = token()
        self.sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=v2)
        self.raises(self.sm.get_secret_value, "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret value for staging label: NOSUCHSTAGE",
                    SecretId=name, VersionStage="NOSUCHSTAGE")
        self.raises(self.sm.get_secret_value, "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
                    SecretId=name, VersionStage=PENDING)
        unknown = token()
        self.raises(self.sm.get_secret_value, "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for VersionId: {unknown}",
                    SecretId=name, VersionId=unknown)
        self.raises(self.sm.get_secret_value, "InvalidRequestException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                    SecretId=name, VersionId=v1, VersionStage=CURRENT)

    def test_9_token_reused_with_other_data(self):
        name = self.name()
        v1, arn = self.create(name, "v1")
        self.raises(self.sm.put_secret_value, "ResourceExistsException",
                    f"You can't use ClientRequestToken {v1} because that value is already in use for a version "
                    f"of secret {arn}.", SecretId=name, SecretString="different", ClientRequestToken=v1)
        # The same token with the same value succeeds and changes nothing (spec 4.2).
        same = self.sm.put_secret_value(SecretId=name, SecretString="v1", ClientRequestToken=v1)
        self.assertEqual((same["VersionId"], same["VersionStages"]), (v1, [CURRENT]))
        self.assert_labels(name, {v1: [CURRENT]})
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], "v1")

    def test_13_invalid_name(self):
        self.raises(self.sm.create_secret, "ValidationException",
                    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
                    "following: -/_+=.@!", Name="has space", SecretString="x", ClientRequestToken=token())

    def test_14_model_constraint_checked_by_the_server(self):
        raw = self.client(validate=False)
        self.raises(raw.get_random_password, "ValidationException",
                    "1 validation error detected: Value '5000' at 'passwordLength' failed to satisfy constraint: "
                    "Member must have value less than or equal to 4096", PasswordLength=5000)
        self.raises(raw.get_random_password, "ValidationException",
                    "1 validation error detected: Value '0' at 'passwordLength' failed to satisfy constraint: "
                    "Member must have value greater than or equal to 1", PasswordLength=0)
        self.raises(raw.list_secrets, "ValidationException",
                    "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
                    "Member must have value less than or equal to 100", MaxResults=101)


if __name__ == "__main__":
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}, {sys.executable} {sys.version.split()[0]}",
          flush=True)
    unittest.main(argv=ARGS.unittest_argv, verbosity=2)
