"""A rotation function that makes its clients as most functions written for Lambda do: once, at
import, with no endpoint_url (Lambda's boto3 finds the regional endpoint itself). Under smemu its
Secrets Manager client must reach smemu all the same, and a client of any other service must not
reach anything (smemu refuses the call before it is sent).
"""
import logging

import boto3

import template_rotation  # from this file's directory, as Lambda's /var/task is on sys.path

logger = logging.getLogger()
logger.setLevel(logging.INFO)

secretsmanager = boto3.client("secretsmanager")
sts = boto3.client("sts")


def lambda_handler(event, context):
    try:
        sts.get_caller_identity()
    except Exception as e:  # noqa: BLE001 - which exception it is is the point
        if type(e).__name__ != "SmemuRefusedCall":
            raise
        logger.info("sts refused as it should be: %s", e)
    else:
        raise AssertionError("an STS call was answered: it was not refused")
    template_rotation.rotate(event, secretsmanager)
