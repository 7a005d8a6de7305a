"""Strict access checks of the emulator: who may call what, where, and for how long.

moto accepts any credentials in any region for as long as they are used, lets
anyone assume any role ARN, closes accounts at once and has no opt-in regions.
AWS does none of that. This module makes the emulator refuse what AWS refuses
(each behaviour cites the AWS reference it follows; tests/emulator/README.md has
one row per behaviour):

Request checks (wrap_wsgi, a WSGI middleware in front of moto; requests without
a SigV4 signature, such as moto's own /moto-api/, pass untouched):
  sessions     A request signed with an sts:AssumeRole session after its
               Expiration is refused: query services (STS, IAM) ExpiredToken 403,
               JSON services ExpiredTokenException 400, REST-JSON services
               ExpiredTokenException 403, S3 ExpiredToken 400.
  regions      A request signed for an opt-in region that is not ENABLED in the
               calling account is refused: InvalidClientTokenId 403 (query),
               UnrecognizedClientException 400 (JSON) / 403 (REST-JSON),
               S3 InvalidToken 400 (session) or InvalidAccessKeyId 403 (long-term
               key), EC2 AuthFailure 401.
  organizations  Organizations answers only in its partition's endpoint region
               (us-east-1, us-gov-west-1, cn-northwest-1): another credential
               scope gets InvalidSignatureException 400 "Credential should be
               scoped to a valid region".

Patched operations:
  sts          AssumeRole: the role must exist and its trust policy must allow
               the caller (the caller's account root, account id, own ARN, its
               role's ARN for a session, or "*"; Condition blocks are not
               evaluated: an Allow with a Condition allows, a Deny with one is
               skipped), and the role's account must not be SUSPENDED or
               PENDING_CLOSURE -> AccessDenied 403. DurationSeconds must be
               900..43200 and at most the role's MaxSessionDuration, and at most
               3600 when the caller is itself a role session (role chaining) ->
               ValidationError 400. The Expiration is now + DurationSeconds
               (default 3600), capped by emulator_settings.max_session_seconds().
  organizations  CloseAccount leaves the account PENDING_CLOSURE (Status and
               State) for the consistency window, then SUSPENDED; closing it
               again is AccountAlreadyClosedException (SUSPENDED) or
               ConflictException (PENDING_CLOSURE). AttachPolicy of an SCP to a
               target that already has MAX_SCPS_PER_TARGET SCPs (FullAWSAccess
               counts) and Create/UpdatePolicy of an SCP longer than
               MAX_SCP_CHARACTERS -> ConstraintViolationException with Reason
               MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED /
               POLICY_CONTENT_LIMIT_EXCEEDED. CreateAccount in AWS China or
               GovCloud makes the access role in that partition's IAM, trusting
               that partition's management account (moto: in `aws` only).
  account      ListRegions, GetRegionOptStatus, EnableRegion, DisableRegion
               (moto has none). Default regions are ENABLED_BY_DEFAULT and can't
               be enabled or disabled (ValidationException, reason
               invalidRegionOptTarget); opt-in regions start DISABLED, go
               ENABLING -> ENABLED and DISABLING -> DISABLED over the
               consistency window; enabling a DISABLING region or disabling an
               ENABLING one is ConflictException 409. AccountId is for the
               management account (or the account.amazonaws.com delegated
               administrator) naming a member account, with trusted access for
               account.amazonaws.com enabled -> else AccessDeniedException 403.

State lives on moto's backends (BackendDict), so /moto-api/reset clears it.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import http
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.loaders
import emulator_settings
from moto.account import urls as account_urls
from moto.account.models import account_backends
from moto.account.responses import AccountResponse
from moto.core.exceptions import ServiceException
from moto.core.utils import utcnow
from moto.iam import models as iam_models
from moto.organizations.exceptions import (
    AccountAlreadyClosedException,
    ConstraintViolationException,
    OrganizationsClientError,
)
from moto.organizations.models import FakeAccount, OrganizationsBackend, organizations_backends
from moto.sts.exceptions import STSValidationError
from moto.sts.models import AssumedRole, sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

# --------------------------------------------------------------------------
# Facts about AWS
# --------------------------------------------------------------------------

# "Regions launched before March 20, 2019 are enabled by default ... Default
# Regions cannot be enabled or disabled. Opt-in Regions - Regions launched after
# March 20, 2019 are disabled by default."
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
DEFAULT_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
})


def _aws_partition_regions() -> list[str]:
    """The regions of the aws partition, as the installed botocore knows them."""
    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    aws = next(p for p in partitions if p["id"] == "aws")
    return sorted(r for r in aws["regions"] if r != "aws-global")


AWS_REGIONS = _aws_partition_regions()
# Every other region of the partition is an opt-in region (af-south-1, ap-east-1,
# ap-east-2, ..., me-west-1, mx-central-1, sa-west-1 with botocore 1.44).
OPT_IN_REGIONS = frozenset(AWS_REGIONS) - DEFAULT_REGIONS

# "AWS Organizations is a global service ... one global endpoint" per partition.
# https://docs.aws.amazon.com/general/latest/gr/ao.html
ORGANIZATIONS_REGION = {
    "aws": "us-east-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-cn": "cn-northwest-1",
}

# SCP quotas since 15 May 2026 (they were 5 and 5,120 before):
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
MAX_SCPS_PER_TARGET = 10
MAX_SCP_CHARACTERS = 10240
SCP = "SERVICE_CONTROL_POLICY"

# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 43200
CHAINED_SESSION_SECONDS = 3600
DEFAULT_SESSION_SECONDS = 3600

ACCOUNT_SERVICE_PRINCIPAL = "account.amazonaws.com"
CLOSED_STATES = ("SUSPENDED", "PENDING_CLOSURE")

# --------------------------------------------------------------------------
# Who signed a request
# --------------------------------------------------------------------------

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Signature:
    """The SigV4 credential scope of a request."""

    access_key: str
    region: str
    service: str
    session_token: str | None


def signature_of(environ: dict[str, Any]) -> Signature | None:
    """The credential scope of the Authorization header, or of the
    X-Amz-Credential of a presigned URL; None for an unsigned request."""
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return Signature(match.group(1), match.group(2), match.group(3), token)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    parts = (query.get("X-Amz-Credential") or [""])[0].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    token = token or (query.get("X-Amz-Security-Token") or [None])[0]
    return Signature(parts[0], parts[2], parts[3], token)


def account_of(access_key: str, moto_account_header: str | None = None) -> str:
    """The account moto serves the key from (moto's own order: the
    x-moto-account-id header, then the IAM backend holding the key)."""
    return moto_account_header or iam_models.get_account_id_from(access_key)


def session_of(access_key: str) -> AssumedRole | None:
    """The sts:AssumeRole session that issued the key, if any."""
    account_id = iam_models.get_account_id_from(access_key)
    if account_id not in sts_backends:
        return None
    for backend in list(sts_backends[account_id].values()):
        session = backend.get_assumed_role_from_access_key(access_key)
        if session is not None:
            return session
    return None


def caller_arn(access_key: str, account_id: str, region: str) -> str:
    """The caller's ARN as sts:GetCallerIdentity reports it."""
    backend = sts_backends[account_id][get_partition(region)]
    return backend.get_caller_identity(access_key, region)[1]


# --------------------------------------------------------------------------
# Organizations lookups shared by the checks
# --------------------------------------------------------------------------


def organization_of(account_id: str) -> OrganizationsBackend | None:
    """The management account's Organizations backend of the organization that
    has `account_id` as its management or member account."""
    if account_id in organizations_backends:
        own = organizations_backends[account_id]["aws"]
        if own.org is not None:
            return own
    # master_accounts survives /moto-api/reset: check the organization still lists it.
    management = organizations_backends.master_accounts.get(account_id)
    if management is None:
        return None
    backend = organizations_backends[management[0]][management[1]]
    if backend.org is None or all(a.id != account_id for a in backend.accounts):
        return None
    return backend


def member_account(account_id: str) -> FakeAccount | None:
    backend = organization_of(account_id)
    if backend is None:
        return None
    return next((a for a in backend.accounts if a.id == account_id), None)


# --------------------------------------------------------------------------
# Error responses, as each protocol shapes them
# --------------------------------------------------------------------------

_CORAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.coral.service/"
_QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

Response = tuple[int, list[tuple[str, str]], bytes]


def protocol_of(service: str, environ: dict[str, Any]) -> str:
    """s3, ec2, query, json or rest-json, from the request itself."""
    if service in ("s3", "ec2"):
        return service
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    content_type = environ.get("CONTENT_TYPE", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if content_type.startswith("application/x-www-form-urlencoded") or "Action" in query:
        return "query"
    return "rest-json"


def query_error_body(code: str, message: str, service: str) -> str:
    """<ErrorResponse> of the query protocol (STS, IAM, ...)."""
    namespace = _QUERY_NAMESPACES.get(service)
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f"<ErrorResponse{xmlns}><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def error_response(
    protocol: str, service: str, code: str, message: str, status: int, method: str = "GET"
) -> Response:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers = [("x-amz-request-id", request_id), ("Content-Type", "application/xml")]
    elif protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}"
            f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "query":
        body = query_error_body(code, message, service)
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "json":
        body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": message})
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    else:  # rest-json: the code travels in x-amzn-ErrorType
        body = json.dumps({"message": message})
        headers += [
            ("x-amzn-ErrorType", f"{code}:{_CORAL_NAMESPACE}"),
            ("Content-Type", "application/json"),
        ]
    payload = b"" if method == "HEAD" else body.encode()
    headers.append(("Content-Length", str(len(payload))))
    return status, headers, payload


# (code, status) per protocol for the two token refusals.
_EXPIRED = {
    "query": ("ExpiredToken", 403),
    "ec2": ("ExpiredToken", 400),
    "json": ("ExpiredTokenException", 400),
    "rest-json": ("ExpiredTokenException", 403),
    "s3": ("ExpiredToken", 400),
}
_EXPIRED_MESSAGE = "The security token included in the request is expired"
_S3_EXPIRED_MESSAGE = "The provided token has expired."

_REGION_DISABLED = {
    "query": ("InvalidClientTokenId", 403),
    "ec2": ("AuthFailure", 401),
    "json": ("UnrecognizedClientException", 400),
    "rest-json": ("UnrecognizedClientException", 403),
}
_INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."


def expired_response(protocol: str, service: str, method: str) -> Response:
    code, status = _EXPIRED[protocol]
    message = _S3_EXPIRED_MESSAGE if protocol == "s3" else _EXPIRED_MESSAGE
    return error_response(protocol, service, code, message, status, method)


def region_disabled_response(
    protocol: str, service: str, method: str, with_session_token: bool
) -> Response:
    if protocol == "s3":
        # S3 does not know the key in a region the account has not enabled.
        if with_session_token:
            return error_response(protocol, service, "InvalidToken",
                                  "The provided token is malformed or otherwise invalid.",
                                  400, method)
        return error_response(protocol, service, "InvalidAccessKeyId",
                              "The AWS Access Key Id you provided does not exist in our "
                              "records.", 403, method)
    code, status = _REGION_DISABLED[protocol]
    message = (
        "AWS was not able to validate the provided access credentials"
        if protocol == "ec2" else _INVALID_TOKEN_MESSAGE
    )
    return error_response(protocol, service, code, message, status, method)


# --------------------------------------------------------------------------
# Opt-in regions (Account Management API)
# --------------------------------------------------------------------------


def _region_records(account_id: str) -> dict[str, tuple[str, float]]:
    """region -> (status, since) for the opt-in regions the account touched."""
    backend = account_backends[account_id]["aws"]
    return backend.__dict__.setdefault("baseline_regions", {})


def region_opt_status(account_id: str, region: str) -> str:
    """ENABLED_BY_DEFAULT, DISABLED, ENABLING, ENABLED or DISABLING."""
    if region not in OPT_IN_REGIONS:
        return "ENABLED_BY_DEFAULT"
    records = _region_records(account_id)
    status, since = records.get(region, ("DISABLED", 0.0))
    # The transition completes once the consistency window has passed.
    if status in ("ENABLING", "DISABLING") and (
        time.time() - since >= emulator_settings.consistency_seconds()
    ):
        status = "ENABLED" if status == "ENABLING" else "DISABLED"
        records[region] = (status, since)
    return status


def region_usable(account_id: str, region: str) -> bool:
    """Whether credentials of the account work in the region."""
    return region not in OPT_IN_REGIONS or region_opt_status(account_id, region) == "ENABLED"


class AccountApiError(ServiceException):
    """An Account Management API error; status and shape come from its model."""


class AccountAccessDenied(AccountApiError):
    code = "AccessDeniedException"


class AccountConflict(AccountApiError):
    code = "ConflictException"


class AccountValidation(AccountApiError):
    code = "ValidationException"

    def __init__(self, message: str, reason: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        if field is not None:
            self.field_list = [{"name": field, "message": message}]


def _target_account(response: AccountResponse, action: str) -> str:
    """The account the call is about: the caller's own, or AccountId when the
    caller may manage that account (AccountId in
    https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html)."""
    caller = response.current_account
    requested = response._get_param("AccountId")
    if not requested:
        return caller
    org = organization_of(caller)

    def deny(reason: str) -> AccountAccessDenied:
        arn = caller_arn(response.get_access_key(), caller, response.region)
        return AccountAccessDenied(
            f"User: {arn} is not authorized to perform: account:{action} ({reason})"
        )

    if org is not None and requested == org.account_id:
        raise deny("The management account can only be managed using the standalone "
                   "context from the management account")
    if requested == caller:
        return caller  # a member account naming itself: its own standalone context
    is_admin = org is not None and any(
        admin.account.id == caller and ACCOUNT_SERVICE_PRINCIPAL in admin.services
        for admin in org.admins
    )
    if org is None or not (caller == org.account_id or is_admin):
        raise deny("Only the management account or a delegated administrator can "
                   "specify an AccountId")
    if not any(s["ServicePrincipal"] == ACCOUNT_SERVICE_PRINCIPAL for s in org.services):
        raise deny("Your organization must first enable trusted access with AWS "
                   "Account Management.")
    if all(a.id != requested for a in org.accounts):
        raise deny(f"Account {requested} is not a member of your organization")
    return requested


def _region_param(response: AccountResponse) -> str:
    region = response._get_param("RegionName") or ""
    if region not in AWS_REGIONS:
        raise AccountValidation(f"Invalid region name: {region}", "fieldValidationFailed",
                                "RegionName")
    return region


def _opt_in_param(response: AccountResponse) -> str:
    region = _region_param(response)
    if region not in OPT_IN_REGIONS:
        raise AccountValidation(
            f"The Region {region} is enabled by default and can't be enabled or disabled.",
            "invalidRegionOptTarget",
        )
    return region


def _page_token(index: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"index": index}).encode()).decode()


def _page_index(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["index"])
    except (ValueError, KeyError, TypeError):
        raise AccountValidation("The NextToken is invalid.", "fieldValidationFailed",
                                "NextToken")


JSON_HEADERS = {"Content-Type": "application/json"}
AccountResult = tuple[int, dict[str, str], str]


def _patch_account_regions() -> None:
    """ListRegions, GetRegionOptStatus, EnableRegion, DisableRegion
    (https://docs.aws.amazon.com/accounts/latest/reference/API_ListRegions.html)."""

    def list_regions(self: AccountResponse) -> AccountResult:
        account_id = _target_account(self, "ListRegions")
        wanted = set(self._get_param("RegionOptStatusContains") or [])
        max_results = self._get_param("MaxResults")
        if max_results is not None and not 1 <= int(max_results) <= 50:
            raise AccountValidation(
                f"1 validation error detected: Value '{max_results}' at 'maxResults' "
                "failed to satisfy constraint: Member must have value between 1 and 50",
                "fieldValidationFailed", "MaxResults",
            )
        regions = [
            {"RegionName": r, "RegionOptStatus": region_opt_status(account_id, r)}
            for r in AWS_REGIONS
        ]
        regions = [r for r in regions if not wanted or r["RegionOptStatus"] in wanted]
        start = _page_index(self._get_param("NextToken"))
        end = len(regions) if max_results is None else start + int(max_results)
        out: dict[str, Any] = {"Regions": regions[start:end]}
        if end < len(regions):
            out["NextToken"] = _page_token(end)
        return 200, JSON_HEADERS, json.dumps(out)

    def get_region_opt_status(self: AccountResponse) -> AccountResult:
        account_id = _target_account(self, "GetRegionOptStatus")
        region = _region_param(self)
        status = region_opt_status(account_id, region)
        return 200, JSON_HEADERS, json.dumps({"RegionName": region, "RegionOptStatus": status})

    def enable_region(self: AccountResponse) -> AccountResult:
        account_id = _target_account(self, "EnableRegion")
        region = _opt_in_param(self)
        status = region_opt_status(account_id, region)
        if status == "DISABLING":
            raise AccountConflict(
                f"Region {region} is being disabled in account {account_id}. Wait until "
                "it is DISABLED, then try again."
            )
        if status == "DISABLED":  # ENABLED and ENABLING stay as they are
            _region_records(account_id)[region] = ("ENABLING", time.time())
        return 200, JSON_HEADERS, ""

    def disable_region(self: AccountResponse) -> AccountResult:
        account_id = _target_account(self, "DisableRegion")
        region = _opt_in_param(self)
        status = region_opt_status(account_id, region)
        if status == "ENABLING":
            raise AccountConflict(
                f"Region {region} is being enabled in account {account_id}. Wait until "
                "it is ENABLED, then try again."
            )
        if status == "ENABLED":  # DISABLED and DISABLING stay as they are
            _region_records(account_id)[region] = ("DISABLING", time.time())
        return 200, JSON_HEADERS, ""

    AccountResponse.list_regions = list_regions
    AccountResponse.get_region_opt_status = get_region_opt_status
    AccountResponse.enable_region = enable_region
    AccountResponse.disable_region = disable_region
    for path in ("listRegions", "getRegionOptStatus", "enableRegion", "disableRegion"):
        account_urls.url_paths["{0}/" + path + "$"] = AccountResponse.dispatch


# --------------------------------------------------------------------------
# STS AssumeRole
# --------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    session: AssumedRole | None

    def principal_names(self) -> set[str]:
        """What a trust policy's Principal.AWS may name to mean this caller."""
        partition = self.arn.split(":")[1]
        names = {"*", self.account_id, f"arn:{partition}:iam::{self.account_id}:root",
                 self.arn}
        if self.session is not None:
            names.add(self.session.role_arn)
        return names


def _statement_matches(statement: dict[str, Any], caller: Caller) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        named = True
    elif isinstance(principal, dict):
        named = bool(caller.principal_names() & {str(p) for p in _as_list(principal.get("AWS"))})
    else:
        named = False
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return named and any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions)


def trust_policy_allows(document: str | dict[str, Any], caller: Caller) -> bool:
    """Whether a role's trust policy lets the caller call sts:AssumeRole.
    Conditions are not evaluated: an Allow with a Condition allows, a Deny with
    one is skipped (the emulator has no request context to test them with)."""
    try:
        policy = json.loads(document) if isinstance(document, str) else document
        statements = _as_list(policy.get("Statement"))
    except (ValueError, AttributeError):
        return False
    matching = [s for s in statements if isinstance(s, dict) and _statement_matches(s, caller)]
    if any(s.get("Effect") == "Deny" and "Condition" not in s for s in matching):
        return False
    return any(s.get("Effect") == "Allow" for s in matching)


def _target_role(role_arn: str) -> Any:
    """The IAM role the ARN names, or None."""
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account_id, partition = parts[4], parts[1]
    if account_id not in iam_models.iam_backends:
        return None
    try:
        return iam_models.iam_backends[account_id][partition].get_role_by_arn(role_arn)
    except Exception:
        return None


def _validate_duration(duration: int | None) -> None:
    if duration is None:
        return
    if duration < MIN_SESSION_SECONDS:
        bound = f"greater than or equal to {MIN_SESSION_SECONDS}"
    elif duration > MAX_SESSION_SECONDS:
        bound = f"less than or equal to {MAX_SESSION_SECONDS}"
    else:
        return
    raise STSValidationError(
        f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed "
        f"to satisfy constraint: Member must have value {bound}"
    )


def _access_denied(caller: Caller, role_arn: str) -> tuple[str, dict[str, Any]]:
    message = (
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    body = query_error_body("AccessDenied", message, "sts")
    return body, {"status": 403, "Content-Type": "text/xml"}


def _patch_sts_assume_role() -> None:
    """AssumeRole: existing role, trusting the caller, in an open account, for a
    valid duration (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)."""
    original = TokenResponse.assume_role

    def assume_role(self: TokenResponse) -> Any:
        role_arn = self._get_param("RoleArn") or ""
        duration = self._get_int_param("DurationSeconds")
        _validate_duration(duration)
        access_key = self.get_access_key()
        caller = Caller(
            self.current_account,
            caller_arn(access_key, self.current_account, self.region),
            session_of(access_key),
        )
        role = _target_role(role_arn)
        account = member_account(role_arn.split(":")[4]) if role is not None else None
        if (
            role is None
            or not trust_policy_allows(role.assume_role_policy_document, caller)
            or (account is not None and account.status in CLOSED_STATES)
        ):
            return _access_denied(caller, role_arn)
        chained = caller.session is not None
        if chained and duration is not None and duration > CHAINED_SESSION_SECONDS:
            raise STSValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        if duration is not None and duration > int(role.max_session_duration or 3600):
            raise STSValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        result = original(self)
        seconds = min(duration or DEFAULT_SESSION_SECONDS, emulator_settings.max_session_seconds())
        result.result["Credentials"].expiration = utcnow() + datetime.timedelta(seconds=seconds)
        return result

    TokenResponse.assume_role = assume_role


# --------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------


def _settle_closure(account: FakeAccount) -> None:
    """PENDING_CLOSURE turns SUSPENDED once the consistency window has passed."""
    fields = account.__dict__
    since = fields.get("baseline_closing_since")
    if (
        fields.get("_baseline_status") == "PENDING_CLOSURE"
        and since is not None
        and time.time() - since >= emulator_settings.consistency_seconds()
    ):
        fields["_baseline_status"] = fields["_baseline_state"] = "SUSPENDED"


def _settled_field(name: str) -> property:
    key = f"_baseline_{name}"

    def get(self: FakeAccount) -> str:
        _settle_closure(self)
        return self.__dict__[key]

    def set_(self: FakeAccount, value: str) -> None:
        self.__dict__[key] = value

    return property(get, set_)


class OrgConflict(OrganizationsClientError):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def _patch_org_close_account() -> None:
    """CloseAccount is asynchronous: PENDING_CLOSURE, then SUSPENDED
    (https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html)."""
    # Every reader of Status/State (DescribeAccount, ListAccounts,
    # ListAccountsForParent, the AssumeRole check) sees the settled value.
    FakeAccount.status = _settled_field("status")
    FakeAccount.state = _settled_field("state")

    def close(self: FakeAccount) -> None:
        if self.status == "SUSPENDED":
            raise AccountAlreadyClosedException
        if self.status == "PENDING_CLOSURE":
            raise OrgConflict(f"The account {self.id} is already being closed.")
        self.status = self.state = "PENDING_CLOSURE"
        self.baseline_closing_since = time.time()

    FakeAccount.close = close


def _constraint_violation(reason: str, message: str) -> ConstraintViolationException:
    error = ConstraintViolationException(message)
    error.reason = reason  # serialized as the shape's Reason member
    return error


def _policy_target(backend: OrganizationsBackend, target_id: str) -> Any:
    return next((t for t in [*backend.ou, *backend.accounts] if t.id == target_id), None)


def _patch_org_scp_quotas() -> None:
    """At most MAX_SCPS_PER_TARGET SCPs per root/OU/account, at most
    MAX_SCP_CHARACTERS per SCP (orgs_reference_limits.html)."""
    original_attach = OrganizationsBackend.attach_policy
    original_create = OrganizationsBackend.create_policy
    original_update = OrganizationsBackend.update_policy

    def attach_policy(self: OrganizationsBackend, **kwargs: Any) -> None:
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        target = _policy_target(self, kwargs.get("TargetId", ""))
        if policy.type == SCP and target is not None and policy not in target.attached_policies:
            attached = sum(1 for p in target.attached_policies if p.type == SCP)
            if attached >= MAX_SCPS_PER_TARGET:
                raise _constraint_violation(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You have attached the maximum number of policies to the specified target.",
                )
        original_attach(self, **kwargs)

    def check_size(policy_type: str, content: str | None) -> None:
        if policy_type == SCP and content is not None and len(content) > MAX_SCP_CHARACTERS:
            raise _constraint_violation(
                "POLICY_CONTENT_LIMIT_EXCEEDED", "You have exceeded the maximum policy size."
            )

    def create_policy(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
        check_size(kwargs.get("Type", ""), kwargs.get("Content"))
        return original_create(self, **kwargs)

    def update_policy(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        check_size(policy.type, kwargs.get("Content"))
        return original_update(self, **kwargs)

    OrganizationsBackend.attach_policy = attach_policy
    OrganizationsBackend.create_policy = create_policy
    OrganizationsBackend.update_policy = update_policy


# --------------------------------------------------------------------------
# Request checks
# --------------------------------------------------------------------------


def _organizations_region_refusal(sig: Signature, protocol: str, method: str) -> Response | None:
    expected = ORGANIZATIONS_REGION.get(get_partition(sig.region))
    if sig.service != "organizations" or expected is None or sig.region == expected:
        return None
    return error_response(protocol, sig.service, "InvalidSignatureException",
                          f"Credential should be scoped to a valid region, not '{sig.region}'. ",
                          400, method)


def refusal(environ: dict[str, Any]) -> Response | None:
    """AWS's answer to a request it refuses before any service sees it, or None."""
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return None
    sig = signature_of(environ)
    if sig is None:
        return None
    protocol = protocol_of(sig.service, environ)
    method = environ.get("REQUEST_METHOD", "GET")
    checks: list[Callable[[], Response | None]] = [
        lambda: _organizations_region_refusal(sig, protocol, method),
        lambda: _disabled_region_refusal(sig, environ, protocol, method),
        lambda: _expired_refusal(sig, protocol, method),
    ]
    return next((r for r in (check() for check in checks) if r is not None), None)


def _disabled_region_refusal(
    sig: Signature, environ: dict[str, Any], protocol: str, method: str
) -> Response | None:
    if sig.region not in OPT_IN_REGIONS:
        return None
    account_id = account_of(sig.access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
    if region_usable(account_id, sig.region):
        return None
    return region_disabled_response(protocol, sig.service, method, bool(sig.session_token))


def _expired_refusal(sig: Signature, protocol: str, method: str) -> Response | None:
    session = session_of(sig.access_key)
    if session is None or utcnow() < session.expiration:
        return None
    return expired_response(protocol, sig.service, method)


def wrap_wsgi(app):  # type: ignore[no-untyped-def]
    """Wrap moto's WSGI application with the checks AWS makes on every request
    (called by server.py). Returns the app to serve."""

    def strict_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        refused = refusal(environ)
        if refused is None:
            return app(environ, start_response)
        status, headers, body = refused
        start_response(f"{status} {http.HTTPStatus(status).phrase}", headers)
        return [body]

    return strict_app


def _patch_org_access_role_partition() -> None:
    """CreateAccount makes the access role in the organization's own partition.

    moto creates it in the `aws` partition's IAM, trusting `arn:aws:iam::<mgmt>:root`,
    whatever the organization's partition; in AWS China or GovCloud the role lives in that
    partition and trusts that partition's management account, so it could not be assumed
    there (AccessDenied)."""
    original = FakeAccount.__init__

    def __init__(self: FakeAccount, organization: Any, **kwargs: Any) -> None:
        original(self, organization, **kwargs)
        partition = get_partition(self.region)
        if partition == "aws":
            return
        role_name = kwargs.get("RoleName", "OrganizationAccountAccessRole")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{self.master_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = iam_models.iam_backends[self.id][partition]
        try:
            iam.create_role(
                role_name=role_name,
                assume_role_policy_document=json.dumps(trust),
                path="/",
                permissions_boundary=None,
                description="",
                tags=[],
                max_session_duration="3600",
            )
        except Exception:  # already there (a second organization backend, say)
            pass

    FakeAccount.__init__ = __init__


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""
    _patch_org_access_role_partition()
    _patch_account_regions()
    _patch_sts_assume_role()
    _patch_org_close_account()
    _patch_org_scp_quotas()
