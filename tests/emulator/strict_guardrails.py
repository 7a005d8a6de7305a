"""Account guardrails as AWS answers them: the IAM credential report, GuardDuty,
EBS encryption by default and S3 account-level Block Public Access. See
tests/emulator/README.md (both tables) and test_strict_guardrails.py.

iam        GenerateCredentialReport starts a report that is ready only after
           the consistency window: STARTED ("No report exists. Starting a new
           report generation task") on the first call, STARTED until the window
           has passed, then COMPLETE (moto: COMPLETE on the second call, at
           once). A report is a snapshot; a new one is generated only when the
           last is four hours old. GetCredentialReport: ReportNotPresent (410)
           before any generation, ReportInProgress (404) while generating,
           ReportExpired (410) after four hours. The CSV has AWS's 22 columns,
           a first <root_account> row (arn:<partition>:iam::<account>:root,
           not_supported password fields, mfa_active from the AccountMFAEnabled
           that GetAccountSummary reports, no keys or certificates) and AWS's
           N/A / no_information values in the user rows (moto wrote
           not_supported and a password_last_changed for users without one).
           https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html
           https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
guardduty  CreateDetector: one detector per account and region ("The request
           is rejected because a detector already exists for the current
           account."); feature names, statuses and the publishing frequency
           are checked against the API's enums (BadRequestException); features
           default as the API reference says (all optional features ENABLED
           except RUNTIME_MONITORING and its predecessor EKS_RUNTIME_MONITORING);
           GetDetector reports every feature with status and updatedAt and
           data sources that agree with them. UpdateDetector changes only the
           named features. DeleteDetector of an unknown id fails. Tags on the
           detector ARN (TagResource / UntagResource / ListTagsForResource).
           Organization: Enable/DisableOrganizationAdminAccount and
           ListOrganizationAdminAccounts only from the management account,
           per region; enabling records the Organizations delegated
           administrator for guardduty.amazonaws.com, turns trusted access on
           and creates the administrator's detector in that region (as the
           GuardDuty guide says). Describe/UpdateOrganizationConfiguration only
           from that administrator, with its own detector id.
           https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html
           https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html
ec2        GetEbsDefaultKmsKeyId (alias/aws/ebs until changed) and
           ResetEbsDefaultKmsKeyId, which moto lacks (HTTP 500).
           ModifyEbsDefaultKmsKeyId answers the key ARN; as the API reference
           says, the key is authenticated asynchronously, so an id, alias or
           ARN that does not resolve is accepted (moto answered a KMS JSON
           error to an EC2 client).
           https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyEbsDefaultKmsKeyId.html
s3control  Account-level Block Public Access: moto 5.2.5 already routes
           /v20180820/configuration/publicAccessBlock signed for `s3` to S3
           Control, answers AccessDenied (403) for another account's
           x-amz-account-id and NoSuchPublicAccessBlockConfiguration (404) in
           an <ErrorResponse>; the tests pin that. Nothing is patched.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from typing import Any
from urllib.parse import unquote

import botocore.session
import emulator_settings
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.responses import EC2Response
from moto.guardduty import urls as guardduty_urls
from moto.guardduty.models import Detector, GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.iam import models as iam_models
from moto.iam.exceptions import EntityAlreadyExists, IAMException, ReportNotPresentException
from moto.iam.responses import IamResponse
from moto.utilities.utils import get_partition

_APPLIED = False


def _window() -> float:
    return emulator_settings.consistency_seconds()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------
# IAM credential report
# --------------------------------------------------------------------------

REPORT_LIFETIME_SECONDS = 4 * 3600  # "as often as once every four hours"
REPORT_HEADER = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]
_STARTED_DESCRIPTION = "No report exists. Starting a new report generation task"
# Services that are not regional: the report's last-used region is N/A.
_GLOBAL_SERVICES = {"iam"}


class ReportInProgress(IAMException):
    code = "ReportInProgress"


class ReportExpired(IAMException):
    code = "ReportExpired"


def _iso(when: datetime.datetime) -> str:
    """The report's ISO 8601 timestamps, e.g. 2024-01-31T12:00:00+00:00."""
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _account_created(backend: Any) -> datetime.datetime:
    """When the account was created: the earliest of its CreateAccount time in
    an organization, the first time the emulator saw it and its IAM entities."""
    import strict_policies

    partition = get_partition(backend.region_name)
    stamps = [u.create_date for u in list(backend.users.values())]
    stamps += [r.create_date for r in list(backend.roles.values())]
    orgs = strict_policies._org_backend_of(backend.account_id, partition)
    if orgs is not None:
        stamps += [a.create_time for a in orgs.accounts if a.id == backend.account_id]
    stamps.append(backend.__dict__.setdefault("baseline_first_seen", utcnow()))
    return min(s.replace(tzinfo=None) for s in stamps)


def _key_columns(key: Any) -> list[str]:
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    used = key.last_used
    if used is None:
        return [_flag(key.status == "Active"), _iso(key.create_date), "N/A", "N/A", "N/A"]
    service = getattr(used, "service", None) or "N/A"
    region = getattr(used, "region", None) or "N/A"
    if service in _GLOBAL_SERVICES:
        region = "N/A"
    stamp = used.timestamp if hasattr(used, "timestamp") else used
    return [_flag(key.status == "Active"), _iso(key.create_date), _iso(stamp), region, service]


def _cert_columns(cert: Any) -> list[str]:
    if cert is None:
        return ["false", "N/A"]
    return [_flag(cert.status == "Active"), _iso(cert.upload_date)]


def _user_row(backend: Any, user: Any) -> list[str]:
    if user.password:
        last_used = _iso(user.password_last_used) if user.password_last_used else "no_information"
        changed = user.__dict__.get("baseline_password_changed") or user.create_date
        policy = backend.account_password_policy
        max_age = getattr(policy, "max_password_age", None) if policy else None
        next_rotation = _iso(changed + datetime.timedelta(days=max_age)) if max_age else "N/A"
        password = ["true", last_used, _iso(changed), next_rotation]
    else:
        password = ["false", "N/A", "N/A", "N/A"]
    keys = list(user.access_keys)[:2]
    certs = list(user.signing_certificates.values())[:2]
    return [
        user.name, user.arn, _iso(user.create_date), *password,
        _flag(bool(user.mfa_devices)),
        *_key_columns(keys[0] if keys else None),
        *_key_columns(keys[1] if len(keys) > 1 else None),
        *_cert_columns(certs[0] if certs else None),
        *_cert_columns(certs[1] if len(certs) > 1 else None),
    ]


def _root_row(backend: Any) -> list[str]:
    partition = get_partition(backend.region_name)
    # GetAccountSummary's AccountMFAEnabled is the emulator's root MFA state.
    mfa = bool(backend.account_summary._account_mfa_enabled)
    return [
        "<root_account>", f"arn:{partition}:iam::{backend.account_id}:root",
        _iso(_account_created(backend)), "not_supported", "no_information",
        "not_supported", "not_supported", _flag(mfa),
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A",
    ]


def credential_report_csv(backend: Any) -> str:
    """The report as AWS writes it: plain comma-joined cells, unquoted (a user
    name may hold a comma), one line per row."""
    rows = [REPORT_HEADER, _root_row(backend)]
    rows += [_user_row(backend, u) for u in sorted(backend.users.values(), key=lambda u: u.create_date)]
    return "".join(",".join(row) + "\n" for row in rows)


def _report(backend: Any) -> dict[str, Any]:
    return backend.__dict__.setdefault("baseline_credential_report", {})


def _patch_iam_credential_report() -> None:
    def generate_credential_report(self: IamResponse) -> ActionResult:
        report = _report(self.backend)
        now = time.time()
        started = report.get("started")
        if started is None or now - started >= REPORT_LIFETIME_SECONDS:
            report.update(started=now, generated=utcnow(),
                          content=credential_report_csv(self.backend))
            return ActionResult({"State": "STARTED", "Description": _STARTED_DESCRIPTION})
        if now - started < _window():
            return ActionResult({"State": "STARTED"})
        return ActionResult({"State": "COMPLETE"})

    def get_credential_report(self: IamResponse) -> ActionResult:
        report = _report(self.backend)
        started = report.get("started")
        if started is None:
            raise ReportNotPresentException(
                "The credential report does not exist. To generate a credential report, "
                "use GenerateCredentialReport."
            )
        age = time.time() - started
        if age < _window():
            raise ReportInProgress("The credential report is still being generated.")
        if age >= REPORT_LIFETIME_SECONDS:
            raise ReportExpired(
                "The most recent credential report has expired. To generate a new "
                "credential report, use GenerateCredentialReport."
            )
        return ActionResult({
            "Content": report["content"],
            "ReportFormat": "text/csv",
            "GeneratedTime": report["generated"],
        })

    def stamped(original: Any) -> Any:
        def wrapper(self: iam_models.IAMBackend, user_name: str, password: Any, *args: Any, **kwargs: Any) -> Any:
            user = original(self, user_name, password, *args, **kwargs)
            if password:
                user.baseline_password_changed = utcnow()
            return user

        return wrapper

    IamResponse.generate_credential_report = generate_credential_report
    IamResponse.get_credential_report = get_credential_report
    iam_models.IAMBackend.create_login_profile = stamped(iam_models.IAMBackend.create_login_profile)
    iam_models.IAMBackend.update_login_profile = stamped(iam_models.IAMBackend.update_login_profile)


# --------------------------------------------------------------------------
# GuardDuty
# --------------------------------------------------------------------------

GD_SERVICE_PRINCIPAL = "guardduty.amazonaws.com"
_GD_ALREADY_EXISTS = "The request is rejected because a detector already exists for the current account."
_GD_INVALID = (
    "The request is rejected because an invalid or out-of-range value is specified as an "
    "input parameter."
)
_GD_NOT_MASTER = "The request failed because you do not have required AWS Organization master permission."
# Always on while the detector is: foundational data sources.
_GD_FOUNDATIONAL = ("CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS")
# "When you don't specify any features, with an exception to RUNTIME_MONITORING,
# all the optional features are enabled by default." EKS_RUNTIME_MONITORING is
# the EKS-only predecessor of RUNTIME_MONITORING and can't be combined with it.
_GD_DEFAULT_ON = ("S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION",
                  "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS")
_GD_DEFAULT_OFF = ("EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING")
_GD_ADDITIONAL = {
    "EKS_RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",),
    "RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT",
                           "EC2_AGENT_MANAGEMENT"),
}
_GD_ORG_FEATURES = ("S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION",
                    "RDS_LOGIN_EVENTS", "EKS_RUNTIME_MONITORING", "LAMBDA_NETWORK_LOGS",
                    "RUNTIME_MONITORING")
_GD_ARN = re.compile(r"arn:([^:]+):guardduty:([^:]+):(\d{12}):detector/([^/]+)")
_GD_ENUMS: dict[str, frozenset[str]] = {}


def _gd_enum(shape: str) -> frozenset[str]:
    """Enum values of the GuardDuty model that botocore ships."""
    if not _GD_ENUMS:
        model = botocore.session.get_session().get_service_model("guardduty")
        _GD_ENUMS.update({
            name: frozenset(model.shape_for(name).enum)
            for name in ("DetectorFeature", "FeatureStatus", "FeatureAdditionalConfiguration",
                         "FindingPublishingFrequency", "OrgFeature", "OrgFeatureStatus",
                         "OrgFeatureAdditionalConfiguration", "AutoEnableMembers")
        })
    return _GD_ENUMS[shape]


class GuardDutyBadRequest(JsonRESTError):
    """BadRequestException, with GuardDuty's own type in the body (moto's
    DetectorNotFoundException does the same)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", "BadRequestException"), ("Content-Type", "application/json")]


def _epoch(when: float) -> float:
    return round(when, 3)


def _gd_time(when: float) -> str:
    stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _features(detector: Detector) -> dict[str, dict[str, Any]]:
    return detector.__dict__.setdefault("baseline_features", {})


def _default_features(detector: Detector, now: float) -> None:
    features = _features(detector)
    for name in _GD_FOUNDATIONAL + _GD_DEFAULT_ON + _GD_DEFAULT_OFF:
        features[name] = {
            "status": "DISABLED" if name in _GD_DEFAULT_OFF else "ENABLED",
            "updatedAt": now,
            "additional": {
                extra: {"status": "DISABLED", "updatedAt": now}
                for extra in _GD_ADDITIONAL.get(name, ())
            },
        }


def _validate_features(features: Any) -> list[dict[str, Any]]:
    features = _as_list(features)
    names = [f.get("name") for f in features if isinstance(f, dict)]
    if len(names) != len(features) or len(set(names)) != len(names):
        raise GuardDutyBadRequest(_GD_INVALID)
    for feature in features:
        if feature.get("name") not in _gd_enum("DetectorFeature"):
            raise GuardDutyBadRequest(_GD_INVALID)
        if "status" in feature and feature["status"] not in _gd_enum("FeatureStatus"):
            raise GuardDutyBadRequest(_GD_INVALID)
        for extra in _as_list(feature.get("additionalConfiguration")):
            if (not isinstance(extra, dict)
                    or extra.get("name") not in _gd_enum("FeatureAdditionalConfiguration")
                    or extra.get("status", "ENABLED") not in _gd_enum("FeatureStatus")):
                raise GuardDutyBadRequest(_GD_INVALID)
    if {"EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING"} <= set(names):
        # "Specifying both EKS Runtime Monitoring and Runtime Monitoring will cause an error."
        raise GuardDutyBadRequest(_GD_INVALID)
    return features


def _features_from_data_sources(data_sources: Any) -> list[dict[str, Any]]:
    """The legacy dataSources as features (S3 logs, EKS audit logs, EBS malware)."""
    if not isinstance(data_sources, dict):
        return []
    out = []
    s3 = (data_sources.get("s3Logs") or {}).get("enable")
    if s3 is not None:
        out.append({"name": "S3_DATA_EVENTS", "status": "ENABLED" if s3 else "DISABLED"})
    audit = ((data_sources.get("kubernetes") or {}).get("auditLogs") or {}).get("enable")
    if audit is not None:
        out.append({"name": "EKS_AUDIT_LOGS", "status": "ENABLED" if audit else "DISABLED"})
    ebs = ((data_sources.get("malwareProtection") or {}).get("scanEc2InstanceWithFindings")
           or {}).get("ebsVolumes")
    if ebs is not None:
        out.append({"name": "EBS_MALWARE_PROTECTION", "status": "ENABLED" if ebs else "DISABLED"})
    return out


def _apply_features(detector: Detector, requested: list[dict[str, Any]], now: float) -> None:
    features = _features(detector)
    for feature in requested:
        entry = features.setdefault(feature["name"], {"status": "DISABLED", "updatedAt": now,
                                                      "additional": {}})
        if feature.get("status") and feature["status"] != entry["status"]:
            entry.update(status=feature["status"], updatedAt=now)
        for extra in _as_list(feature.get("additionalConfiguration")):
            slot = entry["additional"].setdefault(extra["name"], {"status": "DISABLED",
                                                                   "updatedAt": now})
            status = extra.get("status", "ENABLED")
            if status != slot["status"]:
                slot.update(status=status, updatedAt=now)


def _check_frequency(frequency: Any) -> None:
    if frequency is not None and frequency not in _gd_enum("FindingPublishingFrequency"):
        raise GuardDutyBadRequest(_GD_INVALID)


def _detector_view(backend: GuardDutyBackend, detector: Detector) -> dict[str, Any]:
    features = _features(detector)

    def status(name: str) -> str:
        return features.get(name, {}).get("status", "DISABLED")

    view_features = []
    for name, entry in features.items():
        item: dict[str, Any] = {"name": name, "status": entry["status"],
                                "updatedAt": _epoch(entry["updatedAt"])}
        if entry["additional"]:
            item["additionalConfiguration"] = [
                {"name": extra, "status": slot["status"], "updatedAt": _epoch(slot["updatedAt"])}
                for extra, slot in entry["additional"].items()
            ]
        view_features.append(item)
    return {
        "createdAt": _gd_time(detector.__dict__.get("baseline_created", time.time())),
        "findingPublishingFrequency": detector.finding_publish_freq,
        "serviceRole": detector.service_role,
        "status": "ENABLED" if detector.enabled else "DISABLED",
        "updatedAt": _gd_time(detector.__dict__.get("baseline_updated", time.time())),
        "dataSources": {
            "cloudTrail": {"status": status("CLOUD_TRAIL")},
            "dnsLogs": {"status": status("DNS_LOGS")},
            "flowLogs": {"status": status("FLOW_LOGS")},
            "s3Logs": {"status": status("S3_DATA_EVENTS")},
            "kubernetes": {"auditLogs": {"status": status("EKS_AUDIT_LOGS")}},
            "malwareProtection": {
                "scanEc2InstanceWithFindings": {
                    "ebsVolumes": {"status": status("EBS_MALWARE_PROTECTION")}
                },
                "serviceRole": (
                    f"arn:{backend.partition}:iam::{backend.account_id}:role/aws-service-role/"
                    "malware-protection.guardduty.amazonaws.com/"
                    "AWSServiceRoleForAmazonGuardDutyMalwareProtection"
                ),
            },
        },
        "tags": dict(detector.tags),
        "features": view_features,
    }


def _ensure_guardduty_role(account: str, partition: str) -> None:
    """AWSServiceRoleForAmazonGuardDuty, which AWS creates with the detector."""
    iam = iam_models.iam_backends[account][partition]
    # A snapshot of the roles (list() copies them without yielding the GIL): another
    # request of the same account may create a role meanwhile.
    if any(r.name == "AWSServiceRoleForAmazonGuardDuty" for r in list(iam.roles.values())):
        return
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": GD_SERVICE_PRINCIPAL},
        "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(
            "AWSServiceRoleForAmazonGuardDuty", json.dumps(trust),
            f"/aws-service-role/{GD_SERVICE_PRINCIPAL}/", permissions_boundary=None,
            description="", tags=[], max_session_duration="3600",
            linked_service=GD_SERVICE_PRINCIPAL,
        )
    except EntityAlreadyExists:
        pass  # another region's CreateDetector of the same account made it meanwhile


def _create_detector(
    backend: GuardDutyBackend, enable: bool, frequency: str | None, data_sources: Any,
    tags: Any, features: list[dict[str, Any]],
) -> str:
    if backend.detectors:
        raise GuardDutyBadRequest(_GD_ALREADY_EXISTS)
    now = time.time()
    detector_id = backend.create_detector(enable, frequency or "SIX_HOURS", {}, tags or {}, [])
    detector = backend.detectors[detector_id]
    detector.baseline_created = detector.baseline_updated = now
    _default_features(detector, now)
    _apply_features(detector, _features_from_data_sources(data_sources) + features, now)
    _ensure_guardduty_role(backend.account_id, backend.partition)
    return detector_id


def _gd_org(backend: GuardDutyBackend) -> Any:
    import strict_policies

    return strict_policies._org_backend_of(backend.account_id, backend.partition)


def _require_management(backend: GuardDutyBackend) -> Any:
    orgs = _gd_org(backend)
    if orgs is None or orgs.org.master_account_id != backend.account_id:
        raise GuardDutyBadRequest(_GD_NOT_MASTER)
    return orgs


def _admin_of_region(orgs: Any, region: str) -> str | None:
    admins = guardduty_backends[orgs.org.master_account_id][region].admin_account_ids
    return admins[0] if admins else None


def _require_org_admin(backend: GuardDutyBackend, detector_id: str) -> Detector:
    """The caller's own detector, if the caller is the region's administrator."""
    detector = backend.get_detector(detector_id)  # not the caller's: DetectorNotFound
    orgs = _gd_org(backend)
    if orgs is None or _admin_of_region(orgs, backend.region_name) != backend.account_id:
        raise GuardDutyBadRequest(_GD_NOT_MASTER)
    return detector


def _org_config(detector: Detector) -> dict[str, Any]:
    return detector.__dict__.setdefault("baseline_org_config", {
        "members": "NONE",
        "features": {name: {"autoEnable": "NONE", "additional": {
            extra: "NONE" for extra in _GD_ADDITIONAL.get(name, ())}}
            for name in _GD_ORG_FEATURES},
    })


def _org_config_view(detector: Detector) -> dict[str, Any]:
    config = _org_config(detector)

    def auto(name: str) -> bool:
        return config["features"].get(name, {}).get("autoEnable", "NONE") != "NONE"

    features = []
    for name, entry in config["features"].items():
        item: dict[str, Any] = {"name": name, "autoEnable": entry["autoEnable"]}
        if entry["additional"]:
            item["additionalConfiguration"] = [
                {"name": extra, "autoEnable": value} for extra, value in entry["additional"].items()
            ]
        features.append(item)
    return {
        "autoEnable": config["members"] in ("NEW", "ALL"),
        "memberAccountLimitReached": False,
        "dataSources": {
            "s3Logs": {"autoEnable": auto("S3_DATA_EVENTS")},
            "kubernetes": {"auditLogs": {"autoEnable": auto("EKS_AUDIT_LOGS")}},
            "malwareProtection": {"scanEc2InstanceWithFindings": {
                "ebsVolumes": {"autoEnable": auto("EBS_MALWARE_PROTECTION")}}},
        },
        "features": features,
        "autoEnableOrganizationMembers": config["members"],
    }


def _update_org_config(detector: Detector, params: dict[str, Any]) -> None:
    members = params.get("autoEnableOrganizationMembers")
    legacy = params.get("autoEnable")
    if (members is None) == (legacy is None):
        # "You must provide a value for either autoEnableOrganizationMembers or
        # autoEnable, but not both."
        raise GuardDutyBadRequest(_GD_INVALID)
    if members is not None and members not in _gd_enum("AutoEnableMembers"):
        raise GuardDutyBadRequest(_GD_INVALID)
    requested = []
    data_sources = params.get("dataSources") or {}
    for name, value in (
        ("S3_DATA_EVENTS", (data_sources.get("s3Logs") or {}).get("autoEnable")),
        ("EKS_AUDIT_LOGS", ((data_sources.get("kubernetes") or {}).get("auditLogs") or {})
         .get("autoEnable")),
        ("EBS_MALWARE_PROTECTION", (((data_sources.get("malwareProtection") or {})
                                     .get("scanEc2InstanceWithFindings") or {})
                                    .get("ebsVolumes") or {}).get("autoEnable")),
    ):
        if value is not None:
            requested.append({"name": name, "autoEnable": "NEW" if value else "NONE"})
    features = _as_list(params.get("features"))
    names = [f.get("name") for f in features if isinstance(f, dict)]
    if len(names) != len(features) or len(set(names)) != len(names):
        raise GuardDutyBadRequest(_GD_INVALID)
    if {"EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING"} <= set(names):
        raise GuardDutyBadRequest(_GD_INVALID)
    for feature in features:
        if feature.get("name") not in _gd_enum("OrgFeature") or feature.get(
            "autoEnable", "NONE"
        ) not in _gd_enum("OrgFeatureStatus"):
            raise GuardDutyBadRequest(_GD_INVALID)
        for extra in _as_list(feature.get("additionalConfiguration")):
            if (not isinstance(extra, dict)
                    or extra.get("name") not in _gd_enum("OrgFeatureAdditionalConfiguration")
                    or extra.get("autoEnable", "NONE") not in _gd_enum("OrgFeatureStatus")):
                raise GuardDutyBadRequest(_GD_INVALID)
    config = _org_config(detector)
    config["members"] = members if members is not None else ("NEW" if legacy else "NONE")
    for feature in requested + features:
        entry = config["features"].setdefault(feature["name"], {"autoEnable": "NONE",
                                                                "additional": {}})
        if "autoEnable" in feature:
            entry["autoEnable"] = feature["autoEnable"]
        for extra in _as_list(feature.get("additionalConfiguration")):
            entry["additional"][extra["name"]] = extra.get("autoEnable", "NONE")


def _tag_target(response: GuardDutyResponse) -> Detector:
    arn = unquote(response.path.split("/tags/", 1)[1])
    found = _GD_ARN.fullmatch(arn)
    backend = response.guardduty_backend
    if found is None:
        raise GuardDutyBadRequest(_GD_INVALID)
    partition, region, account, detector_id = found.groups()
    if (partition, region, account) != (backend.partition, backend.region_name, backend.account_id):
        raise GuardDutyBadRequest(_GD_INVALID)
    return backend.get_detector(detector_id)


def _json(body: Any, status: int = 200) -> tuple[str, dict[str, Any]]:
    """A GuardDuty (restJson1) answer."""
    return json.dumps(body), {"status": status, "Content-Type": "application/json"}


def _guardduty_handlers() -> dict[str, Any]:
    def create_detector(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        frequency = self._get_param("findingPublishingFrequency")
        _check_frequency(frequency)
        features = _validate_features(self._get_param("features"))
        tags = self._get_param("tags") or {}
        if any(k.lower().startswith("aws:") for k in tags):
            raise GuardDutyBadRequest(_GD_INVALID)
        detector_id = _create_detector(
            self.guardduty_backend, bool(self._get_param("enable")), frequency,
            self._get_param("dataSources"), tags, features,
        )
        return _json({"detectorId": detector_id})

    def get_detector(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        detector = backend.get_detector(self.path.rstrip("/").split("/")[-1])
        if not _features(detector):
            _default_features(detector, time.time())
        return _json(_detector_view(backend, detector))

    def update_detector(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        detector = backend.get_detector(self.path.rstrip("/").split("/")[-1])
        frequency = self._get_param("findingPublishingFrequency")
        _check_frequency(frequency)
        features = _validate_features(self._get_param("features"))
        now = time.time()
        if not _features(detector):
            _default_features(detector, now)
        enable = self._get_param("enable")
        if enable is not None:
            detector.enabled = bool(enable)
        if frequency is not None:
            detector.finding_publish_freq = frequency
        _apply_features(detector, _features_from_data_sources(self._get_param("dataSources"))
                        + features, now)
        detector.baseline_updated = now
        return _json({})

    def delete_detector(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        detector_id = self.path.rstrip("/").split("/")[-1]
        backend.get_detector(detector_id)
        backend.delete_detector(detector_id)
        return _json({})

    def enable_organization_admin_account(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        orgs = _require_management(backend)
        admin = self._get_param("adminAccountId") or ""
        if admin not in {a.id for a in orgs.accounts}:
            raise GuardDutyBadRequest(_GD_INVALID)
        # One delegated administrator per organization, whatever the region.
        for region, other in guardduty_backends[backend.account_id].items():
            if any(a != admin for a in other.admin_account_ids):
                raise GuardDutyBadRequest(_GD_INVALID)
        if admin not in backend.admin_account_ids:
            backend.admin_account_ids[:] = [admin]
        orgs.enable_aws_service_access(ServicePrincipal=GD_SERVICE_PRINCIPAL)
        import strict_policies

        if admin != orgs.org.master_account_id and not strict_policies._delegated_admin(
            orgs, admin, GD_SERVICE_PRINCIPAL
        ):
            orgs.register_delegated_administrator(AccountId=admin,
                                                  ServicePrincipal=GD_SERVICE_PRINCIPAL)
        # "It also enables GuardDuty for the delegated GuardDuty administrator account."
        admin_backend = guardduty_backends[admin][backend.region_name]
        if not admin_backend.detectors:
            _create_detector(admin_backend, True, None, None, {}, [])
        return _json({})

    def disable_organization_admin_account(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        orgs = _require_management(backend)
        admin = self._get_param("adminAccountId") or ""
        if admin not in backend.admin_account_ids:
            raise GuardDutyBadRequest(_GD_INVALID)
        backend.admin_account_ids.remove(admin)
        still_admin = any(admin in other.admin_account_ids
                          for other in guardduty_backends[backend.account_id].values())
        if not still_admin and admin != orgs.org.master_account_id:
            try:
                orgs.deregister_delegated_administrator(AccountId=admin,
                                                        ServicePrincipal=GD_SERVICE_PRINCIPAL)
            except Exception:  # already deregistered through Organizations
                pass
        return _json({})

    def list_organization_admin_accounts(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        backend = self.guardduty_backend
        _require_management(backend)
        return _json({"adminAccounts": [
            {"adminAccountId": a, "adminStatus": "ENABLED"} for a in backend.admin_account_ids
        ]})

    def describe_organization_configuration(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        detector = _require_org_admin(self.guardduty_backend, self.path.split("/")[-2])
        return _json(_org_config_view(detector))

    def update_organization_configuration(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        detector = _require_org_admin(self.guardduty_backend, self.path.split("/")[-2])
        params = json.loads(self.body) if self.body else {}
        _update_org_config(detector, params)
        return _json({})

    def tag_resource(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        detector = _tag_target(self)
        tags = self._get_param("tags") or {}
        if not tags or any(k.lower().startswith("aws:") for k in tags):
            raise GuardDutyBadRequest(_GD_INVALID)
        detector.tags.update(tags)
        return "", {"status": 204}

    def untag_resource(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        detector = _tag_target(self)
        for key in _as_list(self.querystring.get("tagKeys")):
            detector.tags.pop(key, None)
        return "", {"status": 204}

    def list_tags_for_resource(self: GuardDutyResponse) -> tuple[str, dict[str, Any]]:
        detector = _tag_target(self)
        return _json({"tags": dict(detector.tags)})

    return {
        "create_detector": create_detector,
        "get_detector": get_detector,
        "update_detector": update_detector,
        "delete_detector": delete_detector,
        "enable_organization_admin_account": enable_organization_admin_account,
        "disable_organization_admin_account": disable_organization_admin_account,
        "list_organization_admin_accounts": list_organization_admin_accounts,
        "describe_organization_configuration": describe_organization_configuration,
        "update_organization_configuration": update_organization_configuration,
        "tag_resource": tag_resource,
        "untag_resource": untag_resource,
        "list_tags_for_resource": list_tags_for_resource,
    }


def _patch_guardduty() -> None:
    _gd_enum("DetectorFeature")  # load the model now, not in the first request
    for name, handler in _guardduty_handlers().items():
        setattr(GuardDutyResponse, name, handler)
    for path in (
        "{0}/admin/disable$",
        "{0}/detector/(?P<detector_id>[^/]+)/admin$",
        "{0}/tags/(?P<resource_arn>.+)$",
    ):
        guardduty_urls.url_paths[path] = GuardDutyResponse.dispatch


# --------------------------------------------------------------------------
# EC2: EBS encryption by default
# --------------------------------------------------------------------------

EBS_DEFAULT_ALIAS = "alias/aws/ebs"


def _kms_key_arn(account: str, region: str, key_ref: str) -> str:
    """The ARN ModifyEbsDefaultKmsKeyId answers: the key's ARN when the id,
    alias or ARN resolves, else the ARN the reference names (AWS checks the
    key asynchronously, so an unknown key is accepted)."""
    from moto.kms.models import kms_backends

    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) == 6:
            region, account = parts[3], parts[4]
    try:
        return kms_backends[account][region].describe_key(key_ref).arn
    except Exception:  # not found (or not settled yet): asynchronous in AWS
        pass
    if key_ref.startswith("arn:"):
        return key_ref
    partition = get_partition(region)
    if key_ref.startswith("alias/"):
        return f"arn:{partition}:kms:{region}:{account}:{key_ref}"
    return f"arn:{partition}:kms:{region}:{account}:key/{key_ref}"


def _patch_ebs_default_kms_key() -> None:
    def get_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
        self.error_on_dryrun()
        return ActionResult({"KmsKeyId": self.ec2_backend.default_kms_key_id or EBS_DEFAULT_ALIAS})

    def modify_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
        self.error_on_dryrun()
        backend = self.ec2_backend
        key_ref = self._get_param("KmsKeyId") or ""
        arn = _kms_key_arn(backend.account_id, backend.region_name, key_ref)
        backend.default_kms_key_id = arn
        return ActionResult({"KmsKeyId": arn})

    def reset_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
        from moto.kms.models import kms_backends

        self.error_on_dryrun()
        backend = self.ec2_backend
        backend.default_kms_key_id = ""
        kms = kms_backends[backend.account_id][backend.region_name]
        # The AWS managed key behind alias/aws/ebs (moto makes it on first use).
        key_id = kms.get_key_id_from_alias(EBS_DEFAULT_ALIAS)
        return ActionResult({"KmsKeyId": kms.keys[key_id].arn})

    EC2Response.get_ebs_default_kms_key_id = get_ebs_default_kms_key_id
    EC2Response.modify_ebs_default_kms_key_id = modify_ebs_default_kms_key_id
    EC2Response.reset_ebs_default_kms_key_id = reset_ebs_default_kms_key_id


def apply() -> None:
    """Apply this module's patches (server.py calls it after baseline_moto_ext)."""
    global _APPLIED
    if _APPLIED:
        return
    _patch_iam_credential_report()
    _patch_guardduty()
    _patch_ebs_default_kms_key()
    _APPLIED = True
