"""Strict behaviour of the emulator: monitoring (CloudWatch Logs, CloudWatch
alarms, SNS, CloudTrail delivery to CloudWatch Logs). See also
baseline_moto_ext and tests/emulator/README.md ("Strict behaviours").

Each behaviour cites the AWS page it follows. "The window" is
emulator_settings.consistency_seconds().

 1. logs  CreateLogGroup / AssociateKmsKey with kmsKeyId: not a KMS key ARN ->
    InvalidParameterException "The specified KMS Key Id could not be found.
    '<name>'"; a key that does not exist (KmsBackend.describe_key, so the KMS
    window applies), is in another partition or region, or whose key policy
    does not let logs.<region>.amazonaws.com call kms:Encrypt, kms:Decrypt,
    kms:ReEncrypt*, kms:GenerateDataKey* and kms:DescribeKey with
    kms:EncryptionContext:aws:logs:arn = the log group ARN ->
    AccessDeniedException "The specified KMS key does not exist or is not
    allowed to be used with Arn '<log group arn>'"; a key that is not enabled
    -> InvalidParameterException. AssociateKmsKey / DisassociateKmsKey were
    missing in moto. PutRetentionPolicy: only the documented values.
    PutMetricFilter: the log group must exist, the filter pattern must parse
    (filter_pattern_valid), dimensions only with JSON or space-delimited
    patterns; a filter of the same name is replaced, not duplicated, and gets
    a creationTime. DescribeMetricFilters pages (limit, nextToken).
    DeleteMetricFilter of an unknown filter -> ResourceNotFoundException.
    DescribeLogGroups counts metric filters and reports logGroupClass.
    Tag/Untag/ListTagsForResource with a log-group ARN name an existing group
    (the ARN without ":*").
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 2. cloudwatch  The Smithy RPC v2 CBOR protocol that aws-sdk-rust speaks
    (POST /service/GraniteServiceVersion20100801/operation/<Operation>,
    Content-Type application/cbor, smithy-protocol: rpc-v2-cbor): moto knows
    only query and JSON, so the request is decoded, handed to moto as JSON
    1.0, and the answer encoded back (shape-driven, so doubles are CBOR
    floats and timestamps tag 1). PutMetricAlarm: action ARNs (SNS topic in
    the alarm's region and partition, or the documented automate, swf,
    autoscaling, lambda, ssm, ssm-incidents, aiops forms), at most 5 per list,
    EvaluationPeriods >= 1, Period 10/20/30 or a multiple of 60, exactly one
    of Statistic and ExtendedStatistic with MetricName; a new alarm starts
    INSUFFICIENT_DATA and an update keeps its state and tags. DescribeAlarms
    filters, sorts and pages (MaxRecords, NextToken); only metric alarms
    unless AlarmTypes says otherwise. DeleteAlarms of an unknown alarm ->
    ResourceNotFound (nothing deleted).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
 3. sns  Subscribe checks the endpoint per protocol; email, email-json, http
    and https subscriptions stay pending confirmation (SubscriptionArn
    "pending confirmation" from Subscribe unless ReturnSubscriptionArn,
    "PendingConfirmation" in the listings; Unsubscribe refuses them).
    ConfirmSubscription is left as moto has it: nothing confirms them.
    SetTopicAttributes / CreateTopic Policy must be a policy document whose
    AWS principals IAM can resolve (a role in its window cannot be).
    https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
 4. cloudtrail  CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn come
    together; the log group ARN ends in ":*", names an existing group of the
    trail's account and region; the role exists in the trail's account,
    trusts cloudtrail.amazonaws.com (conditions evaluated with aws:SourceArn
    and aws:SourceAccount), and its policies allow logs:CreateLogStream and
    logs:PutLogEvents on the trail's log stream. A role created, or whose
    policy changed, within the window is refused as AWS's IAM propagation
    does. Both given as "" remove the delivery.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
"""

from __future__ import annotations

import base64
import datetime
import gzip
import io
import json
import re
import struct
import time
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import emulator_settings
from moto.cloudtrail.models import CloudTrailBackend, Trail
from moto.cloudwatch import urls as cloudwatch_urls
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.request import Request
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import unix_time_millis, utcnow
from moto.iam import models as iam_models
from moto.logs.exceptions import (
    InvalidParameterException,
    LogsClientError,
    ResourceNotFoundException,
)
from moto.logs.models import LogGroup, LogsBackend, logs_backends
from moto.logs.responses import LogsResponse
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription
from moto.sns.responses import SNSResponse
from moto.utilities.utils import get_partition

_APPLIED = False
# strict_policies (the policy evaluator and caller helpers), imported in
# apply(): importing it here would make a stand-alone import of this module
# re-enter baseline_moto_ext.apply().
_sp: Any = None


def _fresh(since: float | None) -> bool:
    """Whether something that changed at `since` is still settling."""
    return since is not None and time.time() - since < emulator_settings.consistency_seconds()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------
# CBOR (RFC 8949), as much as Smithy RPC v2 uses
# --------------------------------------------------------------------------


class CborError(ValueError):
    """The request body is not well-formed CBOR."""


class CborTag:
    """A tagged CBOR item other than an epoch timestamp."""

    def __init__(self, tag: int, value: Any) -> None:
        self.tag, self.value = tag, value


_BREAK = object()


def _read(stream: io.BytesIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise CborError("truncated CBOR item")
    return data


def _argument(stream: io.BytesIO, info: int) -> int | None:
    """The unsigned argument of an initial byte; None for indefinite length."""
    if info < 24:
        return info
    if info in (24, 25, 26, 27):
        return int.from_bytes(_read(stream, 1 << (info - 24)), "big")
    if info == 31:
        return None
    raise CborError(f"reserved additional information {info}")


def _decode_item(stream: io.BytesIO) -> Any:
    initial = _read(stream, 1)[0]
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return struct.unpack(">e", _read(stream, 2))[0]
        if info == 26:
            return struct.unpack(">f", _read(stream, 4))[0]
        if info == 27:
            return struct.unpack(">d", _read(stream, 8))[0]
        if info == 31:
            return _BREAK
        raise CborError(f"unsupported simple value {info}")
    arg = _argument(stream, info)
    if major == 0:
        return arg
    if major == 1:
        return -1 - arg  # type: ignore[operator]
    if major in (2, 3):
        if arg is None:
            chunks = []
            while (chunk := _decode_item(stream)) is not _BREAK:
                chunks.append(chunk.encode() if isinstance(chunk, str) else chunk)
            data = b"".join(chunks)
        else:
            data = _read(stream, arg)
        return data if major == 2 else data.decode("utf-8")
    if major == 4:
        items = []
        while arg is None or len(items) < arg:
            item = _decode_item(stream)
            if item is _BREAK:
                break
            items.append(item)
        return items
    if major == 5:
        result: dict[Any, Any] = {}
        count = 0
        while arg is None or count < arg:
            key = _decode_item(stream)
            if key is _BREAK:
                break
            result[key] = _decode_item(stream)
            count += 1
        return result
    # major 6: tags. Tag 1 is an epoch timestamp (Smithy's only tag).
    value = _decode_item(stream)
    if arg == 1:
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return CborTag(arg, value)  # type: ignore[arg-type]


def cbor_loads(data: bytes) -> Any:
    """Decode one CBOR data item (timestamps become aware datetimes)."""
    stream = io.BytesIO(data)
    item = _decode_item(stream)
    if item is _BREAK or stream.read(1):
        raise CborError("not exactly one CBOR data item")
    return item


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def _int(n: int) -> bytes:
    return _head(0, n) if n >= 0 else _head(1, -1 - n)


def _text(s: str) -> bytes:
    data = s.encode("utf-8")
    return _head(3, len(data)) + data


def _double(x: float) -> bytes:
    return b"\xfb" + struct.pack(">d", float(x))


def _timestamp(value: Any) -> bytes:
    if isinstance(value, datetime.datetime):
        seconds = value.timestamp()
    elif isinstance(value, str):
        seconds = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    else:
        seconds = float(value)
    return b"\xc1" + _double(seconds)


def cbor_dumps(value: Any) -> bytes:
    """Encode plain Python data (no shape): dict, list, str, bytes, bool,
    int, float, None, datetime."""
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, datetime.datetime):
        return _timestamp(value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor_dumps(k) + cbor_dumps(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(cbor_dumps(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def _shaped(value: Any, shape: Any) -> bytes:
    """Encode a JSON-decoded value the way the Smithy model types it: the Rust
    SDK reads a double only from a CBOR float, an integer only from a CBOR
    integer and a timestamp only from tag 1."""
    if value is None:
        return b"\xf6"
    kind = shape.type_name
    if kind == "structure":
        members = [(name, value[name], member) for name, member in shape.members.items()
                   if isinstance(value, dict) and value.get(name) is not None]
        return _head(5, len(members)) + b"".join(
            _text(name) + _shaped(v, member) for name, v, member in members
        )
    if kind == "list":
        return _head(4, len(value)) + b"".join(_shaped(v, shape.member) for v in value)
    if kind == "map":
        return _head(5, len(value)) + b"".join(
            _text(str(k)) + _shaped(v, shape.value) for k, v in value.items()
        )
    if kind in ("integer", "long", "short", "byte"):
        return _int(int(value))
    if kind in ("double", "float"):
        return _double(float(value))
    if kind == "boolean":
        return b"\xf5" if value else b"\xf4"
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        data = base64.b64decode(value) if isinstance(value, str) else bytes(value)
        return _head(2, len(data)) + data
    return _text(str(value))


def _jsonable(value: Any) -> Any:
    """A decoded CBOR request as moto's JSON parser expects it."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, CborTag):
        return _jsonable(value.value)
    return value


# --------------------------------------------------------------------------
# 1. CloudWatch Logs
# --------------------------------------------------------------------------

# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                  1096, 1827, 2192, 2557, 2922, 3288, 3653)

# What the CloudWatch Logs user guide's key policy grants the service
# (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*,
# kms:Describe*), one action of each.
_LOGS_KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                     "kms:GenerateDataKey", "kms:DescribeKey")
_KMS_KEY_ARN = re.compile(r"arn:([^:]+):kms:([^:]+):(\d{12}):key/([^:/]+)")


def _log_group_arn(account: str, region: str, name: str) -> str:
    return f"arn:{get_partition(region)}:logs:{region}:{account}:log-group:{name}"


def _require_logs_kms_key(account: str, region: str, group_name: str, key_ref: str) -> None:
    """CloudWatch Logs' check of a key it is to encrypt a log group with.

    Not a key ARN: the InvalidParameterException users get for a key id
    (terraform-provider-aws issues); a key it cannot use:
    AccessDeniedException (hashicorp/terraform-provider-aws#29282); a disabled
    key: InvalidParameterException (CreateLogGroup API reference)."""
    group_arn = _log_group_arn(account, region, group_name)
    found = _KMS_KEY_ARN.fullmatch(key_ref or "")
    if found is None:
        raise InvalidParameterException(
            f"The specified KMS Key Id could not be found. '{group_name}'"
        )
    denied = LogsClientError(
        "AccessDeniedException",
        f"The specified KMS key does not exist or is not allowed to be used with Arn '{group_arn}'",
    )
    partition, key_region, key_account, _ = found.groups()
    if partition != get_partition(region) or key_region != region:
        raise denied
    from moto.kms.models import kms_backends

    try:
        key = kms_backends[key_account][key_region].describe_key(key_ref)
    except Exception:
        raise denied
    if key.key_state != "Enabled":
        raise InvalidParameterException(
            f"The specified KMS key is not enabled ({key.key_state}): '{key.arn}'"
        )
    service = f"logs.{region}.amazonaws.com"
    ctx = {
        **_sp.service_context(service),
        "kms:EncryptionContext:aws:logs:arn": group_arn,
        "kms:EncryptionContextKeys": ["aws:logs:arn"],
    }
    who = _sp.Principal(service=service)
    if not all(_sp.policy_allows(key.policy, who, action, key.arn, ctx) for action in _LOGS_KMS_ACTIONS):
        raise denied


def _group_or_404(backend: LogsBackend, name: str | None) -> LogGroup:
    group = backend.groups.get(name) if name else None
    if group is None:
        raise ResourceNotFoundException("The specified log group does not exist.")
    return group


# ---- filter patterns ------------------------------------------------------

_SELECTOR = re.compile(r"\$(?:\.[A-Za-z0-9_\-@]+|\.\*|\[(?:\d+|\*)\])+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<regex>%[^%]+%)
      | (?P<word>[^\s()=!<>&|"%]+)
    )""",
    re.VERBOSE,
)
# Characters a %regex% may hold (FilterAndPatternSyntax: alphanumerics,
# _ # = @ / ; , - : and the operators ^ $ ? [ ] { } | \ * + . ; no parentheses).
_REGEX_BODY = re.compile(r"[A-Za-z0-9_#=@/;,\-:^$?\[\]{}|\\*+. ]+")
_TERM = re.compile(r"""\s*[?-]?(?:"(?:[^"\\]|\\.)*"|%[^%]+%|[A-Za-z0-9_]+)(?=\s|$)""")


def _json_tokens(body: str) -> list[tuple[str, str]] | None:
    tokens, pos = [], 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        found = _JSON_TOKEN.match(body, pos)
        if found is None or found.end() == pos:
            return None
        kind = found.lastgroup or ""
        text = found.group(kind)
        if kind == "regex" and not _REGEX_BODY.fullmatch(text[1:-1]):
            return None
        tokens.append((kind, text))
        pos = found.end()
    return tokens


class _JsonPattern:
    """Recursive descent over a JSON filter pattern's tokens:

        expr  := term (("&&" | "||") term)*
        term  := "(" expr ")" | cond
        cond  := selector op value | selector IS (NULL | TRUE | FALSE)
               | selector NOT EXISTS
    """

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ValueError("unexpected end")
        self.pos += 1
        return token

    def expr(self) -> None:
        self.term()
        while (token := self.peek()) is not None and token[1] in ("&&", "||"):
            self.take()
            self.term()

    def term(self) -> None:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            self.expr()
            if self.take() != ("op", ")"):
                raise ValueError("unbalanced parenthesis")
            return
        if kind != "word" or not _SELECTOR.fullmatch(text):
            raise ValueError(f"expected a $ selector, not {text}")
        kind, text = self.take()
        if kind == "word" and text == "IS":
            if self.take() not in (("word", "NULL"), ("word", "TRUE"), ("word", "FALSE")):
                raise ValueError("IS takes NULL, TRUE or FALSE")
            return
        if kind == "word" and text == "NOT":
            if self.take() != ("word", "EXISTS"):
                raise ValueError("NOT takes EXISTS")
            return
        if kind != "op" or text not in ("=", "!=", "<", ">", "<=", ">="):
            raise ValueError(f"expected a comparison, not {text}")
        value_kind, value = self.take()
        if text in ("=", "!="):
            if value_kind not in ("string", "regex", "word") or value in ("IS", "NOT"):
                raise ValueError("expected a value")
        elif value_kind != "word" or not _NUMBER.fullmatch(value):
            raise ValueError("numeric comparison needs a number")

    def parse(self) -> None:
        self.expr()
        if self.peek() is not None:
            raise ValueError("trailing tokens")


def _balanced_quotes(text: str) -> bool:
    return len(re.sub(r'\\.', "", text).split('"')) % 2 == 1


def _delimited_ok(inner: str) -> bool:
    """A space-delimited pattern's fields: `...`, a name, or name op value
    (joined by && / ||), comma-separated."""
    if not _balanced_quotes(inner):
        return False
    fields = re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', inner)
    field = re.compile(
        r"""\s*(?:\.\.\.|[A-Za-z0-9_\-]+(?:\s*(?:!=|<=|>=|=|<|>)\s*(?:"(?:[^"\\]|\\.)*"|%[^%]+%|[^\s,"&|]+)
        (?:\s*(?:&&|\|\|)\s*[A-Za-z0-9_\-]+\s*(?:!=|<=|>=|=|<|>)\s*(?:"(?:[^"\\]|\\.)*"|%[^%]+%|[^\s,"&|]+))*)?)\s*""",
        re.VERBOSE,
    )
    return all(field.fullmatch(f) for f in fields)


def filter_pattern_kind(pattern: str) -> str | None:
    """"empty", "json", "delimited" or "terms" for a pattern CloudWatch Logs
    would accept; None for one it rejects ("Invalid metric filter pattern")."""
    text = (pattern or "").strip()
    if not text:
        return "empty"
    if text.startswith("{") or text.endswith("}"):
        if not (text.startswith("{") and text.endswith("}")):
            return None
        tokens = _json_tokens(text[1:-1])
        if not tokens:
            return None
        try:
            _JsonPattern(tokens).parse()
        except ValueError:
            return None
        return "json"
    if text.startswith("[") or text.endswith("]"):
        if not (text.startswith("[") and text.endswith("]")):
            return None
        return "delimited" if _delimited_ok(text[1:-1]) else None
    pos = 0
    while pos < len(text):
        found = _TERM.match(text, pos)
        if found is None:
            return None
        pos = found.end()
    return "terms"


def filter_pattern_valid(pattern: str) -> bool:
    return filter_pattern_kind(pattern) is not None


# ---- patches --------------------------------------------------------------


def _log_group_of_arn(response: LogsResponse, arn: Any) -> None:
    """A log-group ARN given to Tag/Untag/ListTagsForResource must name an
    existing group (the form without ":*"); other ARNs go to moto."""
    if not isinstance(arn, str) or ":log-group:" not in arn:
        return
    backend = response.logs_backend
    name = arn.split(":log-group:", 1)[1]
    group = backend.groups.get(name)
    if group is None or group.arn != arn:
        raise ResourceNotFoundException("The specified resource does not exist.")


def _patch_logs() -> None:
    create_log_group = LogsResponse.create_log_group
    put_retention_policy = LogsResponse.put_retention_policy
    put_metric_filter = LogsResponse.put_metric_filter
    to_describe_dict = LogGroup.to_describe_dict
    tag_resource = LogsResponse.tag_resource
    untag_resource = LogsResponse.untag_resource
    list_tags_for_resource = LogsResponse.list_tags_for_resource

    def checked_create_log_group(self: LogsResponse) -> str:
        name = self._get_param("logGroupName")
        key = self._get_param("kmsKeyId")
        if key is not None and name not in self.logs_backend.groups:
            _require_logs_kms_key(self.current_account, self.region, name, key)
        return create_log_group(self)

    def associate_kms_key(self: LogsResponse) -> str:
        name = self._get_param("logGroupName")
        key = self._get_param("kmsKeyId")
        group = _group_or_404(self.logs_backend, name)
        _require_logs_kms_key(self.current_account, self.region, name, key)
        group.kms_key_id = key
        return ""

    def disassociate_kms_key(self: LogsResponse) -> str:
        _group_or_404(self.logs_backend, self._get_param("logGroupName")).kms_key_id = None
        return ""

    def checked_put_retention_policy(self: LogsResponse) -> str:
        days = self._get_param("retentionInDays")
        if days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise InvalidParameterException(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        return put_retention_policy(self)

    def checked_put_metric_filter(self: LogsResponse) -> str:
        backend = self.logs_backend
        name = self._get_param("filterName")
        group_name = self._get_param("logGroupName")
        pattern = self._get_param("filterPattern")
        transformations = self._get_param("metricTransformations") or []
        _group_or_404(backend, group_name)
        kind = filter_pattern_kind(pattern or "")
        if kind is None:
            raise InvalidParameterException("Invalid metric filter pattern")
        if kind not in ("json", "delimited") and any(
            isinstance(t, dict) and t.get("dimensions") for t in transformations
        ):
            raise InvalidParameterException("The specified filter pattern does not support dimensions")
        kept = [f for f in backend.filters.metric_filters
                if not (f["filterName"] == name and f["logGroupName"] == group_name)]
        backend.filters.metric_filters[:] = kept
        body = put_metric_filter(self)
        for f in backend.filters.metric_filters:
            if f["filterName"] == name and f["logGroupName"] == group_name:
                f.setdefault("creationTime", int(unix_time_millis(utcnow())))
        return body

    def describe_metric_filters(self: LogsResponse) -> str:
        prefix = self._get_param("filterNamePrefix")
        group_name = self._get_param("logGroupName")
        metric_name = self._get_param("metricName")
        namespace = self._get_param("metricNamespace")
        limit = self._get_param("limit", 50)
        token = self._get_param("nextToken")
        if bool(metric_name) != bool(namespace):
            missing = "metricNamespace" if metric_name else "metricName"
            raise InvalidParameterException(
                f"If you include the {'metricName' if metric_name else 'metricNamespace'} parameter "
                f"in your request, you must also include the {missing} parameter."
            )
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise InvalidParameterException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value between 1 and 50"
            )
        found = self.logs_backend.describe_metric_filters(prefix, group_name, metric_name, namespace)
        found = sorted(found, key=lambda f: (f["filterName"], f["logGroupName"]))
        start = 0
        if token:
            try:
                start = int(token)
            except ValueError:
                raise InvalidParameterException("The specified nextToken is invalid.")
        page = found[start:start + limit]
        result: dict[str, Any] = {"metricFilters": page}
        if start + limit < len(found):
            result["nextToken"] = str(start + limit)
        return json.dumps(result)

    def delete_metric_filter(self: LogsResponse) -> str:
        backend = self.logs_backend
        name = self._get_param("filterName")
        group_name = self._get_param("logGroupName")
        _group_or_404(backend, group_name)
        matching = [f for f in backend.filters.metric_filters
                    if f["filterName"] == name and f["logGroupName"] == group_name]
        if not matching:
            raise ResourceNotFoundException("The specified metric filter does not exist.")
        for f in matching:
            backend.filters.metric_filters.remove(f)
        return ""

    def describe_dict(self: LogGroup) -> dict[str, Any]:
        described = to_describe_dict(self)
        backend = logs_backends[self.account_id][self.region]
        described["metricFilterCount"] = sum(
            1 for f in backend.filters.metric_filters if f["logGroupName"] == self.name
        )
        described.setdefault("logGroupClass", "STANDARD")
        return described

    def checked(original: Callable[[LogsResponse], str]) -> Callable[[LogsResponse], str]:
        def method(self: LogsResponse) -> str:
            _log_group_of_arn(self, self._get_param("resourceArn"))
            return original(self)

        return method

    LogsResponse.create_log_group = checked_create_log_group
    LogsResponse.associate_kms_key = associate_kms_key
    LogsResponse.disassociate_kms_key = disassociate_kms_key
    LogsResponse.put_retention_policy = checked_put_retention_policy
    LogsResponse.put_metric_filter = checked_put_metric_filter
    LogsResponse.describe_metric_filters = describe_metric_filters
    LogsResponse.delete_metric_filter = delete_metric_filter
    LogGroup.to_describe_dict = describe_dict
    LogsResponse.tag_resource = checked(tag_resource)
    LogsResponse.untag_resource = checked(untag_resource)
    LogsResponse.list_tags_for_resource = checked(list_tags_for_resource)


# --------------------------------------------------------------------------
# 2. CloudWatch alarms, and the RPC v2 CBOR protocol
# --------------------------------------------------------------------------

CBOR_TARGET = "GraniteServiceVersion20100801"
CBOR_PATH = f"/service/{CBOR_TARGET}/operation/"


class _CloudWatchError(ServiceException):
    """A CloudWatch error by its query code (HTTP 400)."""


def _validation(message: str) -> _CloudWatchError:
    return _CloudWatchError("ValidationError", message)


def _java_list(values: Iterable[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


# Action ARNs PutMetricAlarm documents: service -> resource pattern, and
# whether the ARN carries a region and an account.
_ACTION_FORMS: dict[str, tuple[re.Pattern[str], bool, bool]] = {
    "sns": (re.compile(r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?"), True, True),
    "automate": (re.compile(r"ec2:(?:stop|terminate|reboot|recover)"), True, False),
    "swf": (re.compile(r"action/actions/AWS_EC2\.InstanceId\.(?:Stop|Terminate|Reboot|Recover)/1\.0"), True, True),
    "autoscaling": (re.compile(r"scalingPolicy:[^:]+:autoScalingGroupName/[^:]+:policyName/.+"), True, True),
    "lambda": (re.compile(r"function:[A-Za-z0-9_-]+(?::[A-Za-z0-9_$-]+)?"), True, True),
    "ssm": (re.compile(r"opsitem:.+"), True, True),
    "ssm-incidents": (re.compile(r"responseplan/.+"), False, True),
    "aiops": (re.compile(r"investigation-group:.+"), True, True),
}
_ARN = re.compile(r"arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)")


def _check_alarm_action(action: Any, region: str) -> None:
    """One AlarmActions / OKActions / InsufficientDataActions entry. CloudWatch
    answers ValidationError "Invalid region <r> specified. Only <alarm region>
    is supported." (and the partition twin) for an action elsewhere."""
    found = _ARN.fullmatch(action) if isinstance(action, str) else None
    form = _ACTION_FORMS.get(found.group(2)) if found else None
    if found is None or form is None:
        raise _validation(f"Invalid arn syntax: {action}")
    partition, _, action_region, account, resource = found.groups()
    pattern, regional, has_account = form
    if not has_account and account:  # arn:aws:automate:<region>:ec2:stop
        account, resource = "", f"{account}:{resource}"
    if partition != get_partition(region):
        raise _validation(f"Invalid partition {partition} specified. Only {get_partition(region)} is supported.")
    if regional and action_region != region:
        raise _validation(f"Invalid region {action_region} specified. Only {region} is supported.")
    if (has_account and not re.fullmatch(r"\d{12}", account)) or not pattern.fullmatch(resource):
        raise _validation(f"Invalid arn syntax: {action}")


def _check_put_metric_alarm(response: CloudWatchResponse) -> None:
    region = response.region
    for param, member in (("AlarmActions", "alarmActions"), ("OKActions", "oKActions"),
                          ("InsufficientDataActions", "insufficientDataActions")):
        actions = response._get_param(param) or []
        if len(actions) > 5:
            raise _validation(
                f"1 validation error detected: Value '{_java_list(actions)}' at '{member}' failed "
                "to satisfy constraint: Member must have length less than or equal to 5"
            )
    periods = response._get_param("EvaluationPeriods")
    if periods is not None and int(periods) < 1:
        raise _validation(
            f"1 validation error detected: Value '{periods}' at 'evaluationPeriods' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    period = response._get_param("Period")
    if period is not None:
        period = int(period)
        if period < 1:
            raise _validation(
                f"1 validation error detected: Value '{period}' at 'period' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1"
            )
        if period not in (10, 20, 30) and period % 60:
            raise _validation(
                f"Invalid Period {period}: the period must be 10, 20, 30 or a multiple of 60."
            )
    if response._get_param("MetricName"):
        given = [p for p in ("Statistic", "ExtendedStatistic") if response._get_param(p)]
        if len(given) != 1:
            raise _CloudWatchError(
                "InvalidParameterCombination",
                "Exactly one of Statistic and ExtendedStatistic must be specified with MetricName.",
            )
    for param in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for action in response._get_param(param) or []:
            _check_alarm_action(action, region)


def _patch_cloudwatch_alarms() -> None:
    put_metric_alarm = CloudWatchResponse.put_metric_alarm
    backend_put = CloudWatchBackend.put_metric_alarm

    def checked_put_metric_alarm(self: CloudWatchResponse) -> ActionResult:
        _check_put_metric_alarm(self)
        return put_metric_alarm(self)

    def put_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        previous = self.alarms.get(name)
        old_tags = dict(self.tagger.get_tag_dict_for_resource(previous.alarm_arn)) if previous else None
        alarm = backend_put(self, name, *args, **kwargs)
        if previous is None:
            # "When this operation creates an alarm, the alarm state is
            # immediately set to INSUFFICIENT_DATA."
            alarm.state_value = "INSUFFICIENT_DATA"
            return alarm
        # An update leaves the state alone and ignores Tags.
        alarm.state_value = previous.state_value
        alarm.state_reason = previous.state_reason
        alarm.state_reason_data = previous.state_reason_data
        alarm.state_updated_timestamp = previous.state_updated_timestamp
        self.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
        if old_tags:
            self.tagger.tag_resource(alarm.alarm_arn, self.tagger.convert_dict_to_tags_input(old_tags))
        return alarm

    def describe_alarms(self: CloudWatchResponse) -> ActionResult:
        names = self._get_param("AlarmNames") or []
        prefix = self._get_param("AlarmNamePrefix")
        action_prefix = self._get_param("ActionPrefix")
        state = self._get_param("StateValue")
        types = self._get_param("AlarmTypes") or ["MetricAlarm"]
        limit = self._get_param("MaxRecords") or 50
        token = self._get_param("NextToken")
        if not 1 <= int(limit) <= 100:
            raise _validation(
                f"1 validation error detected: Value '{limit}' at 'maxRecords' failed to satisfy "
                "constraint: Member must have value less than or equal to 100"
            )
        alarms = sorted(self.cloudwatch_backend.alarms.values(), key=lambda a: a.name)
        if names:
            alarms = [a for a in alarms if a.name in names]
        if prefix:
            alarms = [a for a in alarms if a.name.startswith(prefix)]
        if state:
            alarms = [a for a in alarms if a.state_value == state]
        if action_prefix:
            alarms = [a for a in alarms if any(x.startswith(action_prefix) for x in a.alarm_actions or [])]
        alarms = [a for a in alarms if ("CompositeAlarm" if a.rule else "MetricAlarm") in types]
        start = 0
        if token:
            start = next((i for i, a in enumerate(alarms) if a.name == _unpage(token)), -1)
            if start < 0:
                raise _CloudWatchError("InvalidNextToken", "The service found NextToken to be invalid.")
        page = alarms[start:start + int(limit)]
        result: dict[str, Any] = {
            "MetricAlarms": [a for a in page if a.rule is None],
            "CompositeAlarms": [a for a in page if a.rule is not None],
        }
        if start + int(limit) < len(alarms):
            result["NextToken"] = _page(alarms[start + int(limit)].name)
        return ActionResult(result)

    def delete_alarms(self: CloudWatchResponse) -> ActionResult:
        names = self._get_param("AlarmNames") or []
        missing = [n for n in names if n not in self.cloudwatch_backend.alarms]
        if missing:
            # "If you specify an incorrect alarm name ... no alarms are deleted."
            raise _CloudWatchError("ResourceNotFound", f"Alarm(s) not found: {_java_list(missing)}")
        self.cloudwatch_backend.delete_alarms(names)
        return EmptyResult()

    CloudWatchResponse.put_metric_alarm = checked_put_metric_alarm
    CloudWatchBackend.put_metric_alarm = put_alarm
    CloudWatchResponse.describe_alarms = describe_alarms
    CloudWatchResponse.delete_alarms = delete_alarms


def _page(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _unpage(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return "\0"


@lru_cache(maxsize=1)
def _cloudwatch_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("cloudwatch")


def _cbor_response(status: int, body: bytes, request_id: str, query_error: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/cbor",
        "smithy-protocol": "rpc-v2-cbor",
        "x-amzn-RequestId": request_id,
        "Content-Length": str(len(body)),
    }
    if query_error:
        headers["x-amzn-query-error"] = query_error
    return status, headers, body


def _cbor_error(status: int, code: str, message: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
    fault = "Sender" if status < 500 else "Receiver"
    body = cbor_dumps({"__type": code, "message": message})
    return _cbor_response(status, body, request_id, f"{code};{fault}")


def cbor_dispatch(request: Request, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
    """POST /service/GraniteServiceVersion20100801/operation/<Operation> in
    rpc-v2-cbor: decode, run moto's JSON 1.0 handler, encode the answer."""
    request_id = str(uuid.uuid4())
    operation = request.path.rsplit("/", 1)[-1]
    model = _cloudwatch_model()
    if operation not in model.operation_names:
        return _cbor_error(404, "UnknownOperationException", f"Unknown operation {operation}", request_id)
    raw = request.get_data()
    encoding = {str(k).lower(): v for k, v in dict(headers).items()}.get("content-encoding", "")
    if str(encoding).lower() == "gzip":  # PutMetricData's @requestCompression
        raw = gzip.decompress(raw)
    try:
        params = cbor_loads(raw) if raw else {}
    except (CborError, ValueError, UnicodeDecodeError) as exc:
        return _cbor_error(400, "SerializationException", f"Malformed CBOR body: {exc}", request_id)
    if not isinstance(params, dict):
        return _cbor_error(400, "SerializationException", "The request body must be a CBOR map.", request_id)
    forwarded = {k: v for k, v in dict(headers).items() if k.lower() not in (
        "content-type", "content-length", "content-encoding", "smithy-protocol", "accept")}
    forwarded["X-Amz-Target"] = f"{CBOR_TARGET}.{operation}"
    forwarded["Content-Type"] = "application/x-amz-json-1.0"
    body = json.dumps(_jsonable(params)).encode()
    forwarded["Content-Length"] = str(len(body))
    json_request = Request.from_primitives("POST", full_url, forwarded, body)
    json_request.from_wsgi_server = True  # type: ignore[misc]
    status, out_headers, out_body = CloudWatchResponse.dispatch(json_request, full_url, forwarded)
    lowered = {str(k).lower(): v for k, v in (out_headers or {}).items()}
    request_id = lowered.get("x-amzn-requestid", request_id)
    text = out_body.decode() if isinstance(out_body, bytes) else (out_body or "")
    try:
        payload = json.loads(text) if text.strip() else {}
    except ValueError:
        payload = None
    if int(status) >= 400:
        error = payload if isinstance(payload, dict) else {}
        code = (lowered.get("x-amzn-query-error") or "").split(";")[0] or str(
            error.get("__type") or "InternalFailure"
        ).split("#")[-1]
        message = error.get("message") or error.get("Message") or text
        return _cbor_error(int(status), code, str(message), request_id)
    output = model.operation_model(operation).output_shape
    if output is None:
        return _cbor_response(int(status), b"", request_id)
    return _cbor_response(int(status), _shaped(payload or {}, output), request_id)


def _patch_cloudwatch_cbor() -> None:
    cloudwatch_urls.url_paths["{0}" + CBOR_PATH + "(?P<operation>[A-Za-z0-9]+)$"] = cbor_dispatch


# --------------------------------------------------------------------------
# 3. SNS
# --------------------------------------------------------------------------

# Subscribe's protocols (API reference) and those that need confirming.
_SNS_PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
_SNS_PENDING = ("http", "https", "email", "email-json")
_EMAIL = re.compile(r"[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+")
_SQS_ARN = re.compile(r"arn:[^:]+:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(?:\.fifo)?")
_LAMBDA_ARN = re.compile(r"arn:[^:]+:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(?::[A-Za-z0-9_$-]+)?")


def _check_endpoint(protocol: str, endpoint: Any) -> None:
    endpoint = endpoint if isinstance(endpoint, str) else ""
    if protocol not in _SNS_PROTOCOLS:
        raise SNSInvalidParameter(
            f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
        )
    if protocol in ("email", "email-json") and not _EMAIL.fullmatch(endpoint):
        raise SNSInvalidParameter("Invalid parameter: Email address")
    if protocol in ("http", "https") and not re.fullmatch(rf"{protocol}://[^\s/?#]+\S*", endpoint):
        raise SNSInvalidParameter("Invalid parameter: Endpoint must match the specified protocol")
    if protocol == "sqs" and not _SQS_ARN.fullmatch(endpoint):
        raise SNSInvalidParameter("Invalid parameter: SQS endpoint ARN")
    if protocol == "lambda" and not _LAMBDA_ARN.fullmatch(endpoint):
        raise SNSInvalidParameter("Invalid parameter: Lambda endpoint ARN")


def _pending(subscription: Subscription) -> bool:
    return bool(getattr(subscription, "baseline_pending", False))


def _listed(subscription: Subscription) -> dict[str, str]:
    return {
        "SubscriptionArn": "PendingConfirmation" if _pending(subscription) else subscription.arn,
        "Owner": subscription.account_id,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic.arn,
    }


def _check_topic_policy(policy: Any) -> None:
    """What SNS checks in a topic policy it is given."""
    try:
        doc = json.loads(policy) if isinstance(policy, str) else None
    except ValueError:
        doc = None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if not statements or not all(isinstance(st, dict) for st in _as_list(statements)):
        raise SNSInvalidParameter("Invalid parameter: Policy Error: null")
    if _sp._unresolvable_principal(policy) is not None or _settling_principal(doc):
        raise SNSInvalidParameter("Invalid parameter: Policy Error: PrincipalNotFound")


def _settling_principal(doc: dict[str, Any]) -> bool:
    """A role named as a principal within the window after its creation: IAM
    has not propagated it yet."""
    for st in _as_list(doc.get("Statement")):
        principal = st.get("Principal") if isinstance(st, dict) else None
        entries = _as_list(principal.get("AWS")) if isinstance(principal, dict) else []
        for arn in entries:
            found = re.fullmatch(r"arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)", str(arn))
            if found is None:
                continue
            partition, account, name = found.groups()
            backend = iam_models.iam_backends[account][partition]
            for role in list(backend.roles.values()):
                if role.name == name and _fresh(getattr(role, "baseline_created_at", None)):
                    return True
    return False


def _patch_sns() -> None:
    backend_subscribe = SNSBackend.subscribe
    subscribe = SNSResponse.subscribe
    unsubscribe = SNSBackend.unsubscribe
    set_topic_attributes = SNSResponse.set_topic_attributes
    create_topic = SNSResponse.create_topic
    get_topic_attributes = SNSResponse.get_topic_attributes
    get_subscription_attributes = SNSBackend.get_subscription_attributes

    def checked_subscribe(self: SNSBackend, topic_arn: str, endpoint: str, protocol: str) -> Subscription:
        self.get_topic(topic_arn)  # an unknown topic is reported first
        _check_endpoint(protocol, endpoint)
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = backend_subscribe(self, topic_arn, endpoint, protocol)
        if existing is None and protocol in _SNS_PENDING:
            subscription.baseline_pending = True
            subscription.attributes["PendingConfirmation"] = "true"
            subscription.attributes["ConfirmationWasAuthenticated"] = "false"
        return subscription

    def subscribe_response(self: SNSResponse) -> ActionResult:
        result = subscribe(self)
        arn = result.result["SubscriptionArn"] if isinstance(result.result, dict) else None
        subscription = self.backend.subscriptions.get(arn)
        wants_arn = str(self._get_param("ReturnSubscriptionArn", "false")).lower() == "true"
        if subscription is not None and _pending(subscription) and not wants_arn:
            return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    def checked_unsubscribe(self: SNSBackend, subscription_arn: str) -> None:
        if not str(subscription_arn).startswith("arn:"):
            raise SNSInvalidParameter(
                "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
            )
        subscription = self.subscriptions.get(subscription_arn)
        if subscription is not None and _pending(subscription):
            raise SNSInvalidParameter(
                "Invalid parameter: SubscriptionArn Reason: Cannot unsubscribe a subscription "
                "that is pending confirmation"
            )
        unsubscribe(self, subscription_arn)

    def list_subscriptions(self: SNSResponse) -> ActionResult:
        subscriptions, token = self.backend.list_subscriptions(next_token=self._get_param("NextToken"))
        return ActionResult({"Subscriptions": [_listed(s) for s in subscriptions], "NextToken": token})

    def list_subscriptions_by_topic(self: SNSResponse) -> ActionResult:
        subscriptions, token = self.backend.list_subscriptions_by_topic(
            self._get_param("TopicArn"), next_token=self._get_param("NextToken")
        )
        return ActionResult({"Subscriptions": [_listed(s) for s in subscriptions], "NextToken": token})

    def checked_set_topic_attributes(self: SNSResponse) -> ActionResult:
        if self._get_param("AttributeName") == "Policy":
            self.backend.get_topic(self._get_param("TopicArn"))
            _check_topic_policy(self._get_param("AttributeValue"))
        return set_topic_attributes(self)

    def checked_create_topic(self: SNSResponse) -> ActionResult:
        policy = self._get_attributes().get("Policy")
        if policy is not None:
            _check_topic_policy(policy)
        return create_topic(self)

    def counted_topic_attributes(self: SNSResponse) -> ActionResult:
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        subscriptions = [s for s in self.backend.subscriptions.values() if s.topic is topic]
        topic.subscriptions_pending = sum(1 for s in subscriptions if _pending(s))
        topic.subscriptions_confimed = sum(1 for s in subscriptions if not _pending(s))
        return get_topic_attributes(self)

    def subscription_attributes(self: SNSBackend, arn: str) -> dict[str, Any]:
        attributes = get_subscription_attributes(self, arn)
        subscription = self.subscriptions.get(arn)
        if subscription is not None and _pending(subscription):
            attributes["PendingConfirmation"] = "true"
            attributes["ConfirmationWasAuthenticated"] = "false"
        return attributes

    SNSBackend.subscribe = checked_subscribe
    SNSResponse.subscribe = subscribe_response
    SNSBackend.unsubscribe = checked_unsubscribe
    SNSResponse.list_subscriptions = list_subscriptions
    SNSResponse.list_subscriptions_by_topic = list_subscriptions_by_topic
    SNSResponse.set_topic_attributes = checked_set_topic_attributes
    SNSResponse.create_topic = checked_create_topic
    SNSResponse.get_topic_attributes = counted_topic_attributes
    SNSBackend.get_subscription_attributes = subscription_attributes


# --------------------------------------------------------------------------
# 4. CloudTrail delivery to CloudWatch Logs
# --------------------------------------------------------------------------

_CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
_TRUST_DENIED = "Access denied. Verify in IAM that the role has adequate trust relationships."
_PERMISSIONS_DENIED = "Access denied. Verify in IAM that the role has adequate permissions."
_GROUP_INVALID = "CloudTrail cannot validate the specified log group ARN."
_ROLE_MISSING = "You must specify a role ARN as well as a log group."
_GROUP_MISSING = "You must specify a log group as well as a role ARN."


def _group_error(message: str) -> JsonRESTError:
    return JsonRESTError("InvalidCloudWatchLogsLogGroupArnException", message)


def _role_error(message: str) -> JsonRESTError:
    return JsonRESTError("InvalidCloudWatchLogsRoleArnException", message)


def _document(text: Any) -> Any:
    if isinstance(text, str) and text.startswith("%"):
        text = unquote(text)
    return text


def _role_policies(iam: iam_models.IAMBackend, role: Any) -> list[Any]:
    """The role's identity policies: inline, then attached managed ones."""
    docs = [_document(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.version_id == policy.default_version_id), None)
        if version is not None:
            docs.append(_document(version.document))
    return docs


def _boundary(iam: iam_models.IAMBackend, role: Any) -> Any:
    arn = getattr(role, "permissions_boundary_arn", None)
    policy = iam.managed_policies.get(arn) if arn else None
    if policy is None:
        return None
    version = next((v for v in policy.versions if v.version_id == policy.default_version_id), None)
    return _document(version.document) if version else None


def _role_allows(iam: iam_models.IAMBackend, role: Any, action: str, resource: str) -> bool:
    """Identity-based evaluation for the role's session: an explicit Deny in
    any policy wins, then some Allow is needed (and the boundary's Allow)."""
    who = _sp.Principal(account=role.account_id, arns=(role.arn,))
    ctx = {
        "aws:PrincipalArn": role.arn,
        "aws:PrincipalAccount": role.account_id,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalIsAWSService": "false",
        "aws:SecureTransport": "true",
    }
    decisions = [_sp.evaluate_policy(doc, who, action, resource, ctx) for doc in _role_policies(iam, role)]
    if "Deny" in decisions or "Allow" not in decisions:
        return False
    boundary = _boundary(iam, role)
    return boundary is None or _sp.evaluate_policy(boundary, who, action, resource, ctx) == "Allow"


def _delivery_streams(account: str, region: str, group_arn: str, is_org: bool) -> list[str]:
    """The log streams CloudTrail writes (<account>_CloudTrail_<region>, and
    <org-id>_... for an organization trail)."""
    streams = [f"{group_arn}:log-stream:{account}_CloudTrail_{region}"]
    org = _sp._organization_of(account, get_partition(region)) if is_org else None
    if org is not None:
        streams.append(f"{group_arn}:log-stream:{org.id}_{account}_CloudTrail_{region}")
    return streams


def _require_cloudwatch_delivery(
    account: str, region: str, trail_name: str, is_org: bool, group_arn: Any, role_arn: Any
) -> bool:
    """Checks CloudTrail makes of CloudWatchLogsLogGroupArn / RoleArn. Returns
    whether delivery is configured (False when both are absent or "")."""
    if not group_arn and not role_arn:
        return False
    if not role_arn:
        raise _role_error(_ROLE_MISSING)
    if not group_arn:
        raise _group_error(_GROUP_MISSING)
    partition = get_partition(region)
    found = re.fullmatch(
        rf"arn:{re.escape(partition)}:logs:{re.escape(region)}:{account}:log-group:([.\-_/#A-Za-z0-9]+):\*",
        str(group_arn),
    )
    group = logs_backends[account][region].groups.get(found.group(1)) if found else None
    if group is None:
        raise _group_error(_GROUP_INVALID)
    iam = iam_models.iam_backends[account][partition]
    role = None
    if re.fullmatch(rf"arn:{re.escape(partition)}:iam::{account}:role/\S+", str(role_arn)):
        role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None)
    trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"
    trust_ctx = {
        **_sp.service_context(_CLOUDTRAIL_SERVICE),
        "aws:SourceArn": trail_arn,
        "aws:SourceAccount": account,
    }
    if (
        role is None
        or _fresh(getattr(role, "baseline_created_at", None))
        or not _sp.policy_allows(
            _document(role.assume_role_policy_document),
            _sp.Principal(service=_CLOUDTRAIL_SERVICE), "sts:AssumeRole", role.arn, trust_ctx,
        )
    ):
        raise _role_error(_TRUST_DENIED)
    if _fresh(getattr(role, "baseline_policy_changed_at", None)):
        raise _group_error(_PERMISSIONS_DENIED)
    for stream in _delivery_streams(account, region, group.arn, is_org):
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            if not _role_allows(iam, role, action, stream):
                raise _group_error(_PERMISSIONS_DENIED)
    return True


def _patch_cloudtrail_cloudwatch() -> None:
    create_trail = CloudTrailBackend.create_trail
    update_trail = CloudTrailBackend.update_trail
    description = Trail.description

    def checked_create_trail(self: CloudTrailBackend, name: str, *args: Any) -> Trail:
        # moto's positional order: bucket, prefix, topic, is_global,
        # is_multi_region, log_validation, is_org_trail, cw_log_group_arn,
        # cw_role_arn, kms_key_id, tags_list
        values = list(args)
        if not _require_cloudwatch_delivery(
            self.account_id, self.region_name, name, bool(values[6]), values[7], values[8]
        ):
            values[7] = values[8] = None
        return create_trail(self, name, *values)

    def checked_update_trail(self: CloudTrailBackend, name: str, **kwargs: Any) -> Trail:
        group_arn, role_arn = kwargs.get("cw_log_group_arn"), kwargs.get("cw_role_arn")
        if group_arn is None and role_arn is None:
            return update_trail(self, name=name, **kwargs)
        # UpdateTrail takes the two together (terraform-provider-aws sends
        # both whenever one changes: "otherwise API complains").
        if role_arn is None:
            raise _role_error(_ROLE_MISSING)
        if group_arn is None:
            raise _group_error(_GROUP_MISSING)
        trail = self.get_trail(name)
        is_org = kwargs.get("is_organization_trail")
        configured = _require_cloudwatch_delivery(
            self.account_id, self.region_name, trail.trail_name,
            bool(trail.is_org_trail if is_org is None else is_org), group_arn, role_arn,
        )
        trail = update_trail(self, name=name, **kwargs)
        if not configured:
            trail.cw_log_group_arn = trail.cw_role_arn = None
        return trail

    def trail_description(self: Trail, include_region: bool = False) -> dict[str, Any]:
        desc = description(self, include_region=include_region)
        for key in ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"):
            if not desc.get(key):
                desc.pop(key, None)
        return desc

    CloudTrailBackend.create_trail = checked_create_trail
    CloudTrailBackend.update_trail = checked_update_trail
    Trail.description = trail_description


def _patch_iam_policy_changed_at() -> None:
    """Remember when a role's permissions last changed (PutRolePolicy,
    AttachRolePolicy): CloudTrail does not see the change for a moment."""
    put_role_policy = iam_models.IAMBackend.put_role_policy
    attach_role_policy = iam_models.IAMBackend.attach_role_policy

    def stamped_put(self: iam_models.IAMBackend, *args: Any, **kwargs: Any) -> None:
        put_role_policy(self, *args, **kwargs)
        role_name = kwargs.get("role_name", args[0] if args else None)
        self.get_role(role_name).baseline_policy_changed_at = time.time()

    def stamped_attach(self: iam_models.IAMBackend, *args: Any, **kwargs: Any) -> None:
        attach_role_policy(self, *args, **kwargs)
        role_name = kwargs.get("role_name", args[1] if len(args) > 1 else None)
        self.get_role(role_name).baseline_policy_changed_at = time.time()

    iam_models.IAMBackend.put_role_policy = stamped_put
    iam_models.IAMBackend.attach_role_policy = stamped_attach


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""
    global _APPLIED, _sp
    if _APPLIED:
        return
    import strict_policies

    _sp = strict_policies
    _patch_logs()
    _patch_cloudwatch_alarms()
    _patch_cloudwatch_cbor()
    _patch_sns()
    _patch_cloudtrail_cloudwatch()
    _patch_iam_policy_changed_at()
    _APPLIED = True
