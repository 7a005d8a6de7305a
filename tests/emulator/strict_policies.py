"""Strict behaviour of the emulator (issue 10): resource policies, ownership,
and settings AWS refuses. See also baseline_moto_ext and
tests/emulator/README.md ("Strict behaviours").

Each behaviour cites the AWS page it follows.

 1. IAM condition evaluator (evaluate_policy / policy_allows): Allow/Deny
    statements with Principal/NotPrincipal, Action/NotAction,
    Resource/NotResource and the condition operators String*, Arn*, Bool,
    Null, the ...IfExists suffix and the ForAnyValue:/ForAllValues:
    qualifiers; keys ANDed, values ORed (NOR for negated operators), condition
    keys case-insensitive, a missing key false for positive operators and true
    for negated ones (IfExists: true); an explicit Deny wins. Service principals
    carry aws:PrincipalIsAWSService = true, callers false.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    Every service-principal check below uses it. CloudTrail's bucket check
    (baseline_moto_ext's condition-less one is switched off) now evaluates
    conditions with aws:SourceArn = the trail ARN, aws:SourceAccount,
    aws:SourceOrgID and s3:x-amz-acl = bucket-owner-full-control; an
    organization trail also needs AWSLogs/<org-id>/<account>/.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
 2. cloudtrail  Create/UpdateTrail with KmsKeyId: the key (alias, id or ARN,
    any account) is resolved through KmsBackend.describe_key of its account and
    region; missing or in another region than the bucket ->
    KmsKeyNotFoundException; not Enabled -> KmsException (KmsKeyDisabledException
    is "no longer in use"); a key policy that does not let
    cloudtrail.amazonaws.com call kms:GenerateDataKey* (encryption context
    aws:cloudtrail:arn = the trail ARN) and kms:DescribeKey -- and kms:Decrypt
    when the bucket uses an S3 Bucket Key -> InsufficientEncryptionPolicyException.
    The trail reports KmsKeyId as the key ARN.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
 3. cloudtrail  IsOrganizationTrail=true: not in an organization ->
    OrganizationsNotInUseException; neither the management account nor the
    CloudTrail delegated administrator -> NotOrganizationMasterAccountException;
    feature set not ALL -> OrganizationNotInAllFeaturesModeException; trusted
    access for cloudtrail.amazonaws.com off -> CloudTrailAccessNotEnabledException.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-an-organizational-trail-prepare.html
 4. config  PutDeliveryChannel: unknown bucket -> NoSuchBucketException; a
    bucket policy that does not let config.amazonaws.com call s3:GetBucketAcl
    and s3:PutObject on [prefix/]AWSLogs/<account>/Config/* (aws:SourceAccount,
    aws:SourceArn arn:aws:config:<region>:<account>:*, s3:x-amz-acl, and
    aws:SourceOrgID for an account of an organization; never aws:PrincipalOrgID,
    Config's principal is in no organization) -> InsufficientDeliveryPolicyException. A custom recorder role writes
    to a bucket of its own account without a bucket policy, and to another
    account's bucket if that bucket policy grants the role.
    https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
    (PutConfigurationRecorder with an empty recording group already gives
    InvalidRecordingGroupException in moto; the tests pin it.)
 5. s3/kms  PutBucketPolicy: not JSON, a Resource outside the bucket (another
    bucket, another partition, "*") -> MalformedPolicy "Policy has invalid
    resource"; a principal ARN of another partition -> MalformedPolicy
    "Invalid principal in policy"; a policy over 20 KB (20,480 bytes without
    whitespace) -> MalformedPolicy "Policy exceeds the maximum allowed document
    size." kms CreateKey/PutKeyPolicy: over 32,768 characters -> ValidationException
    (the API's length constraint); not JSON, a
    statement without a principal, a principal ARN of another partition, or
    (unless BypassPolicyLockoutSafetyCheck) a policy that does not let the
    caller call kms:PutKeyPolicy -> MalformedPolicyDocumentException.
    https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 6. s3  Bucket-level reads and writes (HeadBucket, GetBucketLocation,
    ListObjects, policy, encryption, versioning, tagging, public access block,
    ...) by an account that does not own the bucket -> 403 AccessDenied
    (HeadBucket: a bare 403) unless the bucket policy allows that principal the
    action; Get/Put/DeleteBucketPolicy from another account -> 405
    MethodNotAllowed even when allowed. (CreateBucket of a taken name was
    already AWS-like in moto: BucketAlreadyExists / BucketAlreadyOwnedByYou,
    200 in us-east-1.)
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
 7. iam  ListOrganizationsFeatures, Enable/DisableOrganizationsRootCredentialsManagement,
    Enable/DisableOrganizationsRootSessions (moto: missing). Organization
    required, all features, trusted access for iam.amazonaws.com, management
    account (or IAM delegated administrator for List/Disable).
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableOrganizationsRootCredentialsManagement.html
 8. securityhub  BatchImportFindings: a finding whose ProductArn is not
    arn:<partition>:securityhub:<region>:<caller>:product/<caller>/default or
    whose AwsAccountId is not the caller's account -> AccessDeniedException
    (403) for the request.
    https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
 9. iam  CreateRole / UpdateAssumeRolePolicy: an AWS principal in the trust
    policy that IAM cannot resolve -> MalformedPolicyDocument "Invalid principal
    in policy: "AWS":"<arn>"". An account id and an account's root ARN
    resolve; a role or user ARN must name an existing role or user (IAM stores
    the principal's unique id, so it must exist when the policy is written).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from moto.cloudtrail.exceptions import S3BucketDoesNotExistException
from moto.cloudtrail.models import CloudTrailBackend, Trail
from moto.config.models import ConfigBackend
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.iam import exceptions as iam_exceptions
from moto.iam import models as iam_models
from moto.iam.responses import IamResponse
from moto.kms.responses import KmsResponse
from moto.organizations.models import (
    FakeDelegatedAdministrator,
    FakeOrganization,
    FakeServiceAccess,
    OrganizationsBackend,
    organizations_backends,
)
from moto.s3.exceptions import S3ClientError
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.responses import SecurityHubResponse
from moto.utilities.utils import get_partition

_APPLIED = False

# --------------------------------------------------------------------------
# 1. IAM policy evaluation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a service principal, or an account and the ARNs
    that name the caller (session, role or user ARN)."""

    service: str | None = None
    account: str | None = None
    arns: tuple[str, ...] = ()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=512)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards are * and ? only ([] is literal, unlike fnmatch).
    body = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob_regex(str(pattern), ignore_case).fullmatch(str(value)) is not None


def _arn_match(pattern: str, value: str) -> bool:
    """ArnLike / ArnEquals: each of the six colon-separated parts is compared
    on its own, with wildcards."""
    wanted, actual = str(pattern).split(":", 5), str(value).split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(glob_match(w, a) for w, a in zip(wanted, actual))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# base operator -> (does a context value match a policy value, negated?)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda c, p: c == p, False),
    "StringNotEquals": (lambda c, p: c == p, True),
    "StringEqualsIgnoreCase": (lambda c, p: c.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda c, p: c.lower() == p.lower(), True),
    "StringLike": (lambda c, p: glob_match(p, c), False),
    "StringNotLike": (lambda c, p: glob_match(p, c), True),
    "ArnEquals": (lambda c, p: _arn_match(p, c), False),
    "ArnLike": (lambda c, p: _arn_match(p, c), False),
    "ArnNotEquals": (lambda c, p: _arn_match(p, c), True),
    "ArnNotLike": (lambda c, p: _arn_match(p, c), True),
    "Bool": (lambda c, p: c.lower() == p.lower(), False),
}


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, Any]) -> bool:
    """One operator/key pair of a Condition block against the request context."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    present = key.lower() in context
    actual = [_text(v) for v in _as_list(context.get(key.lower()))]
    policy_values = [_text(v) for v in _as_list(wanted)]
    if base == "Null":
        # "true": the key must be absent; "false": it must be present.
        return any((v.lower() == "true") != present for v in policy_values)
    if base not in _OPERATORS:
        return False  # an operator the emulator does not know never matches
    matcher, negated = _OPERATORS[base]
    if not present:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        return negated and qualifier != "ForAnyValue"

    def value_ok(value: str) -> bool:
        hit = any(matcher(value, p) for p in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(value_ok(v) for v in actual)
    if qualifier == "ForAnyValue":
        return any(value_ok(v) for v in actual)
    if negated:  # NOR over the policy values, for every context value
        return all(value_ok(v) for v in actual)
    return any(value_ok(v) for v in actual)


def conditions_hold(condition: Any, context: dict[str, Any]) -> bool:
    """A statement's Condition block: operators ANDed, keys ANDed."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    lowered = {str(k).lower(): v for k, v in context.items()}
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            return False
        for key, wanted in pairs.items():
            if not _condition_holds(str(operator), str(key), wanted, lowered):
                return False
    return True


def _principal_entry_matches(kind: str, entry: Any, who: Principal) -> bool:
    entry = str(entry)
    if kind == "Service":
        return who.service is not None and entry.lower() == who.service.lower()
    if kind != "AWS" or who.account is None:
        return False
    if entry == "*" or entry == who.account:
        return True
    if entry in who.arns:
        return True
    # arn:<partition>:iam::<account>:root stands for the whole account.
    parts = entry.split(":")
    return len(parts) == 6 and parts[2] == "iam" and parts[4] == who.account and parts[5] == "root"


def principal_matches(spec: Any, who: Principal) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    if "*" in _as_list(spec.get("AWS")):
        return True  # {"AWS": "*"} is everyone, services included
    return any(
        _principal_entry_matches(kind, entry, who)
        for kind, entries in spec.items()
        for entry in _as_list(entries)
    )


def _statement_applies(
    st: dict[str, Any], who: Principal, action: str, resource: str, context: dict[str, Any]
) -> bool:
    if "Principal" in st and not principal_matches(st["Principal"], who):
        return False
    if "NotPrincipal" in st and principal_matches(st["NotPrincipal"], who):
        return False
    if "Action" in st:
        if not any(glob_match(a, action, True) for a in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(glob_match(a, action, True) for a in _as_list(st["NotAction"])):
            return False
    if "Resource" in st:
        if not any(glob_match(r, resource) for r in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(glob_match(r, resource) for r in _as_list(st["NotResource"])):
            return False
    return conditions_hold(st.get("Condition"), context)


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, bytes):
        policy = policy.decode("utf-8", "replace")
    if isinstance(policy, str):
        try:
            policy = json.loads(policy) if policy.strip() else {}
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    return [st for st in _as_list(policy.get("Statement")) if isinstance(st, dict)]


def evaluate_policy(
    policy: Any, who: Principal, action: str, resource: str, context: dict[str, Any]
) -> str:
    """"Deny" if a Deny statement applies, else "Allow" if an Allow statement
    applies, else "NotAllowed" (AWS's implicit deny)."""
    decision = "NotAllowed"
    for st in _statements(policy):
        if not _statement_applies(st, who, action, resource, context):
            continue
        if st.get("Effect") == "Deny":
            return "Deny"
        if st.get("Effect") == "Allow":
            decision = "Allow"
    return decision


def policy_allows(
    policy: Any, who: Principal, action: str, resource: str, context: dict[str, Any]
) -> bool:
    return evaluate_policy(policy, who, action, resource, context) == "Allow"


# --------------------------------------------------------------------------
# Shared look-ups: organizations, callers, buckets
# --------------------------------------------------------------------------


def _org_backend_of(account: str, partition: str) -> OrganizationsBackend | None:
    """The management account's Organizations backend for an account's
    organization, or None when the account is in none."""
    own = organizations_backends[account][partition]
    if own.org is not None:
        return own
    if account in organizations_backends.master_accounts:
        manager, part = organizations_backends.master_accounts[account]
        backend = organizations_backends[manager][part]
        if backend.org is not None:
            return backend
    return None


def _organization_of(account: str, partition: str) -> FakeOrganization | None:
    backend = _org_backend_of(account, partition)
    return backend.org if backend else None


def _trusted_access(backend: OrganizationsBackend, service: str) -> bool:
    return any(s.get("ServicePrincipal") == service for s in backend.services)


def _delegated_admin(backend: OrganizationsBackend, account: str, service: str) -> bool:
    return any(a.account.id == account and service in a.services for a in backend.admins)


@dataclass(frozen=True)
class Caller:
    """The principal behind a request, as AWS's policy evaluation sees it."""

    account: str
    partition: str
    arn: str  # the session (or user) ARN, used in error messages
    principal_arn: str  # aws:PrincipalArn: the role ARN for a role session
    kind: str  # aws:PrincipalType

    def principal(self) -> Principal:
        return Principal(account=self.account, arns=(self.arn, self.principal_arn))

    def context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "aws:PrincipalArn": self.principal_arn,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": self.kind,
            "aws:PrincipalIsAWSService": "false",
            # The SDKs talk TLS to AWS; policies that deny plain HTTP must not
            # lock the emulator's HTTP callers out.
            "aws:SecureTransport": "true",
        }
        org = _organization_of(self.account, self.partition)
        if org is not None:
            ctx["aws:PrincipalOrgID"] = org.id
        return ctx


def caller_of(response: BaseResponse) -> Caller:
    from moto.sts.models import sts_backends

    access_key = response.get_access_key()
    account = response.current_account
    partition = get_partition(response.region)
    for per_account in list(sts_backends.values()):
        for backend in list(per_account.values()):
            role = backend.get_assumed_role_from_access_key(access_key)
            if role is not None:
                return Caller(role.account_id, partition, role.arn, role.role_arn, "AssumedRole")
    user = iam_models.iam_backends[account][partition].get_user_from_access_key_id(access_key)
    if user is not None:
        return Caller(account, partition, user.arn, user.arn, "User")
    root = f"arn:{partition}:iam::{account}:root"
    return Caller(account, partition, root, root, "Account")


def service_context(service: str) -> dict[str, Any]:
    """Keys every request of an AWS service principal carries (so the usual
    "deny outside the organization unless aws:PrincipalIsAWSService" bucket
    statement lets services through, as in AWS)."""
    return {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": service}


def _bucket(name: str) -> Any:
    """The bucket called `name`, whoever owns it (names are global), or None."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(name)


def _bucket_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:s3:::{name}"


# --------------------------------------------------------------------------
# 1./3. CloudTrail: bucket policy with conditions, organization trails
# --------------------------------------------------------------------------

_CLOUDTRAIL = Principal(service="cloudtrail.amazonaws.com")
_OWNER_FULL_CONTROL = {"s3:x-amz-acl": "bucket-owner-full-control"}


@dataclass
class TrailTarget:
    """What CloudTrail writes to, and as which trail."""

    account: str
    region: str
    arn: str
    bucket_name: str
    prefix: str | None
    is_org: bool
    partition: str = field(init=False)

    def __post_init__(self) -> None:
        self.partition = get_partition(self.region)

    def source_context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            **service_context("cloudtrail.amazonaws.com"),
            "aws:SourceArn": self.arn,
            "aws:SourceAccount": self.account,
        }
        org = _organization_of(self.account, self.partition)
        if org is not None:
            ctx["aws:SourceOrgID"] = org.id
        return ctx

    def log_objects(self) -> list[str]:
        """Objects CloudTrail delivers (organization trails also write under
        AWSLogs/<org-id>/<account>/)."""
        folder = f"{self.prefix}/" if self.prefix else ""
        base = f"{_bucket_arn(self.partition, self.bucket_name)}/{folder}AWSLogs"
        name = f"CloudTrail/{self.region}/2024/01/01/{self.account}_CloudTrail_{self.region}_20240101T0000Z_emulator.json.gz"
        objects = [f"{base}/{self.account}/{name}"]
        org = _organization_of(self.account, self.partition)
        if self.is_org and org is not None:
            objects.append(f"{base}/{org.id}/{self.account}/{name}")
        return objects


def _require_trail_bucket(target: TrailTarget) -> Any:
    bucket = _bucket(target.bucket_name)
    if bucket is None:
        raise S3BucketDoesNotExistException(f"S3 bucket {target.bucket_name} does not exist!")
    ctx = target.source_context()
    allowed = policy_allows(
        bucket.policy, _CLOUDTRAIL, "s3:GetBucketAcl",
        _bucket_arn(target.partition, target.bucket_name), ctx,
    ) and all(
        policy_allows(bucket.policy, _CLOUDTRAIL, "s3:PutObject", obj, {**ctx, **_OWNER_FULL_CONTROL})
        for obj in target.log_objects()
    )
    if not allowed:
        raise JsonRESTError(
            "InsufficientS3BucketPolicyException",
            f"Incorrect S3 bucket policy is detected for bucket: {target.bucket_name}",
        )
    return bucket


def _require_org_trail_allowed(account: str, partition: str) -> None:
    backend = _org_backend_of(account, partition)
    if backend is None or backend.org is None:
        raise JsonRESTError(
            "OrganizationsNotInUseException",
            "This request was made from an account that is not a member of an organization.",
        )
    service = "cloudtrail.amazonaws.com"
    if account != backend.org.master_account_id and not _delegated_admin(backend, account, service):
        raise JsonRESTError(
            "NotOrganizationMasterAccountException",
            f"The account {account} is neither the management account nor a delegated "
            "administrator of its organization; only they can create or update an "
            "organization trail.",
        )
    if backend.org.feature_set != "ALL":
        raise JsonRESTError(
            "OrganizationNotInAllFeaturesModeException",
            "All features must be enabled in AWS Organizations to create an organization trail.",
        )
    if not _trusted_access(backend, service):
        raise JsonRESTError(
            "CloudTrailAccessNotEnabledException",
            "Trusted access for cloudtrail.amazonaws.com is not enabled in AWS Organizations.",
        )


# --------------------------------------------------------------------------
# 2. CloudTrail: a usable KMS key
# --------------------------------------------------------------------------


def _kms_location(key_ref: str, account: str, region: str) -> tuple[str, str, str]:
    """(account, region, id for describe_key) of a CloudTrail KmsKeyId."""
    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith(("key/", "alias/")):
            raise JsonRESTError(
                "InvalidKmsKeyIdException", f"Invalid KmsKeyId {key_ref}: not a KMS key or alias ARN."
            )
        return parts[4], parts[3], key_ref
    return account, region, key_ref


def _resolve_kms_key(key_ref: str, account: str, region: str) -> Any:
    """The key through the KMS backend's own look-up (so the KMS backend's own
    patches, e.g. a new key not found for a moment, apply to CloudTrail too)."""
    from moto.kms.models import kms_backends

    key_account, key_region, ident = _kms_location(key_ref, account, region)
    try:
        return kms_backends[key_account][key_region].describe_key(ident)
    except Exception:
        raise JsonRESTError(
            "KmsKeyNotFoundException", f"KMS key {key_ref} does not exist in {key_region}."
        )


def _bucket_key_enabled(bucket: Any) -> bool:
    rules = _as_list((getattr(bucket, "encryption", None) or {}).get("Rule"))
    return any(
        isinstance(rule, dict)
        and str(rule.get("BucketKeyEnabled", "")).lower() == "true"
        and str((rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "")).startswith("aws:kms")
        for rule in rules
    )


def _require_trail_kms_key(target: TrailTarget, key_ref: str, bucket: Any) -> Any:
    key = _resolve_kms_key(key_ref, target.account, target.region)
    if key.region != bucket.region_name:
        raise JsonRESTError(
            "KmsKeyNotFoundException",
            f"KMS key {key.arn} is not in the region of bucket {target.bucket_name} ({bucket.region_name}).",
        )
    if key.key_state != "Enabled":
        raise JsonRESTError("KmsException", f"KMS key {key.arn} is {key.key_state}.")
    source = target.source_context()
    encrypt = {
        **source,
        "kms:EncryptionContext:aws:cloudtrail:arn": target.arn,
        "kms:EncryptionContextKeys": ["aws:cloudtrail:arn"],
    }
    needed = [("kms:GenerateDataKey", encrypt), ("kms:DescribeKey", source)]
    if _bucket_key_enabled(bucket):
        needed.append(("kms:Decrypt", encrypt))
    if not all(policy_allows(key.policy, _CLOUDTRAIL, action, key.arn, ctx) for action, ctx in needed):
        raise JsonRESTError(
            "InsufficientEncryptionPolicyException",
            f"Insufficient permissions to access S3 bucket {target.bucket_name} or KMS key {key.arn}.",
        )
    return key


def _patch_cloudtrail() -> None:
    """Create/UpdateTrail: organization trails, bucket policy with conditions,
    KMS key. Wraps whatever check_bucket_exists / update_trail are in place."""
    import baseline_moto_ext

    # The extension's condition-less bucket check is replaced by the one here;
    # its wrappers (bucket existence) stay.
    baseline_moto_ext._require_trail_bucket_policy = lambda *args, **kwargs: None
    current_check = Trail.check_bucket_exists
    current_update = CloudTrailBackend.update_trail

    def check_bucket_exists(self: Trail) -> None:
        if self.is_org_trail:
            _require_org_trail_allowed(self.account_id, self.partition)
        current_check(self)
        target = TrailTarget(
            self.account_id, self.region_name, self.arn, self.bucket_name,
            self.s3_key_prefix, bool(self.is_org_trail),
        )
        bucket = _require_trail_bucket(target)
        if self.kms_key_id:
            self.kms_key_id = _require_trail_kms_key(target, self.kms_key_id, bucket).arn

    def update_trail(self: CloudTrailBackend, name: str, **kwargs: Any) -> Trail:
        trail = self.get_trail(name)
        is_org = kwargs.get("is_organization_trail")
        if is_org or (is_org is not None and trail.is_org_trail):
            _require_org_trail_allowed(trail.account_id, trail.partition)
        bucket_name, prefix = kwargs.get("s3_bucket_name"), kwargs.get("s3_key_prefix")
        kms = kwargs.get("kms_key_id")
        target = TrailTarget(
            trail.account_id, trail.region_name, trail.arn,
            trail.bucket_name if bucket_name is None else bucket_name,
            trail.s3_key_prefix if prefix is None else prefix,
            bool(trail.is_org_trail if is_org is None else is_org),
        )
        key = None
        if bucket_name is not None or prefix is not None or is_org or kms:
            bucket = _require_trail_bucket(target)
            key_ref = kms or (trail.kms_key_id if bucket_name is not None else None)
            if key_ref:
                key = _require_trail_kms_key(target, key_ref, bucket)
        if key is not None and kms:
            kwargs["kms_key_id"] = key.arn
        return current_update(self, name=name, **kwargs)

    Trail.check_bucket_exists = check_bucket_exists
    CloudTrailBackend.update_trail = update_trail


# --------------------------------------------------------------------------
# 4. AWS Config delivery channel
# --------------------------------------------------------------------------

_CONFIG = Principal(service="config.amazonaws.com")
# The Config developer guide ("Permissions for the Amazon S3 Bucket") notes that when
# Config delivers as its service principal "the service won't work with organization
# ID or organization units based conditions": Config's principal belongs to no
# organization, so aws:PrincipalOrgID never matches it. aws:SourceOrgID is another
# key: IAM puts it in the request context of every service-principal call made on
# behalf of a resource of an account in an organization ("AWS global condition
# context keys", aws:SourceOrgID), which is what lets one bucket policy serve
# thousands of accounts within S3's 20 KB.
_CONFIG_SENDS_ORG_ID = True


# router.py runs the accounts in several processes, and the organization lives in process
# 0 only: it tells each other process which organization an account it owns belongs to
# (POST MEMBER_PATH {"account": ..., "organization": ...}), for the checks that need only
# that organization's id. A reset forgets them.
MEMBER_PATH = "/_baseline/organization-member"
_ROUTED_MEMBERS: dict[str, str] = {}


def wrap_wsgi(app):  # type: ignore[no-untyped-def]
    """Serve MEMBER_PATH (called by server.py); everything else goes to `app`."""

    def member_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == MEMBER_PATH and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            _ROUTED_MEMBERS[str(body["account"])] = str(body["organization"])
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path.startswith("/moto-api/reset"):
            _ROUTED_MEMBERS.clear()
        return app(environ, start_response)

    return member_app


def _source_org_id(account: str, partition: str) -> str | None:
    """aws:SourceOrgID of a service acting for `account`: its organization's id."""
    org = _organization_of(account, partition)
    return org.id if org is not None else _ROUTED_MEMBERS.get(account)


def _insufficient_delivery(bucket: str, what: str) -> JsonRESTError:
    return JsonRESTError(
        "InsufficientDeliveryPolicyException", f"Insufficient delivery policy to s3 bucket: {bucket}, {what}"
    )


def _role_may_deliver(policy: Any, role_arn: str, bucket_arn: str, obj: str) -> bool:
    """Config first writes as the recorder's role: a bucket in another account
    must grant that role (the role's own IAM policy is not evaluated)."""
    parts = role_arn.split(":")
    if len(parts) < 6:
        return False
    role_account = parts[4]
    who = Principal(account=role_account, arns=(role_arn,))
    ctx: dict[str, Any] = {
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": role_account,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalIsAWSService": "false",
        "aws:SecureTransport": "true",
    }
    org = _organization_of(role_account, parts[1])
    if org is not None:
        ctx["aws:PrincipalOrgID"] = org.id
    return policy_allows(policy, who, "s3:GetBucketAcl", bucket_arn, ctx) and policy_allows(
        policy, who, "s3:PutObject", obj, {**ctx, **_OWNER_FULL_CONTROL}
    )


def _require_config_delivery(backend: ConfigBackend, channel: dict[str, Any]) -> None:
    name = channel["s3BucketName"]
    bucket = _bucket(name)
    if bucket is None:
        raise JsonRESTError("NoSuchBucketException", f"Cannot find a S3 bucket with name {name}.")
    account, region = backend.account_id, backend.region_name
    partition = get_partition(region)
    prefix = channel.get("s3KeyPrefix")
    folder = f"{prefix}/" if prefix else ""
    bucket_arn = _bucket_arn(partition, name)
    obj = f"{bucket_arn}/{folder}AWSLogs/{account}/Config/ConfigWritabilityCheckFile"
    role_arn = next(iter(backend.recorders.values())).role_arn or ""
    service_linked = ":role/aws-service-role/" in role_arn
    if role_arn and not service_linked:
        if bucket.account_id == account:
            return  # the recorder's role writes to its own account's bucket
        if _role_may_deliver(bucket.policy, role_arn, bucket_arn, obj):
            return
    # The service-linked role cannot write to S3: Config writes as its service
    # principal (aws:SourceOrgID, but no aws:PrincipalOrgID: see _CONFIG_SENDS_ORG_ID).
    ctx = {
        **service_context("config.amazonaws.com"),
        "aws:SourceAccount": account,
        "aws:SourceArn": f"arn:{partition}:config:{region}:{account}:*",
    }
    org_id = _source_org_id(account, partition) if _CONFIG_SENDS_ORG_ID else None
    if org_id is not None:
        ctx["aws:SourceOrgID"] = org_id
    if not policy_allows(bucket.policy, _CONFIG, "s3:GetBucketAcl", bucket_arn, ctx):
        raise _insufficient_delivery(name, "unable to get s3 bucket acl.")
    if not policy_allows(bucket.policy, _CONFIG, "s3:PutObject", obj, {**ctx, **_OWNER_FULL_CONTROL}):
        raise _insufficient_delivery(
            name,
            f"unable to write to bucket, provided s3 key prefix is '{prefix or 'null'}', "
            f"provided kms key is '{channel.get('s3KmsKeyArn') or 'null'}'.",
        )


def _patch_config_delivery_channel() -> None:
    current = ConfigBackend.put_delivery_channel

    def put_delivery_channel(self: ConfigBackend, delivery_channel: dict[str, Any]) -> None:
        # moto's own checks (a recorder exists, a bucket name is given) first.
        if self.recorders and delivery_channel.get("s3BucketName"):
            _require_config_delivery(self, delivery_channel)
        current(self, delivery_channel)

    ConfigBackend.put_delivery_channel = put_delivery_channel


# --------------------------------------------------------------------------
# 5. Policies checked when written (S3 bucket policies, KMS key policies)
# --------------------------------------------------------------------------


def _parse_policy(text: Any) -> dict[str, Any] | None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        doc = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _principal_arns(spec: Any) -> Iterable[str]:
    if isinstance(spec, dict):
        for entry in _as_list(spec.get("AWS")):
            yield str(entry)


def _foreign_partition_principal(doc: dict[str, Any], partition: str) -> bool:
    for st in _statements(doc):
        for arn in list(_principal_arns(st.get("Principal"))) + list(_principal_arns(st.get("NotPrincipal"))):
            if arn.startswith("arn:") and arn.split(":")[1] != partition:
                return True
    return False


def _bucket_resource_ok(resource: str, partition: str, bucket: str) -> bool:
    prefix = f"arn:{partition}:s3:::"
    if not resource.startswith(prefix):
        return False  # "*", another service, another partition
    name = resource[len(prefix):].split("/", 1)[0]
    return glob_match(name, bucket)


def _malformed_policy(message: str) -> S3ClientError:
    return S3ClientError("MalformedPolicy", message)


# S3's limit on a bucket policy ("Bucket policies are limited to 20 KB in size",
# Amazon S3 user guide, "Adding a bucket policy"), counted as S3 stores the policy:
# without the whitespace between JSON tokens.
BUCKET_POLICY_MAX_BYTES = 20 * 1024
# KMS's limit on a key policy: the Policy parameter's length constraint (1-32,768) in
# CreateKey and PutKeyPolicy.
KEY_POLICY_MAX_CHARS = 32768


def _check_bucket_policy(bucket_name: str, partition: str, policy: Any) -> None:
    doc = _parse_policy(policy)
    if doc is None:
        raise _malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    if len(json.dumps(doc, separators=(",", ":")).encode()) > BUCKET_POLICY_MAX_BYTES:
        raise _malformed_policy("Policy exceeds the maximum allowed document size.")
    for st in _statements(doc):
        for resource in _as_list(st.get("Resource")) + _as_list(st.get("NotResource")):
            if not _bucket_resource_ok(str(resource), partition, bucket_name):
                raise _malformed_policy("Policy has invalid resource")
    if _foreign_partition_principal(doc, partition):
        raise _malformed_policy("Invalid principal in policy")


def _patch_s3_put_bucket_policy() -> None:
    current = S3Backend.put_bucket_policy

    def put_bucket_policy(self: S3Backend, bucket_name: str, policy: bytes) -> None:
        bucket = self.get_bucket(bucket_name)
        _check_bucket_policy(bucket_name, bucket.partition, policy)
        current(self, bucket_name, policy)

    S3Backend.put_bucket_policy = put_bucket_policy


def _malformed_key_policy(message: str) -> JsonRESTError:
    return JsonRESTError("MalformedPolicyDocumentException", message)


def _check_key_policy(response: KmsResponse, policy: Any, key_arn: str, bypass: bool) -> None:
    """What KMS checks in a key policy it is given (CreateKey / PutKeyPolicy)."""
    if isinstance(policy, str) and len(policy) > KEY_POLICY_MAX_CHARS:
        raise JsonRESTError(
            "ValidationException",
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {KEY_POLICY_MAX_CHARS}",
        )
    doc = _parse_policy(policy)
    if doc is None:
        raise _malformed_key_policy("The key policy is not a valid JSON document.")
    partition = get_partition(response.region)
    statements = _statements(doc)
    if not statements or any("Principal" not in st and "NotPrincipal" not in st for st in statements):
        raise _malformed_key_policy("Policy contains a statement with no principal.")
    if _foreign_partition_principal(doc, partition):
        raise _malformed_key_policy("Policy contains a statement with one or more invalid principals.")
    if bypass:
        return
    caller = caller_of(response)
    ctx = {**caller.context(), "kms:CallerAccount": caller.account}
    if not policy_allows(doc, caller.principal(), "kms:PutKeyPolicy", key_arn, ctx):
        raise _malformed_key_policy(
            "The new key policy will not allow you to update the key policy in the future."
        )


def _patch_kms_key_policies() -> None:
    current_create = KmsResponse.create_key
    current_put = KmsResponse.put_key_policy

    def create_key(self: KmsResponse) -> str:
        policy = self._get_param("Policy")
        if policy is not None:
            # The key does not exist yet: any key ARN of this account and region.
            partition = get_partition(self.region)
            key_arn = f"arn:{partition}:kms:{self.region}:{self.current_account}:key/*"
            _check_key_policy(self, policy, key_arn, bool(self._get_param("BypassPolicyLockoutSafetyCheck")))
        return current_create(self)

    def put_key_policy(self: KmsResponse) -> str:
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
        _check_key_policy(
            self, self._get_param("Policy"), key.arn,
            bool(self._get_param("BypassPolicyLockoutSafetyCheck")),
        )
        return current_put(self)

    KmsResponse.create_key = create_key
    KmsResponse.put_key_policy = put_key_policy


# --------------------------------------------------------------------------
# 6. S3: buckets are owned
# --------------------------------------------------------------------------

# bucket subresource -> IAM action for GET, PUT, DELETE (None: not an operation)
_BUCKET_ACTIONS: dict[str, tuple[str | None, str | None, str | None]] = {
    "policyStatus": ("s3:GetBucketPolicyStatus", None, None),
    "policy": ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "encryption": ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
    "versioning": ("s3:GetBucketVersioning", "s3:PutBucketVersioning", None),
    "tagging": ("s3:GetBucketTagging", "s3:PutBucketTagging", "s3:PutBucketTagging"),
    "publicAccessBlock": ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    "acl": ("s3:GetBucketAcl", "s3:PutBucketAcl", None),
    "location": ("s3:GetBucketLocation", None, None),
    "lifecycle": ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    "logging": ("s3:GetBucketLogging", "s3:PutBucketLogging", None),
    "ownershipControls": ("s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    "object-lock": ("s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration", None),
    "replication": ("s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration", "s3:PutReplicationConfiguration"),
    "notification": ("s3:GetBucketNotification", "s3:PutBucketNotification", None),
    "cors": ("s3:GetBucketCORS", "s3:PutBucketCORS", "s3:PutBucketCORS"),
    "website": ("s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite"),
    "accelerate": ("s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration", None),
    "inventory": ("s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration", "s3:PutInventoryConfiguration"),
    "versions": ("s3:ListBucketVersions", None, None),
    "uploads": ("s3:ListBucketMultipartUploads", None, None),
}
# Only the owner account may manage a bucket policy (405 for anyone else).
_OWNER_ONLY = {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}


def _bucket_action(method: str, querystring: dict[str, Any]) -> str | None:
    """The IAM action of a bucket-level request; None for CreateBucket and
    requests this check leaves alone (POST, OPTIONS)."""
    column = {"GET": 0, "PUT": 1, "DELETE": 2}.get(method)
    if method == "HEAD":
        return "s3:ListBucket"
    if column is None:
        return None
    for subresource, actions in _BUCKET_ACTIONS.items():
        if subresource in querystring:
            return actions[column]
    return {0: "s3:ListBucket", 1: None, 2: "s3:DeleteBucket"}[column]


def _cross_account_denial(response: S3Response, bucket_name: str, action: str) -> S3ClientError | None:
    """Why another account's caller may not do `action` on the bucket (None: allowed)."""
    bucket = _bucket(bucket_name)
    if bucket is None or bucket.account_id == response.current_account:
        return None
    caller = caller_of(response)
    decision = evaluate_policy(
        bucket.policy, caller.principal(), action, _bucket_arn(bucket.partition, bucket_name), caller.context()
    )
    if decision != "Allow":
        return S3ClientError("AccessDenied", "Access Denied")
    if action in _OWNER_ONLY:
        return S3ClientError("MethodNotAllowed", "The specified method is not allowed against this resource.")
    return None


def _patch_s3_bucket_ownership() -> None:
    current_auth = S3Response._authenticate_and_authorize_s3_action
    current_head = S3Response.head_bucket

    def _authenticate_and_authorize_s3_action(
        self: S3Response, bucket_name: str | None = None, key_name: str | None = None
    ) -> None:
        current_auth(self, bucket_name=bucket_name, key_name=key_name)
        if not bucket_name or key_name or self.method == "HEAD":
            return  # objects are not checked; HeadBucket answers a bare 403 below
        action = _bucket_action(self.method, self.querystring)
        denial = _cross_account_denial(self, bucket_name, action) if action else None
        if denial is not None:
            raise denial

    def head_bucket(self: S3Response) -> Any:
        if _cross_account_denial(self, self.bucket_name, "s3:ListBucket") is not None:
            return 403, {}, ""
        return current_head(self)

    S3Response._authenticate_and_authorize_s3_action = _authenticate_and_authorize_s3_action
    S3Response.head_bucket = head_bucket


# --------------------------------------------------------------------------
# 7. IAM centralized root access
# --------------------------------------------------------------------------

_IAM_SERVICE = "iam.amazonaws.com"
_ROOT_FEATURES = ("RootCredentialsManagement", "RootSessions")


class _IamOrgError(ServiceException):
    """An IAM error whose code is the botocore shape name (these shapes carry
    no awsQueryError code), HTTP 400."""


def _root_access_org(response: IamResponse, management_only: bool) -> tuple[FakeOrganization, set[str]]:
    """The caller's organization and its enabled root-access features, after
    AWS's checks for the centralized root access operations."""
    account = response.current_account
    partition = get_partition(response.region)
    backend = _org_backend_of(account, partition)
    if backend is None or backend.org is None:
        raise _IamOrgError(
            "OrganizationNotFoundException", "No organization is associated with your account."
        )
    org = backend.org
    if org.feature_set != "ALL":
        raise _IamOrgError(
            "OrganizationNotInAllFeaturesModeException",
            "Your organization does not have All features enabled.",
        )
    is_manager = account == org.master_account_id
    if management_only and not is_manager:
        raise _IamOrgError(
            "CallerIsNotManagementAccountException",
            "The account making the request is not the management account for the organization.",
        )
    if not is_manager and not _delegated_admin(backend, account, _IAM_SERVICE):
        raise _IamOrgError(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The account making the request is not the management account or delegated "
            "administrator account for centralized root access.",
        )
    if not _trusted_access(backend, _IAM_SERVICE):
        raise _IamOrgError(
            "ServiceAccessNotEnabledException",
            "Trusted access is not enabled for IAM in AWS Organizations.",
        )
    # Kept on the management account's IAM backend, so moto's reset clears it.
    iam = iam_models.iam_backends[org.master_account_id][partition]
    return org, iam.__dict__.setdefault("baseline_root_access_features", set())


def _features_result(org: FakeOrganization, features: set[str]) -> ActionResult:
    return ActionResult(
        {"OrganizationId": org.id, "EnabledFeatures": [f for f in _ROOT_FEATURES if f in features]}
    )


def _root_access_operation(feature: str | None, enable: bool) -> Callable[[IamResponse], ActionResult]:
    def operation(self: IamResponse) -> ActionResult:
        org, features = _root_access_org(self, management_only=enable and feature is not None)
        if feature is not None:
            (features.add if enable else features.discard)(feature)
        return _features_result(org, features)

    return operation


def _patch_iam_root_access() -> None:
    # AWS lets IAM have trusted access and a delegated administrator.
    if _IAM_SERVICE not in FakeServiceAccess.TRUSTED_SERVICES:
        FakeServiceAccess.TRUSTED_SERVICES.append(_IAM_SERVICE)
    if _IAM_SERVICE not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(_IAM_SERVICE)
    IamResponse.list_organizations_features = _root_access_operation(None, False)
    IamResponse.enable_organizations_root_credentials_management = _root_access_operation(
        "RootCredentialsManagement", True
    )
    IamResponse.enable_organizations_root_sessions = _root_access_operation("RootSessions", True)
    IamResponse.disable_organizations_root_credentials_management = _root_access_operation(
        "RootCredentialsManagement", False
    )
    IamResponse.disable_organizations_root_sessions = _root_access_operation("RootSessions", False)


# --------------------------------------------------------------------------
# 8. Security Hub: findings name their own product
# --------------------------------------------------------------------------


def _patch_securityhub_import_product() -> None:
    current = SecurityHubResponse.batch_import_findings

    def batch_import_findings(self: SecurityHubResponse) -> str:
        body = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
        findings = (json.loads(body) if body else {}).get("Findings") or []
        account, region = self.current_account, self.region
        own_product = (
            f"arn:{get_partition(region)}:securityhub:{region}:{account}:product/{account}/default"
        )
        for finding in findings:
            product = finding.get("ProductArn")
            if product != own_product or finding.get("AwsAccountId") != account:
                # AWS authorizes the import against the finding's product, and
                # only the finding's own account may import with it.
                raise SecurityHubClientError(
                    "AccessDeniedException",
                    f"User: {caller_of(self).arn} is not authorized to perform: "
                    f"securityhub:BatchImportFindings on resource: {product}",
                )
        return current(self)

    SecurityHubResponse.batch_import_findings = batch_import_findings


# --------------------------------------------------------------------------
# 9. Role trust policies name principals IAM can resolve
# --------------------------------------------------------------------------

_IAM_PRINCIPAL = re.compile(r"arn:([^:]+):iam::(\d{12}):(root|role/.+|user/.+)")


def _unresolvable_principal(policy: Any) -> str | None:
    """The first AWS principal of a trust policy that IAM could not resolve."""
    doc = _parse_policy(policy)
    if doc is None:
        return None  # moto's own validator reports what is not a policy
    for st in _statements(doc):
        for arn in _principal_arns(st.get("Principal")):
            if arn == "*" or re.fullmatch(r"\d{12}", arn):
                continue
            found = _IAM_PRINCIPAL.fullmatch(arn)
            if found is None:
                return arn
            partition, account, resource = found.groups()
            if resource == "root":
                continue
            backend = iam_models.iam_backends[account][partition]
            name = resource.rsplit("/", 1)[-1]
            if resource.startswith("role/"):
                exists = any(role.name == name for role in list(backend.roles.values()))
            else:
                exists = name in backend.users
            if not exists:
                return arn
    return None


def _require_resolvable_trust(policy: Any) -> None:
    arn = _unresolvable_principal(policy)
    if arn is not None:
        raise iam_exceptions.MalformedPolicyDocument(
            f'Invalid principal in policy: "AWS":"{arn}"'
        )


def _patch_iam_trust_principals() -> None:
    create_role = iam_models.IAMBackend.create_role
    update_assume_role_policy = iam_models.IAMBackend.update_assume_role_policy

    def checked_create_role(
        self: iam_models.IAMBackend, role_name: str, assume_role_policy_document: str, *args: Any, **kwargs: Any
    ) -> Any:
        _require_resolvable_trust(assume_role_policy_document)
        return create_role(self, role_name, assume_role_policy_document, *args, **kwargs)

    def checked_update(self: iam_models.IAMBackend, role_name: str, policy_document: str) -> None:
        _require_resolvable_trust(policy_document)
        update_assume_role_policy(self, role_name, policy_document)

    iam_models.IAMBackend.create_role = checked_create_role
    iam_models.IAMBackend.update_assume_role_policy = checked_update


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""
    global _APPLIED
    if _APPLIED:
        return
    _patch_cloudtrail()
    _patch_config_delivery_channel()
    _patch_s3_put_bucket_policy()
    _patch_kms_key_policies()
    _patch_s3_bucket_ownership()
    _patch_iam_root_access()
    _patch_securityhub_import_product()
    _patch_iam_trust_principals()
    _APPLIED = True
