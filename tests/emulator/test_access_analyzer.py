"""Tests for access_analyzer.py: IAM Access Analyzer, which moto 5.2.5 lacks.
Each test starts from an empty emulator; the server runs with no consistency
window.

    <venv>/bin/pytest tests/emulator/test_access_analyzer.py
"""

from __future__ import annotations

import calendar
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
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

EXTERNAL = "999999999999"
AA_PRINCIPAL = "access-analyzer.amazonaws.com"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "0"})
    yield url
    stop_server(proc)


@pytest.fixture(autouse=True)
def reset(endpoint: str) -> None:
    reset_emulator(endpoint)


def signed_request(
    url: str, method: str, path: str, service: str, region: str = REGION,
    body: bytes = b"", headers: dict[str, str] | None = None,
    creds: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A raw SigV4-signed request to the emulator's plain host, as the Rust
    SDK sends it (no service host name, no account-id host prefix)."""
    creds = creds or {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "secret"}
    credentials = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"))
    request = AWSRequest(method=method, url=f"{url}{path}", headers=dict(headers or {}), data=body)
    SigV4Auth(credentials, service, region).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, headers=dict(prepared.headers), method=method,
                                 data=body or None)
    try:
        with urllib.request.urlopen(raw, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def code_and_status(err: dict[str, Any]) -> tuple[str, int]:
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def trust(principal: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def analyzer(url: str, kind: str = "ACCOUNT", name: str = "baseline",
             creds: dict[str, str] | None = None, region: str = REGION) -> str:
    return client(url, "accessanalyzer", region=region, creds=creds).create_analyzer(
        analyzerName=name, type=kind)["arn"]


def findings(url: str, arn: str, creds: dict[str, str] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    return client(url, "accessanalyzer", creds=creds).list_findings(analyzerArn=arn, **kwargs)["findings"]


# --------------------------------------------------------------------------
# Routing and analyzers
# --------------------------------------------------------------------------


def test_requests_signed_for_access_analyzer_reach_the_service(endpoint: str) -> None:
    status, headers, body = signed_request(endpoint, "GET", "/analyzer", "access-analyzer")
    assert status == 200, body
    assert json.loads(body) == {"analyzers": []}
    status, headers, body = signed_request(
        endpoint, "PUT", "/analyzer", "access-analyzer",
        body=json.dumps({"analyzerName": "raw", "type": "ACCOUNT"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, body
    assert json.loads(body) == {
        "arn": f"arn:aws:access-analyzer:{REGION}:{MGMT_ACCOUNT}:analyzer/raw"}


def test_create_get_list_delete_analyzer(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer")
    arn = aa.create_analyzer(analyzerName="baseline", type="ACCOUNT", tags={"owner": "baseline"})["arn"]
    assert arn == f"arn:aws:access-analyzer:{REGION}:{MGMT_ACCOUNT}:analyzer/baseline"
    got = aa.get_analyzer(analyzerName="baseline")["analyzer"]
    assert (got["arn"], got["name"], got["type"], got["status"]) == (arn, "baseline", "ACCOUNT", "ACTIVE")
    assert got["tags"] == {"owner": "baseline"}
    assert got["createdAt"].year >= 2024
    aa.create_analyzer(analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS",
                       configuration={"unusedAccess": {"unusedAccessAge": 90}})
    assert [a["name"] for a in aa.list_analyzers()["analyzers"]] == ["baseline", "unused"]
    assert [a["name"] for a in aa.list_analyzers(type="ACCOUNT")["analyzers"]] == ["baseline"]
    page = aa.list_analyzers(maxResults=1)
    assert len(page["analyzers"]) == 1 and page["nextToken"]
    assert aa.get_analyzer(analyzerName="unused")["analyzer"]["configuration"] == {
        "unusedAccess": {"unusedAccessAge": 90}}
    aa.delete_analyzer(analyzerName="baseline")
    err = refused(lambda: aa.get_analyzer(analyzerName="baseline"))
    assert code_and_status(err) == ("ResourceNotFoundException", 404)
    assert code_and_status(refused(lambda: aa.delete_analyzer(analyzerName="baseline"))) == (
        "ResourceNotFoundException", 404)


def test_analyzers_are_per_account_and_region(endpoint: str) -> None:
    analyzer(endpoint)
    assert client(endpoint, "accessanalyzer", region="eu-west-1").list_analyzers()["analyzers"] == []
    _, creds = member_account(endpoint)
    assert client(endpoint, "accessanalyzer", creds=creds).list_analyzers()["analyzers"] == []


def test_duplicate_name_is_a_conflict(endpoint: str) -> None:
    analyzer(endpoint, "ACCOUNT_UNUSED_ACCESS", name="dup")
    err = refused(lambda: analyzer(endpoint, "ACCOUNT", name="dup"))
    assert code_and_status(err) == ("ConflictException", 409)
    assert err["resourceId"] == "dup"


def test_one_account_analyzer_per_type_and_region(endpoint: str) -> None:
    analyzer(endpoint, "ACCOUNT", name="first")
    err = refused(lambda: analyzer(endpoint, "ACCOUNT", name="second"))
    assert code_and_status(err) == ("ServiceQuotaExceededException", 402)
    analyzer(endpoint, "ACCOUNT_UNUSED_ACCESS", name="unused")  # another type
    analyzer(endpoint, "ACCOUNT", name="second", region="eu-west-1")  # another region


def test_client_token_makes_create_idempotent(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer")
    first = aa.create_analyzer(analyzerName="once", type="ACCOUNT", clientToken="tok-1")["arn"]
    again = aa.create_analyzer(analyzerName="once", type="ACCOUNT", clientToken="tok-1")["arn"]
    assert first == again
    assert len(aa.list_analyzers()["analyzers"]) == 1


def test_invalid_name_or_type_is_a_validation_error(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer", validate=False)
    err = refused(lambda: aa.create_analyzer(analyzerName="bad name", type="ACCOUNT"))
    assert code_and_status(err) == ("ValidationException", 400)
    assert err["reason"] == "fieldValidationFailed"
    err = refused(lambda: aa.create_analyzer(analyzerName="ok", type="EVERYTHING"))
    assert code_and_status(err) == ("ValidationException", 400)


def test_creating_an_analyzer_makes_the_service_linked_role(endpoint: str) -> None:
    analyzer(endpoint)
    role = client(endpoint, "iam").get_role(RoleName="AWSServiceRoleForAccessAnalyzer")["Role"]
    assert role["Path"] == f"/aws-service-role/{AA_PRINCIPAL}/"


def test_tags_on_the_analyzer(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer")
    arn = aa.create_analyzer(analyzerName="tagged", type="ACCOUNT", tags={"a": "1"})["arn"]
    aa.tag_resource(resourceArn=arn, tags={"b": "2"})
    aa.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert aa.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    missing = arn.replace("tagged", "missing")
    err = refused(lambda: aa.list_tags_for_resource(resourceArn=missing))
    assert code_and_status(err) == ("ResourceNotFoundException", 404)


# --------------------------------------------------------------------------
# Organization analyzers: who may create them
# --------------------------------------------------------------------------


def test_organizations_accepts_access_analyzer_as_trusted_and_delegated(endpoint: str) -> None:
    member, _ = member_account(endpoint)
    org = client(endpoint, "organizations")
    org.enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    org.register_delegated_administrator(AccountId=member, ServicePrincipal=AA_PRINCIPAL)
    admins = org.list_delegated_administrators(ServicePrincipal=AA_PRINCIPAL)["DelegatedAdministrators"]
    assert [a["Id"] for a in admins] == [member]


def test_organization_analyzer_needs_trusted_access(endpoint: str) -> None:
    # An account in no organization.
    err = refused(lambda: analyzer(endpoint, "ORGANIZATION"))
    assert code_and_status(err) == ("ValidationException", 400)
    assert err["Error"]["Message"] == "Service not enabled for AWS Organizations"
    member_account(endpoint)
    err = refused(lambda: analyzer(endpoint, "ORGANIZATION_UNUSED_ACCESS"))
    assert code_and_status(err) == ("ValidationException", 400)
    client(endpoint, "organizations").enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    analyzer(endpoint, "ORGANIZATION")


def test_organization_analyzer_needs_management_or_delegated_admin(endpoint: str) -> None:
    member, creds = member_account(endpoint)
    org = client(endpoint, "organizations")
    org.enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    err = refused(lambda: analyzer(endpoint, "ORGANIZATION", creds=creds))
    assert code_and_status(err) == ("AccessDeniedException", 403)
    assert err["Error"]["Message"] == f"Account {member} is not a delegated administrator"
    org.register_delegated_administrator(AccountId=member, ServicePrincipal=AA_PRINCIPAL)
    arn = analyzer(endpoint, "ORGANIZATION", creds=creds)
    assert arn.startswith(f"arn:aws:access-analyzer:{REGION}:{member}:analyzer/")


def test_organization_analyzer_is_disabled_without_trusted_access(endpoint: str) -> None:
    member_account(endpoint)
    org = client(endpoint, "organizations")
    org.enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    analyzer(endpoint, "ORGANIZATION", name="org")
    org.disable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    got = client(endpoint, "accessanalyzer").get_analyzer(analyzerName="org")["analyzer"]
    assert got["status"] == "DISABLED"
    assert got["statusReason"] == {"code": "AWS_SERVICE_ACCESS_DISABLED"}


# --------------------------------------------------------------------------
# Findings, derived from the emulator's state
# --------------------------------------------------------------------------


def test_role_trusting_another_account_is_an_active_finding(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    arn = analyzer(endpoint)
    assert findings(endpoint, arn) == []
    role = iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{EXTERNAL}:root"}))["Role"]
    iam.create_role(RoleName="own", AssumeRolePolicyDocument=trust({"AWS": MGMT_ACCOUNT}))
    iam.create_role(RoleName="service", AssumeRolePolicyDocument=trust(
        {"Service": "lambda.amazonaws.com"}))
    [finding] = findings(endpoint, arn, filter={"status": {"eq": ["ACTIVE"]}})
    assert finding["resource"] == role["Arn"]
    assert finding["resourceType"] == "AWS::IAM::Role"
    assert finding["principal"] == {"AWS": f"arn:aws:iam::{EXTERNAL}:root"}
    assert finding["action"] == ["sts:AssumeRole"]
    assert finding["isPublic"] is False
    assert finding["resourceOwnerAccount"] == MGMT_ACCOUNT
    assert finding["status"] == "ACTIVE"
    assert finding["condition"] == {}
    assert finding["createdAt"] == finding["updatedAt"] and finding["analyzedAt"]
    # The same finding (id) on every call.
    assert findings(endpoint, arn)[0]["id"] == finding["id"]
    got = client(endpoint, "accessanalyzer").get_finding(analyzerArn=arn, id=finding["id"])
    assert got["finding"]["resource"] == role["Arn"]


def test_public_trust_is_a_public_finding(endpoint: str) -> None:
    arn = analyzer(endpoint)
    client(endpoint, "iam").create_role(RoleName="anyone", AssumeRolePolicyDocument=trust({"AWS": "*"}))
    [finding] = findings(endpoint, arn)
    assert finding["principal"] == {"AWS": "*"}
    assert finding["isPublic"] is True


def test_trust_in_an_account_id_or_a_role_of_another_account(endpoint: str) -> None:
    member, creds = member_account(endpoint)
    iam = client(endpoint, "iam")
    other_role = client(endpoint, "iam", creds=creds).create_role(
        RoleName="peer", AssumeRolePolicyDocument=trust({"AWS": member}))["Role"]["Arn"]
    iam.create_role(RoleName="by-id", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    iam.create_role(RoleName="by-role", AssumeRolePolicyDocument=trust({"AWS": other_role}))
    arn = analyzer(endpoint)
    principals = sorted(f["principal"]["AWS"] for f in findings(endpoint, arn))
    assert principals == sorted([EXTERNAL, other_role])


def test_finding_is_resolved_when_the_cause_is_removed(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    arn = analyzer(endpoint)
    iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    [finding] = findings(endpoint, arn)
    iam.update_assume_role_policy(RoleName="vendor", PolicyDocument=trust({"AWS": MGMT_ACCOUNT}))
    [resolved] = findings(endpoint, arn)
    assert (resolved["id"], resolved["status"]) == (finding["id"], "RESOLVED")
    assert resolved["updatedAt"] >= finding["updatedAt"]
    assert findings(endpoint, arn, filter={"status": {"eq": ["ACTIVE"]}}) == []
    iam.update_assume_role_policy(RoleName="vendor", PolicyDocument=trust({"AWS": EXTERNAL}))
    [again] = findings(endpoint, arn, filter={"status": {"eq": ["ACTIVE"]}})
    assert again["id"] == finding["id"]
    iam.delete_role(RoleName="vendor")
    assert findings(endpoint, arn)[0]["status"] == "RESOLVED"


def test_archived_findings_stay_archived(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer")
    arn = analyzer(endpoint)
    client(endpoint, "iam").create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    [finding] = findings(endpoint, arn)
    aa.update_findings(analyzerArn=arn, status="ARCHIVED", ids=[finding["id"]])
    assert findings(endpoint, arn)[0]["status"] == "ARCHIVED"
    assert findings(endpoint, arn)[0]["status"] == "ARCHIVED"
    assert findings(endpoint, arn, filter={"status": {"eq": ["ACTIVE"]}}) == []
    aa.update_findings(analyzerArn=arn, status="ACTIVE", resourceArn=finding["resource"])
    assert findings(endpoint, arn)[0]["status"] == "ACTIVE"
    err = refused(lambda: aa.update_findings(analyzerArn=arn, status="ARCHIVED", ids=["nope"]))
    assert code_and_status(err) == ("ResourceNotFoundException", 404)


def test_inline_archive_rule_archives_new_findings(endpoint: str) -> None:
    arn = client(endpoint, "accessanalyzer").create_analyzer(
        analyzerName="rules", type="ACCOUNT", archiveRules=[{
            "ruleName": "vendor", "filter": {"principal.AWS": {"eq": [EXTERNAL]}}}])["arn"]
    iam = client(endpoint, "iam")
    iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    iam.create_role(RoleName="anyone", AssumeRolePolicyDocument=trust({"AWS": "*"}))
    statuses = {f["principal"]["AWS"]: f["status"] for f in findings(endpoint, arn)}
    assert statuses == {EXTERNAL: "ARCHIVED", "*": "ACTIVE"}


def test_organization_zone_of_trust_is_every_account(endpoint: str) -> None:
    member, creds = member_account(endpoint)
    client(endpoint, "organizations").enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    access_role = f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    # For the member's own analyzer, the management account is outside the zone.
    member_arn = analyzer(endpoint, "ACCOUNT", creds=creds)
    assert [f["resource"] for f in findings(endpoint, member_arn, creds=creds)] == [access_role]
    # For the organization analyzer it is inside; a role trusting an outsider is not.
    client(endpoint, "iam", creds=creds).create_role(
        RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    org_arn = analyzer(endpoint, "ORGANIZATION", name="org")
    [finding] = findings(endpoint, org_arn)
    assert finding["resource"] == f"arn:aws:iam::{member}:role/vendor"
    assert finding["resourceOwnerAccount"] == member


def test_condition_on_the_organization_keeps_access_inside(endpoint: str) -> None:
    member_account(endpoint)
    org = client(endpoint, "organizations")
    org.enable_aws_service_access(ServicePrincipal=AA_PRINCIPAL)
    org_id = org.describe_organization()["Organization"]["Id"]
    account_arn = analyzer(endpoint)
    org_arn = analyzer(endpoint, "ORGANIZATION", name="org")
    client(endpoint, "iam").create_role(RoleName="orgwide", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}]}))
    # The other accounts of the organization are outside an account's zone.
    [finding] = findings(endpoint, account_arn)
    assert finding["condition"] == {"aws:PrincipalOrgID": org_id}
    assert finding["isPublic"] is False
    assert findings(endpoint, org_arn) == []


def test_public_bucket_policy_is_a_bucket_finding(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="public-site")
    s3.create_bucket(Bucket="private-data")
    s3.put_bucket_policy(Bucket="public-site", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::public-site/*"}]}))
    s3.put_bucket_policy(Bucket="private-data", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::private-data/*"}]}))
    arn = analyzer(endpoint)
    [finding] = findings(endpoint, arn, filter={"resourceType": {"eq": ["AWS::S3::Bucket"]}})
    assert finding["resource"] == "arn:aws:s3:::public-site"
    assert finding["isPublic"] is True
    assert finding["principal"] == {"AWS": "*"}
    assert finding["action"] == ["s3:GetObject"]
    # Buckets are regional: an analyzer in another region does not see it.
    other = analyzer(endpoint, region="eu-west-1", name="eu")
    assert client(endpoint, "accessanalyzer", region="eu-west-1").list_findings(
        analyzerArn=other)["findings"] == []
    # Account-level RestrictPublicBuckets makes the policy ineffective.
    control = client(endpoint, "s3control")
    control.meta.events.register(
        "before-sign.s3-control.*",
        lambda request, **kw: setattr(request, "url", request.url.replace(f"://{MGMT_ACCOUNT}.", "://")))
    control.put_public_access_block(AccountId=MGMT_ACCOUNT, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert findings(endpoint, arn, filter={"status": {"eq": ["ACTIVE"]}}) == []


def test_filters_pages_and_v2(endpoint: str) -> None:
    aa = client(endpoint, "accessanalyzer")
    iam = client(endpoint, "iam")
    arn = analyzer(endpoint)
    for n in range(3):
        iam.create_role(RoleName=f"vendor{n}", AssumeRolePolicyDocument=trust({"AWS": EXTERNAL}))
    first = aa.list_findings(analyzerArn=arn, maxResults=2)
    assert len(first["findings"]) == 2 and first["nextToken"]
    rest = aa.list_findings(analyzerArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert len(rest["findings"]) == 1 and "nextToken" not in rest
    assert len(findings(endpoint, arn, filter={"resource": {"contains": ["vendor1"]}})) == 1
    assert findings(endpoint, arn, filter={"isPublic": {"eq": ["true"]}}) == []
    err = refused(lambda: aa.list_findings(analyzerArn=arn, filter={"Status": {"eq": ["ACTIVE"]}}))
    assert code_and_status(err) == ("ValidationException", 400)
    v2 = aa.list_findings_v2(analyzerArn=arn)["findings"]
    assert {f["findingType"] for f in v2} == {"ExternalAccess"}
    assert {f["resourceType"] for f in v2} == {"AWS::IAM::Role"}
    err = refused(lambda: aa.list_findings(analyzerArn=arn.replace("baseline", "other")))
    assert code_and_status(err) == ("ResourceNotFoundException", 404)


def test_unused_access_analyzer_has_no_v1_findings(endpoint: str) -> None:
    arn = analyzer(endpoint, "ACCOUNT_UNUSED_ACCESS")
    aa = client(endpoint, "accessanalyzer")
    err = refused(lambda: aa.list_findings(analyzerArn=arn))
    assert code_and_status(err) == ("ValidationException", 400)
    assert aa.list_findings_v2(analyzerArn=arn)["findings"] == []


def test_timestamps_are_iso_8601_on_the_wire(endpoint: str) -> None:
    analyzer(endpoint)
    status, _, body = signed_request(endpoint, "GET", "/analyzer/baseline", "access-analyzer")
    assert status == 200
    created = json.loads(body)["analyzer"]["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", created), created
    assert abs(time.time() - calendar.timegm(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S"))) < 120
