"""A rotation function written for AWS Lambda, as smemu's python: tests run it unchanged.

Modelled on AWS's published SecretsManagerRotationTemplate (aws-samples/aws-secrets-manager-
rotation-lambdas): every step checks that rotation is enabled and that the token's version is
staged AWSPENDING; createSecret puts a new random password into the token's version with
AWSPENDING; setSecret and testSecret would talk to the database (here they only log);
finishSecret moves AWSCURRENT to the token's version.

The extra handlers are the same function with one thing gone wrong, for the tests
(test_python_functions.py): they are what `python:template_rotation.py:HANDLER` names.
"""
import json
import logging
import os
import time

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

EXCLUDE_CHARACTERS = "/@\"'\\"


class DatabaseUnreachable(Exception):
    """What a real setSecret raises when it cannot log in to the database."""


def lambda_handler(event, context):
    """Secrets Manager rotation: the client as the template makes it, from SECRETS_MANAGER_ENDPOINT."""
    service_client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    rotate(event, service_client)


def rotate(event, service_client, fault=None):
    arn = event["SecretId"]
    token = event["ClientRequestToken"]
    step = event["Step"]

    metadata = service_client.describe_secret(SecretId=arn)
    if not metadata["RotationEnabled"]:
        logger.error("Secret %s is not enabled for rotation", arn)
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        logger.error("Secret version %s has no stage for rotation of secret %s.", token, arn)
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s.", token, arn)
        return
    if "AWSPENDING" not in versions[token]:
        logger.error("Secret version %s not set as AWSPENDING for rotation of secret %s.", token, arn)
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of secret {arn}.")

    if step == "createSecret":
        create_secret(service_client, arn, token, fault)
    elif step == "setSecret":
        set_secret(service_client, arn, token, fault)
    elif step == "testSecret":
        test_secret(service_client, arn, token, fault)
    elif step == "finishSecret":
        finish_secret(service_client, arn, token)
    else:
        raise ValueError("Invalid step parameter")


def create_secret(service_client, arn, token, fault):
    current = json.loads(service_client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    try:
        service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: Successfully retrieved secret for %s.", arn)
    except service_client.exceptions.ResourceNotFoundException:
        password = service_client.get_random_password(ExcludeCharacters=EXCLUDE_CHARACTERS)["RandomPassword"]
        current["password"] = password
        service_client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current),
                                        VersionStages=["AWSPENDING"])
        logger.info("createSecret: Successfully put secret for ARN %s and version %s.", arn, token)
    if fault == "raise_after_create":
        raise RuntimeError("the function crashed after writing the pending value")


def set_secret(service_client, arn, token, fault):
    pending = json.loads(service_client.get_secret_value(SecretId=arn, VersionId=token,
                                                         VersionStage="AWSPENDING")["SecretString"])
    if fault == "fail_set":
        raise DatabaseUnreachable(f"cannot reach {pending['host']} to set the new password of {pending['username']}")
    logger.info("setSecret: would set the password of %s on %s.", pending["username"], pending["host"])


def test_secret(service_client, arn, token, fault):
    service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    if fault == "hang":
        logger.info("testSecret: waiting for a database that never answers")
        time.sleep(120)
    logger.info("testSecret: would log in as the pending user of %s.", arn)


def finish_secret(service_client, arn, token):
    metadata = service_client.describe_secret(SecretId=arn)
    current_version = None
    for version, stages in metadata["VersionIdsToStages"].items():
        if "AWSCURRENT" in stages:
            if version == token:
                logger.info("finishSecret: Version %s already marked as AWSCURRENT for %s", version, arn)
                return
            current_version = version
            break
    service_client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                               RemoveFromVersionId=current_version)
    logger.info("finishSecret: Successfully set AWSCURRENT stage to version %s for secret %s.", token, arn)


# --- the same function with one thing gone wrong, and one that reports what it was given ---------

def reporting_handler(event, context):
    """lambda_handler, after tagging the secret with what the context says (no secret value)."""
    service_client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    seen = "|".join([context.function_name, context.invoked_function_arn, context.aws_request_id,
                     str(context.get_remaining_time_in_millis()), os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                     os.environ["_HANDLER"], os.getcwd()])
    service_client.tag_resource(SecretId=event["SecretId"], Tags=[{"Key": f"seen-{event['Step']}", "Value": seen}])
    rotate(event, service_client)


def failing_set_secret_handler(event, context):
    rotate(event, boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"]), "fail_set")


def hanging_test_secret_handler(event, context):
    rotate(event, boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"]), "hang")


def crash_after_create_handler(event, context):
    rotate(event, boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"]),
           "raise_after_create")
