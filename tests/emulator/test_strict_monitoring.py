"""Tests for strict_monitoring.py: CloudWatch Logs, CloudWatch alarms (and the
RPC v2 CBOR protocol aws-sdk-rust speaks to CloudWatch), SNS, and CloudTrail
delivery to CloudWatch Logs. Each test starts from an empty emulator; the
shared server has no consistency window, the `windowed` one has one.

    <venv>/bin/pytest tests/emulator/test_strict_monitoring.py
"""

from __future__ import annotations

import datetime
import gzip
import json
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.parsers import RpcV2CBORParser

import strict_monitoring as sm
from test_extension import (
    MGMT_ACCOUNT,
    REGION,
    client,
    error_code,
    reset_emulator,
    start_server,
    stop_server,
)
from test_strict_policies import policy, trail_bucket

WINDOW = 1.0
ROOT = f"arn:aws:iam::{MGMT_ACCOUNT}:root"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "0"})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def windowed() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": str(WINDOW)})
    yield url
    stop_server(proc)


def _reset(url: str) -> None:
    reset_emulator(url)


@pytest.fixture(autouse=True)
def reset(endpoint: str) -> None:
    _reset(endpoint)


def message(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Message"]


def status(exc: pytest.ExceptionInfo) -> int:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------
# 1. CloudWatch Logs
# --------------------------------------------------------------------------


def logs_key_policy(group_arn: str = f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:*",
                    service: str = f"logs.{REGION}.amazonaws.com",
                    actions: list[str] | None = None) -> str:
    """The key policy of the CloudWatch Logs user guide."""
    return policy(
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": actions or ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                                  "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": group_arn}},
        },
    )


def denied_message(name: str) -> str:
    return (
        "The specified KMS key does not exist or is not allowed to be used with Arn "
        f"'arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:{name}'"
    )


def test_logs_kms_key_must_let_cloudwatch_logs_use_it(endpoint: str) -> None:
    kms, logs = client(endpoint, "kms"), client(endpoint, "logs")
    default_key = kms.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=default_key)
    assert error_code(exc) == "AccessDeniedException"
    assert message(exc) == denied_message("trail")
    assert status(exc) == 400
    assert logs.describe_log_groups()["logGroups"] == []

    # Granted for another log group only (the encryption-context condition).
    other = kms.create_key(Policy=logs_key_policy(
        f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:other"))["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=other)
    assert message(exc) == denied_message("trail")

    # Missing one of the documented actions.
    partial = kms.create_key(Policy=logs_key_policy(actions=["kms:Encrypt*", "kms:Decrypt*"]))
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=partial["KeyMetadata"]["Arn"])
    assert error_code(exc) == "AccessDeniedException"

    # The global service principal is not the one CloudWatch Logs uses.
    global_principal = kms.create_key(Policy=logs_key_policy(service="logs.amazonaws.com"))
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=global_principal["KeyMetadata"]["Arn"])
    assert error_code(exc) == "AccessDeniedException"

    good = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="trail", kmsKeyId=good)
    group = logs.describe_log_groups()["logGroups"][0]
    assert group["kmsKeyId"] == good


def test_logs_kms_key_must_be_a_key_arn_that_exists_here(endpoint: str) -> None:
    kms, logs = client(endpoint, "kms"), client(endpoint, "logs")
    key = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=key["KeyId"])
    assert error_code(exc) == "InvalidParameterException"
    assert message(exc) == "The specified KMS Key Id could not be found. 'trail'"

    missing = key["Arn"].rsplit("/", 1)[0] + "/11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=missing)
    assert (error_code(exc), message(exc)) == ("AccessDeniedException", denied_message("trail"))

    other_region = client(endpoint, "kms", region="eu-west-1").create_key(
        Policy=logs_key_policy(service=f"logs.{REGION}.amazonaws.com"))["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=other_region)
    assert error_code(exc) == "AccessDeniedException"

    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=key["Arn"])
    assert error_code(exc) == "InvalidParameterException"

    # An existing name is reported as such (moto already did).
    logs.create_log_group(logGroupName="trail")
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail")
    assert error_code(exc) == "ResourceAlreadyExistsException"


def test_logs_associate_kms_key_checks_the_key(endpoint: str) -> None:
    kms, logs = client(endpoint, "kms"), client(endpoint, "logs")
    with pytest.raises(ClientError) as exc:
        logs.associate_kms_key(logGroupName="nope", kmsKeyId="arn:aws:kms:us-east-1:123456789012:key/x")
    assert error_code(exc) == "ResourceNotFoundException"
    logs.create_log_group(logGroupName="trail")
    default_key = kms.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        logs.associate_kms_key(logGroupName="trail", kmsKeyId=default_key)
    assert (error_code(exc), message(exc)) == ("AccessDeniedException", denied_message("trail"))
    good = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    logs.associate_kms_key(logGroupName="trail", kmsKeyId=good)
    assert logs.describe_log_groups()["logGroups"][0]["kmsKeyId"] == good
    logs.disassociate_kms_key(logGroupName="trail")
    assert "kmsKeyId" not in logs.describe_log_groups()["logGroups"][0]


def test_logs_new_kms_key_is_not_usable_within_the_window(windowed: str) -> None:
    _reset(windowed)
    kms, logs = client(windowed, "kms"), client(windowed, "logs")
    key = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="trail", kmsKeyId=key)
    assert error_code(exc) == "AccessDeniedException"
    time.sleep(WINDOW + 0.1)
    logs.create_log_group(logGroupName="trail", kmsKeyId=key)


def test_logs_retention_takes_only_the_documented_values(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="trail")
    for days in (0, 2, 4, 366, 3650):
        with pytest.raises(ClientError) as exc:
            logs.put_retention_policy(logGroupName="trail", retentionInDays=days)
        assert error_code(exc) == "InvalidParameterException"
        assert message(exc).startswith(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
            "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, "
        )
    for days in sm.RETENTION_DAYS:
        logs.put_retention_policy(logGroupName="trail", retentionInDays=days)
        assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == days
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName="nope", retentionInDays=365)
    assert error_code(exc) == "ResourceNotFoundException"


def test_logs_describe_log_groups_shape_and_tags(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="cloudtrail/logs", tags={"owner": "baseline"})
    logs.put_retention_policy(logGroupName="cloudtrail/logs", retentionInDays=365)
    group = logs.describe_log_groups(logGroupNamePrefix="cloudtrail/")["logGroups"][0]
    arn = f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:cloudtrail/logs"
    assert group["arn"] == arn + ":*"
    assert group["logGroupArn"] == arn
    assert group["retentionInDays"] == 365
    assert group["logGroupClass"] == "STANDARD"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "baseline"}
    logs.tag_resource(resourceArn=arn, tags={"cis": "4.1"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "baseline", "cis": "4.1"}
    # The ARN with ":*" (DescribeLogGroups' `arn`) and unknown groups name no resource.
    for wrong in (arn + ":*", arn + "-gone"):
        with pytest.raises(ClientError) as exc:
            logs.list_tags_for_resource(resourceArn=wrong)
        assert error_code(exc) == "ResourceNotFoundException"
        with pytest.raises(ClientError) as exc:
            logs.tag_resource(resourceArn=wrong, tags={"a": "b"})
        assert error_code(exc) == "ResourceNotFoundException"


# CIS AWS Foundations Benchmark v3.0.0, section 4 (4.1-4.15).
CIS_PATTERNS = [
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
    '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }',
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)"
    "||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)"
    "||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)"
    "||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)"
    "||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)"
    "||($.eventName=DetachGroupPolicy)}",
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
    "($.eventName = ScheduleKeyDeletion)) }",
    "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
    "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
    "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
    "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
    "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
    "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
    "($.eventName=PutConfigurationRecorder)) }",
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
    "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
    "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || "
    "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
    "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || "
    "($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
    "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
    "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
    "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
    "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
    '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
    '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
    '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
    '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
    '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
    '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || '
    '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
    '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
    '($.eventName = "UpdateOrganizationalUnit")) }',
]
OTHER_VALID_PATTERNS = [
    "",
    "ERROR",
    "ERROR -Exiting",
    "?ERROR ?WARN",
    '"Failed to process the request"',
    "%AUTHORIZED%",
    "{ $.latency > 500 }",
    "{ $.bytes <= -1.5 }",
    "{ $.user.id IS NULL || $.ok IS TRUE || $.flag IS FALSE }",
    "{ $.items[0].name = %foo-bar% }",
    '{ $.sourceIPAddress != 123.123.* }',
    "[ip, user, username, timestamp, request, status_code = 4*, size]",
    "[..., status_code = 404, size]",
]
MALFORMED_PATTERNS = [
    '{ $.eventName = "ConsoleLogin" ',
    '{ ($.eventName = "ConsoleLogin" }',
    "{ ($.eventName = ConsoleLogin)) }",
    "{ $.eventName == ConsoleLogin }",
    "{ eventName = ConsoleLogin }",
    "{ $.eventName = }",
    "{ $.eventName ConsoleLogin }",
    "{ $.a = 1 && }",
    "{ $.a = 1 &&& $.b = 2 }",
    "{ $.latency > fast }",
    "{ $.a EXISTS }",
    "{ $.a IS MAYBE }",
    '{ $.a = "unterminated }',
    "{ $.a = %(group)% }",
    "{}",
    "[ip, user",
    "[ip,, user]",
    'ERROR "unterminated',
    "ERROR: timeout",
]


def put_filter(logs: Any, pattern: str, name: str = "cis", group: str = "trail", **transformation: Any) -> Any:
    return logs.put_metric_filter(
        logGroupName=group, filterName=name, filterPattern=pattern,
        metricTransformations=[{"metricName": name, "metricNamespace": "CISBenchmark",
                                "metricValue": "1", **transformation}],
    )


def test_logs_filter_pattern_parser_in_process() -> None:
    for pattern in CIS_PATTERNS:
        assert sm.filter_pattern_kind(pattern) == "json", pattern
    for pattern in OTHER_VALID_PATTERNS:
        assert sm.filter_pattern_valid(pattern), pattern
    for pattern in MALFORMED_PATTERNS:
        assert not sm.filter_pattern_valid(pattern), pattern


def test_logs_metric_filters_accept_the_cis_patterns(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="trail")
    for i, pattern in enumerate(CIS_PATTERNS + OTHER_VALID_PATTERNS):
        put_filter(logs, pattern, name=f"f{i:02d}")
    described = logs.describe_metric_filters(logGroupName="trail", limit=50)["metricFilters"]
    assert [f["filterPattern"] for f in described] == CIS_PATTERNS + OTHER_VALID_PATTERNS


def test_logs_metric_filter_refuses_malformed_patterns(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="trail")
    for pattern in MALFORMED_PATTERNS:
        with pytest.raises(ClientError) as exc:
            put_filter(logs, pattern)
        assert (error_code(exc), message(exc)) == ("InvalidParameterException", "Invalid metric filter pattern"), pattern
    assert logs.describe_metric_filters()["metricFilters"] == []


def test_logs_metric_filter_needs_a_log_group_and_one_transformation(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    with pytest.raises(ClientError) as exc:
        put_filter(logs, CIS_PATTERNS[0])
    assert (error_code(exc), message(exc)) == (
        "ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_group(logGroupName="trail")
    one = {"metricName": "m", "metricNamespace": "CISBenchmark", "metricValue": "1"}
    for transformations in ([], [one, {**one, "metricName": "n"}]):
        with pytest.raises(ClientError) as exc:
            client(endpoint, "logs", validate=False).put_metric_filter(
                logGroupName="trail", filterName="cis", filterPattern=CIS_PATTERNS[0],
                metricTransformations=transformations)
        assert error_code(exc) == "InvalidParameterException"
    # Dimensions need a JSON or space-delimited pattern.
    with pytest.raises(ClientError) as exc:
        put_filter(logs, "ERROR", dimensions={"Source": "$.eventSource"})
    assert message(exc) == "The specified filter pattern does not support dimensions"
    put_filter(logs, CIS_PATTERNS[0], dimensions={"Source": "$.eventSource"})


def test_logs_metric_filters_replace_page_and_delete(endpoint: str) -> None:
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="trail")
    logs.create_log_group(logGroupName="other")
    put_filter(logs, CIS_PATTERNS[0], name="unauthorized-api-calls")
    put_filter(logs, CIS_PATTERNS[1], name="unauthorized-api-calls")  # replaces
    put_filter(logs, CIS_PATTERNS[2], name="root-usage")
    put_filter(logs, CIS_PATTERNS[2], name="root-usage", group="other")
    filters = logs.describe_metric_filters(logGroupName="trail")["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in filters] == [
        ("root-usage", CIS_PATTERNS[2]), ("unauthorized-api-calls", CIS_PATTERNS[1])]
    assert all(isinstance(f["creationTime"], int) for f in filters)
    assert filters[1]["metricTransformations"][0]["metricNamespace"] == "CISBenchmark"
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    assert groups["trail"]["metricFilterCount"] == 2
    assert groups["other"]["metricFilterCount"] == 1
    prefixed = logs.describe_metric_filters(logGroupName="trail", filterNamePrefix="root")
    assert [f["filterName"] for f in prefixed["metricFilters"]] == ["root-usage"]

    first = logs.describe_metric_filters(limit=2)
    assert len(first["metricFilters"]) == 2 and "nextToken" in first
    second = logs.describe_metric_filters(limit=2, nextToken=first["nextToken"])
    assert len(second["metricFilters"]) == 1 and "nextToken" not in second

    with pytest.raises(ClientError) as exc:
        logs.delete_metric_filter(logGroupName="trail", filterName="nope")
    assert (error_code(exc), message(exc)) == (
        "ResourceNotFoundException", "The specified metric filter does not exist.")
    with pytest.raises(ClientError) as exc:
        logs.delete_metric_filter(logGroupName="nope", filterName="root-usage")
    assert message(exc) == "The specified log group does not exist."
    logs.delete_metric_filter(logGroupName="trail", filterName="root-usage")
    assert [f["filterName"] for f in logs.describe_metric_filters()["metricFilters"]] == [
        "root-usage", "unauthorized-api-calls"]  # the one of "other" and the remaining one


# --------------------------------------------------------------------------
# 2. CloudWatch alarms and the RPC v2 CBOR protocol
# --------------------------------------------------------------------------


def cbor(value: Any) -> bytes:
    """CBOR as aws-smithy-cbor writes a request: structures as indefinite-
    length maps, lists with a length, doubles as 64-bit floats."""
    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError(n)

    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, datetime.datetime):  # epoch seconds under tag 1
        return b"\xc1\xfb" + struct.pack(">d", value.timestamp())
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return b"\xbf" + b"".join(cbor(k) + cbor(v) for k, v in value.items()) + b"\xff"
    raise TypeError(value)


def rpc_v2(endpoint: str, operation: str, params: dict[str, Any],
           compress: bool = False) -> tuple[int, dict[str, str], Any]:
    """What aws-sdk-rust's CloudWatch client sends: a SigV4-signed POST to
    /service/GraniteServiceVersion20100801/operation/<Operation> (gzip'd for
    PutMetricData's request compression)."""
    url = f"{endpoint}/service/GraniteServiceVersion20100801/operation/{operation}"
    body = cbor(params)
    headers = {
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
        "smithy-protocol": "rpc-v2-cbor",
    }
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", "secret"), "monitoring", REGION).add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(url, data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=30) as answer:
            code, headers, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        code, headers, raw = error.code, dict(error.headers), error.read()
    parser = RpcV2CBORParser()
    decoded = parser.parse_data_item(parser.get_peekable_stream_from_bytes(raw)) if raw else None
    return code, {k.lower(): v for k, v in headers.items()}, decoded


ALARM = {
    "AlarmName": "cis-4.1-unauthorized-api-calls",
    "AlarmActions": [f"arn:aws:sns:{REGION}:{MGMT_ACCOUNT}:cis-alarms"],
    "MetricName": "UnauthorizedAPICalls",
    "Namespace": "CISBenchmark",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


def test_cloudwatch_speaks_rpc_v2_cbor_as_the_rust_sdk_does(endpoint: str) -> None:
    code, headers, body = rpc_v2(endpoint, "PutMetricAlarm", {**ALARM, "Tags": [
        {"Key": "owner", "Value": "baseline"}]})
    assert code == 200, body
    assert headers["content-type"] == "application/cbor"
    assert headers["smithy-protocol"] == "rpc-v2-cbor"
    assert body is None  # PutMetricAlarm has no output members

    code, headers, body = rpc_v2(endpoint, "DescribeAlarms", {"AlarmNames": [ALARM["AlarmName"]]})
    assert code == 200
    (alarm,) = body["MetricAlarms"]
    for key in ("AlarmName", "AlarmActions", "MetricName", "Namespace", "Statistic",
                "ComparisonOperator", "TreatMissingData"):
        assert alarm[key] == ALARM[key], key
    # Typed as the Smithy model says: a double is a CBOR float, an integer an
    # integer, a timestamp tag 1 (the Rust SDK accepts nothing else).
    assert isinstance(alarm["Threshold"], float) and alarm["Threshold"] == 1.0
    assert isinstance(alarm["Period"], int) and alarm["Period"] == 300
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert hasattr(alarm["AlarmConfigurationUpdatedTimestamp"], "year")

    arn = alarm["AlarmArn"]
    code, _, body = rpc_v2(endpoint, "TagResource", {"ResourceARN": arn, "Tags": [
        {"Key": "cis", "Value": "4.1"}]})
    assert code == 200 and body == {}
    code, _, body = rpc_v2(endpoint, "ListTagsForResource", {"ResourceARN": arn})
    assert sorted((t["Key"], t["Value"]) for t in body["Tags"]) == [("cis", "4.1"), ("owner", "baseline")]

    code, _, body = rpc_v2(endpoint, "DeleteAlarms", {"AlarmNames": [ALARM["AlarmName"]]})
    assert code == 200
    code, _, body = rpc_v2(endpoint, "DescribeAlarms", {})
    assert body.get("MetricAlarms", []) == []

    # Request timestamps (tag 1) and a gzip'd body reach moto too.
    now = datetime.datetime.now(datetime.timezone.utc)
    code, _, body = rpc_v2(endpoint, "PutMetricData", {"Namespace": "CISBenchmark", "MetricData": [
        {"MetricName": "RootUsage", "Timestamp": now, "Value": 1.0, "Unit": "Count"}]}, compress=True)
    assert code == 200, body
    code, _, body = rpc_v2(endpoint, "ListMetrics", {"Namespace": "CISBenchmark"})
    assert [m["MetricName"] for m in body["Metrics"]] == ["RootUsage"]


def test_cloudwatch_rpc_v2_cbor_errors(endpoint: str) -> None:
    action = f"arn:aws:sns:us-west-2:{MGMT_ACCOUNT}:cis-alarms"
    code, headers, body = rpc_v2(endpoint, "PutMetricAlarm", {**ALARM, "AlarmActions": [action]})
    assert code == 400
    assert headers["content-type"] == "application/cbor"
    assert headers["x-amzn-query-error"] == "ValidationError;Sender"
    assert body == {"__type": "ValidationError",
                    "message": "Invalid region us-west-2 specified. Only us-east-1 is supported."}
    code, headers, body = rpc_v2(endpoint, "DeleteAlarms", {"AlarmNames": ["nope"]})
    assert (code, body["__type"]) == (404, "ResourceNotFound")  # the model's HTTP status
    assert headers["x-amzn-query-error"] == "ResourceNotFound;Sender"


def put_alarm(endpoint: str, region: str = REGION, **overrides: Any) -> Any:
    params = {**ALARM, **overrides}
    return client(endpoint, "cloudwatch", region=region, validate=False).put_metric_alarm(
        **{k: v for k, v in params.items() if v is not None})


def test_cloudwatch_alarm_actions_must_be_valid_here(endpoint: str) -> None:
    cases = {
        f"arn:aws:sns:us-west-2:{MGMT_ACCOUNT}:t": "Invalid region us-west-2 specified. Only us-east-1 is supported.",
        f"arn:aws-us-gov:sns:{REGION}:{MGMT_ACCOUNT}:t": "Invalid partition aws-us-gov specified. Only aws is supported.",
        "cis-alarms": "Invalid arn syntax: cis-alarms",
        "arn:aws:s3:::bucket": "Invalid arn syntax: arn:aws:s3:::bucket",
        f"arn:aws:sns:{REGION}:{MGMT_ACCOUNT}:bad/name": f"Invalid arn syntax: arn:aws:sns:{REGION}:{MGMT_ACCOUNT}:bad/name",
        "arn:aws:automate:eu-west-1:ec2:stop": "Invalid region eu-west-1 specified. Only us-east-1 is supported.",
    }
    for action, expected in cases.items():
        for param in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            with pytest.raises(ClientError) as exc:
                put_alarm(endpoint, **{param: [action]})
            assert (error_code(exc), message(exc)) == ("ValidationError", expected), (action, param)
    six = [f"arn:aws:sns:{REGION}:{MGMT_ACCOUNT}:t{i}" for i in range(6)]
    with pytest.raises(ClientError) as exc:
        put_alarm(endpoint, AlarmActions=six)
    assert error_code(exc) == "ValidationError"
    assert "Member must have length less than or equal to 5" in message(exc)
    assert client(endpoint, "cloudwatch").describe_alarms()["MetricAlarms"] == []

    # The documented forms, in the alarm's own region (another account's topic too).
    put_alarm(endpoint, AlarmActions=six[:5] + [], OKActions=[
        "arn:aws:automate:us-east-1:ec2:recover",
        f"arn:aws:lambda:{REGION}:{MGMT_ACCOUNT}:function:notify:live",
        f"arn:aws:sns:{REGION}:210987654321:shared-alarms",
    ])
    put_alarm(endpoint, region="eu-west-1", AlarmActions=[f"arn:aws:sns:eu-west-1:{MGMT_ACCOUNT}:t"])


def test_cloudwatch_alarm_period_evaluation_periods_and_statistic(endpoint: str) -> None:
    for overrides, code in (
        ({"Period": 61}, "ValidationError"),
        ({"Period": 90}, "ValidationError"),
        ({"Period": 0}, "ValidationError"),
        ({"EvaluationPeriods": 0}, "ValidationError"),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination"),
        ({"Statistic": None}, "InvalidParameterCombination"),
    ):
        with pytest.raises(ClientError) as exc:
            put_alarm(endpoint, **overrides)
        assert error_code(exc) == code, overrides
    for period in (10, 20, 30, 60, 120, 3600):
        put_alarm(endpoint, Period=period)
    put_alarm(endpoint, Statistic=None, ExtendedStatistic="p99")


def test_cloudwatch_describe_alarms_filters_pages_and_keeps_state(endpoint: str) -> None:
    cw = client(endpoint, "cloudwatch")
    for name in ("cis-4.3-root", "cis-4.1-api", "cis-4.2-mfa", "other"):
        put_alarm(endpoint, AlarmName=name, Tags=[{"Key": "owner", "Value": name}])
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="cis-")["MetricAlarms"]] == [
        "cis-4.1-api", "cis-4.2-mfa", "cis-4.3-root"]
    named = cw.describe_alarms(AlarmNames=["cis-4.2-mfa", "other", "missing"])["MetricAlarms"]
    assert [a["AlarmName"] for a in named] == ["cis-4.2-mfa", "other"]
    alarm = named[0]
    assert alarm["AlarmActions"] == ALARM["AlarmActions"]
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == (
        "UnauthorizedAPICalls", "CISBenchmark", "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (
        1.0, "GreaterThanOrEqualToThreshold", "notBreaching")
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"

    pages, token = [], None
    while True:
        kwargs = {"AlarmNamePrefix": "cis-", "MaxRecords": 2, **({"NextToken": token} if token else {})}
        page = cw.describe_alarms(**kwargs)
        pages.append([a["AlarmName"] for a in page["MetricAlarms"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["cis-4.1-api", "cis-4.2-mfa"], ["cis-4.3-root"]]
    with pytest.raises(ClientError) as exc:
        cw.describe_alarms(NextToken="bogus")
    assert error_code(exc) == "InvalidNextToken"

    # An update keeps the state and ignores Tags.
    cw.set_alarm_state(AlarmName="other", StateValue="ALARM", StateReason="test")
    put_alarm(endpoint, AlarmName="other", Threshold=5.0, Tags=[{"Key": "owner", "Value": "changed"}])
    updated = cw.describe_alarms(AlarmNames=["other"])["MetricAlarms"][0]
    assert (updated["StateValue"], updated["Threshold"]) == ("ALARM", 5.0)
    assert cw.list_tags_for_resource(ResourceARN=updated["AlarmArn"])["Tags"] == [
        {"Key": "owner", "Value": "other"}]

    with pytest.raises(ClientError) as exc:
        cw.delete_alarms(AlarmNames=["other", "missing"])
    assert error_code(exc) == "ResourceNotFound"
    assert len(cw.describe_alarms()["MetricAlarms"]) == 4  # nothing was deleted


# --------------------------------------------------------------------------
# 3. SNS
# --------------------------------------------------------------------------


def test_sns_subscribe_checks_the_endpoint(endpoint: str) -> None:
    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    cases = [
        ("email", "not-an-address", "Invalid parameter: Email address"),
        ("email", "a@example.com;b@example.com", "Invalid parameter: Email address"),
        ("email-json", "security", "Invalid parameter: Email address"),
        ("https", "http://example.com/hook", "Invalid parameter: Endpoint must match the specified protocol"),
        ("http", "example.com", "Invalid parameter: Endpoint must match the specified protocol"),
        ("sqs", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "Invalid parameter: SQS endpoint ARN"),
        ("sqs", f"arn:aws:sns:{REGION}:{MGMT_ACCOUNT}:cis-alarms", "Invalid parameter: SQS endpoint ARN"),
        ("lambda", "notify", "Invalid parameter: Lambda endpoint ARN"),
        ("lambda", f"arn:aws:sqs:{REGION}:{MGMT_ACCOUNT}:q", "Invalid parameter: Lambda endpoint ARN"),
        ("pager", "x", "Invalid parameter: Amazon SNS does not support this protocol string: pager"),
    ]
    for protocol, target, expected in cases:
        with pytest.raises(ClientError) as exc:
            sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=target)
        assert (error_code(exc), message(exc)) == ("InvalidParameter", expected), (protocol, target)
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_sns_email_and_http_subscriptions_stay_pending(endpoint: str) -> None:
    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    assert answer["SubscriptionArn"] == "pending confirmation"
    real = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://example.com/hook",
                         ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert real.startswith(topic + ":")
    # Subscribing again answers the same way and makes no duplicate.
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")[
        "SubscriptionArn"] == "pending confirmation"

    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted((s["Protocol"], s["SubscriptionArn"]) for s in listed) == [
        ("email", "PendingConfirmation"), ("https", "PendingConfirmation")]
    assert {s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]} == {
        "security@example.com", "https://example.com/hook"}
    assert all(s["SubscriptionArn"] == "PendingConfirmation"
               for s in sns.list_subscriptions()["Subscriptions"])
    attributes = sns.get_subscription_attributes(SubscriptionArn=real)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    topic_attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (topic_attributes["SubscriptionsPending"], topic_attributes["SubscriptionsConfirmed"]) == ("2", "0")

    with pytest.raises(ClientError) as exc:
        sns.unsubscribe(SubscriptionArn="PendingConfirmation")
    assert error_code(exc) == "InvalidParameter"
    with pytest.raises(ClientError) as exc:
        sns.unsubscribe(SubscriptionArn=real)
    assert message(exc) == ("Invalid parameter: SubscriptionArn Reason: Cannot unsubscribe a "
                            "subscription that is pending confirmation")
    # ConfirmSubscription stays as moto has it: it confirms nothing.
    sns.confirm_subscription(TopicArn=topic, Token="not-a-real-token")
    assert all(s["SubscriptionArn"] == "PendingConfirmation"
               for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])


def test_sns_sqs_and_lambda_subscriptions_are_confirmed_at_once(endpoint: str) -> None:
    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    queue = f"arn:aws:sqs:{REGION}:{MGMT_ACCOUNT}:alarms"
    function = f"arn:aws:lambda:{REGION}:{MGMT_ACCOUNT}:function:notify"
    arns = [sns.subscribe(TopicArn=topic, Protocol=p, Endpoint=e)["SubscriptionArn"]
            for p, e in (("sqs", queue), ("lambda", function))]
    assert all(a.startswith(topic + ":") for a in arns)
    assert sorted(s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]) == sorted(arns)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "2"
    sns.unsubscribe(SubscriptionArn=arns[0])
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [arns[1]]


def topic_policy(topic: str, principal: Any) -> str:
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": topic})


def test_sns_topic_policy_must_be_a_policy(endpoint: str) -> None:
    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    for bad in ("not json", "{}", json.dumps({"Version": "2012-10-17"}), "[]"):
        with pytest.raises(ClientError) as exc:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=bad)
        assert (error_code(exc), message(exc)) == ("InvalidParameter", "Invalid parameter: Policy Error: null")
    for principal in ({"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:role/nobody"},
                      {"AWS": "cloudwatch.amazonaws.com"}):
        with pytest.raises(ClientError) as exc:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                     AttributeValue=topic_policy(topic, principal))
        assert message(exc) == "Invalid parameter: Policy Error: PrincipalNotFound"
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="other", Attributes={"Policy": "not json"})
    assert message(exc) == "Invalid parameter: Policy Error: null"
    good = topic_policy(topic, {"Service": "cloudwatch.amazonaws.com"})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=good)
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]) == json.loads(good)


def test_sns_topic_policy_cannot_name_a_role_within_the_window(windowed: str) -> None:
    _reset(windowed)
    iam, sns = client(windowed, "iam"), client(windowed, "sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    trust = policy({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName="publisher", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    document = topic_policy(topic, {"AWS": role})
    with pytest.raises(ClientError) as exc:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=document)
    assert message(exc) == "Invalid parameter: Policy Error: PrincipalNotFound"
    time.sleep(WINDOW + 0.1)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=document)


def test_sns_create_topic_tags_and_kms_key_round_trip(endpoint: str) -> None:
    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name="cis-alarms", Attributes={"KmsMasterKeyId": "alias/aws/sns"},
                             Tags=[{"Key": "owner", "Value": "baseline"}])["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "owner", "Value": "baseline"}]


# --------------------------------------------------------------------------
# 4. CloudTrail delivery to CloudWatch Logs
# --------------------------------------------------------------------------

GROUP = "cloudtrail/management"
GROUP_ARN = f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:{GROUP}:*"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MGMT_ACCOUNT}:trail/org-trail"


def delivery_role(endpoint: str, name: str = "CloudTrailToLogs", trust_condition: Any = None,
                  resource: str = f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:{GROUP}:log-stream:*",
                  inline: bool = True, extra: list[dict[str, Any]] | None = None) -> str:
    iam = client(endpoint, "iam")
    trust_statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}
    if trust_condition:
        trust_statement["Condition"] = trust_condition
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy(trust_statement))["Role"]["Arn"]
    permissions = policy(
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": resource},
        *(extra or []),
    )
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=permissions)
    else:
        managed = iam.create_policy(PolicyName=f"{name}-logs", PolicyDocument=permissions)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    return arn


def trail_setup(endpoint: str) -> Any:
    trail_bucket(endpoint, "trail-logs")
    client(endpoint, "logs").create_log_group(logGroupName=GROUP)
    return client(endpoint, "cloudtrail")


def test_cloudtrail_delivers_to_cloudwatch_logs_and_reports_it(endpoint: str) -> None:
    ct = trail_setup(endpoint)
    role = delivery_role(endpoint)
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                    CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
    trail = ct.get_trail(Name="org-trail")["Trail"]
    assert (trail["CloudWatchLogsLogGroupArn"], trail["CloudWatchLogsRoleArn"]) == (GROUP_ARN, role)
    described = ct.describe_trails(trailNameList=["org-trail"])["trailList"][0]
    assert (described["CloudWatchLogsLogGroupArn"], described["CloudWatchLogsRoleArn"]) == (GROUP_ARN, role)

    # Both as "" remove the delivery; one alone is refused.
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn="")
    assert error_code(exc) == "InvalidCloudWatchLogsRoleArnException"
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", CloudWatchLogsRoleArn=role)
    assert error_code(exc) == "InvalidCloudWatchLogsLogGroupArnException"
    ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn="", CloudWatchLogsRoleArn="")
    trail = ct.get_trail(Name="org-trail")["Trail"]
    assert "CloudWatchLogsLogGroupArn" not in trail and "CloudWatchLogsRoleArn" not in trail
    ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
    assert ct.get_trail(Name="org-trail")["Trail"]["CloudWatchLogsRoleArn"] == role


def test_cloudtrail_log_group_arn_must_be_complete_and_exist(endpoint: str) -> None:
    ct = trail_setup(endpoint)
    role = delivery_role(endpoint)
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", CloudWatchLogsLogGroupArn=GROUP_ARN)
    assert (error_code(exc), message(exc)) == (
        "InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", CloudWatchLogsRoleArn=role)
    assert error_code(exc) == "InvalidCloudWatchLogsLogGroupArnException"
    for wrong in (GROUP_ARN[:-2],  # without the log-stream wildcard
                  GROUP_ARN.replace(GROUP, "missing"),
                  GROUP_ARN.replace(REGION, "eu-west-1"),
                  GROUP_ARN.replace(MGMT_ACCOUNT, "210987654321"),
                  GROUP):
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                            CloudWatchLogsLogGroupArn=wrong, CloudWatchLogsRoleArn=role)
        assert (error_code(exc), message(exc)) == (
            "InvalidCloudWatchLogsLogGroupArnException",
            "CloudTrail cannot validate the specified log group ARN."), wrong
    assert ct.describe_trails()["trailList"] == []


def test_cloudtrail_role_must_trust_cloudtrail(endpoint: str) -> None:
    ct = trail_setup(endpoint)
    iam = client(endpoint, "iam")
    ec2_trust = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    wrong = iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=ec2_trust)["Role"]["Arn"]
    other_trail = delivery_role(endpoint, name="other-trail", trust_condition={
        "StringEquals": {"aws:SourceArn": TRAIL_ARN.replace("org-trail", "other")}})
    this_trail = delivery_role(endpoint, name="this-trail", trust_condition={
        "StringEquals": {"aws:SourceArn": TRAIL_ARN, "aws:SourceAccount": MGMT_ACCOUNT}})
    for role in (wrong, other_trail, f"arn:aws:iam::{MGMT_ACCOUNT}:role/nobody",
                 f"arn:aws:iam::210987654321:role/CloudTrailToLogs"):
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                            CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
        assert (error_code(exc), message(exc)) == (
            "InvalidCloudWatchLogsRoleArnException",
            "Access denied. Verify in IAM that the role has adequate trust relationships."), role
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                    CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=this_trail)


def test_cloudtrail_role_needs_log_permissions(endpoint: str) -> None:
    ct = trail_setup(endpoint)
    client(endpoint, "logs").create_log_group(logGroupName="elsewhere")
    cases = [
        delivery_role(endpoint, name="other-group",
                      resource=f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:elsewhere:log-stream:*"),
        # The log group ARN alone does not cover its log streams.
        delivery_role(endpoint, name="group-only",
                      resource=f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:{GROUP}"),
        delivery_role(endpoint, name="denied", extra=[
            {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"}]),
    ]
    for role in cases:
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                            CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
        assert (error_code(exc), message(exc)) == (
            "InvalidCloudWatchLogsLogGroupArnException",
            "Access denied. Verify in IAM that the role has adequate permissions."), role
    # The user guide's policy (stream prefix) and an attached customer managed policy.
    guide = delivery_role(endpoint, name="guide", resource=(
        f"arn:aws:logs:{REGION}:{MGMT_ACCOUNT}:log-group:{GROUP}:log-stream:"
        f"{MGMT_ACCOUNT}_CloudTrail_{REGION}*"))
    managed = delivery_role(endpoint, name="managed", inline=False)
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                    CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=guide)
    ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=managed)
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=cases[0])
    assert error_code(exc) == "InvalidCloudWatchLogsLogGroupArnException"
    assert ct.get_trail(Name="org-trail")["Trail"]["CloudWatchLogsRoleArn"] == managed


def test_cloudtrail_new_role_or_policy_is_refused_within_the_window(windowed: str) -> None:
    _reset(windowed)
    ct = trail_setup(windowed)
    role = delivery_role(windowed)
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                        CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
    # terraform-provider-aws retries both exceptions while the message starts "Access denied."
    assert error_code(exc) == "InvalidCloudWatchLogsRoleArnException"
    assert message(exc).startswith("Access denied.")
    time.sleep(WINDOW + 0.1)
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                    CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)

    # A policy changed just now is not seen yet either.
    client(windowed, "iam").put_role_policy(RoleName="CloudTrailToLogs", PolicyName="more", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"}))
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
    assert error_code(exc) == "InvalidCloudWatchLogsLogGroupArnException"
    assert message(exc).startswith("Access denied.")
    time.sleep(WINDOW + 0.1)
    ct.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn=GROUP_ARN, CloudWatchLogsRoleArn=role)
