"""Tests for strict_policies.py: resource policies, ownership and settings AWS
refuses. Each test starts from an empty emulator; the server runs with no
consistency window so that the windows of strict_consistency do not blur what
these tests look at (one test turns a window on to see it reach CloudTrail).

    <venv>/bin/pytest tests/emulator/test_strict_policies.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

import strict_policies as sp
from test_extension import (
    reset_emulator,
    MGMT_ACCOUNT,
    REGION,
    client,
    error_code,
    member_account,
    start_server,
    stop_server,
)

CT_TRAIL = f"arn:aws:cloudtrail:{REGION}:{MGMT_ACCOUNT}:trail/org-trail"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "0"})
    yield url
    stop_server(proc)


@pytest.fixture(autouse=True)
def reset(endpoint: str) -> None:
    reset_emulator(endpoint)


def status(exc: pytest.ExceptionInfo) -> int:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def message(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Message"]


def add_member(endpoint: str, name: str) -> tuple[str, dict[str, str]]:
    """Another member account of the existing organization, with assumed creds."""
    org = client(endpoint, "organizations")
    request = org.create_account(Email=f"{name}@example.com", AccountName=name)
    account_id = org.describe_create_account_status(
        CreateAccountRequestId=request["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]
    creds = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="baseline",
    )["Credentials"]
    return account_id, creds


def org_id(endpoint: str) -> str:
    return client(endpoint, "organizations").describe_organization()["Organization"]["Id"]


def enable_trusted_access(endpoint: str, service: str) -> None:
    client(endpoint, "organizations").enable_aws_service_access(ServicePrincipal=service)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_statement(service: str, action: str, resource: str,
                      condition: dict[str, Any] | None = None,
                      effect: str = "Allow") -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, "Principal": {"Service": service},
                          "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return st


def trail_policy(bucket: str, objects: str = "AWSLogs/*",
                 condition: dict[str, Any] | None = None) -> str:
    ct = "cloudtrail.amazonaws.com"
    return policy(
        service_statement(ct, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", condition),
        service_statement(ct, "s3:PutObject", f"arn:aws:s3:::{bucket}/{objects}", condition),
    )


def trail_bucket(endpoint: str, name: str, creds: dict[str, str] | None = None,
                 region: str = REGION, **policy_args: Any) -> Any:
    s3 = client(endpoint, "s3", region=region, creds=creds)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_policy(Bucket=name, Policy=trail_policy(name, **policy_args))
    return s3


def cloudtrail_key_policy(account: str, decrypt: bool = False,
                          trail_arn: str = "arn:aws:cloudtrail:*:*:trail/*") -> str:
    ct = "cloudtrail.amazonaws.com"
    statements = [
        {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        service_statement(ct, "kms:GenerateDataKey*", "*", {
            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arn},
            "StringEquals": {"aws:SourceArn": CT_TRAIL},
        }),
        service_statement(ct, "kms:DescribeKey", "*"),
    ]
    if decrypt:
        statements.append(service_statement(ct, "kms:Decrypt", "*"))
    return policy(*statements)


# --------------------------------------------------------------------------
# 1. The condition evaluator (in process) and CloudTrail's bucket check
# --------------------------------------------------------------------------


def test_condition_evaluator_missing_keys_follow_aws() -> None:
    # A missing key: false for positive operators, true for negated ones and IfExists.
    assert not sp.conditions_hold({"StringEquals": {"aws:SourceOrgID": "o-1"}}, {})
    assert sp.conditions_hold({"StringNotEquals": {"aws:SourceOrgID": "o-1"}}, {})
    assert sp.conditions_hold({"ArnNotLike": {"aws:SourceArn": "arn:*"}}, {})
    assert sp.conditions_hold({"StringEqualsIfExists": {"aws:SourceOrgID": "o-1"}}, {})
    assert not sp.conditions_hold({"StringEqualsIfExists": {"aws:SourceOrgID": "o-1"}},
                                  {"aws:SourceOrgID": "o-2"})
    assert sp.conditions_hold({"Null": {"aws:SourceOrgID": "true"}}, {})
    assert not sp.conditions_hold({"Null": {"aws:SourceOrgID": "false"}}, {})
    assert not sp.conditions_hold({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}, {})
    assert sp.conditions_hold({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}, {})


def test_condition_evaluator_values_or_keys_and_case() -> None:
    ctx = {"aws:SourceAccount": "111111111111", "AWS:SourceArn":
           "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}
    # Values of one key are ORed; keys are ANDed; key names ignore case.
    assert sp.conditions_hold({"StringEquals": {"AWS:SOURCEACCOUNT": ["2", "111111111111"]}}, ctx)
    assert not sp.conditions_hold({"StringEquals": {
        "aws:SourceAccount": "111111111111", "aws:SourceArn": "arn:other"}}, ctx)
    # Negated operators with several values are a NOR.
    assert not sp.conditions_hold({"StringNotEquals": {"aws:SourceAccount": ["2", "111111111111"]}}, ctx)
    assert sp.conditions_hold({"StringNotEquals": {"aws:SourceAccount": ["2", "3"]}}, ctx)
    # Values are case-sensitive, except for the IgnoreCase operators.
    assert not sp.conditions_hold({"StringEquals": {"aws:SourceArn": ctx["AWS:SourceArn"].upper()}}, ctx)
    assert sp.conditions_hold({"StringEqualsIgnoreCase": {"aws:SourceArn": ctx["AWS:SourceArn"].upper()}}, ctx)
    # ArnLike compares each of the six parts on its own.
    assert sp.conditions_hold({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111111111111:trail/*"}}, ctx)
    assert not sp.conditions_hold({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:2:trail/*"}}, ctx)
    assert sp.conditions_hold({"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}, ctx)
    assert sp.conditions_hold({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"})
    assert sp.conditions_hold({"ForAnyValue:StringLike": {"k": "a*"}}, {"k": ["x", "ab"]})
    assert not sp.conditions_hold({"ForAllValues:StringLike": {"k": "a*"}}, {"k": ["x", "ab"]})


def test_policy_explicit_deny_wins() -> None:
    who = sp.Principal(service="cloudtrail.amazonaws.com")
    doc = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]}
    assert sp.evaluate_policy(doc, who, "s3:PutObject", "arn:aws:s3:::b/k",
                              {"s3:x-amz-acl": "bucket-owner-full-control"}) == "Allow"
    assert sp.evaluate_policy(doc, who, "s3:PutObject", "arn:aws:s3:::b/k", {}) == "Deny"
    assert sp.evaluate_policy(doc, who, "s3:GetObject", "arn:aws:s3:::c/k", {}) == "NotAllowed"
    # A wildcard in a principal ARN is not a wildcard; the account root is the account.
    member = sp.Principal(account="111111111111", arns=("arn:aws:iam::111111111111:role/r",))
    assert sp.principal_matches({"AWS": "arn:aws:iam::111111111111:root"}, member)
    assert sp.principal_matches({"AWS": "111111111111"}, member)
    assert not sp.principal_matches({"AWS": "arn:aws:iam::111111111111:role/*"}, member)
    assert not sp.principal_matches({"Service": "cloudtrail.amazonaws.com"}, member)


def test_cloudtrail_bucket_policy_conditions_are_evaluated(endpoint: str) -> None:
    ct = client(endpoint, "cloudtrail")
    other_trail = f"arn:aws:cloudtrail:{REGION}:{MGMT_ACCOUNT}:trail/other"
    s3 = trail_bucket(endpoint, "trail-logs",
                      condition={"StringEquals": {"aws:SourceArn": other_trail}})
    with pytest.raises(ClientError) as exc:  # the policy is for another trail
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs")
    assert error_code(exc) == "InsufficientS3BucketPolicyException"

    s3.put_bucket_policy(Bucket="trail-logs", Policy=trail_policy("trail-logs", condition={
        "StringEquals": {"aws:SourceArn": CT_TRAIL, "aws:SourceAccount": MGMT_ACCOUNT}}))
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs")

    # Writes carry s3:x-amz-acl = bucket-owner-full-control; an explicit Deny refuses.
    deny = service_statement("cloudtrail.amazonaws.com", "s3:PutObject",
                             "arn:aws:s3:::trail-logs/*",
                             {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                             effect="Deny")
    doc = json.loads(trail_policy("trail-logs"))
    s3.put_bucket_policy(Bucket="trail-logs", Policy=policy(*doc["Statement"], deny))
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", S3KeyPrefix="p")
    assert error_code(exc) == "InsufficientS3BucketPolicyException"


def test_cloudtrail_source_org_id_and_organization_path(endpoint: str) -> None:
    member_account(endpoint)  # creates the organization
    enable_trusted_access(endpoint, "cloudtrail.amazonaws.com")
    oid = org_id(endpoint)
    ct = client(endpoint, "cloudtrail")
    # An organization trail also writes under AWSLogs/<org-id>/<account>/.
    s3 = trail_bucket(endpoint, "org-logs", objects=f"AWSLogs/{MGMT_ACCOUNT}/*")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="org-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    ct.create_trail(Name="plain-trail", S3BucketName="org-logs")

    # The usual "deny outside the organization" statement stops CloudTrail too,
    # unless it exempts AWS services.
    allow = json.loads(trail_policy(
        "org-logs", condition={"StringEquals": {"aws:SourceOrgID": oid}}))["Statement"]
    deny_outside = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": "arn:aws:s3:::org-logs/*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": oid}}}
    s3.put_bucket_policy(Bucket="org-logs", Policy=policy(*allow, deny_outside))
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="org-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    deny_outside["Condition"]["Bool"] = {"aws:PrincipalIsAWSService": "false"}
    s3.put_bucket_policy(Bucket="org-logs", Policy=policy(*allow, deny_outside))
    trail = ct.create_trail(Name="org-trail", S3BucketName="org-logs", IsOrganizationTrail=True)
    assert trail["IsOrganizationTrail"] is True


# --------------------------------------------------------------------------
# 2. CloudTrail needs a usable KMS key
# --------------------------------------------------------------------------


def test_cloudtrail_kms_key_must_exist_be_enabled_and_allow_cloudtrail(endpoint: str) -> None:
    trail_bucket(endpoint, "trail-logs")
    ct, kms = client(endpoint, "cloudtrail"), client(endpoint, "kms")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId="alias/nope")
    assert error_code(exc) == "KmsKeyNotFoundException"

    bare = kms.create_key()["KeyMetadata"]  # default policy: the account only
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=bare["Arn"])
    assert error_code(exc) == "InsufficientEncryptionPolicyException"
    assert bare["Arn"] in message(exc)

    key = kms.create_key(Policy=cloudtrail_key_policy(MGMT_ACCOUNT))["KeyMetadata"]
    kms.create_alias(AliasName="alias/cloudtrail", TargetKeyId=key["KeyId"])
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:  # KmsKeyDisabledException is "no longer in use"
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId="alias/cloudtrail")
    assert error_code(exc) == "KmsException"
    kms.enable_key(KeyId=key["KeyId"])

    created = ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                              KmsKeyId="alias/cloudtrail")
    assert created["KmsKeyId"] == key["Arn"]  # AWS reports the key ARN
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", KmsKeyId=bare["KeyId"])
    assert error_code(exc) == "InsufficientEncryptionPolicyException"
    assert ct.get_trail(Name="org-trail")["Trail"]["KmsKeyId"] == key["Arn"]


def test_cloudtrail_kms_key_policy_conditions_and_bucket_key(endpoint: str) -> None:
    s3 = trail_bucket(endpoint, "trail-logs")
    ct, kms = client(endpoint, "cloudtrail"), client(endpoint, "kms")
    # The encryption context names the trail: a policy for another account's trails fails.
    wrong = kms.create_key(Policy=cloudtrail_key_policy(
        MGMT_ACCOUNT, trail_arn="arn:aws:cloudtrail:*:222222222222:trail/*"))["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=wrong["Arn"])
    assert error_code(exc) == "InsufficientEncryptionPolicyException"

    # With an S3 Bucket Key on the log bucket, CloudTrail also needs kms:Decrypt.
    s3.put_bucket_encryption(Bucket="trail-logs", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
        "BucketKeyEnabled": True}]})
    encrypt_only = kms.create_key(Policy=cloudtrail_key_policy(MGMT_ACCOUNT))["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=encrypt_only["Arn"])
    assert error_code(exc) == "InsufficientEncryptionPolicyException"
    with_decrypt = kms.create_key(Policy=cloudtrail_key_policy(MGMT_ACCOUNT, decrypt=True))
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                    KmsKeyId=with_decrypt["KeyMetadata"]["KeyId"])


def test_cloudtrail_kms_key_of_another_account_and_region(endpoint: str) -> None:
    security_id, creds = member_account(endpoint)
    trail_bucket(endpoint, "trail-logs")
    member_kms = client(endpoint, "kms", creds=creds)
    ct = client(endpoint, "cloudtrail")
    statements = json.loads(cloudtrail_key_policy(security_id))["Statement"]
    key = member_kms.create_key(Policy=policy(*statements))["KeyMetadata"]
    created = ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=key["Arn"])
    assert created["KmsKeyId"] == key["Arn"]

    # The key must be in the bucket's region.
    far = client(endpoint, "kms", region="eu-west-1", creds=creds).create_key(
        Policy=policy(*statements))["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", KmsKeyId=far["Arn"])
    assert error_code(exc) == "KmsKeyNotFoundException"
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", KmsKeyId="arn:aws:s3:::not-a-key")
    assert error_code(exc) == "InvalidKmsKeyIdException"


def test_cloudtrail_sees_the_kms_consistency_window() -> None:
    """CloudTrail looks keys up through the KMS backend, so a KMS 'new key not
    found for a moment' window (strict_consistency) reaches CreateTrail too."""
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "1.5"})
    try:
        trail_bucket(url, "trail-logs")
        kms = client(url, "kms")
        key = kms.create_key(Policy=cloudtrail_key_policy(MGMT_ACCOUNT))["KeyMetadata"]
        try:
            kms.describe_key(KeyId=key["Arn"])
            pytest.skip("the KMS backend has no consistency window for new keys")
        except ClientError:
            pass
        ct = client(url, "cloudtrail")
        with pytest.raises(ClientError) as exc:
            ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=key["Arn"])
        assert error_code(exc) == "KmsKeyNotFoundException"
        time.sleep(1.6)
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", KmsKeyId=key["Arn"])
    finally:
        stop_server(proc)


# --------------------------------------------------------------------------
# 3. Organization trails
# --------------------------------------------------------------------------


def test_organization_trail_needs_an_organization_and_trusted_access(endpoint: str) -> None:
    trail_bucket(endpoint, "trail-logs")
    ct = client(endpoint, "cloudtrail")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "OrganizationsNotInUseException"

    member_id, creds = member_account(endpoint)
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="trail-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "CloudTrailAccessNotEnabledException"

    enable_trusted_access(endpoint, "cloudtrail.amazonaws.com")
    member_ct = client(endpoint, "cloudtrail", creds=creds)
    with pytest.raises(ClientError) as exc:
        member_ct.create_trail(Name="org-trail", S3BucketName="trail-logs",
                               IsOrganizationTrail=True)
    assert error_code(exc) == "NotOrganizationMasterAccountException"
    member_ct.create_trail(Name="member-trail", S3BucketName="trail-logs")
    with pytest.raises(ClientError) as exc:
        member_ct.update_trail(Name="member-trail", IsOrganizationTrail=True)
    assert error_code(exc) == "NotOrganizationMasterAccountException"

    ct.create_trail(Name="org-trail", S3BucketName="trail-logs", IsOrganizationTrail=True)
    # The CloudTrail delegated administrator may create one too.
    client(endpoint, "organizations").register_delegated_administrator(
        AccountId=member_id, ServicePrincipal="cloudtrail.amazonaws.com")
    member_ct.update_trail(Name="member-trail", IsOrganizationTrail=True)


def test_organization_trail_needs_all_features(endpoint: str) -> None:
    trail_bucket(endpoint, "trail-logs")
    client(endpoint, "organizations").create_organization(FeatureSet="CONSOLIDATED_BILLING")
    with pytest.raises(ClientError) as exc:
        client(endpoint, "cloudtrail").create_trail(
            Name="org-trail", S3BucketName="trail-logs", IsOrganizationTrail=True)
    assert error_code(exc) == "OrganizationNotInAllFeaturesModeException"


# --------------------------------------------------------------------------
# 4. AWS Config delivery channel and recording group
# --------------------------------------------------------------------------

SLR = (f"arn:aws:iam::{MGMT_ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
       "AWSServiceRoleForConfig")


def config_recorder(endpoint: str, role_arn: str = SLR) -> Any:
    cfg = client(endpoint, "config")
    if role_arn == SLR:
        client(endpoint, "iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": role_arn, "recordingGroup": {"allSupported": True}})
    return cfg


def config_policy(bucket: str, account: str, condition_key: str = "aws:SourceAccount",
                  condition_value: str | None = None, prefix: str = "") -> str:
    cfg = "config.amazonaws.com"
    cond = {"StringEquals": {condition_key: condition_value or account}}
    return policy(
        service_statement(cfg, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", cond),
        service_statement(cfg, "s3:ListBucket", f"arn:aws:s3:::{bucket}", cond),
        service_statement(cfg, "s3:PutObject",
                          f"arn:aws:s3:::{bucket}/{prefix}AWSLogs/{account}/Config/*",
                          {"StringEquals": {**cond["StringEquals"],
                                            "s3:x-amz-acl": "bucket-owner-full-control"}}),
    )


def test_config_delivery_channel_needs_a_bucket_policy_for_config(endpoint: str) -> None:
    cfg = config_recorder(endpoint)
    channel = {"name": "default", "s3BucketName": "config-logs"}
    with pytest.raises(ClientError) as exc:
        cfg.put_delivery_channel(DeliveryChannel=channel)
    assert error_code(exc) == "NoSuchBucketException"

    # Same account, service-linked role: Config writes as its service principal,
    # so even a bucket of its own account needs the policy.
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="config-logs")
    with pytest.raises(ClientError) as exc:
        cfg.put_delivery_channel(DeliveryChannel=channel)
    assert error_code(exc) == "InsufficientDeliveryPolicyException"
    assert "unable to get s3 bucket acl" in message(exc)

    s3.put_bucket_policy(Bucket="config-logs", Policy=config_policy("config-logs", MGMT_ACCOUNT))
    with pytest.raises(ClientError) as exc:  # the policy covers AWSLogs/ at the top only
        cfg.put_delivery_channel(DeliveryChannel=dict(channel, s3KeyPrefix="config"))
    assert error_code(exc) == "InsufficientDeliveryPolicyException"
    assert "provided s3 key prefix is 'config'" in message(exc)
    cfg.put_delivery_channel(DeliveryChannel=channel)
    assert cfg.describe_delivery_channels()["DeliveryChannels"][0]["s3BucketName"] == "config-logs"


def test_config_delivery_to_another_account_and_org_conditions(endpoint: str) -> None:
    archive_id, creds = member_account(endpoint)
    oid = org_id(endpoint)
    archive_s3 = client(endpoint, "s3", creds=creds)
    archive_s3.create_bucket(Bucket="org-config-logs")
    # Config's service principal belongs to no organization: aws:PrincipalOrgID never
    # matches it, and another organization's aws:SourceOrgID does not either.
    cfg = config_recorder(endpoint)
    channel = {"name": "default", "s3BucketName": "org-config-logs"}
    for key, value in (("aws:PrincipalOrgID", oid), ("aws:SourceOrgID", "o-otherorg01")):
        archive_s3.put_bucket_policy(Bucket="org-config-logs", Policy=config_policy(
            "org-config-logs", MGMT_ACCOUNT, key, value))
        with pytest.raises(ClientError) as exc:
            cfg.put_delivery_channel(DeliveryChannel=channel)
        assert error_code(exc) == "InsufficientDeliveryPolicyException", key

    # It delivers for an account of the organization named in aws:SourceOrgID, and for
    # an account named in aws:SourceAccount.
    archive_s3.put_bucket_policy(Bucket="org-config-logs", Policy=config_policy(
        "org-config-logs", MGMT_ACCOUNT, "aws:SourceOrgID", oid))
    cfg.put_delivery_channel(DeliveryChannel=channel)
    cfg.delete_delivery_channel(DeliveryChannelName="default")
    archive_s3.put_bucket_policy(Bucket="org-config-logs",
                                 Policy=config_policy("org-config-logs", MGMT_ACCOUNT))
    cfg.put_delivery_channel(DeliveryChannel=channel)


def test_config_delivery_with_a_custom_role(endpoint: str) -> None:
    archive_id, creds = member_account(endpoint)
    iam = client(endpoint, "iam")
    role = iam.create_role(RoleName="ConfigRecorder", AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
        "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    cfg = config_recorder(endpoint, role)
    # The role writes to its own account's bucket with its IAM permissions.
    client(endpoint, "s3").create_bucket(Bucket="own-config-logs")
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "own-config-logs"})

    # Another account's bucket must grant the role (organization keys work for it).
    archive_s3 = client(endpoint, "s3", creds=creds)
    archive_s3.create_bucket(Bucket="org-config-logs")
    channel = {"name": "default", "s3BucketName": "org-config-logs"}
    with pytest.raises(ClientError) as exc:
        cfg.put_delivery_channel(DeliveryChannel=channel)
    assert error_code(exc) == "InsufficientDeliveryPolicyException"
    grant = {"Effect": "Allow", "Principal": {"AWS": role},
             "Action": ["s3:GetBucketAcl", "s3:PutObject"],
             "Resource": ["arn:aws:s3:::org-config-logs", "arn:aws:s3:::org-config-logs/*"],
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id(endpoint)}}}
    archive_s3.put_bucket_policy(Bucket="org-config-logs", Policy=policy(grant))
    cfg.put_delivery_channel(DeliveryChannel=channel)


def test_config_recording_group_must_record_something(endpoint: str) -> None:
    client(endpoint, "iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
    cfg = client(endpoint, "config")
    for group in ({"allSupported": False}, {"allSupported": False, "resourceTypes": []},
                  {"allSupported": False, "includeGlobalResourceTypes": True,
                   "resourceTypes": ["AWS::IAM::Role"]}):
        with pytest.raises(ClientError) as exc:
            cfg.put_configuration_recorder(ConfigurationRecorder={
                "name": "default", "roleARN": SLR, "recordingGroup": group})
        assert error_code(exc) == "InvalidRecordingGroupException"
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": SLR,
        "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}})


# --------------------------------------------------------------------------
# 5. Bucket and key policies are checked when written
# --------------------------------------------------------------------------


def test_bucket_policy_resources_and_principals_are_checked(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="logs")
    s3.create_bucket(Bucket="other")
    allow = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"},
             "Action": "s3:GetObject"}
    for resource in ("arn:aws:s3:::other/*", "arn:aws-cn:s3:::logs/*", "*"):
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_policy(Bucket="logs", Policy=policy(dict(allow, Resource=resource)))
        assert (error_code(exc), message(exc), status(exc)) == (
            "MalformedPolicy", "Policy has invalid resource", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="logs", Policy=policy(dict(
            allow, Principal={"AWS": "arn:aws-us-gov:iam::123456789012:root"},
            Resource="arn:aws:s3:::logs/*")))
    assert (error_code(exc), message(exc)) == ("MalformedPolicy", "Invalid principal in policy")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="logs", Policy="not json")
    assert error_code(exc) == "MalformedPolicy"
    s3.put_bucket_policy(Bucket="logs", Policy=policy(dict(
        allow, Resource=["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"])))


def test_bucket_policy_size_is_limited_to_20_kb(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="logs")

    def with_accounts(n: int) -> str:
        return policy({"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
                       "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::logs",
                       "Condition": {"StringEquals": {"aws:SourceAccount": [
                           f"{100000000000 + i}" for i in range(n)]}}})

    # 15 bytes an account: 1,400 accounts are over 20,480 bytes, 1,300 are not.
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="logs", Policy=with_accounts(1400))
    assert (error_code(exc), message(exc), status(exc)) == (
        "MalformedPolicy", "Policy exceeds the maximum allowed document size.", 400)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket="logs")  # nothing was stored
    # The limit counts the policy without whitespace: indenting does not push it over.
    fits = json.dumps(json.loads(with_accounts(1300)), indent=4)
    assert len(fits) > 20 * 1024
    s3.put_bucket_policy(Bucket="logs", Policy=fits)


def test_key_policy_lockout_safety_check(endpoint: str) -> None:
    member_id, creds = member_account(endpoint)
    kms = client(endpoint, "kms", creds=creds)
    other_admin = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                   "Action": "kms:*", "Resource": "*"}
    with pytest.raises(ClientError) as exc:
        kms.create_key(Policy=policy(other_admin))
    assert error_code(exc) == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy" in message(exc)
    kms.create_key(Policy=policy(other_admin), BypassPolicyLockoutSafetyCheck=True)

    # The caller's role (or its account root) may keep kms:PutKeyPolicy.
    role = f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole"
    key_id = kms.create_key(Policy=policy(dict(other_admin, Principal={"AWS": role})))[
        "KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:  # kms:PutKeyPolicy no longer allowed to the caller
        kms.put_key_policy(KeyId=key_id, Policy=policy(dict(
            other_admin, Principal={"AWS": role}, Action=["kms:Encrypt", "kms:Decrypt"])))
    assert error_code(exc) == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key_id, Policy=policy(dict(
        other_admin, Principal={"AWS": f"arn:aws:iam::{member_id}:root"})))


def test_key_policy_principals_must_be_valid(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"},
            "Action": "kms:*", "Resource": "*"}
    for bad in (
        policy(root, dict(root, Principal={"AWS": "arn:aws-cn:iam::123456789012:root"})),
        policy(root, {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
        "{not json",
    ):
        with pytest.raises(ClientError) as exc:
            kms.create_key(Policy=bad)
        assert error_code(exc) == "MalformedPolicyDocumentException"
    key_id = kms.create_key(Policy=policy(root))["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key_id, Policy=policy(
            root, dict(root, Principal={"AWS": "arn:aws-cn:iam::123456789012:root"})))
    assert error_code(exc) == "MalformedPolicyDocumentException"
    too_long = policy(root, {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
                             "Action": "kms:Decrypt", "Resource": "*",
                             "Condition": {"StringEquals": {"aws:SourceAccount": [
                                 f"{100000000000 + i}" for i in range(2200)]}}})
    assert len(too_long) > 32768
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key_id, Policy=too_long)
    assert error_code(exc) == "ValidationException"
    assert "32768" in message(exc)


# --------------------------------------------------------------------------
# 6. S3 bucket names are global and buckets are owned
# --------------------------------------------------------------------------


def test_bucket_names_are_global(endpoint: str) -> None:
    _, creds = member_account(endpoint)
    client(endpoint, "s3").create_bucket(Bucket="shared-name")
    member_s3 = client(endpoint, "s3", creds=creds)
    with pytest.raises(ClientError) as exc:
        member_s3.create_bucket(Bucket="shared-name")
    assert (error_code(exc), status(exc)) == ("BucketAlreadyExists", 409)

    eu = client(endpoint, "s3", region="eu-west-1")
    eu.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as exc:
        eu.create_bucket(Bucket="eu-bucket",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert (error_code(exc), status(exc)) == ("BucketAlreadyOwnedByYou", 409)
    # us-east-1 keeps its legacy answer for a bucket the caller owns there: 200.
    client(endpoint, "s3").create_bucket(Bucket="shared-name")


def test_another_accounts_bucket_is_private(endpoint: str) -> None:
    member_id, creds = member_account(endpoint)
    owner = client(endpoint, "s3")
    owner.create_bucket(Bucket="mgmt-logs")
    owner.put_bucket_versioning(Bucket="mgmt-logs", VersioningConfiguration={"Status": "Enabled"})
    member = client(endpoint, "s3", creds=creds)

    with pytest.raises(ClientError) as exc:
        member.head_bucket(Bucket="mgmt-logs")
    assert (error_code(exc), status(exc)) == ("403", 403)  # HEAD: no error body
    for call in (
        lambda: member.get_bucket_location(Bucket="mgmt-logs"),
        lambda: member.get_bucket_versioning(Bucket="mgmt-logs"),
        lambda: member.get_bucket_policy(Bucket="mgmt-logs"),
        lambda: member.list_objects_v2(Bucket="mgmt-logs"),
        lambda: member.put_bucket_tagging(Bucket="mgmt-logs",
                                          Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        lambda: member.put_public_access_block(
            Bucket="mgmt-logs", PublicAccessBlockConfiguration={"BlockPublicAcls": True}),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert (error_code(exc), status(exc)) == ("AccessDenied", 403)
    # The owner account is not affected, and the refused write left nothing behind.
    assert owner.get_bucket_versioning(Bucket="mgmt-logs")["Status"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        owner.get_bucket_tagging(Bucket="mgmt-logs")
    assert error_code(exc) == "NoSuchTagSet"

    # The bucket policy can let the member read the configuration, but only the
    # owner account may manage the policy itself (405 even when allowed).
    owner.put_bucket_policy(Bucket="mgmt-logs", Policy=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member_id}:root"},
        "Action": ["s3:ListBucket", "s3:GetBucketVersioning", "s3:GetBucketPolicy"],
        "Resource": "arn:aws:s3:::mgmt-logs"}))
    member.head_bucket(Bucket="mgmt-logs")
    assert member.get_bucket_versioning(Bucket="mgmt-logs")["Status"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        member.get_bucket_policy(Bucket="mgmt-logs")
    assert (error_code(exc), status(exc)) == ("MethodNotAllowed", 405)
    with pytest.raises(ClientError) as exc:
        member.get_bucket_location(Bucket="mgmt-logs")
    assert error_code(exc) == "AccessDenied"


# --------------------------------------------------------------------------
# 7. IAM centralized root access
# --------------------------------------------------------------------------


def test_root_access_needs_an_organization_and_trusted_access(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    with pytest.raises(ClientError) as exc:
        iam.list_organizations_features()
    assert error_code(exc) == "OrganizationNotFoundException"

    member_id, creds = member_account(endpoint)
    with pytest.raises(ClientError) as exc:
        iam.enable_organizations_root_credentials_management()
    assert (error_code(exc), status(exc)) == ("ServiceAccessNotEnabledException", 400)

    enable_trusted_access(endpoint, "iam.amazonaws.com")
    member_iam = client(endpoint, "iam", creds=creds)
    with pytest.raises(ClientError) as exc:
        member_iam.enable_organizations_root_sessions()
    assert error_code(exc) == "CallerIsNotManagementAccountException"
    with pytest.raises(ClientError) as exc:
        member_iam.list_organizations_features()
    assert error_code(exc) == "AccountNotManagementOrDelegatedAdministratorException"

    oid = org_id(endpoint)
    out = iam.enable_organizations_root_credentials_management()
    assert (out["OrganizationId"], out["EnabledFeatures"]) == (oid, ["RootCredentialsManagement"])
    out = iam.enable_organizations_root_sessions()
    assert out["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    assert iam.list_organizations_features()["EnabledFeatures"] == [
        "RootCredentialsManagement", "RootSessions"]

    # IAM's delegated administrator may list and disable, not enable.
    client(endpoint, "organizations").register_delegated_administrator(
        AccountId=member_id, ServicePrincipal="iam.amazonaws.com")
    assert member_iam.disable_organizations_root_sessions()["EnabledFeatures"] == [
        "RootCredentialsManagement"]
    assert member_iam.list_organizations_features()["OrganizationId"] == oid
    with pytest.raises(ClientError) as exc:
        member_iam.enable_organizations_root_sessions()
    assert error_code(exc) == "CallerIsNotManagementAccountException"
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == []


def test_root_access_needs_all_features(endpoint: str) -> None:
    client(endpoint, "organizations").create_organization(FeatureSet="CONSOLIDATED_BILLING")
    with pytest.raises(ClientError) as exc:
        client(endpoint, "iam").list_organizations_features()
    assert error_code(exc) == "OrganizationNotInAllFeaturesModeException"


# --------------------------------------------------------------------------
# 8. Security Hub findings name their own product
# --------------------------------------------------------------------------


def _finding(fid: str, account: str, product_account: str | None = None,
             region: str = REGION) -> dict[str, Any]:
    product_account = product_account or account
    return {
        "SchemaVersion": "2018-10-08", "Id": fid, "GeneratorId": "baseline",
        "ProductArn": f"arn:aws:securityhub:{region}:{product_account}:product/{product_account}/default",
        "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2024-01-01T00:00:00Z", "UpdatedAt": "2024-01-01T00:00:00Z",
        "Severity": {"Label": "HIGH"}, "Title": fid, "Description": "d",
        "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account}"}],
    }


def test_securityhub_findings_must_name_the_callers_product(endpoint: str) -> None:
    member_id, _ = member_account(endpoint)
    sh = client(endpoint, "securityhub")
    sh.enable_security_hub(EnableDefaultStandards=False)
    for bad in (
        _finding("other-product", MGMT_ACCOUNT, product_account=member_id),
        _finding("other-account", member_id, product_account=MGMT_ACCOUNT),
        _finding("other-region", MGMT_ACCOUNT, region="eu-west-1"),
    ):
        with pytest.raises(ClientError) as exc:
            sh.batch_import_findings(Findings=[_finding("ok", MGMT_ACCOUNT), bad])
        assert (error_code(exc), status(exc)) == ("AccessDeniedException", 403)
        assert bad["ProductArn"] in message(exc)
    assert sh.get_findings()["Findings"] == []  # nothing of a refused batch is kept
    assert sh.batch_import_findings(Findings=[_finding("ok", MGMT_ACCOUNT)])["SuccessCount"] == 1


def _trust(*principals: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def test_a_role_trusts_only_principals_iam_can_resolve(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    missing = f"arn:aws:iam::{MGMT_ACCOUNT}:role/nobody"

    def refused(exc: pytest.ExceptionInfo) -> None:
        assert (error_code(exc), status(exc)) == ("MalformedPolicyDocument", 400)
        assert message(exc) == f'Invalid principal in policy: "AWS":"{missing}"'

    with pytest.raises(ClientError) as exc:
        iam.create_role(
            RoleName="support",
            AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{MGMT_ACCOUNT}:root", missing),
        )
    refused(exc)
    iam.create_role(RoleName="support", AssumeRolePolicyDocument=_trust(MGMT_ACCOUNT))
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(RoleName="support", PolicyDocument=_trust(missing))
    refused(exc)
    # Account ids, account roots, and roles and users that exist resolve.
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=_trust(MGMT_ACCOUNT))
    iam.create_user(UserName="alice")
    iam.update_assume_role_policy(
        RoleName="support",
        PolicyDocument=_trust(
            "111122223333",
            "arn:aws:iam::111122223333:root",
            f"arn:aws:iam::{MGMT_ACCOUNT}:role/ops",
            f"arn:aws:iam::{MGMT_ACCOUNT}:user/alice",
        ),
    )
    assert sp._unresolvable_principal(_trust("arn:aws:iam::111122223333:user/ghost")) is not None
