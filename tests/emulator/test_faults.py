"""Tests for faults.py: injected latency, the fault mix (throttling in each
protocol's own shape, server errors, dropped connections), per-service rate
limits, the counters and runtime reconfiguration of /_baseline/faults.

    <venv>/bin/pytest tests/emulator/test_faults.py
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError
from botocore.retries.standard import (
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

from test_extension import (
    MGMT_ACCOUNT,
    REGION,
    SERVER,
    member_account,
    reset_emulator,
    start_server,
    stop_server,
)
from test_strict_guardrails import s3control
from test_strict_monitoring import rpc_v2

KEY = {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "secret"}

# aws-runtime 1.10.2 (the SDK baseline is built with), retries/classifiers.rs:
# the error codes aws-sdk-rust classifies as throttling.
RUST_THROTTLING_ERRORS = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException",
}


def control(url: str, update: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or, with a body, POST) /_baseline/faults."""
    data = None if update is None else json.dumps(update).encode()
    req = urllib.request.Request(f"{url}/_baseline/faults", data=data,
                                 method="GET" if data is None else "POST")
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.loads(answer.read())


def counters(url: str) -> dict[str, Any]:
    return control(url)["counters"]


def aws(url: str, service: str, region: str = REGION, creds: dict[str, str] | None = None,
        attempts: int = 1) -> Any:
    """A boto3 client with botocore's standard retry mode and `attempts` attempts."""
    creds = creds or KEY
    return boto3.client(
        service, endpoint_url=url, region_name=region,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(s3={"addressing_style": "path"},
                      retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def raw_answers(client: Any) -> list[dict[str, Any]]:
    """Collect the raw HTTP answers (status, headers, body) a client gets."""
    seen: list[dict[str, Any]] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        seen.append(response_dict)

    client.meta.events.register("before-parse", keep)
    return seen


def refused(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def is_throttling(response: dict[str, Any]) -> bool:
    """botocore's standard retry mode's own classification."""
    context = RetryContext(attempt_number=1, parsed_response=response)
    return ThrottledRetryableChecker().is_retryable(context)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture(autouse=True)
def fresh(endpoint: str) -> str:
    """No faults, no rate limits, counters at zero and an empty emulator."""
    control(endpoint, {"latency_ms": 0, "throttle_rate": 0, "server_error_rate": 0,
                       "drop_rate": 0, "rate_limits": "", "lose_answers": {},
                       "reset_counters": True})
    reset_emulator(endpoint)
    return endpoint


# --------------------------------------------------------------------------
# Throttling and server errors, per protocol
# --------------------------------------------------------------------------

# (service, call, code, HTTP status, protocol) for one request of each protocol
# and of each service baseline uses.
CASES: list[tuple[str, Callable[[Any], Any], str, int, str]] = [
    ("organizations", lambda c: c.list_roots(), "TooManyRequestsException", 400, "json"),
    ("kms", lambda c: c.list_keys(), "ThrottlingException", 400, "json"),
    ("cloudtrail", lambda c: c.describe_trails(), "ThrottlingException", 400, "json"),
    ("config", lambda c: c.describe_configuration_recorders(), "ThrottlingException", 400, "json"),
    ("logs", lambda c: c.describe_log_groups(), "ThrottlingException", 400, "json"),
    ("iam", lambda c: c.list_roles(), "Throttling", 400, "query"),
    ("sts", lambda c: c.get_caller_identity(), "Throttling", 400, "query"),
    ("sns", lambda c: c.list_topics(), "Throttling", 400, "query"),
    ("ec2", lambda c: c.get_ebs_encryption_by_default(), "RequestLimitExceeded", 503, "ec2"),
    ("s3", lambda c: c.list_buckets(), "SlowDown", 503, "s3"),
    ("backup", lambda c: c.list_backup_plans(), "ThrottlingException", 400, "rest-json"),
    ("guardduty", lambda c: c.list_detectors(), "TooManyRequestsException", 429, "rest-json"),
    ("securityhub", lambda c: c.describe_hub(), "TooManyRequestsException", 429, "rest-json"),
    ("accessanalyzer", lambda c: c.list_analyzers(), "ThrottlingException", 429, "rest-json"),
    ("account", lambda c: c.list_regions(), "TooManyRequestsException", 429, "rest-json"),
    # boto3 speaks awsJson 1.0 to CloudWatch (aws-sdk-rust's RPC v2 CBOR: below).
    ("cloudwatch", lambda c: c.describe_alarms(), "Throttling", 400, "json"),
]


def check_shape(protocol: str, answer: dict[str, Any], code: str) -> None:
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    body = answer["body"]
    if protocol == "s3":
        assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
        assert body.startswith(b"<?xml") and b"<Error><Code>" + code.encode() in body
        assert b"<RequestId>" in body and b"<HostId>" in body
        return
    assert headers["x-amzn-requestid"]
    if protocol == "json":
        assert json.loads(body)["__type"] == code
        assert headers["x-amzn-errortype"].split(":")[0] == code
        assert headers["content-type"].startswith("application/x-amz-json-1.")
    elif protocol == "rest-json":
        assert headers["x-amzn-errortype"].split(":")[0] == code
        assert "message" in json.loads(body)
    elif protocol == "query":
        assert body.startswith(b"<ErrorResponse")
        assert b"<Type>Sender</Type><Code>" + code.encode() + b"</Code>" in body
        assert b"<Message>Rate exceeded</Message>" in body and b"<RequestId>" in body
    elif protocol == "ec2":
        assert b"<Response><Errors><Error><Code>" + code.encode() in body
        assert b"<RequestID>" in body


@pytest.mark.parametrize("service,call,code,status,protocol", CASES,
                         ids=[c[0] for c in CASES])
def test_throttling_in_each_protocols_shape_is_classified_as_throttling(
    fresh: str, service: str, call: Callable[[Any], Any], code: str, status: int,
    protocol: str,
) -> None:
    control(fresh, {"throttle_rate": 1})
    client = aws(fresh, service)
    answers = raw_answers(client)
    response = refused(lambda: call(client))
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert is_throttling(response), "botocore's standard retry mode must see throttling"
    assert code in RUST_THROTTLING_ERRORS, "aws-sdk-rust must see throttling"
    check_shape(protocol, answers[-1], code)
    assert counters(fresh)["throttled"] == 1


def test_cloudwatch_rpc_v2_cbor_throttling_as_the_rust_sdk_reads_it(fresh: str) -> None:
    control(fresh, {"throttle_rate": 1})
    status, headers, body = rpc_v2(fresh, "DescribeAlarms", {})
    assert status == 400
    assert headers["content-type"] == "application/cbor"
    assert headers["smithy-protocol"] == "rpc-v2-cbor"
    assert headers["x-amzn-requestid"]
    # awsQueryCompatible: the query code travels in x-amzn-query-error.
    assert headers["x-amzn-query-error"] == "Throttling;Sender"
    assert body == {"__type": "Throttling", "message": "Rate exceeded"}
    assert is_throttling({"Error": {"Code": body["__type"]}})
    control(fresh, {"throttle_rate": 0, "server_error_rate": 1})
    status, headers, body = rpc_v2(fresh, "DescribeAlarms", {})
    assert (status, body["__type"]) == (500, "InternalServiceError")
    assert headers["x-amzn-query-error"] == "InternalServiceError;Receiver"


def test_s3_control_and_head_requests_are_throttled_in_their_shape(fresh: str) -> None:
    control(fresh, {"throttle_rate": 1})
    control_client = s3control(fresh)
    answers = raw_answers(control_client)
    response = refused(lambda: control_client.get_public_access_block(AccountId=MGMT_ACCOUNT))
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "SlowDown", 503)
    # S3 Control wraps its errors in <ErrorResponse> (the Rust SDK reads no other).
    assert answers[-1]["body"].split(b"\n", 1)[1].startswith(b"<ErrorResponse><Error><Code>SlowDown")
    s3 = aws(fresh, "s3")
    answers = raw_answers(s3)
    response = refused(lambda: s3.head_bucket(Bucket="logs"))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert answers[-1]["body"] == b""  # a HEAD answer has no body


def test_botocore_retries_a_throttled_call(fresh: str) -> None:
    org = aws(fresh, "organizations", attempts=6)
    org.create_organization(FeatureSet="ALL")
    # One token, refilled in 0.2 s: the second call's first attempt is throttled,
    # and botocore's standard mode retries it (its backoff outlasts the refill).
    control(fresh, {"rate_limits": "organizations=5/1"})
    assert org.list_roots()["ResponseMetadata"]["RetryAttempts"] == 0
    retried = org.list_roots()["ResponseMetadata"]["RetryAttempts"]
    assert retried >= 1
    assert counters(fresh)["rate_limited"] == retried


SERVER_ERROR_CASES = [
    ("organizations", lambda c: c.list_roots(), "ServiceException", "json"),
    ("kms", lambda c: c.list_keys(), "KMSInternalException", "json"),
    ("iam", lambda c: c.list_roles(), "ServiceFailure", "query"),
    ("sts", lambda c: c.get_caller_identity(), "InternalFailure", "query"),
    ("ec2", lambda c: c.get_ebs_encryption_by_default(), "InternalError", "ec2"),
    ("s3", lambda c: c.list_buckets(), "InternalError", "s3"),
    ("securityhub", lambda c: c.describe_hub(), "InternalException", "rest-json"),
    ("cloudwatch", lambda c: c.describe_alarms(), "InternalServiceError", "json"),
]


@pytest.mark.parametrize("service,call,code,protocol", SERVER_ERROR_CASES,
                         ids=[c[0] for c in SERVER_ERROR_CASES])
def test_server_errors_are_500s_in_each_protocols_shape(
    fresh: str, service: str, call: Callable[[Any], Any], code: str, protocol: str,
) -> None:
    control(fresh, {"server_error_rate": 1})
    client = aws(fresh, service)
    answers = raw_answers(client)
    response = refused(lambda: call(client))
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        code, 500)
    context = RetryContext(attempt_number=1, parsed_response=response,
                           http_response=type("R", (), {"status_code": 500})())
    assert TransientRetryableChecker().is_retryable(context)
    assert not is_throttling(response)
    body = answers[-1]["body"]
    if protocol == "query":
        assert b"<Type>Receiver</Type>" in body
    assert counters(fresh)["server_errors"] == 1


def test_a_throttled_request_changes_nothing(fresh: str) -> None:
    control(fresh, {"throttle_rate": 1})
    refused(lambda: aws(fresh, "iam").create_role(RoleName="never", AssumeRolePolicyDocument="{}"))
    control(fresh, {"throttle_rate": 0})
    assert aws(fresh, "iam").list_roles()["Roles"] == []


# --------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------


def test_latency_adds_a_round_trip_and_requests_still_overlap() -> None:
    proc, url = start_server(None, "--latency-ms", "400")
    try:
        sts = aws(url, "sts")
        sts.get_caller_identity()  # warm up
        began = time.monotonic()
        sts.get_caller_identity()
        assert time.monotonic() - began >= 0.4

        # 8 concurrent requests take about one round trip, not eight.
        clients = [aws(url, "sts") for _ in range(8)]
        errors: list[BaseException] = []

        def call(c: Any) -> None:
            try:
                c.get_caller_identity()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(c,)) for c in clients]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        assert not errors, errors
        assert 0.4 <= elapsed < 1.6, elapsed

        # The control endpoint is never delayed.
        began = time.monotonic()
        assert control(url)["config"]["latency_ms"] == 400
        assert time.monotonic() - began < 0.3
    finally:
        stop_server(proc)


# --------------------------------------------------------------------------
# Rate limits
# --------------------------------------------------------------------------


def test_a_rate_limit_refuses_beyond_the_rate_and_admits_after_refill(fresh: str) -> None:
    org = aws(fresh, "organizations")
    org.create_organization(FeatureSet="ALL")
    control(fresh, {"rate_limits": "organizations=1/3"})
    for _ in range(3):  # the burst
        org.list_roots()
    response = refused(org.list_roots)
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert is_throttling(response)
    assert counters(fresh)["rate_limited"] == 1
    time.sleep(1.1)  # one token back
    org.list_roots()
    refused(org.list_roots)
    seen = counters(fresh)
    assert (seen["rate_limited"], seen["throttled"]) == (2, 0)
    assert seen["services"]["organizations"]["rate_limited"] == 2


def test_organizations_is_limited_per_process_other_services_per_account_and_region(
    fresh: str,
) -> None:
    _, creds = member_account(fresh)
    control(fresh, {"rate_limits": "organizations=0.1/1;kms=0.1/1"})
    aws(fresh, "organizations").list_roots()
    # The organization's bucket is shared by every account of it.
    refused(lambda: aws(fresh, "organizations", creds=creds).describe_organization())
    aws(fresh, "kms").list_keys()
    refused(lambda: aws(fresh, "kms").list_keys())
    aws(fresh, "kms", region="eu-west-1").list_keys()  # another Region
    aws(fresh, "kms", creds=creds).list_keys()  # another account
    assert counters(fresh)["rate_limited"] == 2


def test_per_operation_rate_limits(fresh: str) -> None:
    control(fresh, {"rate_limits": [
        "kms:CreateKey,CreateAlias=0.1/1",  # one bucket for both
        "ec2:*=0.1/1",  # a bucket per action (query: the Action is in the form body)
        "securityhub:GetFindings=0.1/1",  # REST: the operation comes from botocore's model
    ]})
    kms = aws(fresh, "kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert refused(lambda: kms.create_alias(AliasName="alias/x", TargetKeyId=key))[
        "Error"]["Code"] == "ThrottlingException"
    for _ in range(3):
        kms.list_keys()  # not limited

    ec2 = aws(fresh, "ec2")
    assert ec2.describe_regions()["Regions"]  # the body still reaches moto
    refused(ec2.describe_regions)
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    refused(ec2.get_ebs_encryption_by_default)

    hub = aws(fresh, "securityhub")
    hub.enable_security_hub()
    hub.get_findings()
    assert refused(hub.get_findings)["Error"]["Code"] == "TooManyRequestsException"
    hub.describe_hub()
    hub.describe_hub()
    assert counters(fresh)["rate_limited"] == 4


def test_aws_rate_limits_preset_and_flags() -> None:
    proc, url = start_server(None, "--aws-rate-limits", "--rate-limit", "organizations=50/60",
                             "--rate-limit", "iam=2")
    try:
        rules = control(url)["config"]["rate_limits"]
        assert "organizations=50/60" in rules and "organizations=5/5" not in rules
        assert "iam=2" in rules and "kms:CreateKey=5" in rules
        assert "securityhub:GetFindings=3/6" in rules
        iam = aws(url, "iam")
        iam.list_roles()
        iam.list_roles()
        assert refused(iam.list_roles)["Error"]["Code"] == "Throttling"
    finally:
        stop_server(proc)


def test_bad_flags_stop_the_server_at_once() -> None:
    for flags in (["--rate-limit", "organizations"], ["--throttle-rate", "0.8",
                                                      "--server-error-rate", "0.3"]):
        done = subprocess.run([sys.executable, SERVER, "--port", "0", *flags],
                              stdin=subprocess.PIPE, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "BASELINE_EMULATOR_READY" not in done.stdout


# --------------------------------------------------------------------------
# The seed, dropped connections, counters, runtime reconfiguration
# --------------------------------------------------------------------------


def outcomes(url: str, n: int) -> str:
    """T (throttled), E (server error), D (dropped) or . for n sequential calls."""
    sts = aws(url, "sts")
    seen = ""
    for _ in range(n):
        try:
            sts.get_caller_identity()
            seen += "."
        except ClientError as exc:
            seen += "T" if is_throttling(exc.response) else "E"
        except HTTPClientError:
            seen += "D"
    return seen


def test_the_seed_reproduces_the_fault_stream(fresh: str) -> None:
    mix = {"throttle_rate": 0.3, "server_error_rate": 0.2, "drop_rate": 0.2}
    control(fresh, {**mix, "fault_seed": 42})
    first = outcomes(fresh, 30)
    control(fresh, {"fault_seed": 42})
    assert outcomes(fresh, 30) == first
    control(fresh, {"fault_seed": 43})
    assert outcomes(fresh, 30) != first
    assert set(first) == {".", "T", "E", "D"}, first


def test_a_dropped_connection_gets_no_answer_and_the_server_goes_on(fresh: str) -> None:
    control(fresh, {"drop_rate": 1, "fault_seed": 1})
    with pytest.raises(ConnectionClosedError):
        aws(fresh, "sts").get_caller_identity()

    # On the wire: EOF or a reset before any byte of an HTTP answer.
    url = f"{fresh}/"
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(KEY["AccessKeyId"], KEY["SecretAccessKey"]), "sts", REGION
              ).add_auth(request)
    host = urlparse(fresh)
    raw = (f"POST / HTTP/1.1\r\nHost: {host.netloc}\r\n"
           + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
           + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    for _ in range(4):
        with socket.create_connection((host.hostname, host.port), timeout=10) as conn:
            conn.sendall(raw)
            try:
                received = conn.recv(65536)
            except ConnectionResetError:
                received = b""
            assert received == b"", received
    seen = counters(fresh)
    assert seen["dropped_before"] + seen["dropped_after"] == 5
    assert seen["dropped_before"] > 0 and seen["dropped_after"] > 0

    control(fresh, {"drop_rate": 0})
    assert aws(fresh, "sts").get_caller_identity()["Account"] == MGMT_ACCOUNT


def test_a_drop_after_serving_still_made_the_change(fresh: str) -> None:
    control(fresh, {"drop_rate": 1, "fault_seed": 3})
    iam = aws(fresh, "iam")
    for i in range(10):
        with pytest.raises(ConnectionClosedError):
            iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument="{}")
    seen = counters(fresh)
    control(fresh, {"drop_rate": 0})
    made = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert 0 < seen["dropped_after"] < 10
    assert len(made) == seen["dropped_after"] and seen["dropped_before"] == 10 - len(made)


PLAN = {"BackupPlanName": "daily", "Rules": [
    {"RuleName": "daily", "TargetBackupVaultName": "Default",
     "ScheduleExpression": "cron(0 5 ? * * *)"}]}


def test_a_retry_after_a_lost_answer_gets_the_first_answer_again(fresh: str) -> None:
    """A retried call carries the idempotency token the SDK filled in once per call:
    AWS answers the first result again, where moto would say "already exists"."""
    backup = aws(fresh, "backup", attempts=2)
    backup.create_backup_vault(BackupVaultName="Default")
    # Seed 11's first draws: a drop after serving, then served.
    control(fresh, {"drop_rate": 0.5, "fault_seed": 11})
    created = backup.create_backup_plan(BackupPlan=PLAN)
    assert created["ResponseMetadata"]["RetryAttempts"] == 1
    assert counters(fresh)["dropped_after"] == 1
    control(fresh, {"drop_rate": 0})
    plans = backup.list_backup_plans()["BackupPlansList"]
    assert [p["BackupPlanId"] for p in plans] == [created["BackupPlanId"]]

    # The same token again: the same answer; another token: moto's own answer.
    guardduty = aws(fresh, "guardduty")
    first = guardduty.create_detector(Enable=True, ClientToken="token-1")["DetectorId"]
    assert guardduty.create_detector(Enable=True, ClientToken="token-1")["DetectorId"] == first
    refused(lambda: guardduty.create_detector(Enable=True, ClientToken="token-2"))
    # The same token with another body is not a retry.
    refused(lambda: guardduty.create_detector(Enable=False, ClientToken="token-1"))


def test_lose_answers_loses_the_answers_of_the_named_operation_only(fresh: str) -> None:
    """IAM's CreateRole takes no idempotency token: the retry after a lost answer is
    refused, though the first attempt made the role. Retries are answered."""
    snapshot = control(fresh, {"lose_answers": {"iam:CreateRole": 2}})
    assert snapshot["config"]["lose_answers"] == {"iam:CreateRole": 2}
    iam = aws(fresh, "iam", attempts=2)
    assert iam.list_roles()["Roles"] == []  # another operation keeps its answer
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    answer = refused(lambda: iam.create_role(RoleName="made", AssumeRolePolicyDocument=trust))
    assert answer["Error"]["Code"] == "EntityAlreadyExists"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["made"]
    seen = control(fresh)
    assert seen["counters"]["dropped_after"] == 1
    assert seen["config"]["lose_answers"] == {"iam:CreateRole": 1}
    with pytest.raises(ConnectionClosedError):
        aws(fresh, "iam").create_role(RoleName="second", AssumeRolePolicyDocument=trust)
    # Spent: the next CreateRole is answered.
    assert control(fresh)["config"]["lose_answers"] == {}
    iam.create_role(RoleName="third", AssumeRolePolicyDocument=trust)
    for bad in ({"lose_answers": ["iam:CreateRole"]}, {"lose_answers": {"CreateRole": 1}},
                {"lose_answers": {"iam:CreateRole": -1}}):
        with pytest.raises(urllib.error.HTTPError) as exc:
            control(fresh, bad)
        assert exc.value.code == 400


def test_counters_match_what_clients_saw(fresh: str) -> None:
    control(fresh, {"throttle_rate": 0.3, "server_error_rate": 0.2, "drop_rate": 0.1,
                    "fault_seed": 5})
    seen = outcomes(fresh, 60)
    got = counters(fresh)
    assert got["requests"] == 60
    assert got["throttled"] == seen.count("T")
    assert got["server_errors"] == seen.count("E")
    assert got["dropped_before"] + got["dropped_after"] == seen.count("D")
    assert got["services"]["sts"]["requests"] == 60
    control(fresh, {"reset_counters": True})
    assert counters(fresh)["requests"] == 0


def test_runtime_reconfiguration(fresh: str) -> None:
    snapshot = control(fresh, {"throttle_rate": 1, "latency_ms": 10})
    assert snapshot["config"]["throttle_rate"] == 1 and snapshot["config"]["latency_ms"] == 10
    refused(lambda: aws(fresh, "sts").get_caller_identity())
    control(fresh, {"throttle_rate": 0})
    assert aws(fresh, "sts").get_caller_identity()["Account"] == MGMT_ACCOUNT
    # The control endpoint and moto's own API are never faulted.
    control(fresh, {"throttle_rate": 0.5, "server_error_rate": 0.5})
    for _ in range(5):
        assert "config" in control(fresh)
        reset_emulator(fresh)
    for bad in ({"throttle_rate": 0.9, "drop_rate": 0.2}, {"drop_rate": -1},
                {"rate_limits": "kms"}, {"nonsense": 1}):
        with pytest.raises(urllib.error.HTTPError) as exc:
            control(fresh, bad)
        assert exc.value.code == 400
    assert control(fresh)["config"]["server_error_rate"] == 0.5  # unchanged by a bad POST
