"""Tests for baseline's moto extension, run against a real server.py process.

    tests/emulator/ensure-venv.sh
    <venv>/bin/pytest tests/emulator
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
READY = "BASELINE_EMULATOR_READY "
MGMT_ACCOUNT = "123456789012"
REGION = "us-east-1"
FSBP = "arn:aws:securityhub:{r}::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS_120 = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
CIS_140 = "arn:aws:securityhub:{r}::standards/cis-aws-foundations-benchmark/v/1.4.0"
CIS_300 = "arn:aws:securityhub:{r}::standards/cis-aws-foundations-benchmark/v/3.0.0"
PCI_321 = "arn:aws:securityhub:{r}::standards/pci-dss/v/3.2.1"
NIST_R5 = "arn:aws:securityhub:{r}::standards/nist-800-53/v/5.0.0"


def start_server(extra_env: dict[str, str] | None = None, *flags: str, script: str = SERVER,
                 timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """Start `script` (server.py, or router.py) on a free port with `flags`; its endpoint
    once it prints its READY line."""
    env = dict(os.environ, **(extra_env or {}))
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, script, "--port", "0", *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        text=True,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=timeout)
    if not line or not line[0].startswith(READY):
        proc.kill()
        stderr.seek(0)
        raise RuntimeError(f"{script} did not start: {line!r} {stderr.read()[-2000:]!r}")
    return proc, line[0][len(READY):].strip()


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    proc, url = start_server()
    yield url
    stop_server(proc)


def reset_emulator(url: str) -> None:
    """Empty the emulator (every process, behind the router) as moto's reset does."""
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(req, timeout=30).read()


@pytest.fixture(autouse=True)
def reset(endpoint: str) -> None:
    """Every test starts from an empty emulator."""
    reset_emulator(endpoint)


def client(endpoint: str, service: str, region: str = REGION,
           creds: dict[str, str] | None = None, validate: bool = True) -> Any:
    creds = creds or {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "secret"}
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(
            s3={"addressing_style": "path"},
            parameter_validation=validate,
            retries={"max_attempts": 1},
        ),
    )


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def settled() -> None:
    """Wait out the default consistency window (0.5 s): like AWS, the emulator
    does not find a new KMS key, let services assume a new role or attach
    policies of a just-enabled type at once (strict_consistency)."""
    time.sleep(0.6)


def member_account(endpoint: str) -> tuple[str, dict[str, str]]:
    """Create an organization + member account; return its id and assumed creds."""
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="member@example.com", AccountName="member")
    account_id = org.describe_create_account_status(
        CreateAccountRequestId=status["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]
    creds = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="baseline",
    )["Credentials"]
    return account_id, creds


# --------------------------------------------------------------------------
# server.py process behaviour
# --------------------------------------------------------------------------


def test_ready_line_and_exit_on_stdin_eof() -> None:
    proc, url = start_server()
    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0
    ident = client(url, "sts").get_caller_identity()
    assert ident["Account"] == MGMT_ACCOUNT
    proc.stdin.close()  # what happens when the parent test process dies
    assert proc.wait(timeout=15) == 0
    assert proc.stdout.read() == ""  # nothing but the READY line on stdout


def test_exit_on_sigterm() -> None:
    proc, _ = start_server()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    proc.stdin.close()


def test_moto_account_id_env_is_ignored() -> None:
    proc, url = start_server({"MOTO_ACCOUNT_ID": "111111111111"})
    try:
        assert client(url, "sts").get_caller_identity()["Account"] == MGMT_ACCOUNT
    finally:
        stop_server(proc)


def test_busy_port_fails_fast(endpoint: str) -> None:
    port = endpoint.rsplit(":", 1)[1]
    proc = subprocess.run(
        [sys.executable, SERVER, "--port", port],
        stdin=subprocess.PIPE, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert READY not in proc.stdout


# --------------------------------------------------------------------------
# STS: assumed-role credentials act on the member account's own state
# --------------------------------------------------------------------------


def test_assume_role_isolates_member_account_state(endpoint: str) -> None:
    account_id, creds = member_account(endpoint)
    assert account_id != MGMT_ACCOUNT

    ident = client(endpoint, "sts", creds=creds).get_caller_identity()
    assert ident["Account"] == account_id
    assert ident["Arn"] == (
        f"arn:aws:sts::{account_id}:assumed-role/OrganizationAccountAccessRole/baseline"
    )

    member_kms = client(endpoint, "kms", creds=creds)
    key = member_kms.create_key(Description="member key")["KeyMetadata"]
    assert key["AWSAccountId"] == account_id
    assert key["Arn"].startswith(f"arn:aws:kms:{REGION}:{account_id}:key/")
    assert [k["KeyId"] for k in member_kms.list_keys()["Keys"]] == [key["KeyId"]]

    mgmt_kms = client(endpoint, "kms")
    assert mgmt_kms.list_keys()["Keys"] == []
    with pytest.raises(ClientError) as exc:
        mgmt_kms.describe_key(KeyId=key["KeyId"])
    assert error_code(exc) == "NotFoundException"

    # Security Hub state is per account too.
    client(endpoint, "securityhub", creds=creds).enable_security_hub()
    with pytest.raises(ClientError) as exc:
        client(endpoint, "securityhub").describe_hub()
    assert error_code(exc) == "InvalidAccessException"


# --------------------------------------------------------------------------
# Security Hub
# --------------------------------------------------------------------------


def test_securityhub_enable_hub_enables_default_standards(endpoint: str) -> None:
    sh = client(endpoint, "securityhub")
    sh.enable_security_hub()
    subs = sh.get_enabled_standards()["StandardsSubscriptions"]
    assert sorted(s["StandardsArn"] for s in subs) == sorted(
        [FSBP.format(r=REGION), CIS_120]
    )
    assert {s["StandardsSubscriptionArn"] for s in subs} == {
        f"arn:aws:securityhub:{REGION}:{MGMT_ACCOUNT}:subscription/"
        "aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{REGION}:{MGMT_ACCOUNT}:subscription/"
        "cis-aws-foundations-benchmark/v/1.2.0",
    }
    assert {s["StandardsStatus"] for s in subs} == {"READY"}

    with pytest.raises(ClientError) as exc:
        sh.enable_security_hub()
    assert error_code(exc) == "ResourceConflictException"


def test_securityhub_enable_hub_without_default_standards(endpoint: str) -> None:
    sh = client(endpoint, "securityhub", region="eu-west-1")
    sh.enable_security_hub(EnableDefaultStandards=False)
    assert sh.get_enabled_standards()["StandardsSubscriptions"] == []
    hub = sh.describe_hub()
    assert hub["HubArn"] == f"arn:aws:securityhub:eu-west-1:{MGMT_ACCOUNT}:hub/default"
    # Region-scoped: us-east-1 is still off.
    with pytest.raises(ClientError) as exc:
        client(endpoint, "securityhub").describe_hub()
    assert error_code(exc) == "InvalidAccessException"


def test_securityhub_describe_standards(endpoint: str) -> None:
    region = "eu-central-1"
    standards = client(endpoint, "securityhub", region=region).describe_standards()[
        "Standards"
    ]
    by_arn = {s["StandardsArn"]: s for s in standards}
    for arn in (FSBP, CIS_120, CIS_140, CIS_300, PCI_321, NIST_R5):
        assert arn.format(r=region) in by_arn
    assert by_arn[FSBP.format(r=region)]["EnabledByDefault"] is True
    assert by_arn[CIS_120]["EnabledByDefault"] is True
    assert by_arn[NIST_R5.format(r=region)]["EnabledByDefault"] is False
    assert by_arn[CIS_300.format(r=region)]["Name"] == "CIS AWS Foundations Benchmark v3.0.0"
    assert by_arn[CIS_140.format(r=region)]["StandardsManagedBy"]["Company"] == "CIS"


def test_securityhub_batch_enable_and_get_enabled_standards(endpoint: str) -> None:
    sh = client(endpoint, "securityhub")
    with pytest.raises(ClientError) as exc:  # hub not enabled yet
        sh.batch_enable_standards(
            StandardsSubscriptionRequests=[{"StandardsArn": CIS_300.format(r=REGION)}]
        )
    assert error_code(exc) == "InvalidAccessException"

    sh.enable_security_hub(EnableDefaultStandards=False)
    out = sh.batch_enable_standards(
        StandardsSubscriptionRequests=[
            {"StandardsArn": CIS_300.format(r=REGION)},
            {"StandardsArn": NIST_R5.format(r=REGION)},
        ]
    )["StandardsSubscriptions"]
    cis_sub = f"arn:aws:securityhub:{REGION}:{MGMT_ACCOUNT}:subscription/cis-aws-foundations-benchmark/v/3.0.0"
    assert [s["StandardsSubscriptionArn"] for s in out] == [
        cis_sub,
        f"arn:aws:securityhub:{REGION}:{MGMT_ACCOUNT}:subscription/nist-800-53/v/5.0.0",
    ]
    assert all(s["StandardsStatus"] == "READY" for s in out)

    assert len(sh.get_enabled_standards()["StandardsSubscriptions"]) == 2
    filtered = sh.get_enabled_standards(StandardsSubscriptionArns=[cis_sub])
    assert [s["StandardsArn"] for s in filtered["StandardsSubscriptions"]] == [
        CIS_300.format(r=REGION)
    ]

    with pytest.raises(ClientError) as exc:
        sh.batch_enable_standards(
            StandardsSubscriptionRequests=[
                {"StandardsArn": "arn:aws:securityhub:us-east-1::standards/nope/v/1.0.0"}
            ]
        )
    assert error_code(exc) == "InvalidInputException"


def test_securityhub_batch_disable_standards(endpoint: str) -> None:
    sh = client(endpoint, "securityhub")
    sh.enable_security_hub()
    fsbp_sub = next(
        s["StandardsSubscriptionArn"]
        for s in sh.get_enabled_standards()["StandardsSubscriptions"]
        if s["StandardsArn"] == FSBP.format(r=REGION)
    )
    out = sh.batch_disable_standards(StandardsSubscriptionArns=[fsbp_sub])
    assert out["StandardsSubscriptions"][0]["StandardsStatus"] == "DELETING"
    remaining = sh.get_enabled_standards()["StandardsSubscriptions"]
    assert [s["StandardsArn"] for s in remaining] == [CIS_120]

    with pytest.raises(ClientError) as exc:
        sh.batch_disable_standards(StandardsSubscriptionArns=[fsbp_sub])
    assert error_code(exc) == "InvalidInputException"

    sh.disable_security_hub()
    sh.enable_security_hub(EnableDefaultStandards=False)
    assert sh.get_enabled_standards()["StandardsSubscriptions"] == []


def test_securityhub_hub_tags(endpoint: str) -> None:
    sh = client(endpoint, "securityhub", region="eu-west-1")
    hub_arn = f"arn:aws:securityhub:eu-west-1:{MGMT_ACCOUNT}:hub/default"
    with pytest.raises(ClientError) as exc:  # hub not enabled yet
        sh.list_tags_for_resource(ResourceArn=hub_arn)
    assert error_code(exc) == "ResourceNotFoundException"

    sh.enable_security_hub(EnableDefaultStandards=False, Tags={"team": "sec"})
    assert sh.list_tags_for_resource(ResourceArn=hub_arn)["Tags"] == {"team": "sec"}
    sh.tag_resource(ResourceArn=hub_arn, Tags={"managed-by": "baseline"})
    assert sh.list_tags_for_resource(ResourceArn=hub_arn)["Tags"] == {
        "team": "sec",
        "managed-by": "baseline",
    }
    sh.untag_resource(ResourceArn=hub_arn, TagKeys=["team"])
    assert sh.list_tags_for_resource(ResourceArn=hub_arn)["Tags"] == {"managed-by": "baseline"}

    with pytest.raises(ClientError) as exc:  # another region's hub
        sh.list_tags_for_resource(
            ResourceArn=f"arn:aws:securityhub:us-east-1:{MGMT_ACCOUNT}:hub/default"
        )
    assert error_code(exc) == "ResourceNotFoundException"


def test_securityhub_catalog_has_every_standard_baseline_knows(endpoint: str) -> None:
    sh = client(endpoint, "securityhub")
    arns = {s["StandardsArn"] for s in sh.describe_standards()["Standards"]}
    for path in ("pci-dss/v/4.0.1", "aws-resource-tagging-standard/v/1.0.0"):
        arn = f"arn:aws:securityhub:{REGION}::standards/{path}"
        assert arn in arns
    sh.enable_security_hub(EnableDefaultStandards=False)
    out = sh.batch_enable_standards(
        StandardsSubscriptionRequests=[
            {"StandardsArn": f"arn:aws:securityhub:{REGION}::standards/pci-dss/v/4.0.1"}
        ]
    )["StandardsSubscriptions"]
    assert out[0]["StandardsStatus"] == "READY"


def _finding(fid: str, account: str = MGMT_ACCOUNT, **extra: Any) -> dict[str, Any]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": f"arn:aws:securityhub:{REGION}:{account}:product/{account}/default",
        "GeneratorId": "baseline",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2024-01-01T00:00:00Z",
        "UpdatedAt": "2024-01-01T00:00:00Z",
        "Severity": {"Label": "HIGH"},
        "Title": f"finding {fid}",
        "Description": "d",
        "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account}"}],
        **extra,
    }


def test_securityhub_findings_import_filter_update(endpoint: str) -> None:
    sh = client(endpoint, "securityhub")
    with pytest.raises(ClientError) as exc:
        sh.batch_import_findings(Findings=[_finding("f0")])
    assert error_code(exc) == "InvalidAccessException"

    sh.enable_security_hub()
    res = sh.batch_import_findings(
        Findings=[
            _finding("f1"),
            _finding("f2", Compliance={"Status": "FAILED"}, Severity={"Label": "LOW"}),
        ]
    )
    assert res["SuccessCount"] == 2

    all_findings = sh.get_findings()["Findings"]
    assert {f["Id"] for f in all_findings} == {"f1", "f2"}
    assert all(f["RecordState"] == "ACTIVE" for f in all_findings)
    assert all(f["Workflow"]["Status"] == "NEW" for f in all_findings)

    def ids(filters: dict[str, Any]) -> set[str]:
        return {f["Id"] for f in sh.get_findings(Filters=filters)["Findings"]}

    assert ids({"ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"}]}) == {"f2"}
    assert ids({"SeverityLabel": [{"Value": "LOW", "Comparison": "NOT_EQUALS"}]}) == {"f1"}
    assert ids({"Id": [{"Value": "f1", "Comparison": "EQUALS"},
                       {"Value": "f2", "Comparison": "EQUALS"}]}) == {"f1", "f2"}

    product = _finding("x")["ProductArn"]
    out = sh.batch_update_findings(
        FindingIdentifiers=[{"Id": "f1", "ProductArn": product},
                            {"Id": "missing", "ProductArn": product}],
        Workflow={"Status": "SUPPRESSED"},
        Note={"Text": "accepted risk", "UpdatedBy": "baseline"},
    )
    assert out["ProcessedFindings"] == [{"Id": "f1", "ProductArn": product}]
    assert out["UnprocessedFindings"][0]["FindingIdentifier"]["Id"] == "missing"
    assert out["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    assert ids({"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "EQUALS"}]}) == {"f1"}
    f1 = sh.get_findings(Filters={"Id": [{"Value": "f1", "Comparison": "EQUALS"}]})["Findings"][0]
    assert f1["Note"]["Text"] == "accepted risk"


# --------------------------------------------------------------------------
# Backup
# --------------------------------------------------------------------------


def _plan(name: str = "baseline-daily", days: int = 35) -> dict[str, Any]:
    return {
        "BackupPlanName": name,
        "Rules": [
            {
                "RuleName": "daily",
                "TargetBackupVaultName": "baseline-vault",
                "ScheduleExpression": "cron(0 5 ? * * *)",
                "Lifecycle": {"DeleteAfterDays": days},
            }
        ],
    }


def test_backup_selections_crud(endpoint: str) -> None:
    b = client(endpoint, "backup")
    plan_id = b.create_backup_plan(BackupPlan=_plan())["BackupPlanId"]
    client(endpoint, "iam").create_role(
        RoleName="AWSBackupDefaultServiceRole", Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))
    settled()
    selection = {
        "SelectionName": "tagged",
        "IamRoleArn": f"arn:aws:iam::{MGMT_ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole",
        "Resources": ["*"],
        "ListOfTags": [
            {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}
        ],
        "NotResources": ["arn:aws:s3:::scratch-*"],
        "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env",
                                         "ConditionValue": "prod"}]},
    }
    created = b.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)
    sel_id = created["SelectionId"]
    assert created["BackupPlanId"] == plan_id
    assert created["CreationDate"]

    listed = b.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (sel_id, "tagged", selection["IamRoleArn"])
    ]

    got = b.get_backup_selection(BackupPlanId=plan_id, SelectionId=sel_id)
    assert got["SelectionId"] == sel_id and got["BackupPlanId"] == plan_id
    assert got["BackupSelection"]["Resources"] == ["*"]
    assert got["BackupSelection"]["ListOfTags"] == selection["ListOfTags"]
    assert got["BackupSelection"]["NotResources"] == selection["NotResources"]
    assert got["BackupSelection"]["Conditions"]["StringEquals"] == (
        selection["Conditions"]["StringEquals"]
    )
    assert got["BackupSelection"]["Conditions"]["StringLike"] == []

    with pytest.raises(ClientError) as exc:
        b.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)
    assert error_code(exc) == "AlreadyExistsException"

    with pytest.raises(ClientError) as exc:  # plan still has a selection
        b.delete_backup_plan(BackupPlanId=plan_id)
    assert error_code(exc) == "InvalidRequestException"

    b.delete_backup_selection(BackupPlanId=plan_id, SelectionId=sel_id)
    assert b.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as exc:
        b.get_backup_selection(BackupPlanId=plan_id, SelectionId=sel_id)
    assert error_code(exc) == "ResourceNotFoundException"
    b.delete_backup_plan(BackupPlanId=plan_id)


def test_backup_selection_unknown_plan(endpoint: str) -> None:
    b = client(endpoint, "backup")
    for call in (
        lambda: b.create_backup_selection(
            BackupPlanId="no-such-plan",
            BackupSelection={"SelectionName": "s", "IamRoleArn": "arn:aws:iam::1:role/r"},
        ),
        lambda: b.list_backup_selections(BackupPlanId="no-such-plan"),
        lambda: b.get_backup_selection(BackupPlanId="no-such-plan", SelectionId="x"),
        lambda: b.delete_backup_selection(BackupPlanId="no-such-plan", SelectionId="x"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"


def test_backup_update_plan_and_reuse_deleted_name(endpoint: str) -> None:
    b = client(endpoint, "backup")
    created = b.create_backup_plan(BackupPlan=_plan(days=35))
    plan_id = created["BackupPlanId"]
    updated = b.update_backup_plan(BackupPlanId=plan_id, BackupPlan=_plan(days=90))
    assert updated["BackupPlanId"] == plan_id
    assert updated["BackupPlanArn"] == created["BackupPlanArn"]
    assert updated["VersionId"] != created["VersionId"]
    got = b.get_backup_plan(BackupPlanId=plan_id)
    assert got["VersionId"] == updated["VersionId"]
    assert got["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 90

    with pytest.raises(ClientError) as exc:
        b.update_backup_plan(BackupPlanId="no-such-plan", BackupPlan=_plan())
    assert error_code(exc) == "ResourceNotFoundException"

    b.delete_backup_plan(BackupPlanId=plan_id)
    again = b.create_backup_plan(BackupPlan=_plan())
    assert again["BackupPlanId"] != plan_id
    with pytest.raises(ClientError) as exc:  # a *live* duplicate is still refused
        b.create_backup_plan(BackupPlan=_plan())
    assert error_code(exc) == "AlreadyExistsException"


def test_backup_vault_lock_read_back_and_delete_unknown(endpoint: str) -> None:
    b = client(endpoint, "backup")
    b.create_backup_vault(BackupVaultName="baseline-vault")
    b.put_backup_vault_lock_configuration(
        BackupVaultName="baseline-vault", MinRetentionDays=7, MaxRetentionDays=365
    )
    vault = b.describe_backup_vault(BackupVaultName="baseline-vault")
    assert (vault["Locked"], vault["MinRetentionDays"], vault["MaxRetentionDays"]) == (
        True, 7, 365
    )
    b.delete_backup_vault(BackupVaultName="baseline-vault")
    with pytest.raises(ClientError) as exc:
        b.delete_backup_vault(BackupVaultName="baseline-vault")
    assert error_code(exc) == "ResourceNotFoundException"


def test_backup_list_tags_with_and_without_trailing_slash(endpoint: str) -> None:
    b = client(endpoint, "backup")
    tags = {"managed-by": "baseline"}
    vault = b.create_backup_vault(BackupVaultName="tagged-vault", BackupVaultTags=tags)
    plan = b.create_backup_plan(BackupPlan=_plan("tagged-plan"), BackupPlanTags=tags)
    arns = [vault["BackupVaultArn"], plan["BackupPlanArn"]]
    # boto3 sends GET /tags/{arn}/ ...
    assert [b.list_tags(ResourceArn=a)["Tags"] for a in arns] == [tags, tags]

    # ... the Rust SDK sends GET /tags/{arn}.
    def strip_trailing_slash(request: Any, **_: Any) -> None:
        assert request.url.endswith("/")
        request.url = request.url.rstrip("/")

    b.meta.events.register("before-sign.backup.ListTags", strip_trailing_slash)
    assert [b.list_tags(ResourceArn=a)["Tags"] for a in arns] == [tags, tags]


# --------------------------------------------------------------------------
# KMS
# --------------------------------------------------------------------------


def test_kms_rotation_period_read_back(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]
    settled()
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is False
    assert "RotationPeriodInDays" not in status

    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key["Arn"])
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 180
    assert status["KeyId"] == key["Arn"]
    assert "NextRotationDate" in status

    other = kms.create_key()["KeyMetadata"]["KeyId"]
    settled()
    kms.enable_key_rotation(KeyId=other)
    assert kms.get_key_rotation_status(KeyId=other)["RotationPeriodInDays"] == 365

    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False

    # Rust SDK clients do not validate ranges locally: the server must.
    unvalidated = client(endpoint, "kms", validate=False)
    with pytest.raises(ClientError) as exc:
        unvalidated.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=30)
    assert error_code(exc) == "ValidationException"


def test_kms_key_policy_default_name(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    settled()
    assert "Statement" in json.loads(kms.get_key_policy(KeyId=key_id)["Policy"])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "baseline", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}]})
    kms.put_key_policy(KeyId=key_id, Policy=policy)  # no PolicyName
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == policy
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="other")
    assert error_code(exc) == "NotFoundException"


def test_kms_schedule_key_deletion(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]
    settled()
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=3)
    assert error_code(exc) == "ValidationException"

    out = kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert out["KeyId"] == key["Arn"]
    assert out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 7
    assert "DeletionDate" in out
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"

    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key["KeyId"])
    assert error_code(exc) == "KMSInvalidStateException"


def test_kms_reserved_alias_keys_are_aws_managed(endpoint: str) -> None:
    kms = client(endpoint, "kms")
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    assert kms.create_key()["KeyMetadata"]["KeyManager"] == "CUSTOMER"


# --------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------


def test_s3_get_bucket_versioning_root(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="versioning-root")
    raw = urllib.request.urlopen(f"{endpoint}/versioning-root?versioning").read().decode()
    assert "<VersioningConfiguration" in raw and "<Status>" not in raw
    s3.put_bucket_versioning(
        Bucket="versioning-root", VersioningConfiguration={"Status": "Suspended"}
    )
    raw = urllib.request.urlopen(f"{endpoint}/versioning-root?versioning").read().decode()
    assert "<VersioningConfiguration" in raw and "<Status>Suspended</Status>" in raw
    assert s3.get_bucket_versioning(Bucket="versioning-root")["Status"] == "Suspended"
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_versioning(Bucket="no-such-bucket")
    assert error_code(exc) == "NoSuchBucket"


# --------------------------------------------------------------------------
# CloudTrail, IAM, Organizations
# --------------------------------------------------------------------------


def trail_bucket_policy(bucket: str, folder: str = "") -> str:
    """The least a bucket policy must grant CloudTrail."""
    service = {"Service": "cloudtrail.amazonaws.com"}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": service, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/{folder}AWSLogs/*"},
        ],
    })


def test_cloudtrail_delete_trail_by_arn(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="baseline-trail-logs")
    s3.put_bucket_policy(Bucket="baseline-trail-logs",
                         Policy=trail_bucket_policy("baseline-trail-logs"))
    # An organization trail needs an organization with trusted access for CloudTrail.
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    org.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    ct = client(endpoint, "cloudtrail")
    arn = ct.create_trail(
        Name="org-trail", S3BucketName="baseline-trail-logs",
        IsOrganizationTrail=True, IsMultiRegionTrail=True, EnableLogFileValidation=True,
    )["TrailARN"]
    ct.delete_trail(Name=arn)
    assert ct.describe_trails()["trailList"] == []
    with pytest.raises(ClientError) as exc:
        ct.delete_trail(Name="org-trail")
    assert error_code(exc) == "TrailNotFoundException"


def test_cloudtrail_requires_a_bucket_policy_for_cloudtrail(endpoint: str) -> None:
    # The bucket lives in a member account (as a log-archive bucket does); the trail in
    # the management account.
    _, creds = member_account(endpoint)
    s3 = client(endpoint, "s3", creds=creds)
    s3.create_bucket(Bucket="archive-trail-logs")
    ct = client(endpoint, "cloudtrail")
    with pytest.raises(ClientError) as exc:
        ct.create_trail(Name="org-trail", S3BucketName="archive-trail-logs")
    assert error_code(exc) == "InsufficientS3BucketPolicyException"

    s3.put_bucket_policy(Bucket="archive-trail-logs",
                         Policy=trail_bucket_policy("archive-trail-logs"))
    ct.create_trail(Name="org-trail", S3BucketName="archive-trail-logs")
    # The policy covers AWSLogs/ at the top only, not under a prefix.
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", S3KeyPrefix="trail")
    assert error_code(exc) == "InsufficientS3BucketPolicyException"
    assert "S3KeyPrefix" not in ct.get_trail(Name="org-trail")["Trail"]
    with pytest.raises(ClientError) as exc:
        ct.update_trail(Name="org-trail", S3BucketName="no-such-bucket")
    assert error_code(exc) == "S3BucketDoesNotExistException"

    s3.put_bucket_policy(Bucket="archive-trail-logs",
                         Policy=trail_bucket_policy("archive-trail-logs", "*/"))
    ct.update_trail(Name="org-trail", S3KeyPrefix="trail")
    assert ct.get_trail(Name="org-trail")["Trail"]["S3KeyPrefix"] == "trail"


def test_iam_login_profile_password_reset_required(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    iam.create_user(UserName="alice")
    created = iam.create_login_profile(
        UserName="alice", Password="Correct-Horse-9", PasswordResetRequired=True
    )
    assert created["LoginProfile"]["PasswordResetRequired"] is True
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName="nobody", Password="Correct-Horse-9")
    assert error_code(exc) == "NoSuchEntity"


def test_organizations_delegated_admin_for_security_services(endpoint: str) -> None:
    account_id, _ = member_account(endpoint)
    org = client(endpoint, "organizations")
    for principal in ("securityhub.amazonaws.com", "config.amazonaws.com",
                      "backup.amazonaws.com", "cloudtrail.amazonaws.com"):
        org.register_delegated_administrator(AccountId=account_id, ServicePrincipal=principal)
    admins = org.list_delegated_administrators(ServicePrincipal="securityhub.amazonaws.com")
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [account_id]

    for principal in ("securityhub.amazonaws.com", "config.amazonaws.com",
                      "backup.amazonaws.com", "cloudtrail.amazonaws.com"):
        org.deregister_delegated_administrator(AccountId=account_id, ServicePrincipal=principal)
    assert org.list_delegated_administrators()["DelegatedAdministrators"] == []

    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(
            AccountId=account_id, ServicePrincipal="not-a-service.amazonaws.com"
        )
    assert error_code(exc) == "InvalidInputException"
    # A refused registration leaves nothing behind.
    assert org.list_delegated_administrators()["DelegatedAdministrators"] == []


def test_organizations_attach_policy_needs_the_type_enabled(endpoint: str) -> None:
    account_id, _ = member_account(endpoint)
    org = client(endpoint, "organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    policy_id = org.create_policy(
        Name="deny-leave", Description="", Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    for target in (root_id, account_id):
        with pytest.raises(ClientError) as exc:
            org.attach_policy(PolicyId=policy_id, TargetId=target)
        assert error_code(exc) == "PolicyTypeNotEnabledException"
    assert org.list_targets_for_policy(PolicyId=policy_id)["Targets"] == []

    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    settled()  # PENDING_ENABLE until then
    org.attach_policy(PolicyId=policy_id, TargetId=account_id)
    targets = org.list_targets_for_policy(PolicyId=policy_id)["Targets"]
    assert [t["TargetId"] for t in targets] == [account_id]
    # New OUs and accounts still get FullAWSAccess, as in AWS.
    ou = org.create_organizational_unit(ParentId=root_id, Name="Workloads")
    attached = org.list_policies_for_target(
        TargetId=ou["OrganizationalUnit"]["Id"], Filter="SERVICE_CONTROL_POLICY")
    assert [p["Name"] for p in attached["Policies"]] == ["FullAWSAccess"]


# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------


def test_config_recorder_needs_an_existing_role(endpoint: str) -> None:
    cfg, iam = client(endpoint, "config"), client(endpoint, "iam")
    slr = (
        f"arn:aws:iam::{MGMT_ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
        "AWSServiceRoleForConfig"
    )
    recorder = {"name": "default", "roleARN": slr, "recordingGroup": {"allSupported": True}}
    with pytest.raises(ClientError) as exc:
        cfg.put_configuration_recorder(ConfigurationRecorder=recorder)
    assert error_code(exc) == "InvalidRoleException"

    # CreateServiceLinkedRole names the role as AWS does.
    role = iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]
    assert role["Arn"] == slr
    settled()
    cfg.put_configuration_recorder(ConfigurationRecorder=recorder)
    assert cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]["roleARN"] == slr
    sh_role = iam.create_service_linked_role(AWSServiceName="securityhub.amazonaws.com")["Role"]
    assert sh_role["RoleName"] == "AWSServiceRoleForSecurityHub"

    # A role in another account is not checked (the emulator cannot see it).
    other = dict(recorder, roleARN="arn:aws:iam::111111111111:role/ConfigRole")
    cfg.put_configuration_recorder(ConfigurationRecorder=other)
