"""Faults, injected latency and per-service rate limits (issue 15's load harness).

A WSGI middleware that server.py puts outermost, OUTSIDE strict_access.wrap_wsgi:
a request that is throttled, refused with a server error or dropped before it is
served never reaches the strict checks nor moto, so it changes nothing (AWS
throttles before it does any work). Knobs come from the environment
(emulator_settings; server.py's --latency-ms, --throttle-rate,
--server-error-rate, --drop-rate, --fault-seed, --rate-limit and
--aws-rate-limits set them) and can be changed at runtime.

Each SigV4-signed request (unsigned ones, moto's /moto-api/ and this module's
/_baseline/faults are never delayed nor faulted) goes through:

 1. latency    The handler thread sleeps latency_ms before serving: an injected
               round trip. werkzeug's server runs a thread per connection, so
               concurrent requests still overlap.
 2. rate limits  A token bucket per rule (parse_rate_limits): a request beyond
               the rule's rate once its burst is spent gets the service's
               throttling error ("rate_limited" in the counters). Organizations'
               buckets are per process (AWS throttles per organization, and the
               organization lives in one process); every other service's are per
               (service, account, region).
 3. fault mix  One draw u in [0, 1) from a random stream seeded by fault_seed:
               u < throttle_rate: the service's throttling error; then
               server_error_rate: a server error (HTTP 500); then drop_rate: the
               connection is dropped without any HTTP response, in the first half
               of that band before the request is served, in the second half
               after it was served (the change is made, the answer is lost, as a
               client of AWS sees on a broken connection).

Before the fault mix, lose_answers (set through the control endpoint only) loses
the answers of chosen operations on purpose: {"iam:CreateRole": 2} serves the next
two CreateRole calls and drops the connection after each (counted as dropped_after),
so that a test can show what a client does when its change was made and the answer
lost. Only a call's first attempt is answered so (the SDKs' amz-sdk-request header
says attempt=1, or is absent): the SDK's retry gets AWS's own answer.

Errors come in each protocol's own shape, with the codes and HTTP status AWS uses
(THROTTLING and SERVER_ERRORS below, each with its source), so that aws-sdk-rust
and botocore classify a throttling error as throttling and a 500 as transient:
awsJson 1.0/1.1 ({"__type", "message"} and x-amzn-ErrorType), awsQuery
(<ErrorResponse><Error><Type>..<Code>..<Message>..</Error><RequestId>),
EC2 (<Response><Errors><Error>..</Errors><RequestID>), restXml S3 (<Error> with
RequestId and HostId; S3 Control wraps it in <ErrorResponse>), restJson
(x-amzn-ErrorType and {"message"}) and CloudWatch's Smithy RPC v2 CBOR ({"__type",
"message"} as a CBOR map and x-amzn-query-error "<Code>;Sender"). Every answer has
the request id header the service sends (x-amzn-RequestId; S3 x-amz-request-id
and x-amz-id-2).

A dropped connection is shut down (SO_LINGER 0, shutdown(SHUT_RDWR)) through
werkzeug's environ["werkzeug.socket"], and the handler raises
ConnectionResetError, which werkzeug treats as a connection the client dropped:
the client reads EOF before any status line (or a reset) and the server goes on.

A served request that carries an idempotency token (the model's idempotencyToken
members, which the SDKs fill in once per call) gets the first successful answer to
that token again, as AWS answers it, instead of moto's "already exists": a retry
after a lost answer must find what AWS would answer.

Control endpoint (never delayed nor faulted):
  GET  /_baseline/faults  {"config": {...}, "counters": {...}}: requests,
       throttled (fault mix), rate_limited, server_errors, dropped_before,
       dropped_after, and the same per service under "services".
  POST /_baseline/faults  a JSON object with any of latency_ms, throttle_rate,
       server_error_rate, drop_rate, fault_seed (reseeds the stream),
       rate_limits (a string in the flag's grammar, or a list of rules; the
       buckets start full again), lose_answers ({"service:Operation": count},
       service being the signing name; replaces what is left of an earlier one)
       and reset_counters (true); answers as GET.
"""

from __future__ import annotations

import hashlib
import http
import io
import json
import os
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import emulator_settings
from strict_access import account_of, signature_of

CONTROL_PATH = "/_baseline/faults"
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
S3_CONTROL_PREFIX = "/v20180820/"
CORAL = "http://internal.amazon.com/coral/com.amazon.coral.service/"

# --------------------------------------------------------------------------
# AWS's throttling and server errors, per service (signing name)
# --------------------------------------------------------------------------

# (code, HTTP status, message) of the error AWS answers when it throttles.
THROTTLING: dict[str, tuple[str, int, str]] = {
    # Observed: "You have sent too many requests in too short a period of time. Try
    # again later. (Service: Organizations, Status Code: 400)" (aws-solutions/
    # innovation-sandbox-on-aws#119; awslabs/aws-deployment-framework#788; 400 per
    # aws/aws-sdk-js#2135). awsJson 1.1.
    "organizations": (
        "TooManyRequestsException", 400,
        "You have sent too many requests in too short a period of time. Try again later.",
    ),
    # Documented: "ThrottlingException ... You have exceeded the rate at which you
    # may call KMS. Reduce the frequency of your calls. (Status Code: 400)"
    # https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
    "kms": (
        "ThrottlingException", 400,
        "You have exceeded the rate at which you may call KMS. Reduce the frequency "
        "of your calls.",
    ),
    # CloudTrail lists ThrottlingException under HTTP 400 in its common errors;
    # CloudWatch Logs: "StatusCode: 400 ... ThrottlingException: Rate exceeded"
    # (turbot/steampipe-mod-aws-thrifty#130). Config: the same Coral answer (inferred).
    "cloudtrail": ("ThrottlingException", 400, "Rate exceeded"),
    "logs": ("ThrottlingException", 400, "Rate exceeded"),
    "config": ("ThrottlingException", 400, "Rate exceeded"),
    # IAM and STS: "Throttling: Rate exceeded, status code: 400"
    # https://repost.aws/knowledge-center/iam-sts-throttling-error
    "iam": ("Throttling", 400, "Rate exceeded"),
    "sts": ("Throttling", 400, "Rate exceeded"),
    # SNS answers the generic query "Throttling"/"Rate exceeded" (amzn/smoke-aws#149,
    # aws-cloudformation/aws-cloudformation-resource-providers-sns#62: Tag/Untag throw
    # it, not the modeled ThrottledException "Throttled" 429, which neither
    # aws-sdk-rust nor botocore counts as throttling).
    "sns": ("Throttling", 400, "Rate exceeded"),
    # CloudWatch is awsQueryCompatible: the query code travels in x-amzn-query-error
    # ("Throttling;Sender", as for its query API: hashicorp/terraform-provider-aws#2275
    # "Status Code: 400; Error Code: Throttling").
    "monitoring": ("Throttling", 400, "Rate exceeded"),
    # Documented: RequestLimitExceeded ("Request limit exceeded."), HTTP 503
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    "ec2": ("RequestLimitExceeded", 503, "Request limit exceeded."),
    # Documented: 503 SlowDown "Please reduce your request rate."
    # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    "s3": ("SlowDown", 503, "Please reduce your request rate."),
    # Observed: "TooManyRequestsException ... Too Many Requests" (prowler-cloud/
    # prowler#5004); the model's throttling errors are HTTP 429.
    "securityhub": ("TooManyRequestsException", 429, "Too Many Requests"),
    # Modeled: TooManyRequestsException, HTTP 429, @retryable(throttling); observed
    # with x-amzn-ErrorType (hashicorp/terraform-provider-aws#42484).
    "account": ("TooManyRequestsException", 429, "Too Many Requests"),
    # Modeled: ThrottlingException, HTTP 429, @retryable(throttling).
    "access-analyzer": ("ThrottlingException", 429, "Rate exceeded"),
    # Inferred (no throttling error in their models): GuardDuty answers as the other
    # API Gateway fronted services (Security Hub), Backup as the Coral ones.
    "guardduty": ("TooManyRequestsException", 429, "Too Many Requests"),
    "backup": ("ThrottlingException", 400, "Rate exceeded"),
}
# Per protocol, for a service not listed (inferred from the services above).
_DEFAULT_THROTTLING = {
    "json": ("ThrottlingException", 400, "Rate exceeded"),
    "query": ("Throttling", 400, "Rate exceeded"),
    "cbor": ("Throttling", 400, "Rate exceeded"),
    "rest-json": ("TooManyRequestsException", 429, "Too Many Requests"),
    "ec2": THROTTLING["ec2"],
    "s3": THROTTLING["s3"],
    # S3 Control (restXml, wrapped errors): inferred from S3.
    "s3control": THROTTLING["s3"],
}

_INTERNAL = "An internal error occurred. Try again later."
# (code, message) of a server error (always HTTP 500): the service's modeled
# internal error where it has one, else AWS's common InternalFailure.
# https://docs.aws.amazon.com/general/latest/gr/api-retries.html (5xx are retried)
SERVER_ERRORS: dict[str, tuple[str, str]] = {
    "organizations": (
        "ServiceException",
        "AWS Organizations can't complete your request because of an internal service "
        "error. Try again later.",
    ),
    "kms": ("KMSInternalException", "The request was rejected because an internal exception "
            "occurred. The request can be retried."),
    "iam": ("ServiceFailure", "The request processing has failed because of an unknown "
            "error, exception or failure."),
    "sns": ("InternalError", "Internal Error"),
    "monitoring": ("InternalServiceError", _INTERNAL),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    "s3": ("InternalError", "We encountered an internal error. Please try again."),
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    "ec2": ("InternalError", "An internal error has occurred."),
    "securityhub": ("InternalException", _INTERNAL),
    "guardduty": ("InternalServerErrorException", _INTERNAL),
    "access-analyzer": ("InternalServerException", _INTERNAL),
    "account": ("InternalServerException", _INTERNAL),
}
_DEFAULT_SERVER_ERROR = ("InternalFailure", "The request processing has failed because of an "
                         "unknown error, exception or failure.")

_QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
}

Response = tuple[int, list[tuple[str, str]], bytes]


def protocol_of(service: str, environ: dict[str, Any]) -> str:
    """s3, s3control, ec2, cbor, json, query or rest-json, from the request."""
    path = environ.get("PATH_INFO", "")
    if service == "s3":
        return "s3control" if path.startswith(S3_CONTROL_PREFIX) else "s3"
    if service == "ec2":
        return "ec2"
    if (CBOR_PATH in path or environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor"
            or environ.get("CONTENT_TYPE", "").startswith("application/cbor")):
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    content_type = environ.get("CONTENT_TYPE", "")
    if (content_type.startswith("application/x-www-form-urlencoded")
            or "Action=" in environ.get("QUERY_STRING", "")):
        return "query"
    return "rest-json"


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 0x100:
        head = bytes([0x78, n])
    elif n < 0x10000:
        head = b"\x79" + n.to_bytes(2, "big")
    else:
        head = b"\x7a" + n.to_bytes(4, "big")
    return head + data


def error_response(protocol: str, service: str, code: str, message: str, status: int,
                   method: str, environ: dict[str, Any]) -> Response:
    """An error in the protocol's own shape, with the service's request id header."""
    request_id = str(uuid.uuid4())
    sender = "Sender" if status < 500 else "Receiver"
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("s3", "s3control"):
        host_id = uuid.uuid4().hex
        inner = (f"<Code>{code}</Code><Message>{escape(message)}</Message>")
        if protocol == "s3":
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}'
                    f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>")
        else:
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>{inner}'
                    f"</Error><RequestId>{request_id}</RequestId><HostId>{host_id}</HostId>"
                    "</ErrorResponse>")
        headers = [("x-amz-request-id", request_id), ("x-amz-id-2", host_id),
                   ("Content-Type", "application/xml")]
        payload = body.encode()
    elif protocol == "ec2":
        payload = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                   f"<Code>{code}</Code><Message>{escape(message)}</Message></Error></Errors>"
                   f"<RequestID>{request_id}</RequestID></Response>").encode()
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif protocol == "query":
        namespace = _QUERY_NAMESPACES.get(service)
        xmlns = f' xmlns="{namespace}"' if namespace else ""
        payload = (f"<ErrorResponse{xmlns}><Error><Type>{sender}</Type><Code>{code}</Code>"
                   f"<Message>{escape(message)}</Message></Error>"
                   f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "cbor":
        payload = b"\xa2" + _cbor_text("__type") + _cbor_text(code) + \
            _cbor_text("message") + _cbor_text(message)
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-query-error", f"{code};{sender}")]
    elif protocol == "json":
        content_type = environ.get("CONTENT_TYPE", "") or "application/x-amz-json-1.1"
        payload = json.dumps({"__type": code, "message": message}).encode()
        headers += [("x-amzn-ErrorType", f"{code}:{CORAL}"),
                    ("Content-Type", content_type.split(";")[0])]
    else:  # rest-json: the code travels in x-amzn-ErrorType
        payload = json.dumps({"message": message}).encode()
        headers += [("x-amzn-ErrorType", f"{code}:{CORAL}"),
                    ("Content-Type", "application/json")]
    if method == "HEAD":
        payload = b""
    headers.append(("Content-Length", str(len(payload))))
    return status, headers, payload


def throttling_response(protocol: str, service: str, method: str,
                        environ: dict[str, Any]) -> Response:
    code, status, message = THROTTLING.get(service) or _DEFAULT_THROTTLING.get(
        protocol, _DEFAULT_THROTTLING["json"])
    if protocol == "s3control":
        code, status, message = _DEFAULT_THROTTLING["s3control"]
    return error_response(protocol, service, code, message, status, method, environ)


def server_error_response(protocol: str, service: str, method: str,
                          environ: dict[str, Any]) -> Response:
    code, message = SERVER_ERRORS.get(service, _DEFAULT_SERVER_ERROR)
    return error_response(protocol, service, code, message, 500, method, environ)


# --------------------------------------------------------------------------
# Rate limits
# --------------------------------------------------------------------------

# AWS-like limits (--aws-rate-limits), in requests per second and burst. Each says
# where it comes from and whether it is documented or inferred.
AWS_RATE_LIMITS: list[str] = [
    # Organizations: AWS documents no request rate (awsdocs/aws-organizations-docs#39
    # asked for one), yet throttles it hard: a handful of concurrent callers get
    # TooManyRequestsException on ListParents/ListRoots/DescribeAccount after the
    # SDK's retries (awslabs/aws-deployment-framework#781, #783, #788;
    # connelldave/botocove#12). Inferred: 5 per second, burst 5, per organization.
    "organizations=5/5",
    # AWS Account Management, per account. Documented:
    # https://docs.aws.amazon.com/accounts/latest/reference/quotas.html
    "account:GetRegionOptStatus=5/5",
    "account:ListRegions=5/5",
    "account:EnableRegion=1/1",
    "account:DisableRegion=1/1",
    "account:GetAlternateContact=10/15",
    "account:PutAlternateContact=5/8",
    "account:DeleteAlternateContact=1/6",
    "account:GetContactInformation=10/15",
    "account:PutContactInformation=5/8",
    # KMS, per account and Region, each quota its own bucket. Documented (default
    # values): https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
    # The shared symmetric cryptographic quota is 10,000/s (20,000 or 100,000 in some
    # Regions; the lowest is used); RSA and ECC Sign/Verify share 1,000/s per key
    # type (one bucket here). KMS documents no burst: one second's worth (inferred).
    "kms:Decrypt,Encrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext,GenerateMac,"
    "GenerateRandom,ReEncrypt,VerifyMac=10000",
    "kms:Sign,Verify=1000",
    "kms:CancelKeyDeletion=5",
    "kms:CreateAlias=5",
    "kms:CreateGrant=50",
    "kms:CreateKey=5",
    "kms:DeleteAlias=15",
    "kms:DescribeKey=2000",
    "kms:DisableKey=5",
    "kms:DisableKeyRotation=5",
    "kms:EnableKey=5",
    "kms:EnableKeyRotation=15",
    "kms:GetKeyPolicy=1000",
    "kms:GetKeyRotationStatus=1000",
    "kms:GetPublicKey=2000",
    "kms:ListAliases=500",
    "kms:ListGrants=100",
    "kms:ListKeyPolicies=100",
    "kms:ListKeyRotations=100",
    "kms:ListKeys=500",
    "kms:ListResourceTags=2000",
    "kms:PutKeyPolicy=15",
    "kms:RetireGrant=50",
    "kms:RevokeGrant=50",
    "kms:RotateKeyOnDemand=5",
    "kms:ScheduleKeyDeletion=15",
    "kms:TagResource=10",
    "kms:UntagResource=5",
    "kms:UpdateAlias=5",
    "kms:UpdateKeyDescription=5",
    # Security Hub, per account and Region. Documented (RateLimit/BurstLimit) in the
    # API reference's introduction:
    # https://docs.aws.amazon.com/securityhub/1.0/APIReference/Welcome.html
    # "All other operations" is read as one shared bucket (inferred).
    "securityhub:BatchEnableStandards=1/1",
    "securityhub:GetFindings=3/6",
    "securityhub:BatchImportFindings=10/30",
    "securityhub:BatchUpdateFindings=10/30",
    "securityhub:UpdateStandardsControl=1/5",
    "securityhub=10/30",
    # EC2, per account and Region, a bucket per API action. Documented for the
    # non-mutating actions (bucket 100, refill 20 per second); applied to every
    # action (inferred for the mutating ones).
    # https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
    "ec2:*=20/100",
    # IAM and STS throttle with token buckets whose sizes AWS does not publish
    # (https://aws.amazon.com/blogs/security/how-to-monitor-and-query-iam-resources-at-scale-part-2/,
    # https://repost.aws/knowledge-center/iam-sts-throttling-error). Inferred:
    # IAM 10 per second, burst 20 (per account: IAM is global); STS 50, burst 100.
    "iam=10/20",
    "sts=50/100",
]


@dataclass
class Rule:
    """One rate-limit rule: SERVICE[:OPERATIONS|:*]=RATE[/BURST]."""

    text: str
    service: str
    operations: frozenset[str] | None  # None: the whole service
    per_operation: bool  # SERVICE:*: a bucket per operation
    rate: float
    burst: float


_RULE = re.compile(
    r"^\s*([a-z0-9-]+)(?::(\*|[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*))?\s*=\s*"
    r"([0-9]*\.?[0-9]+)(?:\s*/\s*([0-9]*\.?[0-9]+))?\s*$"
)


def parse_rule(text: str) -> Rule:
    """SERVICE=RATE[/BURST] (SERVICE is the SigV4 signing name), SERVICE:Op1,Op2=...
    (those operations share a bucket) or SERVICE:*=... (a bucket per operation).
    The burst (bucket size) defaults to the rate, at least 1."""
    match = _RULE.match(text)
    if not match:
        raise ValueError(f"rate limit {text!r}: want SERVICE[:OPERATION,...|:*]=RATE[/BURST]")
    service, ops, rate_s, burst_s = match.groups()
    rate = float(rate_s)
    burst = float(burst_s) if burst_s is not None else max(1.0, rate)
    if rate <= 0 or burst < 1:
        raise ValueError(f"rate limit {text!r}: the rate must be > 0 and the burst >= 1")
    per_operation = ops == "*"
    operations = None
    if ops and not per_operation:
        operations = frozenset(o.strip() for o in ops.split(","))
    return Rule(text.strip(), service, operations, per_operation, rate, burst)


def parse_rate_limits(spec: str | Iterable[str]) -> list[Rule]:
    """Rules separated by ";" or newlines (or given as a list); "aws" stands for
    AWS_RATE_LIMITS. A later rule for the same service and operations replaces an
    earlier one, so rules after "aws" adjust the preset."""
    items = re.split(r"[;\n]", spec) if isinstance(spec, str) else list(spec)
    rules: dict[tuple[str, Any, bool], Rule] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        for text in AWS_RATE_LIMITS if item == "aws" else [item]:
            rule = parse_rule(text)
            rules[(rule.service, rule.operations, rule.per_operation)] = rule
    return list(rules.values())


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Limiter:
    rules: list[Rule]
    buckets: dict[tuple[Any, ...], Bucket] = field(default_factory=dict)

    def services(self) -> set[str]:
        return {r.service for r in self.rules}

    def needs_operation(self, service: str) -> bool:
        return any(r.service == service and (r.operations or r.per_operation)
                   for r in self.rules)

    def rule_for(self, service: str, operation: str | None) -> Rule | None:
        named = star = whole = None
        for rule in self.rules:
            if rule.service != service:
                continue
            if rule.operations is not None:
                if operation in rule.operations:
                    named = rule
            elif rule.per_operation:
                star = rule
            else:
                whole = rule
        if named is not None:
            return named
        if star is not None and operation is not None:
            return star
        return whole

    def admit(self, rule: Rule, scope: tuple[Any, ...], operation: str | None,
              now: float) -> bool:
        key = (rule.text, *scope, operation if rule.per_operation else None)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rule.rate, rule.burst, rule.burst, now)
        return bucket.take(now)


# --------------------------------------------------------------------------
# The operation a request names (only needed for per-operation rules)
# --------------------------------------------------------------------------

# SigV4 signing name -> botocore service name, where they differ.
_BOTOCORE_NAMES = {"access-analyzer": "accessanalyzer", "monitoring": "cloudwatch"}


@lru_cache(maxsize=None)
def _service_model(service: str) -> Any:
    """botocore's model of the service with this signing name, or None."""
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(
            _BOTOCORE_NAMES.get(service, service))
    except Exception:
        return None


@lru_cache(maxsize=None)
def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], tuple[str, ...], int, str]]:
    """(method, path regex, required query keys, literal length, operation) of a
    REST service's operations, from botocore's model."""
    model = _service_model(service)
    if model is None:
        return []
    routes = []
    for name in model.operation_names:
        binding = model.operation_model(name).http
        uri = binding.get("requestUri", "/")
        path, _, query = uri.partition("?")
        # A trailing "/" is optional (aws-sdk-rust sends PUT /backup/plans for the
        # model's /backup/plans/).
        path = path.rstrip("/") or "/"
        pattern = ""
        literal = 0
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                pattern += ".+" if piece.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(piece)
                literal += len(piece)
        keys = tuple(k.split("=")[0] for k in query.split("&") if k)
        routes.append((binding.get("method", "POST"), re.compile(pattern + "/?"), keys,
                       literal + len(keys), name))
    return routes


def _rest_operation(service: str, method: str, path: str, query: str) -> str | None:
    present = parse_qs(query, keep_blank_values=True)
    best = None
    for verb, regex, keys, literal, name in _rest_routes(service):
        if verb == method and regex.fullmatch(path) and all(k in present for k in keys):
            if best is None or literal > best[0]:
                best = (literal, name)
    return best[1] if best else None


def operation_of(protocol: str, service: str, environ: dict[str, Any]) -> str | None:
    """The operation a request names (reads, then restores, a form-encoded body)."""
    if protocol == "json":
        return environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1] or None
    path = environ.get("PATH_INFO", "")
    if protocol == "cbor":
        return path.rsplit("/", 1)[-1] or None
    query = environ.get("QUERY_STRING", "")
    if protocol in ("query", "ec2"):
        action = parse_qs(query).get("Action")
        if action:
            return action[0]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return action[0] if action else None
    return _rest_operation(service, environ.get("REQUEST_METHOD", "GET"), path, query)


# --------------------------------------------------------------------------
# Idempotency tokens: a retried request gets the first answer again
# --------------------------------------------------------------------------

# AWS: "a client token ... allows failed requests to be retried without the risk of
# running the operation twice" (e.g. CreatorRequestId of Backup's CreateBackupPlan,
# https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupPlan.html;
# clientToken of GuardDuty's CreateDetector). The SDKs fill such members (the model's
# idempotencyToken) once per call, so every retry of the call carries the same token.
# moto ignores them, so a retry after a lost answer (a drop after serving) would fail
# with "already exists" where AWS answers the first result again: the emulator keeps the
# successful answer of each (service, account, region, operation, token) and replays it
# for the same token and body.
_REPLAY_LIMIT = 4096


@lru_cache(maxsize=None)
def _token_names(service: str, operation: str) -> tuple[str, ...]:
    """The wire names of an operation's idempotency-token members sent in the body."""
    model = _service_model(service)
    if model is None or operation not in model.operation_names:
        return ()
    op = model.operation_model(operation)
    names = []
    for member in op.idempotent_members:
        shape = op.input_shape.members[member]
        if not shape.serialization.get("location"):
            names.append(shape.serialization.get("name", member))
    return tuple(names)


@lru_cache(maxsize=None)
def _has_tokens(service: str) -> bool:
    model = _service_model(service)
    return model is not None and any(
        model.operation_model(name).idempotent_members for name in model.operation_names)


def _body(environ: dict[str, Any]) -> bytes | None:
    """The request body (wsgi.input is replaced by a copy), None without a length."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if length < 0:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _token_of(protocol: str, body: bytes, names: tuple[str, ...]) -> str | None:
    try:
        if protocol in ("json", "rest-json"):
            doc = json.loads(body) if body.strip() else {}
            values = [doc.get(n) for n in names] if isinstance(doc, dict) else []
        elif protocol in ("query", "ec2"):
            form = parse_qs(body.decode("utf-8", "replace"))
            values = [(form.get(n) or [None])[0] for n in names]
        else:
            return None
    except ValueError:
        return None
    return next((str(v) for v in values if v), None)


# --------------------------------------------------------------------------
# State, counters and the middleware
# --------------------------------------------------------------------------

COUNTERS = ("requests", "throttled", "rate_limited", "server_errors",
            "dropped_before", "dropped_after")


class Faults:
    """The fault mix's random stream, the rate limiter and the counters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.random = random.Random(emulator_settings.fault_seed())
        self.limiter_spec: str | None = None
        self.limiter = Limiter([])
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.services: dict[str, dict[str, int]] = {}
        self.replays: OrderedDict[tuple[str, ...], tuple[str, str, list[tuple[str, str]], bytes]]
        self.replays = OrderedDict()
        # (signing name, operation) -> how many more answers to lose
        self.lose_answers: dict[tuple[str, str], int] = {}
        self._limiter()  # fail at start on a bad spec

    def _limiter(self) -> Limiter:
        spec = emulator_settings.rate_limits()
        if spec != self.limiter_spec:
            self.limiter = Limiter(parse_rate_limits(spec))
            self.limiter_spec = spec
        return self.limiter

    def count(self, service: str, what: str) -> None:
        with self.lock:
            self.counters[what] += 1
            per = self.services.setdefault(service, dict.fromkeys(COUNTERS, 0))
            per[what] += 1

    def loses_answer(self, service: str, protocol: str, environ: dict[str, Any]) -> bool:
        """Whether this request's answer is one of those lose_answers asked to lose."""
        with self.lock:
            if not any(s == service for s, _ in self.lose_answers):
                return False
        attempt = re.search(r"attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST", ""))
        if attempt is not None and int(attempt.group(1)) > 1:
            return False
        operation = operation_of(protocol, service, environ)
        with self.lock:
            left = self.lose_answers.get((service, str(operation)), 0)
            if left <= 0:
                return False
            self.lose_answers[(service, str(operation))] = left - 1
            return True

    def draw(self) -> float:
        with self.lock:
            return self.random.random()

    def rate_limited(self, service: str, protocol: str, environ: dict[str, Any],
                     access_key: str, region: str) -> bool:
        with self.lock:
            limiter = self._limiter()
        if service not in limiter.services():
            return False
        operation = (operation_of(protocol, service, environ)
                     if limiter.needs_operation(service) else None)
        rule = limiter.rule_for(service, operation)
        if rule is None:
            return False
        if service == "organizations":
            scope: tuple[Any, ...] = ()
        else:
            scope = (account_of(access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID")), region)
        with self.lock:
            return not limiter.admit(rule, scope, operation, time.monotonic())

    def serve(self, app: Any, environ: dict[str, Any], start_response: Any, protocol: str,
              service: str, access_key: str, region: str) -> Iterable[bytes]:
        """Run the request, replaying the first answer to a repeated idempotency token."""
        key = None
        digest = ""
        if _has_tokens(service):
            operation = operation_of(protocol, service, environ)
            names = _token_names(service, operation) if operation else ()
            body = _body(environ) if names else None
            token = _token_of(protocol, body, names) if body is not None else None
            if token is not None:
                account = account_of(access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
                key = (service, account, region, str(operation), token)
                digest = hashlib.sha256(body or b"").hexdigest()
        if key is None:
            return app(environ, start_response)
        with self.lock:
            hit = self.replays.get(key)
        if hit is not None and hit[0] == digest:
            start_response(hit[1], hit[2])
            return [hit[3]]
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        result = app(environ, capture)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if str(seen.get("status", "")).startswith("2"):
            with self.lock:
                self.replays[key] = (digest, seen["status"], seen["headers"], payload)
                while len(self.replays) > _REPLAY_LIMIT:
                    self.replays.popitem(last=False)
        return [payload]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "config": {
                    "latency_ms": emulator_settings.latency_ms(),
                    "throttle_rate": emulator_settings.throttle_rate(),
                    "server_error_rate": emulator_settings.server_error_rate(),
                    "drop_rate": emulator_settings.drop_rate(),
                    "fault_seed": emulator_settings.fault_seed(),
                    "rate_limits": [r.text for r in self.limiter.rules],
                    "lose_answers": {f"{s}:{o}": n for (s, o), n
                                     in sorted(self.lose_answers.items()) if n > 0},
                },
                "counters": {**self.counters,
                             "services": {k: dict(v) for k, v in sorted(self.services.items())}},
            }

    def configure(self, update: dict[str, Any]) -> None:
        """Apply a POST /_baseline/faults body (raises ValueError on a bad one)."""
        env = {
            "latency_ms": emulator_settings.LATENCY_ENV,
            "throttle_rate": emulator_settings.THROTTLE_RATE_ENV,
            "server_error_rate": emulator_settings.SERVER_ERROR_RATE_ENV,
            "drop_rate": emulator_settings.DROP_RATE_ENV,
        }
        unknown = set(update) - set(env) - {"fault_seed", "rate_limits", "lose_answers",
                                            "reset_counters"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        values = {k: float(update[k]) for k in env if k in update}
        for key, value in values.items():
            if value < 0 or (key != "latency_ms" and value > 1):
                raise ValueError(f"{key} out of range: {value}")
        rates = {k: values.get(k, getattr(emulator_settings, k)())
                 for k in ("throttle_rate", "server_error_rate", "drop_rate")}
        if sum(rates.values()) > 1:
            raise ValueError("throttle_rate + server_error_rate + drop_rate > 1")
        spec = None
        if "rate_limits" in update:
            raw = update["rate_limits"]
            spec = raw if isinstance(raw, str) else ";".join(raw or [])
            parse_rate_limits(spec)  # validate before changing anything
        lose = None
        if "lose_answers" in update:
            lose = _parse_lose_answers(update["lose_answers"])
        with self.lock:
            for key, value in values.items():
                os.environ[env[key]] = repr(value)
            if spec is not None:
                os.environ[emulator_settings.RATE_LIMITS_ENV] = spec
                self.limiter_spec = None  # buckets start full again
                self._limiter()
            if "fault_seed" in update:
                seed = update["fault_seed"]
                if seed is None:
                    os.environ.pop(emulator_settings.FAULT_SEED_ENV, None)
                else:
                    os.environ[emulator_settings.FAULT_SEED_ENV] = str(int(seed))
                self.random.seed(None if seed is None else int(seed))
            if lose is not None:
                self.lose_answers = lose
            if update.get("reset_counters"):
                self.counters = dict.fromkeys(COUNTERS, 0)
                self.services = {}


def _parse_lose_answers(raw: Any) -> dict[tuple[str, str], int]:
    """{"service:Operation": count} (a count of 0 forgets the entry); ValueError if bad."""
    if not isinstance(raw, dict):
        raise ValueError('lose_answers: want {"service:Operation": count}')
    lose = {}
    for name, count in raw.items():
        service, _, operation = str(name).partition(":")
        if not service or not operation or not isinstance(count, int) or count < 0:
            raise ValueError(f"lose_answers: bad entry {name!r}: {count!r}")
        lose[(service, operation)] = count
    return lose


def _drop(environ: dict[str, Any], stream: Any) -> None:
    """Close the connection without an answer; werkzeug treats the exception as a
    connection the client dropped, and the serving thread goes on.

    After shutdown(SHUT_RDWR) the client reads EOF (or a reset) instead of a status
    line. What is left of the request (a body nobody read) is drained up to that
    EOF, so that werkzeug's keep-alive loop then reads EOF too and ends, instead of
    taking the body for a new request line."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raw = getattr(stream, "_rfile", stream)  # werkzeug's DechunkedInput wraps rfile
        try:
            while raw.read(65536):
                pass
        except (OSError, ValueError):
            pass
    raise ConnectionResetError("connection dropped by the emulator's fault injection")


def _send(start_response: Any, response: Response) -> list[bytes]:
    status, headers, body = response
    start_response(f"{status} {http.HTTPStatus(status).phrase}", headers)
    return [body]


def _control(state: Faults, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    status = 200
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b"{}"
            update = json.loads(raw or b"{}")
            if not isinstance(update, dict):
                raise ValueError("want a JSON object")
            state.configure(update)
            payload: dict[str, Any] = state.snapshot()
        except (ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
    elif method == "GET":
        payload = state.snapshot()
    else:
        status, payload = 405, {"error": "GET or POST"}
    body = json.dumps(payload, indent=1).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return _send(start_response, (status, headers, body))


def wrap_wsgi(app):  # type: ignore[no-untyped-def]
    """Wrap the emulator's WSGI application with latency, rate limits and the fault
    mix (called by server.py, outermost). Returns the app to serve."""
    state = Faults()

    def faulty_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return _control(state, environ, start_response)
        if path.startswith("/moto-api"):
            return app(environ, start_response)
        sig = signature_of(environ)
        if sig is None:
            return app(environ, start_response)
        stream = environ.get("wsgi.input")  # werkzeug's rfile (operation_of may replace it)
        service = sig.service
        protocol = protocol_of(service, environ)
        method = environ.get("REQUEST_METHOD", "GET")
        state.count(service, "requests")

        latency = emulator_settings.latency_ms()
        if latency > 0:
            time.sleep(latency / 1000.0)

        if state.rate_limited(service, protocol, environ, sig.access_key, sig.region):
            state.count(service, "rate_limited")
            return _send(start_response, throttling_response(protocol, service, method, environ))

        def serve(respond: Any) -> Iterable[bytes]:
            return state.serve(app, environ, respond, protocol, service, sig.access_key,
                               sig.region)

        def serve_then_drop() -> None:
            """Served, then the answer is lost: run the request to the end first."""
            result = serve(lambda status, headers, exc_info=None: (lambda data: None))
            try:
                for _ in result:
                    pass
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            state.count(service, "dropped_after")
            _drop(environ, stream)

        if state.loses_answer(service, protocol, environ):
            serve_then_drop()
        throttle = emulator_settings.throttle_rate()
        server_error = emulator_settings.server_error_rate()
        drop = emulator_settings.drop_rate()
        if throttle + server_error + drop <= 0:
            return serve(start_response)
        u = state.draw()
        if u < throttle:
            state.count(service, "throttled")
            return _send(start_response, throttling_response(protocol, service, method, environ))
        u -= throttle
        if u < server_error:
            state.count(service, "server_errors")
            return _send(start_response, server_error_response(protocol, service, method, environ))
        u -= server_error
        if u < drop / 2:
            state.count(service, "dropped_before")
            _drop(environ, stream)
        if u < drop:
            serve_then_drop()
        return serve(start_response)

    return faulty_app
