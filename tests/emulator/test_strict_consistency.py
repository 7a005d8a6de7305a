"""Tests for strict_consistency (eventual consistency, AWS managed policies,
Security Hub in an organization), run against a real server.py process started
with a one-second consistency window.

    <venv>/bin/pytest tests/emulator/test_strict_consistency.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from test_extension import (
    reset_emulator,
    CIS_120,
    FSBP,
    MGMT_ACCOUNT,
    REGION,
    client,
    error_code,
    start_server,
    stop_server,
)

WINDOW = 1.0
OTHER_REGION = "eu-west-1"
SCP = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]})


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": str(WINDOW)})
    yield url
    stop_server(proc)


@pytest.fixture(autouse=True)
def reset(endpoint: str) -> None:
    reset_emulator(endpoint)


def wait_out_window() -> None:
    time.sleep(WINDOW + 0.1)


def status(exc: pytest.ExceptionInfo) -> int:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def organization(endpoint: str, members: int) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    """An organization with `members` member accounts: (root id, [(id, creds)])."""
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    accounts = []
    for n in range(members):
        request = org.create_account(Email=f"m{n}@example.com", AccountName=f"m{n}")
        account_id = org.describe_create_account_status(
            CreateAccountRequestId=request["CreateAccountStatus"]["Id"]
        )["CreateAccountStatus"]["AccountId"]
        creds = client(endpoint, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="baseline",
        )["Credentials"]
        accounts.append((account_id, creds))
    return org.list_roots()["Roots"][0]["Id"], accounts


# --------------------------------------------------------------------------
# Organizations: policy types
# --------------------------------------------------------------------------


def root_types(org: Any) -> dict[str, str]:
    return {t["Type"]: t["Status"] for t in org.list_roots()["Roots"][0]["PolicyTypes"]}


def test_policy_type_is_pending_enable_for_a_moment(endpoint: str) -> None:
    root_id, [(account_id, _)] = organization(endpoint, 1)
    org = client(endpoint, "organizations")
    policy_id = org.create_policy(Name="deny-leave", Description="", Content=SCP,
                                  Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]

    out = org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert out["Root"]["PolicyTypes"] == [
        {"Type": "SERVICE_CONTROL_POLICY", "Status": "PENDING_ENABLE"}]
    assert root_types(org) == {"SERVICE_CONTROL_POLICY": "PENDING_ENABLE"}
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=policy_id, TargetId=account_id)
    assert error_code(exc) == "PolicyTypeNotEnabledException"
    for call in (org.enable_policy_type, org.disable_policy_type):
        with pytest.raises(ClientError) as exc:
            call(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
        assert error_code(exc) == "ConcurrentModificationException"

    wait_out_window()
    assert root_types(org) == {"SERVICE_CONTROL_POLICY": "ENABLED"}
    org.attach_policy(PolicyId=policy_id, TargetId=account_id)
    with pytest.raises(ClientError) as exc:
        org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert error_code(exc) == "PolicyTypeAlreadyEnabledException"


def test_policy_type_is_pending_disable_for_a_moment(endpoint: str) -> None:
    root_id, _ = organization(endpoint, 0)
    org = client(endpoint, "organizations")
    org.enable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    wait_out_window()
    tag_policy = org.create_policy(
        Name="tags", Description="", Type="TAG_POLICY",
        Content=json.dumps({"tags": {"team": {"tag_key": {"@@assign": "team"}}}}),
    )["Policy"]["PolicySummary"]["Id"]

    out = org.disable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    assert out["Root"]["PolicyTypes"] == [{"Type": "TAG_POLICY", "Status": "PENDING_DISABLE"}]
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=tag_policy, TargetId=root_id)
    assert error_code(exc) == "PolicyTypeNotEnabledException"
    with pytest.raises(ClientError) as exc:
        org.enable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    assert error_code(exc) == "ConcurrentModificationException"

    wait_out_window()
    assert root_types(org) == {}
    with pytest.raises(ClientError) as exc:
        org.disable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    assert error_code(exc) == "PolicyTypeNotEnabledException"


# --------------------------------------------------------------------------
# KMS: new keys and aliases
# --------------------------------------------------------------------------


def test_new_kms_key_is_not_found_for_a_moment(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    key = kms.create_key(Description="new")["KeyMetadata"]
    assert key["KeyState"] == "Enabled"  # CreateKey's own answer is complete
    assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [key["KeyId"]]
    for call in (
        lambda: kms.describe_key(KeyId=key["KeyId"]),
        lambda: kms.describe_key(KeyId=key["Arn"]),
        lambda: kms.create_alias(AliasName="alias/new", TargetKeyId=key["KeyId"]),
        lambda: kms.enable_key_rotation(KeyId=key["KeyId"]),
        lambda: kms.get_key_rotation_status(KeyId=key["Arn"]),
        lambda: kms.get_key_policy(KeyId=key["KeyId"]),
        lambda: kms.put_key_policy(KeyId=key["KeyId"], Policy="{}"),
        lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "a", "TagValue": "b"}]),
        lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "NotFoundException"
        assert status(exc) == 400
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=key["KeyId"])
    assert exc.value.response["Error"]["Message"] == f"Key '{key['Arn']}' does not exist"

    wait_out_window()
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    kms.enable_key_rotation(KeyId=key["Arn"])
    # AWS managed keys behind alias/aws/* are there at once.
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyManager"] == "AWS"


def test_new_kms_alias_does_not_resolve_for_a_moment(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    wait_out_window()
    kms.create_alias(AliasName="alias/baseline", TargetKeyId=key_id)
    assert "alias/baseline" in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    alias_arn = f"arn:aws:kms:{REGION}:{MGMT_ACCOUNT}:alias/baseline"
    for ident in ("alias/baseline", alias_arn):
        with pytest.raises(ClientError) as exc:
            kms.describe_key(KeyId=ident)
        assert error_code(exc) == "NotFoundException"
        assert exc.value.response["Error"]["Message"] == f"Alias {alias_arn} is not found."
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId="alias/baseline", Plaintext=b"x")
    assert error_code(exc) == "NotFoundException"

    wait_out_window()
    assert kms.describe_key(KeyId="alias/baseline")["KeyMetadata"]["KeyId"] == key_id
    kms.encrypt(KeyId=alias_arn, Plaintext=b"x")


def test_kms_backend_lookups_see_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other modules resolve keys through KmsBackend (e.g. a CloudTrail check of
    KmsKeyId); they must see the window too."""
    monkeypatch.setenv("BASELINE_EMULATOR_CONSISTENCY_SECONDS", "30")
    import baseline_moto_ext  # noqa: F401  (patches moto in this process)
    from moto.kms.exceptions import NotFoundException
    from moto.kms.models import kms_backends

    account = "210987654321"
    backend = kms_backends[account]["eu-north-1"]
    key = backend.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "", None)
    assert backend.describe_key(key.arn) is key  # not made through CreateKey: no window
    backend.keys.created_at[key.id] = time.time()  # what KmsResponse.create_key records
    with pytest.raises(NotFoundException):
        backend.describe_key(key.arn)
    assert key.id not in backend.keys and list(backend.list_keys()) == [key]
    backend.keys.created_at[key.id] = 0.0  # settled
    backend.create_alias(key.id, "alias/in-process")
    assert backend.get_key_id_from_alias("alias/in-process") is None
    with pytest.raises(NotFoundException):
        backend.describe_key("alias/in-process")
    monkeypatch.setenv("BASELINE_EMULATOR_CONSISTENCY_SECONDS", "0")
    assert backend.describe_key("alias/in-process") is key


# --------------------------------------------------------------------------
# IAM roles, Config and Backup
# --------------------------------------------------------------------------


def backup_plan(b: Any) -> str:
    return b.create_backup_plan(BackupPlan={
        "BackupPlanName": "daily",
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "vault",
                   "ScheduleExpression": "cron(0 5 ? * * *)"}],
    })["BackupPlanId"]


def select(b: Any, plan_id: str, role_arn: str, name: str = "all") -> dict[str, Any]:
    return b.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": name, "IamRoleArn": role_arn, "Resources": ["*"]})


def test_new_role_cannot_be_assumed_by_config_for_a_moment(endpoint: str) -> None:
    iam, cfg = client(endpoint, "iam"), client(endpoint, "config")
    role = iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]
    recorder = {"name": "default", "roleARN": role["Arn"],
                "recordingGroup": {"allSupported": True}}
    with pytest.raises(ClientError) as exc:
        cfg.put_configuration_recorder(ConfigurationRecorder=recorder)
    assert error_code(exc) == "InvalidRoleException"
    wait_out_window()
    cfg.put_configuration_recorder(ConfigurationRecorder=recorder)

    # A settled role that does not trust Config is refused as well.
    other = iam.create_role(RoleName="NotForConfig",
                            AssumeRolePolicyDocument=trust("backup.amazonaws.com"))["Role"]
    wait_out_window()
    with pytest.raises(ClientError) as exc:
        cfg.put_configuration_recorder(
            ConfigurationRecorder=dict(recorder, roleARN=other["Arn"]))
    assert error_code(exc) == "InvalidRoleException"


def test_new_role_cannot_be_assumed_by_backup_for_a_moment(endpoint: str) -> None:
    iam, b = client(endpoint, "iam"), client(endpoint, "backup")
    plan_id = backup_plan(b)
    role = iam.create_role(RoleName="BackupRole", Path="/service-role/",
                           AssumeRolePolicyDocument=trust("backup.amazonaws.com"))["Role"]
    with pytest.raises(ClientError) as exc:
        select(b, plan_id, role["Arn"])
    assert error_code(exc) == "InvalidParameterValueException"
    assert status(exc) == 400
    assert exc.value.response["Error"]["Message"] == (
        f"IAM Role {role['Arn']} cannot be assumed by AWS Backup")
    assert b.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    wait_out_window()
    assert select(b, plan_id, role["Arn"])["BackupPlanId"] == plan_id


def test_backup_selection_needs_an_existing_role_that_trusts_backup(endpoint: str) -> None:
    iam, b = client(endpoint, "iam"), client(endpoint, "backup")
    plan_id = backup_plan(b)
    # A fresh account has no AWSBackupDefaultServiceRole.
    default_role = (f"arn:aws:iam::{MGMT_ACCOUNT}:role/service-role/"
                    "AWSBackupDefaultServiceRole")
    with pytest.raises(ClientError) as exc:
        select(b, plan_id, default_role)
    assert error_code(exc) == "InvalidParameterValueException"
    assert "cannot be assumed by AWS Backup" in exc.value.response["Error"]["Message"]

    wrong = iam.create_role(RoleName="ForLambda",
                            AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]
    wait_out_window()
    with pytest.raises(ClientError) as exc:
        select(b, plan_id, wrong["Arn"])
    assert error_code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:  # an unknown plan is still reported first
        select(b, "no-such-plan", default_role)
    assert error_code(exc) == "ResourceNotFoundException"
    # A role of another account is not checked (the emulator cannot tell).
    select(b, plan_id, "arn:aws:iam::111111111111:role/CentralBackup")


# --------------------------------------------------------------------------
# IAM: AWS managed policies
# --------------------------------------------------------------------------

BACKUP_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
RESTORE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"


def test_aws_managed_policies_can_be_attached(endpoint: str) -> None:
    _, [(_, creds)] = organization(endpoint, 1)
    for iam in (client(endpoint, "iam"), client(endpoint, "iam", creds=creds)):
        iam.create_role(RoleName="AWSBackupDefaultServiceRole", Path="/service-role/",
                        AssumeRolePolicyDocument=trust("backup.amazonaws.com"))
        for arn in (BACKUP_POLICY, RESTORE_POLICY):
            iam.attach_role_policy(RoleName="AWSBackupDefaultServiceRole", PolicyArn=arn)
        attached = iam.list_attached_role_policies(RoleName="AWSBackupDefaultServiceRole")
        assert sorted(p["PolicyArn"] for p in attached["AttachedPolicies"]) == [
            BACKUP_POLICY, RESTORE_POLICY]
        policy = iam.get_policy(PolicyArn=BACKUP_POLICY)["Policy"]
        assert policy["Path"] == "/service-role/" and policy["AttachmentCount"] == 1
        version = iam.get_policy_version(PolicyArn=RESTORE_POLICY,
                                         VersionId=iam.get_policy(PolicyArn=RESTORE_POLICY)
                                         ["Policy"]["DefaultVersionId"])
        assert version["PolicyVersion"]["Document"]["Statement"]
    iam = client(endpoint, "iam")
    iam.create_user(UserName="auditor")
    iam.attach_user_policy(UserName="auditor",
                           PolicyArn="arn:aws:iam::aws:policy/SecurityAudit")


def test_unknown_aws_managed_policy_is_no_such_entity(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust("backup.amazonaws.com"))
    for arn in ("arn:aws:iam::aws:policy/service-role/NoSuchPolicyAnywhere",
                "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForBackup"):  # wrong path
        with pytest.raises(ClientError) as exc:
            iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        assert error_code(exc) == "NoSuchEntity"
        assert status(exc) == 404
        with pytest.raises(ClientError) as exc:
            iam.get_policy(PolicyArn=arn)
        assert error_code(exc) == "NoSuchEntity"


# --------------------------------------------------------------------------
# Security Hub in an organization
# --------------------------------------------------------------------------


def test_securityhub_admin_account_is_designated_per_region(endpoint: str) -> None:
    _, [(admin, admin_creds), (other, other_creds)] = organization(endpoint, 2)
    sh = client(endpoint, "securityhub")
    sh.enable_organization_admin_account(AdminAccountId=admin)
    sh.enable_organization_admin_account(AdminAccountId=admin)  # idempotent
    assert sh.list_organization_admin_accounts()["AdminAccounts"] == [
        {"AccountId": admin, "Status": "ENABLED"}]
    eu = client(endpoint, "securityhub", region=OTHER_REGION)
    assert eu.list_organization_admin_accounts()["AdminAccounts"] == []
    # Designating the administrator enables Security Hub in its account, in that region.
    admin_sh = client(endpoint, "securityhub", creds=admin_creds)
    assert admin_sh.describe_hub()["HubArn"].endswith(f":{admin}:hub/default")
    with pytest.raises(ClientError) as exc:
        client(endpoint, "securityhub", region=OTHER_REGION, creds=admin_creds).describe_hub()
    assert error_code(exc) == "InvalidAccessException"

    with pytest.raises(ClientError) as exc:  # only the management account designates
        client(endpoint, "securityhub", creds=other_creds).enable_organization_admin_account(
            AdminAccountId=other)
    assert (error_code(exc), status(exc)) == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as exc:  # ... and lists
        admin_sh.list_organization_admin_accounts()
    assert (error_code(exc), status(exc)) == ("InvalidAccessException", 401)
    with pytest.raises(ClientError) as exc:  # one administrator for the organization
        eu.enable_organization_admin_account(AdminAccountId=other)
    assert error_code(exc) == "InvalidInputException"
    with pytest.raises(ClientError) as exc:
        sh.enable_organization_admin_account(AdminAccountId="999999999999")
    assert error_code(exc) == "InvalidInputException"

    eu.enable_organization_admin_account(AdminAccountId=admin)
    sh.disable_organization_admin_account(AdminAccountId=admin)
    assert sh.list_organization_admin_accounts()["AdminAccounts"] == []
    assert [a["AccountId"] for a in eu.list_organization_admin_accounts()["AdminAccounts"]] == [
        admin]


def test_securityhub_organization_configuration_is_the_administrators(endpoint: str) -> None:
    _, [(admin, admin_creds), (_, member_creds)] = organization(endpoint, 2)
    client(endpoint, "securityhub").enable_organization_admin_account(AdminAccountId=admin)
    admin_sh = client(endpoint, "securityhub", creds=admin_creds)
    assert admin_sh.describe_organization_configuration()["OrganizationConfiguration"] == {
        "ConfigurationType": "LOCAL", "Status": "ENABLED"}
    for creds in (None, member_creds):  # the management account is not the administrator
        other = client(endpoint, "securityhub", creds=creds)
        for call in (other.describe_organization_configuration,
                     lambda: other.update_organization_configuration(AutoEnable=True)):
            with pytest.raises(ClientError) as exc:
                call()
            assert (error_code(exc), status(exc)) == ("InvalidAccessException", 401)
    with pytest.raises(ClientError) as exc:  # not in the region without an administrator
        client(endpoint, "securityhub", region=OTHER_REGION,
               creds=admin_creds).describe_organization_configuration()
    assert error_code(exc) == "InvalidAccessException"

    admin_sh.update_organization_configuration(AutoEnable=True, AutoEnableStandards="NONE")
    described = admin_sh.describe_organization_configuration()
    assert (described["AutoEnable"], described["AutoEnableStandards"]) == (True, "NONE")
    with pytest.raises(ClientError) as exc:
        admin_sh.update_organization_configuration(
            AutoEnable=True, OrganizationConfiguration={"ConfigurationType": "CENTRAL"})
    assert error_code(exc) == "InvalidInputException"

    admin_sh.update_organization_configuration(
        AutoEnable=False, AutoEnableStandards="NONE",
        OrganizationConfiguration={"ConfigurationType": "CENTRAL"})
    described = admin_sh.describe_organization_configuration()
    assert described["OrganizationConfiguration"] == {
        "ConfigurationType": "CENTRAL", "Status": "PENDING"}
    assert (described["AutoEnable"], described["AutoEnableStandards"]) == (False, "NONE")
    wait_out_window()
    assert admin_sh.describe_organization_configuration()["OrganizationConfiguration"] == {
        "ConfigurationType": "CENTRAL", "Status": "ENABLED"}


def test_securityhub_centrally_managed_member_cannot_change_itself(endpoint: str) -> None:
    root_id, [(admin, admin_creds), (member, member_creds)] = organization(endpoint, 2)
    client(endpoint, "securityhub").enable_organization_admin_account(AdminAccountId=admin)
    admin_sh = client(endpoint, "securityhub", creds=admin_creds)
    with pytest.raises(ClientError) as exc:  # policies need central configuration
        admin_sh.list_configuration_policies()
    assert error_code(exc) == "AccessDeniedException"
    admin_sh.update_organization_configuration(
        AutoEnable=False, AutoEnableStandards="NONE",
        OrganizationConfiguration={"ConfigurationType": "CENTRAL"})

    # Through the API every account starts self-managed: the member may change itself.
    member_sh = client(endpoint, "securityhub", creds=member_creds)
    member_sh.enable_security_hub(EnableDefaultStandards=False)
    member_sh.batch_enable_standards(
        StandardsSubscriptionRequests=[{"StandardsArn": CIS_120}])

    with pytest.raises(ClientError) as exc:
        admin_sh.create_configuration_policy(Name="p", ConfigurationPolicy={
            "SecurityHub": {"ServiceEnabled": True}})
    assert error_code(exc) == "InvalidInputException"
    policy = admin_sh.create_configuration_policy(Name="fsbp", ConfigurationPolicy={
        "SecurityHub": {
            "ServiceEnabled": True,
            "EnabledStandardIdentifiers": [FSBP.format(r=REGION)],
            "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": []},
        }})
    assert policy["Arn"].endswith(f":{admin}:configuration-policy/{policy['Id']}")
    assert admin_sh.get_configuration_policy(Identifier=policy["Arn"])["Name"] == "fsbp"
    assert [p["Id"] for p in admin_sh.list_configuration_policies()
            ["ConfigurationPolicySummaries"]] == [policy["Id"]]

    out = admin_sh.start_configuration_policy_association(
        ConfigurationPolicyIdentifier=policy["Id"], Target={"RootId": root_id})
    assert (out["TargetType"], out["AssociationType"]) == ("ROOT", "APPLIED")
    got = admin_sh.get_configuration_policy_association(Target={"AccountId": member})
    assert (got["ConfigurationPolicyId"], got["AssociationType"]) == (policy["Id"], "INHERITED")
    # The policy configured the member ...
    assert [s["StandardsArn"] for s in member_sh.get_enabled_standards()
            ["StandardsSubscriptions"]] == [FSBP.format(r=REGION)]
    # ... which may no longer change its own configuration.
    subscription = member_sh.get_enabled_standards()["StandardsSubscriptions"][0]
    for call in (
        lambda: member_sh.enable_security_hub(),
        lambda: member_sh.disable_security_hub(),
        lambda: member_sh.batch_enable_standards(
            StandardsSubscriptionRequests=[{"StandardsArn": CIS_120}]),
        lambda: member_sh.batch_disable_standards(
            StandardsSubscriptionArns=[subscription["StandardsSubscriptionArn"]]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert (error_code(exc), status(exc)) == ("AccessDeniedException", 403)
    # Other regions are not under the home region's central configuration.
    client(endpoint, "securityhub", region=OTHER_REGION, creds=member_creds).enable_security_hub()
    with pytest.raises(ClientError) as exc:  # still associated
        admin_sh.delete_configuration_policy(Identifier=policy["Id"])
    assert error_code(exc) == "ResourceConflictException"

    # Designated self-managed, the member manages itself again.
    admin_sh.start_configuration_policy_association(
        ConfigurationPolicyIdentifier="SELF_MANAGED_SECURITY_HUB", Target={"AccountId": member})
    member_sh.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": CIS_120}])
    admin_sh.start_configuration_policy_disassociation(
        ConfigurationPolicyIdentifier="SELF_MANAGED_SECURITY_HUB", Target={"AccountId": member})
    with pytest.raises(ClientError) as exc:  # inherits the root's policy again
        member_sh.disable_security_hub()
    assert error_code(exc) == "AccessDeniedException"
    admin_sh.start_configuration_policy_disassociation(
        ConfigurationPolicyIdentifier=policy["Id"], Target={"RootId": root_id})
    admin_sh.delete_configuration_policy(Identifier=policy["Id"])
    member_sh.disable_security_hub()
