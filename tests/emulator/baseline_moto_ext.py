"""baseline's extension of moto 5.2.5 (server mode).

Importing this module patches moto in place: it adds the operations baseline
uses that moto 5.2.5 lacks, and fixes the ones it gets wrong in a way the
product would notice. Everything mirrors the AWS API reference (request and
response shapes, error codes). State lives on moto's own per-account,
per-region backends (BackendDict), so assumed-role credentials keep their
member account's state separate, and moto's reset API clears it too.

Added (missing in moto 5.2.5):
  securityhub  DescribeStandards (GET /standards), BatchEnableStandards
               (POST /standards/register), BatchDisableStandards
               (POST /standards/deregister), GetEnabledStandards
               (POST /standards/get), BatchUpdateFindings
               (PATCH /findings/batchupdate), TagResource / UntagResource /
               ListTagsForResource on the hub (/tags/{ResourceArn}).
  backup       UpdateBackupPlan, CreateBackupSelection, ListBackupSelections,
               GetBackupSelection, DeleteBackupSelection (moto routed these
               paths but had no handler: HTTP 500).

Fixed (present in moto 5.2.5 but wrong):
  securityhub  EnableSecurityHub ignored EnableDefaultStandards (AWS default
               true: enables FSBP v1.0.0 and CIS v1.2.0) and succeeded when
               already enabled (AWS: ResourceConflictException).
               DisableSecurityHub now drops the standards subscriptions.
               BatchImportFindings accepted findings with Security Hub disabled
               (AWS: InvalidAccessException) and did not default RecordState /
               Workflow.Status. GetFindings ignored Filters (now supports the
               StringFilter keys baseline reads, see _FINDING_FIELDS).
  backup       CreateBackupPlan refused a name used by an already *deleted*
               plan; DeleteBackupPlan now refuses while selections exist (as
               AWS does); DeleteBackupVault of an unknown vault succeeded
               (AWS: ResourceNotFoundException). ListTags found the ARN only
               in a path ending in "/" (GET /tags/{arn}/); the Rust SDK sends
               GET /tags/{arn}, and got no tags.
  kms          EnableKeyRotation ignored RotationPeriodInDays and
               GetKeyRotationStatus did not return it (nor KeyId /
               NextRotationDate). Get/PutKeyPolicy rejected a request without
               PolicyName (optional in AWS, defaults to "default").
               ScheduleKeyDeletion accepted a PendingWindowInDays outside 7-30
               (then returned no DeletionDate), failed (HTTP 500) on a key ARN,
               and omitted KeyState / PendingWindowInDays. The keys behind the
               reserved alias/aws/* aliases were customer managed and unrotated
               (AWS: KeyManager AWS, rotated every year).
  s3           GetBucketVersioning answered with a <GetBucketVersioningResponse>
               root; AWS (and the Rust SDK) use <VersioningConfiguration>.
  cloudtrail   DeleteTrail by ARN silently did nothing, and deleting an
               unknown trail succeeded (AWS: TrailNotFoundException).
               Create/UpdateTrail did not check that the bucket policy lets
               CloudTrail write (AWS: InsufficientS3BucketPolicyException).
  iam          CreateLoginProfile ignored PasswordResetRequired.
               CreateServiceLinkedRole named roles after the lower-case
               principal (AWSServiceRoleForconfig, not AWSServiceRoleForConfig).
  config       PutConfigurationRecorder accepted a role of its own account
               that does not exist (AWS: InvalidRoleException).
  organizations  Register/ListDelegatedAdministrators rejected most services
               that support a delegated administrator (securityhub, config,
               cloudtrail, backup, ...), and a rejected registration still left
               the account listed as a delegated administrator.
               AttachPolicy attached a policy whose type is not enabled on the
               root (AWS: PolicyTypeNotEnabledException).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import uuid
from typing import Any
from urllib.parse import unquote

from moto.backup import urls as backup_urls
from moto.backup.exceptions import (
    AlreadyExistsException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Plan
from moto.backup.responses import BackupResponse
from moto.cloudtrail.exceptions import S3BucketDoesNotExistException
from moto.cloudtrail.models import CloudTrailBackend, Trail
from moto.config.models import ConfigBackend
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time, utcnow
from moto.iam import models as iam_models
from moto.iam.responses import IamResponse
from moto.kms.exceptions import NotFoundException, ValidationException
from moto.kms.models import KmsBackend
from moto.kms import responses as kms_responses
from moto.kms.responses import KmsResponse
from moto.moto_api._internal import mock_random
from moto.organizations.exceptions import InvalidInputException as OrgInvalidInput
from moto.organizations.exceptions import (
    PolicyTypeNotEnabledException as OrgPolicyTypeNotEnabled,
)
from moto.organizations.models import FakeDelegatedAdministrator, FakeRoot, OrganizationsBackend
from moto.s3.responses import S3Response
from moto.securityhub import urls as securityhub_urls
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse
from moto.utilities.utils import get_partition

_APPLIED = False


def _now_iso() -> str:
    """Security Hub returns RFC 3339 strings with a Z suffix."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _body(response: Any) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


# --------------------------------------------------------------------------
# Security Hub
# --------------------------------------------------------------------------

# (path after "standards/" or "ruleset/", region-scoped ARN?, name, description,
#  enabled by default, managed-by company)
_STANDARDS = [
    (
        "aws-foundational-security-best-practices/v/1.0.0",
        True,
        "AWS Foundational Security Best Practices v1.0.0",
        "The AWS Foundational Security Best Practices standard is a set of "
        "automated security checks that detect when AWS accounts and deployed "
        "resources do not align to security best practices.",
        True,
        "AWS",
    ),
    (
        "cis-aws-foundations-benchmark/v/1.2.0",
        False,
        "CIS AWS Foundations Benchmark v1.2.0",
        "The Center for Internet Security (CIS) AWS Foundations Benchmark v1.2.0 "
        "is a set of security configuration best practices for AWS.",
        True,
        "CIS",
    ),
    (
        "cis-aws-foundations-benchmark/v/1.4.0",
        True,
        "CIS AWS Foundations Benchmark v1.4.0",
        "The Center for Internet Security (CIS) AWS Foundations Benchmark v1.4.0 "
        "is a set of security configuration best practices for AWS.",
        False,
        "CIS",
    ),
    (
        "cis-aws-foundations-benchmark/v/3.0.0",
        True,
        "CIS AWS Foundations Benchmark v3.0.0",
        "The Center for Internet Security (CIS) AWS Foundations Benchmark v3.0.0 "
        "is a set of security configuration best practices for AWS.",
        False,
        "CIS",
    ),
    (
        "pci-dss/v/3.2.1",
        True,
        "PCI DSS v3.2.1",
        "The Payment Card Industry Data Security Standard (PCI DSS) v3.2.1 is an "
        "information security standard for entities that store, process, and/or "
        "transmit cardholder data.",
        False,
        "AWS",
    ),
    (
        "nist-800-53/v/5.0.0",
        True,
        "NIST Special Publication 800-53 Revision 5",
        "NIST SP 800-53 Rev. 5 is a cybersecurity and compliance framework "
        "developed by the National Institute of Standards and Technology.",
        False,
        "AWS",
    ),
    (
        "pci-dss/v/4.0.1",
        True,
        "PCI DSS v4.0.1",
        "The Payment Card Industry Data Security Standard (PCI DSS) v4.0.1 is an "
        "information security standard for entities that store, process, and/or "
        "transmit cardholder data.",
        False,
        "AWS",
    ),
    (
        "aws-resource-tagging-standard/v/1.0.0",
        True,
        "AWS Resource Tagging Standard v1.0.0",
        "The AWS Resource Tagging Standard checks whether AWS resources are missing "
        "tags or have tags that are not allowed.",
        False,
        "AWS",
    ),
]
_DEFAULT_STANDARD_PATHS = [s[0] for s in _STANDARDS if s[4]]


def _standard_arn(path: str, regional: bool, region: str) -> str:
    if regional:
        return f"arn:aws:securityhub:{region}::standards/{path}"
    # CIS v1.2.0 keeps its historical, region-less "ruleset" ARN.
    return f"arn:aws:securityhub:::ruleset/{path}"


def _standards_catalog(region: str) -> list[dict[str, Any]]:
    return [
        {
            "StandardsArn": _standard_arn(path, regional, region),
            "Name": name,
            "Description": description,
            "EnabledByDefault": default,
            "StandardsManagedBy": {"Company": company, "Product": "Security Hub"},
        }
        for path, regional, name, description, default, company in _STANDARDS
    ]


def _standard_path(standards_arn: str) -> str | None:
    """'.../standards/<path>' or '.../ruleset/<path>' -> '<path>' (if known)."""
    for marker in (":standards/", ":ruleset/"):
        if marker in standards_arn:
            path = standards_arn.split(marker, 1)[1]
            return path if path in {s[0] for s in _STANDARDS} else None
    return None


def _hub_subscriptions(backend: SecurityHubBackend) -> dict[str, dict[str, Any]]:
    """subscription ARN -> subscription, stored on the account/region backend."""
    return backend.__dict__.setdefault("baseline_standards", {})


def _require_hub(backend: SecurityHubBackend) -> None:
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException",
            f"Account {backend.account_id} is not subscribed to AWS Security Hub",
        )


def _enable_standard(
    backend: SecurityHubBackend, standards_arn: str, standards_input: dict[str, str]
) -> dict[str, Any]:
    path = _standard_path(standards_arn)
    if path is None:
        raise SecurityHubClientError(
            "InvalidInputException",
            f"StandardsArn {standards_arn} is not a valid standards ARN.",
        )
    sub_arn = (
        f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}"
        f":subscription/{path}"
    )
    regional = next(s[1] for s in _STANDARDS if s[0] == path)
    subs = _hub_subscriptions(backend)
    subs[sub_arn] = {
        "StandardsSubscriptionArn": sub_arn,
        "StandardsArn": _standard_arn(path, regional, backend.region_name),
        "StandardsInput": standards_input or {},
        "StandardsStatus": "READY",
        "StandardsControlsUpdatable": "READY_FOR_UPDATES",
    }
    return subs[sub_arn]


def _patch_securityhub_enable_hub() -> None:
    """EnableSecurityHub: conflict when already on; EnableDefaultStandards."""

    def enable_security_hub(
        self: SecurityHubBackend,
        enable_default_standards: bool = True,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if self.enabled:
            raise SecurityHubClientError(
                "ResourceConflictException",
                f"Account {self.account_id} is already subscribed to Security Hub",
            )
        self.enabled = True
        self.enabled_at = _now_iso()
        self.tags = tags or {}
        _hub_subscriptions(self).clear()
        if enable_default_standards is not False:
            for path in _DEFAULT_STANDARD_PATHS:
                regional = next(s[1] for s in _STANDARDS if s[0] == path)
                _enable_standard(
                    self, _standard_arn(path, regional, self.region_name), {}
                )
        return {}

    original_disable = SecurityHubBackend.disable_security_hub

    def disable_security_hub(self: SecurityHubBackend) -> dict[str, Any]:
        result = original_disable(self)
        _hub_subscriptions(self).clear()
        return result

    SecurityHubBackend.enable_security_hub = enable_security_hub
    SecurityHubBackend.disable_security_hub = disable_security_hub


def _patch_securityhub_standards() -> None:
    """DescribeStandards, Batch{En,Dis}ableStandards, GetEnabledStandards."""

    def describe_standards(self: SecurityHubResponse) -> str:
        # Real AWS answers this even before Security Hub is enabled.
        return json.dumps({"Standards": _standards_catalog(self.region)})

    def batch_enable_standards(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        _require_hub(backend)
        requests = _body(self).get("StandardsSubscriptionRequests") or []
        if not requests:
            raise SecurityHubClientError(
                "InvalidInputException",
                "StandardsSubscriptionRequests must contain at least one entry.",
            )
        # Validate everything first: the batch fails as a whole on a bad ARN.
        for req in requests:
            if _standard_path(req.get("StandardsArn", "")) is None:
                raise SecurityHubClientError(
                    "InvalidInputException",
                    f"StandardsArn {req.get('StandardsArn')} is not a valid standards ARN.",
                )
        subs = [
            _enable_standard(backend, r["StandardsArn"], r.get("StandardsInput") or {})
            for r in requests
        ]
        return json.dumps({"StandardsSubscriptions": subs})

    def batch_disable_standards(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        _require_hub(backend)
        arns = _body(self).get("StandardsSubscriptionArns") or []
        subs = _hub_subscriptions(backend)
        for arn in arns:
            if arn not in subs:
                raise SecurityHubClientError(
                    "InvalidInputException",
                    f"StandardsSubscriptionArn {arn} is not a valid subscription "
                    "ARN or the standard is not enabled.",
                )
        removed = []
        for arn in arns:
            sub = dict(subs.pop(arn))
            sub["StandardsStatus"] = "DELETING"
            removed.append(sub)
        return json.dumps({"StandardsSubscriptions": removed})

    def get_enabled_standards(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        _require_hub(backend)
        wanted = _body(self).get("StandardsSubscriptionArns")
        subs = list(_hub_subscriptions(backend).values())
        if wanted:
            subs = [s for s in subs if s["StandardsSubscriptionArn"] in wanted]
        return json.dumps({"StandardsSubscriptions": subs})

    SecurityHubResponse.describe_standards = describe_standards
    SecurityHubResponse.batch_enable_standards = batch_enable_standards
    SecurityHubResponse.batch_disable_standards = batch_disable_standards
    SecurityHubResponse.get_enabled_standards = get_enabled_standards
    for path in ("standards", "standards/register", "standards/deregister", "standards/get"):
        securityhub_urls.url_paths["{0}/" + path + "$"] = SecurityHubResponse.dispatch


# GetFindings filter key -> how to read the value(s) out of a finding.
_FINDING_FIELDS: dict[str, Any] = {
    "Id": lambda f: [f.get("Id")],
    "ProductArn": lambda f: [f.get("ProductArn")],
    "GeneratorId": lambda f: [f.get("GeneratorId")],
    "AwsAccountId": lambda f: [f.get("AwsAccountId")],
    "Title": lambda f: [f.get("Title")],
    "Region": lambda f: [f.get("Region")],
    "ProductName": lambda f: [f.get("ProductName")],
    "CompanyName": lambda f: [f.get("CompanyName")],
    "RecordState": lambda f: [f.get("RecordState")],
    "Type": lambda f: list(f.get("Types") or []),
    "SeverityLabel": lambda f: [(f.get("Severity") or {}).get("Label")],
    "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status")],
    "ComplianceStatus": lambda f: [(f.get("Compliance") or {}).get("Status")],
    "ResourceId": lambda f: [r.get("Id") for r in f.get("Resources") or []],
    "ResourceType": lambda f: [r.get("Type") for r in f.get("Resources") or []],
}


def _string_filter_matches(values: list[Any], flt: dict[str, str]) -> bool:
    value, comparison = flt.get("Value", ""), flt.get("Comparison", "EQUALS")
    present = [v for v in values if isinstance(v, str)]
    tests = {
        "EQUALS": lambda v: v == value,
        "PREFIX": lambda v: v.startswith(value),
        "CONTAINS": lambda v: value in v,
        "NOT_EQUALS": lambda v: v != value,
        "PREFIX_NOT_EQUALS": lambda v: not v.startswith(value),
        "NOT_CONTAINS": lambda v: value not in v,
    }
    test = tests.get(comparison)
    if test is None:
        raise SecurityHubClientError(
            "InvalidInputException", f"Unsupported Comparison {comparison}."
        )
    if comparison.startswith(("NOT_", "PREFIX_NOT")):
        return all(test(v) for v in present)
    return any(test(v) for v in present)


def _finding_matches(finding: dict[str, Any], filters: dict[str, Any]) -> bool:
    """AWS semantics: keys are ANDed; for one key, positive comparisons are
    ORed and negative ones (NOT_*, PREFIX_NOT_EQUALS) are ANDed."""
    for key, conditions in (filters or {}).items():
        if key not in _FINDING_FIELDS:
            raise SecurityHubClientError(
                "InvalidInputException",
                f"The emulator does not support the GetFindings filter {key}.",
            )
        values = _FINDING_FIELDS[key](finding)
        positive = [c for c in conditions if not c.get("Comparison", "").startswith(("NOT_", "PREFIX_NOT"))]
        negative = [c for c in conditions if c not in positive]
        if positive and not any(_string_filter_matches(values, c) for c in positive):
            return False
        if not all(_string_filter_matches(values, c) for c in negative):
            return False
    return True


def _patch_securityhub_findings() -> None:
    """BatchImportFindings checks/defaults, GetFindings filters, BatchUpdateFindings."""
    original_import = SecurityHubBackend.batch_import_findings
    original_get = SecurityHubBackend.get_findings

    def batch_import_findings(
        self: SecurityHubBackend, findings: list[dict[str, Any]]
    ) -> tuple[int, int, list[dict[str, Any]]]:
        _require_hub(self)
        for finding in findings:
            finding.setdefault("RecordState", "ACTIVE")
            finding.setdefault("Workflow", {"Status": "NEW"})
            finding.setdefault("WorkflowState", "NEW")
        return original_import(self, findings)

    def get_findings(self: SecurityHubBackend, filters: Any = None, **kwargs: Any) -> Any:
        _require_hub(self)
        if not filters:
            return original_get(self, filters=filters, **kwargs)
        everything = self.findings
        try:
            self.findings = [f for f in everything if _finding_matches(f.data, filters)]
            return original_get(self, filters=filters, **kwargs)
        finally:
            self.findings = everything

    def batch_update_findings(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        _require_hub(backend)
        params = _body(self)
        processed, unprocessed = [], []
        for ident in params.get("FindingIdentifiers") or []:
            finding = next(
                (
                    f.data
                    for f in backend.findings
                    if f.data.get("Id") == ident.get("Id")
                    and f.data.get("ProductArn") == ident.get("ProductArn")
                ),
                None,
            )
            if finding is None:
                unprocessed.append(
                    {
                        "FindingIdentifier": ident,
                        "ErrorCode": "FindingNotFound",
                        "ErrorMessage": "Finding Not Found",
                    }
                )
                continue
            for key in ("VerificationState", "Confidence", "Criticality", "Types",
                        "UserDefinedFields", "RelatedFindings", "Workflow"):
                if key in params:
                    finding[key] = params[key]
            if "Workflow" in params:
                finding["WorkflowState"] = params["Workflow"].get("Status", "NEW")
            if "Severity" in params:
                finding.setdefault("Severity", {}).update(params["Severity"])
            if "Note" in params:
                finding["Note"] = dict(params["Note"], UpdatedAt=_now_iso())
            finding["UpdatedAt"] = _now_iso()
            processed.append({"Id": ident["Id"], "ProductArn": ident["ProductArn"]})
        return json.dumps(
            {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}
        )

    SecurityHubBackend.batch_import_findings = batch_import_findings
    SecurityHubBackend.get_findings = get_findings
    SecurityHubResponse.batch_update_findings = batch_update_findings
    securityhub_urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch


def _patch_securityhub_tags() -> None:
    """TagResource, UntagResource, ListTagsForResource on the hub's ARN."""

    def _tagged_hub(self: SecurityHubResponse) -> dict[str, str]:
        backend = self.securityhub_backend
        arn = unquote(self.path.split("/tags/", 1)[1])
        hub_arn = f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:hub/default"
        # The hub is the only taggable resource the emulator has.
        if not backend.enabled or arn != hub_arn:
            raise SecurityHubClientError(
                "ResourceNotFoundException",
                f"The request was rejected because no resource was found with ARN {arn}.",
            )
        if getattr(backend, "tags", None) is None:
            backend.tags = {}
        return backend.tags

    def tag_resource(self: SecurityHubResponse) -> str:
        tags = _tagged_hub(self)
        tags.update(_body(self).get("Tags") or {})
        return "{}"

    def untag_resource(self: SecurityHubResponse) -> str:
        tags = _tagged_hub(self)
        for key in self.querystring.get("tagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self: SecurityHubResponse) -> str:
        return json.dumps({"Tags": dict(_tagged_hub(self))})

    SecurityHubResponse.tag_resource = tag_resource
    SecurityHubResponse.untag_resource = untag_resource
    SecurityHubResponse.list_tags_for_resource = list_tags_for_resource
    securityhub_urls.url_paths["{0}/tags/(?P<resource_arn>.+)$"] = SecurityHubResponse.dispatch


# --------------------------------------------------------------------------
# Backup
# --------------------------------------------------------------------------


def _selections(backend: BackupBackend, plan_id: str) -> dict[str, dict[str, Any]]:
    """selection id -> selection for one plan, stored on the account/region backend."""
    return backend.__dict__.setdefault("baseline_selections", {}).setdefault(plan_id, {})


def _live_plan(backend: BackupBackend, plan_id: str) -> Plan:
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(
            msg=f"Failed reading Backup plan with provided version (id {plan_id})"
        )
    return plan


def _plan_id_from_path(path: str) -> str:
    # /backup/plans/{backupPlanId}[/selections/[{selectionId}]]
    return path.split("/backup/plans/", 1)[1].split("/")[0]


def _patch_backup_plans() -> None:
    """UpdateBackupPlan; deleted plan names reusable; no delete while selected."""

    def create_backup_plan(
        self: BackupBackend,
        backup_plan: dict[str, Any],
        backup_plan_tags: dict[str, str],
        creator_request_id: str,
    ) -> Plan:
        name = backup_plan["BackupPlanName"]
        if any(
            p.backup_plan["BackupPlanName"] == name and p.deletion_date is None
            for p in self.plans.values()
        ):
            raise AlreadyExistsException(
                msg="Backup plan with the same plan document already exists"
            )
        plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=self)
        if backup_plan_tags:
            self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
        self.plans[plan.backup_plan_id] = plan
        return plan

    original_delete = BackupBackend.delete_backup_plan

    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        if _selections(self, backup_plan_id):
            raise InvalidRequestException(
                msg="Related backup plan selections must be deleted prior to "
                "backup plan deletion"
            )
        return original_delete(self, backup_plan_id)

    def update_backup_plan(self: BackupResponse) -> str:
        backend = self.backup_backend
        plan = _live_plan(backend, _plan_id_from_path(self.path))
        new_doc = _body(self)["BackupPlan"]
        # Let moto's Plan fill rule defaults / RuleIds, then adopt its document.
        normalised = Plan(new_doc, plan.creator_request_id, backend)
        plan.backup_plan = normalised.backup_plan
        plan.advanced_backup_settings = normalised.advanced_backup_settings
        plan.version_id = mock_random.get_random_string(length=48)
        return json.dumps(plan.to_dict())

    BackupBackend.create_backup_plan = create_backup_plan
    BackupBackend.delete_backup_plan = delete_backup_plan
    BackupResponse.update_backup_plan = update_backup_plan


def _patch_backup_selections() -> None:
    """Create/List/Get/DeleteBackupSelection (paths already routed by moto)."""

    def create_backup_selection(self: BackupResponse) -> str:
        backend = self.backup_backend
        plan_id = _plan_id_from_path(self.path)
        _live_plan(backend, plan_id)
        params = _body(self)
        sel = params.get("BackupSelection") or {}
        selections = _selections(backend, plan_id)
        if any(s["BackupSelection"]["SelectionName"] == sel.get("SelectionName")
               for s in selections.values()):
            raise AlreadyExistsException(
                msg=f"Backup selection {sel.get('SelectionName')} already exists"
            )
        selection_id = str(uuid.uuid4())
        conditions = sel.get("Conditions") or {}
        selections[selection_id] = {
            "BackupSelection": {
                "SelectionName": sel["SelectionName"],
                "IamRoleArn": sel["IamRoleArn"],
                "Resources": sel.get("Resources") or [],
                "ListOfTags": sel.get("ListOfTags") or [],
                "NotResources": sel.get("NotResources") or [],
                "Conditions": {
                    key: conditions.get(key) or []
                    for key in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
                },
            },
            "SelectionId": selection_id,
            "BackupPlanId": plan_id,
            "CreationDate": unix_time(),
            "CreatorRequestId": params.get("CreatorRequestId") or str(uuid.uuid4()),
        }
        return json.dumps(
            {
                "SelectionId": selection_id,
                "BackupPlanId": plan_id,
                "CreationDate": selections[selection_id]["CreationDate"],
            }
        )

    def list_backup_selections(self: BackupResponse) -> str:
        backend = self.backup_backend
        plan_id = _plan_id_from_path(self.path)
        _live_plan(backend, plan_id)
        items = [
            {
                "SelectionId": s["SelectionId"],
                "SelectionName": s["BackupSelection"]["SelectionName"],
                "BackupPlanId": plan_id,
                "CreationDate": s["CreationDate"],
                "CreatorRequestId": s["CreatorRequestId"],
                "IamRoleArn": s["BackupSelection"]["IamRoleArn"],
            }
            for s in _selections(backend, plan_id).values()
        ]
        return json.dumps({"BackupSelectionsList": items})

    def _selection(self: BackupResponse) -> tuple[dict[str, Any], str, str]:
        backend = self.backup_backend
        parts = self.path.rstrip("/").split("/")
        plan_id, selection_id = _plan_id_from_path(self.path), parts[-1]
        _live_plan(backend, plan_id)
        selections = _selections(backend, plan_id)
        if selection_id not in selections:
            raise ResourceNotFoundException(
                msg=f"Backup selection {selection_id} not found in plan {plan_id}"
            )
        return selections, plan_id, selection_id

    def get_backup_selection(self: BackupResponse) -> str:
        selections, _, selection_id = _selection(self)
        return json.dumps(selections[selection_id])

    def delete_backup_selection(self: BackupResponse) -> str:
        selections, _, selection_id = _selection(self)
        del selections[selection_id]
        return "{}"

    BackupResponse.create_backup_selection = create_backup_selection
    BackupResponse.list_backup_selections = list_backup_selections
    BackupResponse.get_backup_selection = get_backup_selection
    BackupResponse.delete_backup_selection = delete_backup_selection
    # moto's "/backup/plans/(?P<name>.+)/?$" already matches these paths; keep
    # an explicit entry so the routing does not depend on that regex.
    backup_urls.url_paths.setdefault(
        "{0}/backup/plans/(?P<plan>[^/]+)/selections/(?P<selection>[^/]*)$",
        BackupResponse.dispatch,
    )


def _patch_backup_vault_delete() -> None:
    """DeleteBackupVault of an unknown vault -> ResourceNotFoundException."""

    original = BackupBackend.delete_backup_vault

    def delete_backup_vault(self: BackupBackend, backup_vault_name: str) -> None:
        if backup_vault_name not in self.vaults:
            raise ResourceNotFoundException(
                msg=f"Backup vault {backup_vault_name} not found"
            )
        original(self, backup_vault_name)

    BackupBackend.delete_backup_vault = delete_backup_vault


def _patch_backup_list_tags() -> None:
    """ListTags: the ARN is everything after /tags/, with or without a trailing '/'."""

    def list_tags(self: BackupResponse) -> str:
        arn = unquote(self.path.split("/tags/", 1)[1].split("?", 1)[0].rstrip("/"))
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=arn)})

    BackupResponse.list_tags = list_tags


# --------------------------------------------------------------------------
# KMS
# --------------------------------------------------------------------------


def _kms_key(response: KmsResponse, key_id: str) -> Any:
    response._validate_cmk_id(key_id)
    return response.kms_backend.keys[response.kms_backend.get_key_id(key_id)]


def _patch_kms_rotation_period() -> None:
    """EnableKeyRotation(RotationPeriodInDays) read back by GetKeyRotationStatus."""
    original_enable = KmsResponse.enable_key_rotation

    def enable_key_rotation(self: KmsResponse) -> str:
        period = self._get_param("RotationPeriodInDays")
        if period is not None and not 90 <= int(period) <= 2560:
            raise ValidationException(
                f"1 validation error detected: Value '{period}' at "
                "'rotationPeriodInDays' failed to satisfy constraint: Member must "
                "have value between 90 and 2560"
            )
        result = original_enable(self)
        key = _kms_key(self, self._get_param("KeyId"))
        key.baseline_rotation_period = int(period) if period is not None else 365
        key.baseline_rotation_enabled_at = utcnow()
        return result

    def get_key_rotation_status(self: KmsResponse) -> str:
        key = _kms_key(self, self._get_param("KeyId"))
        out: dict[str, Any] = {
            "KeyId": key.arn,
            "KeyRotationEnabled": bool(key.key_rotation_status),
        }
        if key.key_rotation_status:
            period = getattr(key, "baseline_rotation_period", 365)
            start = getattr(key, "baseline_rotation_enabled_at", utcnow())
            out["RotationPeriodInDays"] = period
            out["NextRotationDate"] = unix_time(start + datetime.timedelta(days=period))
        return json.dumps(out)

    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status


def _patch_kms_policy_name_optional() -> None:
    """Get/PutKeyPolicy: PolicyName is optional and defaults to "default"."""

    def _assert_default_policy(policy_name: str | None) -> None:
        if policy_name not in (None, "default"):
            raise NotFoundException("No such policy exists")

    kms_responses._assert_default_policy = _assert_default_policy


def _patch_kms_schedule_key_deletion() -> None:
    """ScheduleKeyDeletion: 7-30 day window, key ARNs, full response."""

    def schedule_key_deletion(self: KmsResponse) -> str:
        key = _kms_key(self, self._get_param("KeyId"))
        days = self._get_param("PendingWindowInDays")
        days = 30 if days is None else int(days)
        if not 7 <= days <= 30:
            raise ValidationException(
                f"1 validation error detected: Value '{days}' at "
                "'pendingWindowInDays' failed to satisfy constraint: Member must "
                "have value between 7 and 30"
            )
        if key.key_state == "PendingDeletion":
            raise JsonRESTError(
                "KMSInvalidStateException", f"{key.arn} is pending deletion."
            )
        deletion = self.kms_backend.schedule_key_deletion(key.id, days)
        return json.dumps(
            {
                "KeyId": key.arn,
                "DeletionDate": deletion,
                "KeyState": "PendingDeletion",
                "PendingWindowInDays": days,
            }
        )

    KmsResponse.schedule_key_deletion = schedule_key_deletion


def _patch_kms_aws_managed_keys() -> None:
    """Keys behind the reserved alias/aws/* aliases are AWS managed, rotated yearly."""
    original = KmsBackend._generate_default_keys

    def _generate_default_keys(self: KmsBackend, alias_name: str) -> str | None:
        key_id = original(self, alias_name)
        if key_id is not None:
            key = self.keys[key_id]
            key.key_manager = "AWS"
            key.key_rotation_status = True
            service = alias_name.split("/")[-1]
            key.description = (
                f"Default key that protects my {service} resources when no other key "
                "is defined"
            )
        return key_id

    KmsBackend._generate_default_keys = _generate_default_keys


# --------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------


def _patch_s3_get_bucket_versioning() -> None:
    """GetBucketVersioning answers <VersioningConfiguration> (moto: a
    <GetBucketVersioningResponse> root, which strict SDKs reject)."""

    def get_bucket_versioning(self: S3Response) -> Any:
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{status}</Status>" if status else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{inner}</VersioningConfiguration>"
        )
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


# --------------------------------------------------------------------------
# CloudTrail, IAM, Organizations
# --------------------------------------------------------------------------


def _patch_cloudtrail_delete_trail() -> None:
    """DeleteTrail accepts a name or an ARN; unknown -> TrailNotFoundException."""

    def delete_trail(self: CloudTrailBackend, name: str) -> None:
        trail = self.get_trail(name)  # raises TrailNotFoundException
        self.trails.pop(trail.trail_name, None)

    CloudTrailBackend.delete_trail = delete_trail


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _trail_bucket_policy_allows(
    account_id: str, partition: str, bucket_name: str, prefix: str | None
) -> bool:
    """Whether the bucket policy lets CloudTrail check the bucket ACL and write
    <prefix>/AWSLogs/<account>/... (conditions are not evaluated)."""
    from moto.s3.models import s3_backends

    # Bucket names are global: moto finds a bucket of another account too.
    bucket = s3_backends[account_id][partition].get_bucket(bucket_name)
    try:
        policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
        statements = _as_list(json.loads(policy).get("Statement")) if policy else []
    except (ValueError, AttributeError):
        return False
    bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
    folder = f"{prefix}/" if prefix else ""
    log_object = f"{bucket_arn}/{folder}AWSLogs/{account_id}/CloudTrail/log.json.gz"

    def allowed(action: str, resource: str) -> bool:
        for st in statements:
            principal = st.get("Principal")
            trusted = principal == "*" or (
                isinstance(principal, dict)
                and (
                    "cloudtrail.amazonaws.com" in _as_list(principal.get("Service"))
                    or "*" in _as_list(principal.get("AWS"))
                )
            )
            if (
                st.get("Effect") == "Allow"
                and trusted
                and any(fnmatch.fnmatchcase(action.lower(), str(a).lower())
                        for a in _as_list(st.get("Action")))
                and any(fnmatch.fnmatchcase(resource, str(r))
                        for r in _as_list(st.get("Resource")))
            ):
                return True
        return False

    return allowed("s3:GetBucketAcl", bucket_arn) and allowed("s3:PutObject", log_object)


def _require_trail_bucket_policy(
    account_id: str, partition: str, bucket_name: str, prefix: str | None
) -> None:
    if not _trail_bucket_policy_allows(account_id, partition, bucket_name, prefix):
        raise JsonRESTError(
            "InsufficientS3BucketPolicyException",
            f"Incorrect S3 bucket policy is detected for bucket: {bucket_name}",
        )


def _patch_cloudtrail_bucket_policy() -> None:
    """Create/UpdateTrail refuse a bucket whose policy does not let CloudTrail
    write (AWS: InsufficientS3BucketPolicyException)."""
    original_check = Trail.check_bucket_exists
    original_update = CloudTrailBackend.update_trail

    def check_bucket_exists(self: Trail) -> None:
        original_check(self)  # S3BucketDoesNotExistException
        _require_trail_bucket_policy(
            self.account_id, self.partition, self.bucket_name, self.s3_key_prefix
        )

    def update_trail(self: CloudTrailBackend, name: str, **kwargs: Any) -> Trail:
        trail = self.get_trail(name)
        bucket, prefix = kwargs.get("s3_bucket_name"), kwargs.get("s3_key_prefix")
        if bucket is not None or prefix is not None:
            bucket = trail.bucket_name if bucket is None else bucket
            prefix = trail.s3_key_prefix if prefix is None else prefix
            from moto.s3.models import s3_backends

            try:
                s3_backends[trail.account_id][trail.partition].get_bucket(bucket)
            except Exception:
                raise S3BucketDoesNotExistException(f"S3 bucket {bucket} does not exist!")
            _require_trail_bucket_policy(trail.account_id, trail.partition, bucket, prefix)
        return original_update(self, name=name, **kwargs)

    Trail.check_bucket_exists = check_bucket_exists
    CloudTrailBackend.update_trail = update_trail


def _patch_iam_login_profile_reset() -> None:
    """CreateLoginProfile(PasswordResetRequired=true) is stored and returned."""
    original = IamResponse.create_login_profile

    def create_login_profile(self: IamResponse) -> Any:
        result = original(self)
        if self._get_bool_param("PasswordResetRequired", False):
            user = self.backend.get_user(self._get_param("UserName"))
            user.password_reset_required = True
            result.result["LoginProfile"]["PasswordResetRequired"] = True
        return result

    IamResponse.create_login_profile = create_login_profile


# Service-linked role names AWS documents for the services baseline uses; moto
# derives "AWSServiceRoleForconfig" and the like from the principal.
_SERVICE_LINKED_ROLE_NAMES = {
    "config": "Config",
    "securityhub": "SecurityHub",
    "cloudtrail": "CloudTrail",
    "backup": "Backup",
    "organizations": "Organizations",
}


def _patch_iam_service_linked_role_names() -> None:
    """CreateServiceLinkedRole names roles as AWS does (AWSServiceRoleForConfig)."""
    iam_models.SERVICE_NAME_CONVERSION.update(_SERVICE_LINKED_ROLE_NAMES)


def _patch_config_recorder_role() -> None:
    """PutConfigurationRecorder refuses a role of the account that does not exist."""
    original = ConfigBackend.put_configuration_recorder

    def put_configuration_recorder(self: ConfigBackend, config_recorder: dict[str, Any]) -> None:
        role_arn = config_recorder.get("roleARN") or ""
        parts = role_arn.split(":")
        if not role_arn or (len(parts) > 4 and parts[4] == self.account_id):
            iam = iam_models.iam_backends[self.account_id][get_partition(self.region_name)]
            try:
                iam.get_role_by_arn(role_arn)
            except Exception:
                raise JsonRESTError(
                    "InvalidRoleException",
                    f"Unable to assume role {role_arn}: the role does not exist or "
                    "does not trust config.amazonaws.com.",
                )
        original(self, config_recorder)

    ConfigBackend.put_configuration_recorder = put_configuration_recorder


# Services that can have a delegated administrator (AWS Organizations user
# guide, "AWS services that you can use with AWS Organizations").
_DELEGATABLE_SERVICES = [
    "access-analyzer.amazonaws.com",
    "account.amazonaws.com",
    "auditmanager.amazonaws.com",
    "backup.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "compute-optimizer.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "detective.amazonaws.com",
    "devops-guru.amazonaws.com",
    "fms.amazonaws.com",
    "guardduty.amazonaws.com",
    "health.amazonaws.com",
    "inspector2.amazonaws.com",
    "ipam.amazonaws.com",
    "license-manager.amazonaws.com",
    "macie.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "securityhub.amazonaws.com",
    "securitylake.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "ssm.amazonaws.com",
    "sso.amazonaws.com",
    "storage-lens.s3.amazonaws.com",
]


def _patch_org_delegated_admins() -> None:
    """More delegatable services; validate before registering (no empty admin)."""
    for service in _DELEGATABLE_SERVICES:
        if service not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(service)

    original = OrganizationsBackend.register_delegated_administrator

    def register_delegated_administrator(self: OrganizationsBackend, **kwargs: str) -> None:
        if not FakeDelegatedAdministrator.supported_service(kwargs["ServicePrincipal"]):
            raise OrgInvalidInput("You specified an unrecognized service principal.")
        original(self, **kwargs)

    OrganizationsBackend.register_delegated_administrator = register_delegated_administrator


def _patch_org_attach_needs_enabled_type() -> None:
    """AttachPolicy refuses a policy whose type is not enabled on the root."""
    original = OrganizationsBackend.attach_policy

    def attach_policy(self: OrganizationsBackend, **kwargs: Any) -> None:
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        root = next((ou for ou in self.ou if isinstance(ou, FakeRoot)), None)
        # moto itself attaches the AWS-managed FullAWSAccess policies to new roots,
        # OUs and accounts; AWS keeps those attachments whatever the root enables.
        if not policy.aws_managed and root is not None and not any(
            t["Type"] == policy.type and t["Status"] == "ENABLED" for t in root.policy_types
        ):
            raise OrgPolicyTypeNotEnabled()
        original(self, **kwargs)

    OrganizationsBackend.attach_policy = attach_policy


def apply() -> None:
    """Apply every patch once (called on import)."""
    global _APPLIED
    if _APPLIED:
        return
    _patch_securityhub_enable_hub()
    _patch_securityhub_standards()
    _patch_securityhub_findings()
    _patch_securityhub_tags()
    _patch_backup_plans()
    _patch_backup_selections()
    _patch_backup_vault_delete()
    _patch_backup_list_tags()
    _patch_kms_rotation_period()
    _patch_kms_policy_name_optional()
    _patch_kms_schedule_key_deletion()
    _patch_kms_aws_managed_keys()
    _patch_s3_get_bucket_versioning()
    _patch_cloudtrail_delete_trail()
    _patch_cloudtrail_bucket_policy()
    _patch_iam_login_profile_reset()
    _patch_iam_service_linked_role_names()
    _patch_config_recorder_role()
    _patch_org_delegated_admins()
    _patch_org_attach_needs_enabled_type()
    # The strict behaviours (AWS refusing what moto accepts) build on the fixes above.
    import strict_access
    import strict_consistency
    import strict_policies
    import strict_monitoring

    strict_access.apply()
    strict_consistency.apply()
    strict_policies.apply()
    strict_monitoring.apply()
    _APPLIED = True


apply()
