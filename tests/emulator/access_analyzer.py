"""IAM Access Analyzer for the emulator: moto 5.2.5 has no such service.

The SDKs sign requests with the SigV4 service name `access-analyzer` (endpoint
access-analyzer.<region>.amazonaws.com, protocol restJson1). moto's server
picks a backend from the credential scope (DomainDispatcherApplication.
infer_service_region_host -> host access-analyzer.<region>.amazonaws.com ->
moto.backend_index.backend_url_patterns -> moto.backends.get_backend), so
apply() registers a host pattern and a backend for the name "accessanalyzer";
requests to http://127.0.0.1:<port>/analyzer... then reach this module.
Requests are parsed and answers serialized from botocore's accessanalyzer
model (moto's automated parameter parsing and ActionResult), so shapes,
timestamps (ISO 8601) and error bodies are the model's.

Operations (https://docs.aws.amazon.com/access-analyzer/latest/APIReference/):
  CreateAnalyzer (PUT /analyzer), GetAnalyzer (GET /analyzer/{analyzerName}),
  ListAnalyzers (GET /analyzer), DeleteAnalyzer (DELETE /analyzer/{name}),
  ListFindings (POST /finding), ListFindingsV2 (POST /findingv2),
  GetFinding (GET /finding/{id}), UpdateFindings (PUT /finding),
  TagResource / UntagResource / ListTagsForResource (/tags/{resourceArn}).

Errors, as the API reference lists them:
  ValidationException (400)  bad name or type, bad filter, bad token, a
      ListFindings on an unused-access analyzer; an ORGANIZATION* analyzer
      while trusted access for access-analyzer.amazonaws.com is off (or the
      account is in no organization): "Service not enabled for AWS
      Organizations", reason FIELD_VALIDATION_FAILED (what AWS answers, as
      terraform users report it).
  AccessDeniedException (403)  an ORGANIZATION* analyzer from an account that
      is neither the management account nor the access-analyzer delegated
      administrator: "Account <id> is not a delegated administrator".
  ConflictException (409)  a second analyzer with the same name.
  ServiceQuotaExceededException (402)  a second account-level analyzer of the
      same type in an account and region, a sixth organization-level one
      (quotas: https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-quotas.html).
  ResourceNotFoundException (404)  unknown analyzer, finding or ARN.
Messages that AWS does not document are inferred (README).

Findings are computed from the emulator's live state on every read, never
seeded (external access analyzers only; unused/internal access analyzers have
none):
  * AWS::IAM::Role  each role of the zone of trust whose trust policy lets an
    AWS principal outside the zone (an account id, an account root, a role or
    user ARN of another account, or "*") call sts:AssumeRole*. IAM is global,
    so the roles are analysed by the analyzers of every region.
  * AWS::S3::Bucket  each bucket of the zone in the analyzer's region whose
    bucket policy allows "*" (public, unless RestrictPublicBuckets is set on
    the bucket or the account) or an AWS principal outside the zone.
  Statements with a Condition that keeps the caller inside the zone
  (aws:PrincipalOrgID / aws:PrincipalAccount / aws:SourceAccount naming only
  the zone) give no finding; other conditions are reported in `condition`.
  The zone of trust is the analyzer's account (ACCOUNT) or every account of
  the organization (ORGANIZATION), whose resources are then all analysed.
  A finding keeps its id across calls; when its cause is removed it becomes
  RESOLVED (as AWS does), and ACTIVE again if the cause comes back. Archived
  findings stay ARCHIVED; inline archive rules archive new findings.
  CreateAnalyzer also creates the service-linked role
  AWSServiceRoleForAccessAnalyzer in the analyzer's account, as AWS does.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import types
import uuid
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult

SERVICE = "accessanalyzer"  # botocore's name (and moto's backend name here)
SERVICE_PRINCIPAL = "access-analyzer.amazonaws.com"
HOST_PATTERN = r"https?://access-analyzer\.(.+)\.amazonaws\.com"

ACCOUNT_TYPES = ("ACCOUNT", "ACCOUNT_UNUSED_ACCESS", "ACCOUNT_INTERNAL_ACCESS")
ORGANIZATION_TYPES = ("ORGANIZATION", "ORGANIZATION_UNUSED_ACCESS", "ORGANIZATION_INTERNAL_ACCESS")
EXTERNAL_ACCESS_TYPES = ("ACCOUNT", "ORGANIZATION")
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-quotas.html
MAX_ACCOUNT_ANALYZERS_PER_TYPE = 1
MAX_ORGANIZATION_ANALYZERS_PER_TYPE = 5
MAX_ORGANIZATION_INTERNAL_ANALYZERS = 1

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,254}")
_ACCOUNT_ID = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:[^:]+:(?:iam|sts)::(\d{12}):.*")
# Filter keys of https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-filter-keys.html
_FILTER_KEYS = {
    "action", "error", "findingType", "id", "isPublic", "resource", "resourceOwnerAccount",
    "resourceType", "sharedThrough", "status",
}
_FILTER_PREFIXES = ("condition.", "principal.")
# Conditions that keep access inside the zone when they name only zone values.
_ZONE_CONDITION_KEYS = {"aws:principalorgid", "aws:principalaccount", "aws:sourceaccount"}
_ZONE_OPERATORS = {"stringequals", "stringequalsignorecase", "stringlike"}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------
# Errors (shapes of the accessanalyzer model)
# --------------------------------------------------------------------------


class AccessAnalyzerError(ServiceException):
    pass


class ValidationError(AccessAnalyzerError):
    code = "ValidationException"

    def __init__(self, message: str, reason: str = "fieldValidationFailed") -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(AccessAnalyzerError):
    code = "ResourceNotFoundException"

    def __init__(self, message: str, resource_id: str, resource_type: str) -> None:
        super().__init__(message)
        self.resourceId = resource_id
        self.resourceType = resource_type


class Conflict(AccessAnalyzerError):
    code = "ConflictException"

    def __init__(self, message: str, resource_id: str, resource_type: str) -> None:
        super().__init__(message)
        self.resourceId = resource_id
        self.resourceType = resource_type


class QuotaExceeded(AccessAnalyzerError):
    code = "ServiceQuotaExceededException"

    def __init__(self, message: str, resource_id: str, resource_type: str) -> None:
        super().__init__(message)
        self.resourceId = resource_id
        self.resourceType = resource_type


class AccessDenied(AccessAnalyzerError):
    code = "AccessDeniedException"


_ANALYZER_TYPE = "AWS::AccessAnalyzer::Analyzer"


def _analyzer_not_found(name: str) -> NotFound:
    return NotFound(f"Analyzer {name} not found.", name, _ANALYZER_TYPE)


# --------------------------------------------------------------------------
# Backend
# --------------------------------------------------------------------------

_URLS = types.SimpleNamespace(
    url_bases=[HOST_PATTERN],
    url_paths={},  # filled in below, once the response class exists
)


class AccessAnalyzerBackend(BaseBackend):
    """Analyzers, their findings' states and tags, per account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.analyzers: dict[str, dict[str, Any]] = {}  # name -> analyzer
        self.tags: dict[str, dict[str, str]] = {}  # analyzer ARN -> tags
        self.client_tokens: dict[str, str] = {}  # clientToken -> analyzer name

    @property
    def _url_module(self) -> Any:  # type: ignore[override]
        # moto derives moto.<service>.urls from the class's module; this
        # service lives outside moto's package.
        return _URLS

    def analyzer_arn(self, name: str) -> str:
        return (
            f"arn:{self.partition}:access-analyzer:{self.region_name}:"
            f"{self.account_id}:analyzer/{name}"
        )

    def by_arn(self, arn: str) -> dict[str, Any]:
        name = arn.rsplit("/", 1)[-1]
        analyzer = self.analyzers.get(name)
        if analyzer is None or analyzer["arn"] != arn:
            raise _analyzer_not_found(arn)
        return analyzer


accessanalyzer_backends = BackendDict(AccessAnalyzerBackend, SERVICE)


# --------------------------------------------------------------------------
# Zone of trust and organization rules
# --------------------------------------------------------------------------


def _org_backend(account: str, partition: str) -> Any:
    import strict_policies

    return strict_policies._org_backend_of(account, partition)


def _require_organization_rights(backend: AccessAnalyzerBackend) -> None:
    """Only the management account or the access-analyzer delegated
    administrator creates an organization analyzer, with trusted access on."""
    import strict_policies

    orgs = _org_backend(backend.account_id, backend.partition)
    if orgs is None:
        raise ValidationError("Service not enabled for AWS Organizations", "FIELD_VALIDATION_FAILED")
    management = orgs.org.master_account_id == backend.account_id
    if not management and not strict_policies._delegated_admin(
        orgs, backend.account_id, SERVICE_PRINCIPAL
    ):
        raise AccessDenied(f"Account {backend.account_id} is not a delegated administrator")
    if not strict_policies._trusted_access(orgs, SERVICE_PRINCIPAL):
        raise ValidationError("Service not enabled for AWS Organizations", "FIELD_VALIDATION_FAILED")


def _organization_status(backend: AccessAnalyzerBackend) -> tuple[str, str | None]:
    """ACTIVE, or DISABLED with the reason, for an organization analyzer."""
    import strict_policies

    orgs = _org_backend(backend.account_id, backend.partition)
    if orgs is None or not strict_policies._trusted_access(orgs, SERVICE_PRINCIPAL):
        return "DISABLED", "AWS_SERVICE_ACCESS_DISABLED"
    if orgs.org.master_account_id != backend.account_id and not strict_policies._delegated_admin(
        orgs, backend.account_id, SERVICE_PRINCIPAL
    ):
        return "DISABLED", "DELEGATED_ADMINISTRATOR_DEREGISTERED"
    return "ACTIVE", None


def _zone(backend: AccessAnalyzerBackend, analyzer: dict[str, Any]) -> tuple[set[str], str | None]:
    """The accounts of the analyzer's zone of trust, and the organization id."""
    if analyzer["type"] in ORGANIZATION_TYPES:
        orgs = _org_backend(backend.account_id, backend.partition)
        if orgs is not None:
            return {a.id for a in orgs.accounts}, orgs.org.id
    return {backend.account_id}, None


# --------------------------------------------------------------------------
# Policy analysis
# --------------------------------------------------------------------------


def _principal_account(principal: str) -> str | None:
    """The account an AWS principal belongs to ("*" -> None)."""
    if _ACCOUNT_ID.fullmatch(principal):
        return principal
    found = _IAM_ARN.fullmatch(principal)
    return found.group(1) if found else principal


def _condition_map(condition: Any) -> dict[str, str]:
    flat: dict[str, str] = {}
    if isinstance(condition, dict):
        for block in condition.values():
            if isinstance(block, dict):
                for key, value in block.items():
                    flat[key] = ",".join(str(v) for v in _as_list(value))
    return flat


def _condition_keeps_in_zone(condition: Any, zone: set[str], org_id: str | None) -> bool:
    """A condition that only lets principals of the zone through."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if operator.lower() not in _ZONE_OPERATORS or not isinstance(block, dict):
            continue
        for key, value in block.items():
            if key.lower() not in _ZONE_CONDITION_KEYS:
                continue
            allowed = zone | ({org_id} if org_id else set())
            if all(str(v) in allowed for v in _as_list(value)):
                return True
    return False


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, bytes):
        policy = policy.decode()
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _external_grants(
    policy: Any, zone: set[str], org_id: str | None, actions_of: Any
) -> list[dict[str, Any]]:
    """(principal, actions, condition, public) for each Allow statement that
    lets an AWS principal outside the zone do one of `actions_of`'s actions."""
    grants = []
    for st in _statements(policy):
        if st.get("Effect") != "Allow" or "NotPrincipal" in st:
            continue
        actions = actions_of(_as_list(st.get("Action")))
        if not actions:
            continue
        principal = st.get("Principal")
        aws = ["*"] if principal == "*" else (
            _as_list(principal.get("AWS")) if isinstance(principal, dict) else []
        )
        condition = st.get("Condition")
        if condition and _condition_keeps_in_zone(condition, zone, org_id):
            continue
        for entry in aws:
            entry = str(entry)
            if entry != "*" and _principal_account(entry) in zone:
                continue
            grants.append({
                "principal": {"AWS": entry},
                "action": actions,
                "condition": _condition_map(condition),
                "isPublic": entry == "*" and not condition,
            })
    return grants


def _assume_actions(actions: list[Any]) -> list[str]:
    out: list[str] = []
    for action in actions:
        text = str(action)
        if text in ("*", "sts:*"):
            out.append("sts:AssumeRole")
        elif text.lower().startswith("sts:assumerole") and not text.lower().startswith(
            ("sts:assumerolewithsaml", "sts:assumerolewithwebidentity")
        ):
            out.append(text)
    return sorted(set(out))


def _s3_actions(actions: list[Any]) -> list[str]:
    return sorted({str(a) for a in actions if str(a) == "*" or str(a).lower().startswith("s3:")})


def _restricts_public_buckets(account: str, partition: str, bucket: Any) -> bool:
    from moto.s3control.models import s3control_backends

    block = getattr(bucket, "public_access_block", None)
    if block is not None and block.restrict_public_buckets:
        return True
    if account in s3control_backends:
        account_block = s3control_backends[account][partition].public_access_block
        if account_block is not None and account_block.restrict_public_buckets:
            return True
    return False


def _role_findings(account: str, partition: str, zone: set[str], org_id: str | None) -> list[dict[str, Any]]:
    from moto.iam.models import iam_backends

    if account not in iam_backends:
        return []
    found = []
    for role in list(iam_backends[account][partition].roles.values()):
        for grant in _external_grants(role.assume_role_policy_document, zone, org_id, _assume_actions):
            found.append({
                **grant,
                "resource": role.arn,
                "resourceType": "AWS::IAM::Role",
                "resourceOwnerAccount": account,
            })
    return found


def _bucket_findings(
    account: str, partition: str, region: str, zone: set[str], org_id: str | None
) -> list[dict[str, Any]]:
    from moto.s3.models import s3_backends

    if account not in s3_backends:
        return []
    found = []
    for bucket in list(s3_backends[account][partition].buckets.values()):
        if bucket.region_name != region or not bucket.policy:
            continue
        for grant in _external_grants(bucket.policy, zone, org_id, _s3_actions):
            if grant["isPublic"] and _restricts_public_buckets(account, partition, bucket):
                continue
            found.append({
                **grant,
                "resource": f"arn:{partition}:s3:::{bucket.name}",
                "resourceType": "AWS::S3::Bucket",
                "resourceOwnerAccount": account,
                "sources": [{"type": "POLICY"}],
            })
    return found


def _finding_id(analyzer: dict[str, Any], finding: dict[str, Any]) -> str:
    seed = json.dumps(
        [analyzer["uid"], finding["resource"], finding["principal"], finding["action"],
         finding["condition"]],
        sort_keys=True,
    )
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _current_findings(backend: AccessAnalyzerBackend, analyzer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if analyzer["type"] not in EXTERNAL_ACCESS_TYPES:
        return {}
    zone, org_id = _zone(backend, analyzer)
    found: list[dict[str, Any]] = []
    for account in sorted(zone):
        found += _role_findings(account, backend.partition, zone, org_id)
        found += _bucket_findings(account, backend.partition, backend.region_name, zone, org_id)
    return {_finding_id(analyzer, f): f for f in found}


def _refresh(backend: AccessAnalyzerBackend, analyzer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bring the analyzer's findings up to date with the emulator's state."""
    states: dict[str, dict[str, Any]] = analyzer["findings"]
    if _status_of(backend, analyzer)[0] != "ACTIVE":
        return states  # a disabled analyzer generates no new findings
    now = _now()
    current = _current_findings(backend, analyzer)
    for fid, details in current.items():
        state = states.get(fid)
        if state is None:
            state = {"id": fid, "createdAt": now, "analyzedAt": now, "updatedAt": now,
                     "status": "ACTIVE", **details}
            if any(_matches(state, rule.get("filter") or {}) for rule in analyzer["archiveRules"]):
                state["status"] = "ARCHIVED"
            states[fid] = state
        elif state["status"] == "RESOLVED":
            state.update(details, status="ACTIVE", updatedAt=now, analyzedAt=now)
    for fid, state in states.items():
        if fid not in current and state["status"] != "RESOLVED":
            state.update(status="RESOLVED", updatedAt=now, analyzedAt=now)
    return states


def _status_of(backend: AccessAnalyzerBackend, analyzer: dict[str, Any]) -> tuple[str, str | None]:
    if analyzer["type"] in ORGANIZATION_TYPES:
        return _organization_status(backend)
    return "ACTIVE", None


# --------------------------------------------------------------------------
# Filters, sorting and pages
# --------------------------------------------------------------------------


def _validate_filter(flt: Any) -> dict[str, Any]:
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise ValidationError("Invalid filter.")
    for key, criterion in flt.items():
        if key not in _FILTER_KEYS and not key.startswith(_FILTER_PREFIXES):
            raise ValidationError(f"Invalid filter key: {key}")
        if not isinstance(criterion, dict) or not any(
            op in criterion for op in ("eq", "neq", "contains", "exists")
        ):
            raise ValidationError(f"Invalid filter criterion for key: {key}")
    return flt


def _filter_values(finding: dict[str, Any], key: str) -> list[str]:
    if key.startswith("principal."):
        value = (finding.get("principal") or {}).get(key.split(".", 1)[1])
    elif key.startswith("condition."):
        value = (finding.get("condition") or {}).get(key.split(".", 1)[1])
    elif key == "sharedThrough":
        value = [s["type"] for s in finding.get("sources") or []]
    elif key == "findingType":
        value = "ExternalAccess"
    else:
        value = finding.get(key)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return [str(v) for v in _as_list(value)]


def _matches(finding: dict[str, Any], flt: dict[str, Any]) -> bool:
    for key, criterion in flt.items():
        values = _filter_values(finding, key)
        if "eq" in criterion and not any(v in criterion["eq"] for v in values):
            return False
        if "neq" in criterion and any(v in criterion["neq"] for v in values):
            return False
        if "contains" in criterion and not any(
            c in v for v in values for c in criterion["contains"]
        ):
            return False
        if "exists" in criterion and bool(values) != bool(criterion["exists"]):
            return False
    return True


def _page(items: list[Any], token: str | None, max_results: int | None) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token.encode()).decode())
        except ValueError:
            raise ValidationError("Invalid pagination token.", "other") from None
        if start < 0 or start > len(items):
            raise ValidationError("Invalid pagination token.", "other")
    if max_results is not None and max_results < 1:
        raise ValidationError("maxResults must be at least 1.")
    size = max_results or 100
    page = items[start:start + size]
    nxt = start + size
    return page, (base64.b64encode(str(nxt).encode()).decode() if nxt < len(items) else None)


def _summary(finding: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "principal", "action", "resource", "isPublic", "resourceType", "condition",
            "createdAt", "analyzedAt", "updatedAt", "status", "resourceOwnerAccount", "sources")
    return {k: finding[k] for k in keys if k in finding}


def _summary_v2(finding: dict[str, Any]) -> dict[str, Any]:
    keys = ("analyzedAt", "createdAt", "id", "resource", "resourceType", "resourceOwnerAccount",
            "status", "updatedAt")
    return {**{k: finding[k] for k in keys}, "findingType": "ExternalAccess"}


def _sorted_findings(findings: list[dict[str, Any]], sort: dict[str, Any] | None) -> list[dict[str, Any]]:
    ordered = sorted(findings, key=lambda f: (f["createdAt"], f["resource"], f["id"]))
    if sort and sort.get("attributeName"):
        name = sort["attributeName"]
        ordered = sorted(ordered, key=lambda f: str(f.get(name, "")),
                         reverse=(sort.get("orderBy") == "DESC"))
    return ordered


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------


def _ensure_service_linked_role(account: str, partition: str) -> None:
    """AWSServiceRoleForAccessAnalyzer, which AWS creates with the first analyzer."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][partition]
    if any(r.name == "AWSServiceRoleForAccessAnalyzer" for r in list(iam.roles.values())):
        return
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": SERVICE_PRINCIPAL},
            "Action": "sts:AssumeRole",
        }],
    }
    iam.create_role(
        "AWSServiceRoleForAccessAnalyzer",
        json.dumps(trust),
        f"/aws-service-role/{SERVICE_PRINCIPAL}/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration="3600",
        linked_service=SERVICE_PRINCIPAL,
    )


class AccessAnalyzerResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name=SERVICE)
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> AccessAnalyzerBackend:
        return accessanalyzer_backends[self.current_account][self.region]

    def _analyzer_view(self, analyzer: dict[str, Any], with_configuration: bool) -> dict[str, Any]:
        status, reason = _status_of(self.backend, analyzer)
        view: dict[str, Any] = {
            "arn": analyzer["arn"],
            "name": analyzer["name"],
            "type": analyzer["type"],
            "createdAt": analyzer["createdAt"],
            "status": status,
            "tags": dict(self.backend.tags.get(analyzer["arn"], {})),
        }
        if reason:
            view["statusReason"] = {"code": reason}
        findings = analyzer["findings"]
        if findings:
            last = max(findings.values(), key=lambda f: f["analyzedAt"])
            view["lastResourceAnalyzed"] = last["resource"]
            view["lastResourceAnalyzedAt"] = last["analyzedAt"]
        if with_configuration and analyzer.get("configuration"):
            view["configuration"] = analyzer["configuration"]
        return view

    def create_analyzer(self) -> ActionResult:
        backend = self.backend
        name = self._get_param("analyzerName") or ""
        kind = self._get_param("type") or ""
        token = self._get_param("clientToken")
        if not _NAME.fullmatch(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'analyzerName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[A-Za-z][A-Za-z0-9_.-]*"
            )
        if kind not in ACCOUNT_TYPES + ORGANIZATION_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'type' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {list(ACCOUNT_TYPES + ORGANIZATION_TYPES)}"
            )
        if token and backend.client_tokens.get(token) == name and name in backend.analyzers:
            return ActionResult({"arn": backend.analyzers[name]["arn"]})
        tags = self._get_param("tags") or {}
        if any(k.lower().startswith("aws:") for k in tags):
            raise ValidationError("Tag keys cannot start with 'aws:'.")
        if name in backend.analyzers:
            raise Conflict(f"Analyzer {name} already exists.", name, _ANALYZER_TYPE)
        if kind in ORGANIZATION_TYPES:
            _require_organization_rights(backend)
        same_type = sum(1 for a in backend.analyzers.values() if a["type"] == kind)
        limit = (
            MAX_ACCOUNT_ANALYZERS_PER_TYPE if kind in ACCOUNT_TYPES
            else MAX_ORGANIZATION_INTERNAL_ANALYZERS if kind == "ORGANIZATION_INTERNAL_ACCESS"
            else MAX_ORGANIZATION_ANALYZERS_PER_TYPE
        )
        if same_type >= limit:
            raise QuotaExceeded(
                f"You have reached the maximum number of analyzers of type {kind} "
                f"({limit}) in this account and Region.",
                name, _ANALYZER_TYPE,
            )
        arn = backend.analyzer_arn(name)
        backend.analyzers[name] = {
            "uid": str(uuid.uuid4()),
            "name": name,
            "arn": arn,
            "type": kind,
            "createdAt": _now(),
            "configuration": self._get_param("configuration"),
            "archiveRules": list(self._get_param("archiveRules") or []),
            "findings": {},
        }
        backend.tags[arn] = dict(tags)
        if token:
            backend.client_tokens[token] = name
        if kind in EXTERNAL_ACCESS_TYPES:
            _ensure_service_linked_role(backend.account_id, backend.partition)
        return ActionResult({"arn": arn})

    def get_analyzer(self) -> ActionResult:
        name = self._get_param("analyzerName")
        analyzer = self.backend.analyzers.get(name)
        if analyzer is None:
            raise _analyzer_not_found(name)
        _refresh(self.backend, analyzer)
        return ActionResult({"analyzer": self._analyzer_view(analyzer, with_configuration=True)})

    def list_analyzers(self) -> ActionResult:
        kind = self._get_param("type")
        analyzers = sorted(self.backend.analyzers.values(), key=lambda a: a["createdAt"])
        if kind:
            analyzers = [a for a in analyzers if a["type"] == kind]
        page, token = _page(analyzers, self._get_param("nextToken"), self._get_param("maxResults"))
        result: dict[str, Any] = {
            "analyzers": [self._analyzer_view(a, with_configuration=False) for a in page]
        }
        if token:
            result["nextToken"] = token
        return ActionResult(result)

    def delete_analyzer(self) -> EmptyResult:
        name = self._get_param("analyzerName")
        analyzer = self.backend.analyzers.pop(name, None)
        if analyzer is None:
            raise _analyzer_not_found(name)
        self.backend.tags.pop(analyzer["arn"], None)
        return EmptyResult()

    def _findings(self, v2: bool) -> ActionResult:
        analyzer = self.backend.by_arn(self._get_param("analyzerArn") or "")
        if not v2 and analyzer["type"] not in EXTERNAL_ACCESS_TYPES:
            raise ValidationError(
                "ListFindings is not supported for this analyzer type; use ListFindingsV2.",
                "notSupported",
            )
        flt = _validate_filter(self._get_param("filter"))
        states = _refresh(self.backend, analyzer)
        selected = [f for f in states.values() if _matches(f, flt)]
        ordered = _sorted_findings(selected, self._get_param("sort"))
        page, token = _page(ordered, self._get_param("nextToken"), self._get_param("maxResults"))
        shape = _summary_v2 if v2 else _summary
        result: dict[str, Any] = {"findings": [shape(f) for f in page]}
        if token:
            result["nextToken"] = token
        return ActionResult(result)

    def list_findings(self) -> ActionResult:
        return self._findings(v2=False)

    def list_findings_v2(self) -> ActionResult:
        return self._findings(v2=True)

    def get_finding(self) -> ActionResult:
        analyzer = self.backend.by_arn(self._get_param("analyzerArn") or "")
        fid = self._get_param("id")
        finding = _refresh(self.backend, analyzer).get(fid)
        if finding is None:
            raise NotFound(f"Finding {fid} not found.", fid, "Finding")
        return ActionResult({"finding": _summary(finding)})

    def update_findings(self) -> EmptyResult:
        analyzer = self.backend.by_arn(self._get_param("analyzerArn") or "")
        status = self._get_param("status")
        if status not in ("ACTIVE", "ARCHIVED"):
            raise ValidationError(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [ACTIVE, ARCHIVED]"
            )
        ids = self._get_param("ids")
        resource = self._get_param("resourceArn")
        if bool(ids) == bool(resource):
            raise ValidationError("Specify either ids or resourceArn.")
        states = _refresh(self.backend, analyzer)
        if ids:
            targets = []
            for fid in ids:
                if fid not in states:
                    raise NotFound(f"Finding {fid} not found.", fid, "Finding")
                targets.append(states[fid])
        else:
            targets = [f for f in states.values() if f["resource"] == resource]
        now = _now()
        for finding in targets:
            if finding["status"] != "RESOLVED" and finding["status"] != status:
                finding.update(status=status, updatedAt=now)
        return EmptyResult()

    def _tagged(self) -> str:
        arn = self._get_param("resourceArn") or ""
        if arn not in self.backend.tags:
            raise NotFound(f"Resource {arn} not found.", arn, _ANALYZER_TYPE)
        return arn

    def tag_resource(self) -> EmptyResult:
        arn = self._tagged()
        tags = self._get_param("tags") or {}
        if any(k.lower().startswith("aws:") for k in tags):
            raise ValidationError("Tag keys cannot start with 'aws:'.")
        self.backend.tags[arn].update(tags)
        return EmptyResult()

    def untag_resource(self) -> EmptyResult:
        arn = self._tagged()
        for key in self._get_param("tagKeys") or []:
            self.backend.tags[arn].pop(key, None)
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        arn = self._tagged()
        return ActionResult({"tags": dict(self.backend.tags[arn])})


_URLS.url_paths.update({
    "{0}/analyzer$": AccessAnalyzerResponse.dispatch,
    "{0}/analyzer/(?P<analyzerName>[^/]+)$": AccessAnalyzerResponse.dispatch,
    "{0}/finding$": AccessAnalyzerResponse.dispatch,
    "{0}/finding/(?P<id>[^/]+)$": AccessAnalyzerResponse.dispatch,
    "{0}/findingv2$": AccessAnalyzerResponse.dispatch,
    "{0}/tags/(?P<resourceArn>.+)$": AccessAnalyzerResponse.dispatch,
})


# --------------------------------------------------------------------------
# Registration with moto's server
# --------------------------------------------------------------------------

_APPLIED = False


def apply() -> None:
    """Make moto's server route `access-analyzer` requests here (server.py)."""
    global _APPLIED
    if _APPLIED:
        return
    import moto.backend_index as backend_index
    import moto.backends as backends

    if not any(name == SERVICE for name, _ in backend_index.backend_url_patterns):
        # Before any catch-all pattern: the dispatcher takes the first match.
        backend_index.backend_url_patterns.insert(0, (SERVICE, re.compile(HOST_PATTERN)))
    original = backends.get_backend

    def get_backend(name: str) -> Any:
        if name == SERVICE:
            return accessanalyzer_backends
        return original(name)

    backends.get_backend = get_backend  # type: ignore[assignment]
    _APPLIED = True
