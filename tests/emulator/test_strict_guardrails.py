"""Tests for strict_guardrails.py: the IAM credential report, GuardDuty, EBS
encryption by default and S3 account-level Block Public Access, as AWS
answers them. Each test starts from an empty emulator; the main server runs
without a consistency window, the `slow` one with a visible window.

    <venv>/bin/pytest tests/emulator/test_strict_guardrails.py
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from test_access_analyzer import signed_request
from test_extension import (
    reset_emulator,
    MGMT_ACCOUNT,
    REGION,
    client,
    member_account,
    start_server,
    stop_server,
)

WINDOW = 1.0  # consistency window of the `slow` server
GD = "guardduty.amazonaws.com"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
NOT_MASTER = "The request failed because you do not have required AWS Organization master permission."
INVALID = ("The request is rejected because an invalid or out-of-range value is specified as an "
           "input parameter.")


def _reset(url: str) -> None:
    reset_emulator(url)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "0"})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": str(WINDOW)})
    yield url
    stop_server(proc)


@pytest.fixture()
def fresh(endpoint: str) -> str:
    _reset(endpoint)
    return endpoint


@pytest.fixture()
def slow(slow_server: str) -> str:
    _reset(slow_server)
    return slow_server


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def code_and_status(err: dict[str, Any]) -> tuple[str, int]:
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def s3control(url: str, creds: dict[str, str] | None = None) -> Any:
    """An S3 Control client for the plain host: botocore puts the account id in
    front of the host (as the Rust SDK's endpoint rules do, and strip here)."""
    control = client(url, "s3control", creds=creds)

    def strip_account_prefix(request: Any, **_: Any) -> None:
        request.url = re.sub(r"://\d{12}\.", "://", request.url)

    control.meta.events.register("before-sign.s3-control.*", strip_account_prefix)
    return control


# --------------------------------------------------------------------------
# IAM credential report
# --------------------------------------------------------------------------


def report_rows(iam: Any) -> list[dict[str, str]]:
    content = iam.get_credential_report()["Content"]
    text = content.decode() if isinstance(content, bytes) else base64.b64decode(content).decode()
    assert text.splitlines()[0] == HEADER
    return list(csv.DictReader(io.StringIO(text)))


def test_credential_report_not_present_before_generation(fresh: str) -> None:
    err = refused(lambda: client(fresh, "iam").get_credential_report())
    assert code_and_status(err) == ("ReportNotPresent", 410)


def test_credential_report_is_ready_only_after_the_window(slow: str) -> None:
    iam = client(slow, "iam")
    assert iam.generate_credential_report()["State"] == "STARTED"
    # moto answered COMPLETE at once; AWS generates in the background.
    again = iam.generate_credential_report()
    assert again["State"] == "STARTED"
    err = refused(iam.get_credential_report)
    assert code_and_status(err) == ("ReportInProgress", 404)
    time.sleep(WINDOW + 0.2)
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    assert abs(time.time() - got["GeneratedTime"].timestamp()) < 60


def test_first_generation_answers_started_with_a_description(fresh: str) -> None:
    out = client(fresh, "iam").generate_credential_report()
    assert (out["State"], out["Description"]) == (
        "STARTED", "No report exists. Starting a new report generation task")
    assert client(fresh, "iam").generate_credential_report()["State"] == "COMPLETE"


def test_credential_report_begins_with_the_root_account(fresh: str) -> None:
    iam = client(fresh, "iam")
    iam.generate_credential_report()
    [root] = report_rows(iam)
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{MGMT_ACCOUNT}:root"
    assert ISO.fullmatch(root["user_creation_time"])
    assert (root["password_enabled"], root["password_last_changed"],
            root["password_next_rotation"]) == ("not_supported",) * 3
    # GetAccountSummary's AccountMFAEnabled: the emulator has no root MFA device.
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    assert root["mfa_active"] == "false"
    assert [root[f"access_key_{n}_active"] for n in (1, 2)] == ["false", "false"]
    assert {root[f"access_key_1_{c}"] for c in ("last_rotated", "last_used_date",
                                                 "last_used_region", "last_used_service")} == {"N/A"}
    assert (root["cert_1_active"], root["cert_1_last_rotated"]) == ("false", "N/A")


def test_credential_report_user_rows_use_aws_values(fresh: str) -> None:
    iam = client(fresh, "iam")
    iam.create_user(UserName="plain")
    iam.create_user(UserName="console")
    iam.create_login_profile(UserName="console", Password="Pa55word!long")
    iam.create_user(UserName="robot")
    iam.create_access_key(UserName="robot")
    iam.create_user(UserName="busy")
    key = iam.create_access_key(UserName="busy")["AccessKey"]
    client(fresh, "sts", creds=key).get_caller_identity()
    iam.update_account_password_policy(MaxPasswordAge=90)
    iam.generate_credential_report()
    rows = {r["user"]: r for r in report_rows(iam)}
    busy = rows["busy"]
    assert ISO.fullmatch(busy["access_key_1_last_used_date"])
    assert (busy["access_key_1_last_used_region"], busy["access_key_1_last_used_service"]) == (
        REGION, "sts")
    assert list(rows)[0] == "<root_account>"
    plain, console, robot = rows["plain"], rows["console"], rows["robot"]
    assert plain["arn"] == f"arn:aws:iam::{MGMT_ACCOUNT}:user/plain"
    assert ISO.fullmatch(plain["user_creation_time"])
    # moto wrote not_supported and a change date for users without a password.
    assert [plain[c] for c in ("password_enabled", "password_last_used", "password_last_changed",
                               "password_next_rotation")] == ["false", "N/A", "N/A", "N/A"]
    assert [plain["access_key_1_active"], plain["access_key_1_last_rotated"],
            plain["access_key_1_last_used_region"]] == ["false", "N/A", "N/A"]
    assert (console["password_enabled"], console["password_last_used"]) == ("true", "no_information")
    assert ISO.fullmatch(console["password_last_changed"])
    assert ISO.fullmatch(console["password_next_rotation"])  # MaxPasswordAge is set
    assert robot["access_key_1_active"] == "true"
    assert ISO.fullmatch(robot["access_key_1_last_rotated"])
    assert [robot["access_key_1_last_used_date"], robot["access_key_1_last_used_region"],
            robot["access_key_1_last_used_service"]] == ["N/A", "N/A", "N/A"]
    assert robot["access_key_2_active"] == "false"
    assert all(len(r) == 22 for r in rows.values())


def test_credential_report_does_not_quote_names(fresh: str) -> None:
    # IAM user names may hold commas; AWS writes the cells as they are.
    iam = client(fresh, "iam")
    iam.create_user(UserName="ci,bot")
    iam.generate_credential_report()
    text = iam.get_credential_report()["Content"].decode()
    assert text.splitlines()[2].startswith(
        f"ci,bot,arn:aws:iam::{MGMT_ACCOUNT}:user/ci,bot,")


def test_credential_report_is_a_snapshot(fresh: str) -> None:
    iam = client(fresh, "iam")
    iam.generate_credential_report()
    iam.create_user(UserName="later")
    iam.generate_credential_report()  # COMPLETE: the report is less than four hours old
    assert [r["user"] for r in report_rows(iam)] == ["<root_account>"]


def test_credential_report_of_a_member_account(fresh: str) -> None:
    member, creds = member_account(fresh)
    iam = client(fresh, "iam", creds=creds)
    iam.generate_credential_report()
    [root] = report_rows(iam)
    assert root["arn"] == f"arn:aws:iam::{member}:root"


# --------------------------------------------------------------------------
# GuardDuty detectors
# --------------------------------------------------------------------------


def test_second_detector_is_refused(fresh: str) -> None:
    gd = client(fresh, "guardduty")
    gd.create_detector(Enable=True)
    err = refused(lambda: gd.create_detector(Enable=True))
    assert code_and_status(err) == ("BadRequestException", 400)
    assert err["Error"]["Message"] == (
        "The request is rejected because a detector already exists for the current account.")
    client(fresh, "guardduty", region="eu-west-1").create_detector(Enable=True)


@pytest.mark.parametrize("kwargs", [
    {"Features": [{"Name": "NOT_A_FEATURE", "Status": "ENABLED"}]},
    {"Features": [{"Name": "S3_DATA_EVENTS", "Status": "MAYBE"}]},
    {"Features": [{"Name": "EKS_RUNTIME_MONITORING", "Status": "ENABLED"},
                  {"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}]},
    {"FindingPublishingFrequency": "EVERY_DAY"},
])
def test_invalid_detector_settings_are_refused(fresh: str, kwargs: dict[str, Any]) -> None:
    gd = client(fresh, "guardduty", validate=False)
    err = refused(lambda: gd.create_detector(Enable=True, **kwargs))
    assert code_and_status(err) == ("BadRequestException", 400)
    assert err["Error"]["Message"] == INVALID
    assert gd.list_detectors()["DetectorIds"] == []


def test_detector_features_default_and_update(fresh: str) -> None:
    gd = client(fresh, "guardduty")
    detector_id = gd.create_detector(
        Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES",
        Features=[{"Name": "LAMBDA_NETWORK_LOGS", "Status": "DISABLED"}])["DetectorId"]
    got = gd.get_detector(DetectorId=detector_id)
    assert (got["Status"], got["FindingPublishingFrequency"]) == ("ENABLED", "FIFTEEN_MINUTES")
    status = {f["Name"]: f["Status"] for f in got["Features"]}
    assert status["CLOUD_TRAIL"] == status["S3_DATA_EVENTS"] == status["RDS_LOGIN_EVENTS"] == "ENABLED"
    assert status["LAMBDA_NETWORK_LOGS"] == status["RUNTIME_MONITORING"] == "DISABLED"
    assert all("UpdatedAt" in f for f in got["Features"])
    assert got["DataSources"]["S3Logs"]["Status"] == "ENABLED"
    assert got["DataSources"]["CloudTrail"]["Status"] == "ENABLED"
    gd.update_detector(DetectorId=detector_id, Enable=False, Features=[
        {"Name": "S3_DATA_EVENTS", "Status": "DISABLED"},
        {"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
         "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"}]}])
    got = gd.get_detector(DetectorId=detector_id)
    features = {f["Name"]: f for f in got["Features"]}
    assert got["Status"] == "DISABLED"
    assert features["S3_DATA_EVENTS"]["Status"] == "DISABLED"
    assert got["DataSources"]["S3Logs"]["Status"] == "DISABLED"
    assert features["RUNTIME_MONITORING"]["Status"] == "ENABLED"
    extras = {e["Name"]: e["Status"] for e in features["RUNTIME_MONITORING"]["AdditionalConfiguration"]}
    assert extras["EKS_ADDON_MANAGEMENT"] == "ENABLED"
    assert features["RDS_LOGIN_EVENTS"]["Status"] == "ENABLED"  # not named: unchanged


def test_detector_feature_times_are_epoch_seconds_on_the_wire(fresh: str) -> None:
    detector_id = client(fresh, "guardduty").create_detector(Enable=True)["DetectorId"]
    status, _, body = signed_request(fresh, "GET", f"/detector/{detector_id}", "guardduty")
    assert status == 200
    got = json.loads(body)
    assert all(isinstance(f["updatedAt"], (int, float)) for f in got["features"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got["createdAt"])


def test_deleting_an_unknown_detector_fails(fresh: str) -> None:
    gd = client(fresh, "guardduty")
    err = refused(lambda: gd.delete_detector(DetectorId="0123456789abcdef0123456789abcdef"))
    assert code_and_status(err) == ("BadRequestException", 400)


def test_tags_on_the_detector_arn(fresh: str) -> None:
    gd = client(fresh, "guardduty")
    detector_id = gd.create_detector(Enable=True, Tags={"owner": "baseline"})["DetectorId"]
    arn = f"arn:aws:guardduty:{REGION}:{MGMT_ACCOUNT}:detector/{detector_id}"
    assert gd.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "baseline"}
    gd.tag_resource(ResourceArn=arn, Tags={"env": "test"})
    gd.untag_resource(ResourceArn=arn, TagKeys=["owner"])
    assert gd.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}
    assert gd.get_detector(DetectorId=detector_id)["Tags"] == {"env": "test"}
    err = refused(lambda: gd.list_tags_for_resource(ResourceArn=arn.replace(REGION, "eu-west-1")))
    assert code_and_status(err) == ("BadRequestException", 400)


def test_detector_makes_the_service_linked_role(fresh: str) -> None:
    client(fresh, "guardduty").create_detector(Enable=True)
    role = client(fresh, "iam").get_role(RoleName="AWSServiceRoleForAmazonGuardDuty")["Role"]
    assert role["Path"] == f"/aws-service-role/{GD}/"


def test_detector_role_made_meanwhile_by_another_region_is_fine(monkeypatch: Any) -> None:
    """In process: CreateDetector makes the service-linked role when it finds none; when
    another region's CreateDetector of the same account made it in between (1,000 accounts
    x 2 regions applied at once hit this), the detector is made all the same."""
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import strict_guardrails
    from moto.iam import models as iam_models

    account = "210987654321"
    iam = iam_models.iam_backends[account]["aws"]
    original = iam_models.IAMBackend.create_role

    def create_role_after_another(self: Any, role_name: str, *args: Any, **kwargs: Any) -> Any:
        original(self, role_name, *args, **kwargs)  # the other region, first
        return original(self, role_name, *args, **kwargs)  # EntityAlreadyExists

    monkeypatch.setattr(iam_models.IAMBackend, "create_role", create_role_after_another)
    strict_guardrails._ensure_guardduty_role(account, "aws")
    assert [r.name for r in iam.roles.values()] == ["AWSServiceRoleForAmazonGuardDuty"]


# --------------------------------------------------------------------------
# GuardDuty organization administration
# --------------------------------------------------------------------------


def test_only_the_management_account_designates_the_admin(fresh: str) -> None:
    member, creds = member_account(fresh)
    gd_member = client(fresh, "guardduty", creds=creds)
    for call in (lambda: gd_member.enable_organization_admin_account(AdminAccountId=member),
                 gd_member.list_organization_admin_accounts,
                 lambda: gd_member.disable_organization_admin_account(AdminAccountId=member)):
        err = refused(call)
        assert code_and_status(err) == ("BadRequestException", 400)
        assert err["Error"]["Message"] == NOT_MASTER
    err = refused(lambda: client(fresh, "guardduty").enable_organization_admin_account(
        AdminAccountId="999999999999"))
    assert code_and_status(err) == ("BadRequestException", 400)


def test_enabling_the_admin_registers_it_in_organizations(fresh: str) -> None:
    member, creds = member_account(fresh)
    gd = client(fresh, "guardduty")
    gd.enable_organization_admin_account(AdminAccountId=member)
    assert gd.list_organization_admin_accounts()["AdminAccounts"] == [
        {"AdminAccountId": member, "AdminStatus": "ENABLED"}]
    org = client(fresh, "organizations")
    admins = org.list_delegated_administrators(ServicePrincipal=GD)["DelegatedAdministrators"]
    assert [a["Id"] for a in admins] == [member]
    enabled = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert GD in [s["ServicePrincipal"] for s in enabled]
    # GuardDuty is enabled in the administrator account, in that region only.
    assert len(client(fresh, "guardduty", creds=creds).list_detectors()["DetectorIds"]) == 1
    assert client(fresh, "guardduty", region="eu-west-1").list_organization_admin_accounts()[
        "AdminAccounts"] == []
    gd.disable_organization_admin_account(AdminAccountId=member)
    assert gd.list_organization_admin_accounts()["AdminAccounts"] == []
    assert org.list_delegated_administrators(ServicePrincipal=GD)["DelegatedAdministrators"] == []


def test_organization_configuration_only_from_the_admin(fresh: str) -> None:
    member, creds = member_account(fresh)
    gd = client(fresh, "guardduty")
    own = gd.create_detector(Enable=True)["DetectorId"]
    gd.enable_organization_admin_account(AdminAccountId=member)
    gd_admin = client(fresh, "guardduty", creds=creds)
    admin_detector = gd_admin.list_detectors()["DetectorIds"][0]
    # The management account is not the administrator.
    err = refused(lambda: gd.describe_organization_configuration(DetectorId=own))
    assert (code_and_status(err), err["Error"]["Message"]) == (("BadRequestException", 400), NOT_MASTER)
    # The administrator must name its own detector.
    err = refused(lambda: gd_admin.describe_organization_configuration(DetectorId=own))
    assert code_and_status(err) == ("BadRequestException", 400)
    described = gd_admin.describe_organization_configuration(DetectorId=admin_detector)
    assert described["AutoEnableOrganizationMembers"] == "NONE"
    assert described["MemberAccountLimitReached"] is False
    gd_admin.update_organization_configuration(
        DetectorId=admin_detector, AutoEnableOrganizationMembers="ALL",
        Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "NEW"},
                  {"Name": "RUNTIME_MONITORING", "AutoEnable": "ALL",
                   "AdditionalConfiguration": [{"Name": "EC2_AGENT_MANAGEMENT", "AutoEnable": "ALL"}]}])
    described = gd_admin.describe_organization_configuration(DetectorId=admin_detector)
    assert described["AutoEnableOrganizationMembers"] == "ALL"
    assert described["AutoEnable"] is True
    features = {f["Name"]: f for f in described["Features"]}
    assert features["S3_DATA_EVENTS"]["AutoEnable"] == "NEW"
    assert features["RUNTIME_MONITORING"]["AutoEnable"] == "ALL"
    assert features["EKS_AUDIT_LOGS"]["AutoEnable"] == "NONE"
    assert described["DataSources"]["S3Logs"]["AutoEnable"] is True
    err = refused(lambda: gd.update_organization_configuration(
        DetectorId=own, AutoEnableOrganizationMembers="ALL"))
    assert code_and_status(err) == ("BadRequestException", 400)


@pytest.mark.parametrize("kwargs", [
    {},  # neither AutoEnable nor AutoEnableOrganizationMembers
    {"AutoEnable": True, "AutoEnableOrganizationMembers": "ALL"},
    {"AutoEnableOrganizationMembers": "SOME"},
    {"AutoEnableOrganizationMembers": "NEW", "Features": [{"Name": "NOPE", "AutoEnable": "NEW"}]},
])
def test_invalid_organization_configuration_is_refused(fresh: str, kwargs: dict[str, Any]) -> None:
    member, creds = member_account(fresh)
    client(fresh, "guardduty").enable_organization_admin_account(AdminAccountId=member)
    gd_admin = client(fresh, "guardduty", creds=creds, validate=False)
    detector_id = gd_admin.list_detectors()["DetectorIds"][0]
    err = refused(lambda: gd_admin.update_organization_configuration(DetectorId=detector_id, **kwargs))
    assert code_and_status(err) == ("BadRequestException", 400)


# --------------------------------------------------------------------------
# EC2: EBS encryption by default
# --------------------------------------------------------------------------


def test_ebs_encryption_by_default_per_account_and_region(fresh: str) -> None:
    _, creds = member_account(fresh)
    ec2 = client(fresh, "ec2")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.enable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert client(fresh, "ec2", region="eu-west-1").get_ebs_encryption_by_default()[
        "EbsEncryptionByDefault"] is False
    assert client(fresh, "ec2", creds=creds).get_ebs_encryption_by_default()[
        "EbsEncryptionByDefault"] is False
    assert ec2.disable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False


def test_default_kms_key_is_the_aws_managed_alias(fresh: str) -> None:
    assert client(fresh, "ec2").get_ebs_default_kms_key_id()["KmsKeyId"] == "alias/aws/ebs"


def test_modify_default_kms_key_answers_the_key_arn(fresh: str) -> None:
    ec2, kms = client(fresh, "ec2"), client(fresh, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/ebs-cmk", TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:{REGION}:{MGMT_ACCOUNT}:alias/ebs-cmk"
    for ref in ("alias/ebs-cmk", alias_arn, key["KeyId"], key["Arn"]):
        assert ec2.modify_ebs_default_kms_key_id(KmsKeyId=ref)["KmsKeyId"] == key["Arn"]
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key["Arn"]
    assert client(fresh, "ec2", region="eu-west-1").get_ebs_default_kms_key_id()[
        "KmsKeyId"] == "alias/aws/ebs"


def test_modify_default_kms_key_checks_the_key_asynchronously(fresh: str) -> None:
    # "AWS authenticates the KMS key asynchronously ... the action can appear to
    # complete": no error for a key that does not exist.
    ec2 = client(fresh, "ec2")
    missing = "0e0e0e0e-1111-2222-3333-444444444444"
    assert ec2.modify_ebs_default_kms_key_id(KmsKeyId=missing)["KmsKeyId"] == (
        f"arn:aws:kms:{REGION}:{MGMT_ACCOUNT}:key/{missing}")
    assert ec2.modify_ebs_default_kms_key_id(KmsKeyId="alias/nowhere")["KmsKeyId"] == (
        f"arn:aws:kms:{REGION}:{MGMT_ACCOUNT}:alias/nowhere")


def test_reset_default_kms_key(fresh: str) -> None:
    ec2, kms = client(fresh, "ec2"), client(fresh, "kms")
    key = kms.create_key()["KeyMetadata"]
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=key["Arn"])
    reset = ec2.reset_ebs_default_kms_key_id()["KmsKeyId"]
    managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert reset == managed["Arn"]
    assert managed["KeyManager"] == "AWS"
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == "alias/aws/ebs"


# --------------------------------------------------------------------------
# S3 Control: account-level Block Public Access
# --------------------------------------------------------------------------

PAB_PATH = "/v20180820/configuration/publicAccessBlock"
PAB_XML = (
    '<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">'
    "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
    "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>"
    "</PublicAccessBlockConfiguration>"
)


def test_account_block_public_access_signed_for_s3_reaches_s3_control(fresh: str) -> None:
    header = {"x-amz-account-id": MGMT_ACCOUNT}
    status, _, body = signed_request(fresh, "GET", PAB_PATH, "s3", headers=header)
    assert status == 404
    assert b"<ErrorResponse" in body and b"<Code>NoSuchPublicAccessBlockConfiguration</Code>" in body
    status, _, body = signed_request(fresh, "PUT", PAB_PATH, "s3", body=PAB_XML.encode(),
                                     headers={**header, "Content-Type": "application/xml"})
    assert status == 200, body
    status, _, body = signed_request(fresh, "GET", PAB_PATH, "s3", headers=header)
    assert status == 200
    assert b"<RestrictPublicBuckets>true</RestrictPublicBuckets>" in body
    # It is S3 Control's setting, not a bucket's.
    assert client(fresh, "s3").list_buckets()["Buckets"] == []
    status, _, _ = signed_request(fresh, "DELETE", PAB_PATH, "s3", headers=header)
    assert status in (200, 204)
    status, _, _ = signed_request(fresh, "GET", PAB_PATH, "s3", headers=header)
    assert status == 404


def test_account_block_public_access_with_boto3(fresh: str) -> None:
    member, creds = member_account(fresh)
    control = s3control(fresh)
    err = refused(lambda: control.get_public_access_block(AccountId=MGMT_ACCOUNT))
    assert code_and_status(err) == ("NoSuchPublicAccessBlockConfiguration", 404)
    config = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": False}
    control.put_public_access_block(AccountId=MGMT_ACCOUNT, PublicAccessBlockConfiguration=config)
    assert control.get_public_access_block(AccountId=MGMT_ACCOUNT)[
        "PublicAccessBlockConfiguration"] == config
    # Another account's id: AccessDenied; the member's own setting is separate.
    err = refused(lambda: control.get_public_access_block(AccountId=member))
    assert code_and_status(err) == ("AccessDenied", 403)
    member_control = s3control(fresh, creds)
    err = refused(lambda: member_control.get_public_access_block(AccountId=member))
    assert code_and_status(err) == ("NoSuchPublicAccessBlockConfiguration", 404)
