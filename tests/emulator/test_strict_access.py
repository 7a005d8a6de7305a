"""Tests for strict_access: who may call what, where, and for how long.

    <venv>/bin/pytest tests/emulator/test_strict_access.py
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_extension import (
    reset_emulator,
    MGMT_ACCOUNT,
    REGION,
    client,
    member_account,
    start_server,
    stop_server,
)

OPT_IN = "af-south-1"
SCP = "SERVICE_CONTROL_POLICY"
FULL_ACCESS_ID = "p-FullAWSAccess"
WINDOW = 1.0  # consistency window of the `slow` server
SESSION = 2  # max session seconds of the `slow` server


def _reset(url: str) -> None:
    reset_emulator(url)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A server with the default knobs (window 0.5 s, sessions of up to an hour)."""
    proc, url = start_server()
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    """A server with a visible consistency window and short sessions."""
    proc, url = start_server({
        "BASELINE_EMULATOR_CONSISTENCY_SECONDS": str(WINDOW),
        "BASELINE_EMULATOR_MAX_SESSION_SECONDS": str(SESSION),
    })
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


def refused(call: Callable[[], Any]) -> dict[str, Any]:
    """The error response of a call that must fail."""
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def error_code_of(response: dict[str, Any]) -> str:
    return response["Error"]["Code"]


def status(response: dict[str, Any]) -> int:
    return response["ResponseMetadata"]["HTTPStatusCode"]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def new_account(url: str, role_name: str | None = None) -> str:
    org = client(url, "organizations")
    extra = {"RoleName": role_name} if role_name else {}
    out = org.create_account(Email=f"{time.monotonic_ns()}@example.com", AccountName="acct",
                             **extra)
    return org.describe_create_account_status(
        CreateAccountRequestId=out["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]


def trust(principal: Any, effect: str = "Allow") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}]})


def assume(url: str, role_arn: str, creds: dict[str, str] | None = None,
           validate: bool = True, **kwargs: Any) -> dict[str, Any]:
    return client(url, "sts", creds=creds, validate=validate).assume_role(
        RoleArn=role_arn, RoleSessionName="test", **kwargs)


# --------------------------------------------------------------------------
# sts:AssumeRole needs a role that exists and trusts the caller
# --------------------------------------------------------------------------


def test_assume_role_needs_an_existing_role(fresh: str) -> None:
    arn = f"arn:aws:iam::{MGMT_ACCOUNT}:role/does-not-exist"
    err = refused(lambda: assume(fresh, arn))
    assert (err["Error"]["Code"], status(err)) == ("AccessDenied", 403)
    assert err["Error"]["Message"] == (
        f"User: arn:aws:sts::{MGMT_ACCOUNT}:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}"
    )


def test_assume_role_in_an_account_without_the_access_role(fresh: str) -> None:
    client(fresh, "organizations").create_organization(FeatureSet="ALL")
    # Like an invited account: no OrganizationAccountAccessRole.
    account_id = new_account(fresh, role_name="SomethingElse")
    err = refused(lambda: assume(
        fresh, f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"))
    assert error_code_of(err) == "AccessDenied"
    creds = assume(fresh, f"arn:aws:iam::{account_id}:role/SomethingElse")["Credentials"]
    assert client(fresh, "sts", creds=creds).get_caller_identity()["Account"] == account_id


def test_access_role_lives_in_the_organizations_partition(fresh: str) -> None:
    # An organization in AWS China: Organizations answers at cn-northwest-1.
    org = client(fresh, "organizations", region="cn-northwest-1")
    org.create_organization(FeatureSet="ALL")
    out = org.create_account(Email="cn@example.com", AccountName="cn")
    account_id = org.describe_create_account_status(
        CreateAccountRequestId=out["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]
    sts = client(fresh, "sts", region="cn-north-1")
    creds = sts.assume_role(
        RoleArn=f"arn:aws-cn:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="test",
    )["Credentials"]
    member = client(fresh, "iam", region="cn-north-1", creds=creds)
    role = member.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["Arn"] == f"arn:aws-cn:iam::{account_id}:role/OrganizationAccountAccessRole"
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(urllib.parse.unquote(trust))
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{MGMT_ACCOUNT}:root"}


@pytest.mark.parametrize("principal, allowed", [
    ({"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"}, True),
    ({"AWS": MGMT_ACCOUNT}, True),
    ("*", True),
    ({"AWS": "*"}, True),
    ({"AWS": "arn:aws:iam::111111111111:root"}, False),
    ({"Service": "config.amazonaws.com"}, False),
])
def test_assume_role_trust_policy_principals(fresh: str, principal: Any, allowed: bool) -> None:
    arn = client(fresh, "iam").create_role(
        RoleName="target", AssumeRolePolicyDocument=trust(principal))["Role"]["Arn"]
    if allowed:
        assert assume(fresh, arn)["AssumedRoleUser"]["Arn"].endswith(":assumed-role/target/test")
    else:
        assert error_code_of(refused(lambda: assume(fresh, arn))) == "AccessDenied"


def test_assume_role_trusting_an_iam_user(fresh: str) -> None:
    iam = client(fresh, "iam")
    user_arn = iam.create_user(UserName="alice")["User"]["Arn"]
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    arn = iam.create_role(RoleName="for-alice",
                          AssumeRolePolicyDocument=trust({"AWS": user_arn}))["Role"]["Arn"]
    assert assume(fresh, arn, creds=alice)["AssumedRoleUser"]["Arn"].endswith("/for-alice/test")
    assert error_code_of(refused(lambda: assume(fresh, arn))) == "AccessDenied"


def test_assume_role_explicit_deny_and_role_session_principals(fresh: str) -> None:
    iam = client(fresh, "iam")
    policy = json.loads(trust({"AWS": MGMT_ACCOUNT}))
    policy["Statement"].append(
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:*"})
    denied = iam.create_role(RoleName="denied",
                             AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]
    assert error_code_of(refused(lambda: assume(fresh, denied))) == "AccessDenied"

    # A role trusted by another role's ARN accepts that role's sessions only.
    first = iam.create_role(RoleName="first",
                            AssumeRolePolicyDocument=trust({"AWS": MGMT_ACCOUNT}))["Role"]["Arn"]
    second = iam.create_role(RoleName="second",
                             AssumeRolePolicyDocument=trust({"AWS": first}))["Role"]["Arn"]
    assert error_code_of(refused(lambda: assume(fresh, second))) == "AccessDenied"
    session = assume(fresh, first)["Credentials"]
    chained = assume(fresh, second, creds=session)
    assert chained["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{MGMT_ACCOUNT}:assumed-role/second/test")


def test_member_session_cannot_assume_a_role_trusting_only_the_management_account(
    fresh: str,
) -> None:
    account_id, creds = member_account(fresh)
    other = new_account(fresh)
    # OrganizationAccountAccessRole trusts the management account's root only.
    err = refused(lambda: assume(
        fresh, f"arn:aws:iam::{other}:role/OrganizationAccountAccessRole", creds=creds))
    assert error_code_of(err) == "AccessDenied"
    assert f"arn:aws:sts::{account_id}:assumed-role/OrganizationAccountAccessRole/" in (
        err["Error"]["Message"])


# --------------------------------------------------------------------------
# Session durations and expiry
# --------------------------------------------------------------------------


def expires_in(credentials: dict[str, Any]) -> float:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (credentials["Expiration"] - now).total_seconds()


def test_assume_role_duration_rules(fresh: str) -> None:
    iam = client(fresh, "iam")
    short = iam.create_role(RoleName="short",
                            AssumeRolePolicyDocument=trust({"AWS": MGMT_ACCOUNT}))["Role"]["Arn"]
    long = iam.create_role(RoleName="long", MaxSessionDuration=4 * 3600,
                           AssumeRolePolicyDocument=trust({"AWS": MGMT_ACCOUNT}))["Role"]["Arn"]

    # Default: one hour, unchanged by the emulator's default knob.
    assert 3500 < expires_in(assume(fresh, short)["Credentials"]) <= 3600
    # AWS grants the long role 4 hours; the default --max-session-seconds (3600)
    # caps every session the emulator hands out at one hour.
    assert 3500 < expires_in(
        assume(fresh, long, DurationSeconds=4 * 3600)["Credentials"]) <= 3600

    err = refused(lambda: assume(fresh, short, DurationSeconds=7200))
    assert (error_code_of(err), status(err)) == ("ValidationError", 400)
    assert err["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    # The Rust SDK does not check the 900 s minimum locally: the server does.
    err = refused(lambda: assume(fresh, short, validate=False, DurationSeconds=60))
    assert error_code_of(err) == "ValidationError"
    assert "greater than or equal to 900" in err["Error"]["Message"]

    # Role chaining: at most one hour, whatever the role allows.
    session = assume(fresh, short)["Credentials"]
    err = refused(lambda: assume(fresh, long, creds=session, DurationSeconds=7200))
    assert err["Error"]["Message"] == ("The requested DurationSeconds exceeds the 1 hour "
                                       "session limit for roles assumed by role chaining.")
    chained = assume(fresh, long, creds=session, DurationSeconds=3600)["Credentials"]
    assert expires_in(chained) > 3500


def test_expired_sessions_are_refused_by_every_protocol(slow: str) -> None:
    account_id, creds = member_account(slow)
    assert 0 < expires_in(creds) <= SESSION  # capped by --max-session-seconds
    s3 = client(slow, "s3", creds=creds)
    s3.create_bucket(Bucket="member-bucket")
    presigned = boto3.client(
        "s3", endpoint_url=slow, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    ).generate_presigned_url("list_objects_v2", Params={"Bucket": "member-bucket"})
    assert client(slow, "sts", creds=creds).get_caller_identity()["Account"] == account_id

    time.sleep(SESSION + 0.2)
    expected = {  # (code, HTTP status) as each protocol answers
        "sts": ("ExpiredToken", 403),  # query
        "iam": ("ExpiredToken", 403),  # query
        "kms": ("ExpiredTokenException", 400),  # JSON
        "organizations": ("ExpiredTokenException", 400),  # JSON
        "securityhub": ("ExpiredTokenException", 403),  # REST-JSON
        "s3": ("ExpiredToken", 400),  # REST-XML
    }
    calls = {
        "sts": lambda c: c.get_caller_identity(),
        "iam": lambda c: c.list_roles(),
        "kms": lambda c: c.list_keys(),
        "organizations": lambda c: c.describe_organization(),
        "securityhub": lambda c: c.describe_hub(),
        "s3": lambda c: c.list_buckets(),
    }
    for service, call in calls.items():
        err = refused(lambda: call(client(slow, service, creds=creds)))
        assert (error_code_of(err), status(err)) == expected[service], service
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(presigned, timeout=10)
    assert exc.value.code == 400 and b"<Code>ExpiredToken</Code>" in exc.value.read()
    # A new session works again; long-term credentials never expire.
    renewed = assume(slow, f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole")
    assert client(slow, "sts", creds=renewed["Credentials"]).get_caller_identity()[
        "Account"] == account_id
    assert client(slow, "sts").get_caller_identity()["Account"] == MGMT_ACCOUNT


# --------------------------------------------------------------------------
# organizations:CloseAccount is asynchronous
# --------------------------------------------------------------------------


def test_close_account_is_pending_then_suspended(slow: str) -> None:
    account_id, _ = member_account(slow)
    org = client(slow, "organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.close_account(AccountId=account_id)

    def states() -> set[tuple[str, str]]:
        listed = [a for a in org.list_accounts()["Accounts"] if a["Id"] == account_id]
        listed += [a for a in org.list_accounts_for_parent(ParentId=root_id)["Accounts"]
                   if a["Id"] == account_id]
        listed.append(org.describe_account(AccountId=account_id)["Account"])
        assert len(listed) == 3  # still in the organization
        return {(a["Status"], a["State"]) for a in listed}

    assert states() == {("PENDING_CLOSURE", "PENDING_CLOSURE")}
    role = f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
    assert error_code_of(refused(lambda: assume(slow, role))) == "AccessDenied"
    assert error_code_of(refused(lambda: org.close_account(AccountId=account_id))) == (
        "ConflictException")

    time.sleep(WINDOW + 0.1)
    assert states() == {("SUSPENDED", "SUSPENDED")}
    assert error_code_of(refused(lambda: assume(slow, role))) == "AccessDenied"
    assert error_code_of(refused(lambda: org.close_account(AccountId=account_id))) == (
        "AccountAlreadyClosedException")


# --------------------------------------------------------------------------
# Opt-in regions (Account Management API) and calls into disabled regions
# --------------------------------------------------------------------------


def test_list_regions_statuses_filter_and_pages(fresh: str) -> None:
    account = client(fresh, "account")
    regions = {r["RegionName"]: r["RegionOptStatus"]
               for page in account.get_paginator("list_regions").paginate(
                   PaginationConfig={"PageSize": 7})
               for r in page["Regions"]}
    assert regions["us-east-1"] == regions["eu-west-1"] == "ENABLED_BY_DEFAULT"
    for region in ("af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
                   "ap-southeast-5", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
                   "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1"):
        assert regions[region] == "DISABLED", region
    first = account.list_regions(MaxResults=7)
    assert len(first["Regions"]) == 7 and "NextToken" in first
    assert "NextToken" not in account.list_regions()

    account.enable_region(RegionName=OPT_IN)
    enabling = account.list_regions(RegionOptStatusContains=["ENABLING", "ENABLED"])["Regions"]
    assert [r["RegionName"] for r in enabling] == [OPT_IN]
    disabled = account.list_regions(RegionOptStatusContains=["DISABLED"])["Regions"]
    assert OPT_IN not in {r["RegionName"] for r in disabled}
    assert all(r["RegionOptStatus"] == "DISABLED" for r in disabled)

    err = refused(lambda: client(fresh, "account", validate=False).list_regions(MaxResults=51))
    assert error_code_of(err) == "ValidationException"


def test_default_regions_cannot_be_enabled_or_disabled(fresh: str) -> None:
    account = client(fresh, "account")
    for call in (account.enable_region, account.disable_region):
        err = refused(lambda: call(RegionName="eu-west-1"))
        assert (error_code_of(err), status(err), err.get("reason")) == (
            "ValidationException", 400, "invalidRegionOptTarget")
    assert error_code_of(refused(lambda: account.get_region_opt_status(
        RegionName="xx-nowhere-1"))) == "ValidationException"


def test_enable_and_disable_an_opt_in_region(slow: str) -> None:
    account = client(slow, "account")

    def opt_status() -> str:
        return account.get_region_opt_status(RegionName=OPT_IN)["RegionOptStatus"]

    def sts_in_region() -> Any:
        return client(slow, "sts", region=OPT_IN).get_caller_identity()

    assert opt_status() == "DISABLED"
    err = refused(sts_in_region)
    assert (error_code_of(err), status(err)) == ("InvalidClientTokenId", 403)

    account.enable_region(RegionName=OPT_IN)
    assert opt_status() == "ENABLING"
    account.enable_region(RegionName=OPT_IN)  # enabling again changes nothing
    err = refused(lambda: account.disable_region(RegionName=OPT_IN))
    assert (error_code_of(err), status(err)) == ("ConflictException", 409)
    assert error_code_of(refused(sts_in_region)) == "InvalidClientTokenId"  # not usable yet

    time.sleep(WINDOW + 0.1)
    assert opt_status() == "ENABLED"
    assert sts_in_region()["Account"] == MGMT_ACCOUNT
    client(slow, "kms", region=OPT_IN).list_keys()

    account.disable_region(RegionName=OPT_IN)
    assert opt_status() == "DISABLING"
    assert error_code_of(refused(lambda: account.enable_region(RegionName=OPT_IN))) == (
        "ConflictException")
    time.sleep(WINDOW + 0.1)
    assert opt_status() == "DISABLED"
    assert error_code_of(refused(sts_in_region)) == "InvalidClientTokenId"


def test_calls_into_a_disabled_region_are_refused_by_every_protocol(fresh: str) -> None:
    account_id, creds = member_account(fresh)
    expected = {
        "sts": ("InvalidClientTokenId", 403),
        "kms": ("UnrecognizedClientException", 400),
        "securityhub": ("UnrecognizedClientException", 403),
        "s3": ("InvalidAccessKeyId", 403),
    }
    calls = {
        "sts": lambda c: c.get_caller_identity(),
        "kms": lambda c: c.list_keys(),
        "securityhub": lambda c: c.describe_hub(),
        "s3": lambda c: c.list_buckets(),
    }
    for service, call in calls.items():
        err = refused(lambda: call(client(fresh, service, region=OPT_IN)))
        assert (error_code_of(err), status(err)) == expected[service], service
    # With a session token S3 answers InvalidToken.
    err = refused(lambda: client(fresh, "s3", region=OPT_IN, creds=creds).list_buckets())
    assert (error_code_of(err), status(err)) == ("InvalidToken", 400)

    # Enabled in the management account only: the member account still can't.
    client(fresh, "account").enable_region(RegionName=OPT_IN)
    wait_until(lambda: client(fresh, "account").get_region_opt_status(
        RegionName=OPT_IN)["RegionOptStatus"] == "ENABLED")
    client(fresh, "kms", region=OPT_IN).list_keys()
    err = refused(lambda: client(fresh, "kms", region=OPT_IN, creds=creds).list_keys())
    assert error_code_of(err) == "UnrecognizedClientException"
    assert client(fresh, "account", creds=creds).get_region_opt_status(
        RegionName=OPT_IN)["RegionOptStatus"] == "DISABLED"
    assert account_id != MGMT_ACCOUNT


def test_account_id_needs_management_account_and_trusted_access(fresh: str) -> None:
    member_id, member_creds = member_account(fresh)
    other_id = new_account(fresh)
    account = client(fresh, "account")
    org = client(fresh, "organizations")

    err = refused(lambda: account.enable_region(AccountId=member_id, RegionName=OPT_IN))
    assert (error_code_of(err), status(err)) == ("AccessDeniedException", 403)
    assert "trusted access" in err["Error"]["Message"]

    org.enable_aws_service_access(ServicePrincipal="account.amazonaws.com")
    account.enable_region(AccountId=member_id, RegionName=OPT_IN)
    assert account.get_region_opt_status(
        AccountId=member_id, RegionName=OPT_IN)["RegionOptStatus"] == "ENABLING"
    # ... the member's own view, not the management account's.
    member_view = client(fresh, "account", creds=member_creds)
    assert member_view.get_region_opt_status(RegionName=OPT_IN)["RegionOptStatus"] == "ENABLING"
    assert account.get_region_opt_status(RegionName=OPT_IN)["RegionOptStatus"] == "DISABLED"

    # The management account may not name itself; a member may not name another account.
    err = refused(lambda: account.list_regions(AccountId=MGMT_ACCOUNT))
    assert error_code_of(err) == "AccessDeniedException"
    assert "standalone context" in err["Error"]["Message"]
    err = refused(lambda: member_view.list_regions(AccountId=other_id))
    assert error_code_of(err) == "AccessDeniedException"
    err = refused(lambda: account.list_regions(AccountId="999999999999"))
    assert error_code_of(err) == "AccessDeniedException"

    # The account.amazonaws.com delegated administrator may.
    org.register_delegated_administrator(AccountId=member_id,
                                         ServicePrincipal="account.amazonaws.com")
    assert member_view.get_region_opt_status(
        AccountId=other_id, RegionName=OPT_IN)["RegionOptStatus"] == "DISABLED"


# --------------------------------------------------------------------------
# Organizations answers in its partition's endpoint region only
# --------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-2", "us-gov-east-1"])
def test_organizations_only_in_its_endpoint_region(fresh: str, region: str) -> None:
    client(fresh, "organizations").create_organization(FeatureSet="ALL")
    err = refused(lambda: client(fresh, "organizations", region=region).list_roots())
    assert (error_code_of(err), status(err)) == ("InvalidSignatureException", 400)
    assert err["Error"]["Message"] == (
        f"Credential should be scoped to a valid region, not '{region}'. ")
    assert client(fresh, "organizations").list_roots()["Roots"]


# --------------------------------------------------------------------------
# SCP quotas
# --------------------------------------------------------------------------


def scp_content(length: int) -> str:
    """A valid SCP of exactly `length` characters (padded in the Sid)."""
    template = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "{sid}", "Effect": "Deny", "Action": "organizations:LeaveOrganization",
        "Resource": "*"}]})
    return template.replace("{sid}", "S" * (length - len(template) + len("{sid}")))


def scp_root(url: str) -> tuple[Any, str]:
    org = client(url, "organizations")
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType=SCP)
    # EnablePolicyType may take a moment (another strict module): wait for it.
    wait_until(lambda: {"Type": SCP, "Status": "ENABLED"} in org.list_roots()["Roots"][0]
               ["PolicyTypes"])
    return org, root_id


def test_scp_attachment_limit_counts_full_aws_access(fresh: str) -> None:
    org, root_id = scp_root(fresh)
    ou_id = org.create_organizational_unit(ParentId=root_id, Name="Workloads")[
        "OrganizationalUnit"]["Id"]
    ids = [org.create_policy(Name=f"scp-{i}", Description="", Type=SCP,
                             Content=scp_content(200))["Policy"]["PolicySummary"]["Id"]
           for i in range(10)]
    for policy_id in ids[:9]:  # with FullAWSAccess: 10, the limit
        org.attach_policy(PolicyId=policy_id, TargetId=ou_id)
    org.attach_policy(PolicyId=ids[0], TargetId=ou_id)  # already attached: not counted

    err = refused(lambda: org.attach_policy(PolicyId=ids[9], TargetId=ou_id))
    assert (error_code_of(err), status(err), err.get("Reason")) == (
        "ConstraintViolationException", 400, "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    attached = org.list_policies_for_target(TargetId=ou_id, Filter=SCP)["Policies"]
    assert len(attached) == 10 and ids[9] not in {p["Id"] for p in attached}

    org.detach_policy(PolicyId=FULL_ACCESS_ID, TargetId=ou_id)
    org.attach_policy(PolicyId=ids[9], TargetId=ou_id)


def test_scp_content_limit(fresh: str) -> None:
    org, _ = scp_root(fresh)
    err = refused(lambda: org.create_policy(Name="big", Description="", Type=SCP,
                                            Content=scp_content(10241)))
    assert (error_code_of(err), err.get("Reason")) == (
        "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
    assert [p["Name"] for p in org.list_policies(Filter=SCP)["Policies"]] == ["FullAWSAccess"]

    policy_id = org.create_policy(Name="max", Description="", Type=SCP,
                                  Content=scp_content(10240))["Policy"]["PolicySummary"]["Id"]
    err = refused(lambda: org.update_policy(PolicyId=policy_id, Content=scp_content(10241)))
    assert err.get("Reason") == "POLICY_CONTENT_LIMIT_EXCEEDED"
    assert org.describe_policy(PolicyId=policy_id)["Policy"]["Content"] == scp_content(10240)
