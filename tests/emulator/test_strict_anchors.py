"""Tests for strict_anchors.py: S3 Object Lock and KMS Sign/Verify as AWS
answers them, for the change log's anchors (a KMS signature of the chain head,
written with PutObject under COMPLIANCE retention and read back by version).
Each test starts from an empty emulator, on a server without a consistency
window. Tests that pin what moto 5.2.5 already does right say so.

    <venv>/bin/pytest tests/emulator/test_strict_anchors.py
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from test_access_analyzer import signed_request
from test_extension import REGION, client, reset_emulator, start_server, stop_server

LOCKED = "Access Denied because object protected by object lock."
MISSING_LOCK = "Bucket is missing Object Lock Configuration"
DIGEST_REQUIRED = ("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                   "requests with Object Lock parameters")
BOTH = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
FUTURE = "The retain until date must be in the future!"
UNTIL = "x-amz-object-lock-retain-until-date"
ANCHOR = json.dumps({"chain_head": "9f" * 32, "entries": 412, "signed_at": "2025-01-31T12:00:00Z",
                     "note": "x" * 200}).encode()
MS_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _reset(url: str) -> None:
    reset_emulator(url)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc, url = start_server({"BASELINE_EMULATOR_CONSISTENCY_SECONDS": "0"})
    yield url
    stop_server(proc)


@pytest.fixture()
def fresh(endpoint: str) -> str:
    _reset(endpoint)
    return endpoint


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def error_of(err: dict[str, Any]) -> tuple[str, str, int]:
    return err["Error"]["Code"], err["Error"].get("Message", ""), err["ResponseMetadata"]["HTTPStatusCode"]


def xml_error(body: bytes) -> tuple[str, str]:
    text = body.decode()
    return (re.search(r"<Code>(.*?)</Code>", text).group(1),
            re.search(r"<Message>(.*?)</Message>", text).group(1))


def later(**delta: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)


def locked_bucket(s3: Any, name: str = "anchors") -> str:
    """A bucket made as baseline makes it: Object Lock on, versioning Enabled."""
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def put_anchor(s3: Any, bucket: str, mode: str = "COMPLIANCE", key: str = "anchors/0001.json",
               until: datetime.datetime | None = None, body: bytes = ANCHOR) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256",
                         ObjectLockMode=mode, ObjectLockRetainUntilDate=until or later(days=1),
                         ContentType="application/json")["VersionId"]


def retention(s3: Any, bucket: str, version: str, key: str = "anchors/0001.json") -> dict[str, Any]:
    return s3.get_object_retention(Bucket=bucket, Key=key, VersionId=version)["Retention"]


def s3_when_required(url: str) -> Any:
    """An S3 client that sends a checksum only where the model requires one."""
    return boto3.client("s3", endpoint_url=url, region_name=REGION,
                        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                      request_checksum_calculation="when_required"))


def b64sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def aws_chunked(body: bytes, trailer: str, value: str, signed: bool, size: int = 64) -> bytes:
    """An aws-chunked body as the Rust SDK sends a streaming one: chunk
    signatures over http (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER), none
    over https (STREAMING-UNSIGNED-PAYLOAD-TRAILER); the checksum trails."""
    ext = b";chunk-signature=" + b"0" * 64 if signed else b""
    out = b""
    for start in range(0, len(body), size):
        part = body[start:start + size]
        out += f"{len(part):x}".encode() + ext + b"\r\n" + part + b"\r\n"
    out += b"0" + ext + b"\r\n" + f"{trailer}:{value}\r\n".encode()
    if signed:
        out += b"x-amz-trailer-signature:" + b"1" * 64 + b"\r\n"
    return out + b"\r\n"


def chunked_put(url: str, path: str, body: bytes, signed: bool, value: str | None = None,
                extra: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "x-amz-content-sha256": ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" if signed
                                 else "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-sha256",
        "x-amz-sdk-checksum-algorithm": "SHA256",
        "content-type": "application/json",
        **(extra or {}),
    }
    raw = aws_chunked(body, "x-amz-checksum-sha256", value or b64sha256(body), signed)
    return signed_request(url, "PUT", path, "s3", body=raw, headers=headers)


# --------------------------------------------------------------------------
# S3 Object Lock: retention
# --------------------------------------------------------------------------


def test_compliance_retention_is_only_ever_extended(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    version = put_anchor(s3, bucket, until=later(days=1))
    key = "anchors/0001.json"

    def change(**kwargs: Any) -> Any:
        return lambda: s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, **kwargs)

    longer = later(days=3)
    change(Retention={"Mode": "COMPLIANCE", "RetainUntilDate": longer})()
    assert retention(s3, bucket, version)["RetainUntilDate"] == longer.replace(
        microsecond=longer.microsecond // 1000 * 1000)
    # moto let anyone shorten, change or remove COMPLIANCE retention.
    for attempt in (
        change(Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(days=2)}),
        change(Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(days=5)}),
        change(Retention={}),
        change(Retention={}, BypassGovernanceRetention=True),
        change(Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(hours=1)},
               BypassGovernanceRetention=True),
    ):
        assert error_of(refused(attempt)) == ("AccessDenied", LOCKED, 403)
    assert retention(s3, bucket, version)["Mode"] == "COMPLIANCE"
    change(Retention={"Mode": "COMPLIANCE", "RetainUntilDate": longer})()  # the same date: kept


def test_governance_retention_gives_way_only_to_the_bypass_header(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    version = put_anchor(s3, bucket, mode="GOVERNANCE", until=later(days=2))
    key = "anchors/0001.json"

    def change(**kwargs: Any) -> Any:
        return s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, **kwargs)

    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": later(days=1)}
    for bypass in ({}, {"BypassGovernanceRetention": False}):
        assert error_of(refused(lambda: change(Retention=shorter, **bypass))) == (
            "AccessDenied", LOCKED, 403)
    assert error_of(refused(lambda: change(
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(days=3)}))) == (
        "AccessDenied", LOCKED, 403)
    change(Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(days=4)})  # extending
    change(Retention=shorter, BypassGovernanceRetention=True)
    assert retention(s3, bucket, version)["Mode"] == "GOVERNANCE"
    change(Retention={}, BypassGovernanceRetention=True)
    err = refused(lambda: retention(s3, bucket, version))
    assert error_of(err)[0::2] == ("NoSuchObjectLockConfiguration", 404)


def test_put_object_retention_needs_a_future_date_and_object_lock(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    s3.put_object(Bucket=bucket, Key="plain.json", Body=b"{}")
    past = {"Mode": "COMPLIANCE", "RetainUntilDate": later(days=-1)}
    err = refused(lambda: s3.put_object_retention(Bucket=bucket, Key="plain.json", Retention=past))
    assert error_of(err) == ("InvalidArgument", FUTURE, 400)
    s3.create_bucket(Bucket="unlocked")
    s3.put_object(Bucket="unlocked", Key="plain.json", Body=b"{}")
    future = {"Mode": "COMPLIANCE", "RetainUntilDate": later(days=1)}
    err = refused(lambda: s3.put_object_retention(Bucket="unlocked", Key="plain.json", Retention=future))
    assert error_of(err) == ("InvalidRequest", MISSING_LOCK, 400)
    err = refused(lambda: s3.put_object_retention(
        Bucket=bucket, Key="plain.json", VersionId="nope", Retention=future))
    assert error_of(err)[0::2] == ("NoSuchVersion", 404)


def test_get_object_retention_by_version(fresh: str) -> None:
    """moto 5.2.5 has no GetObjectRetention (HTTP 500). HeadObject and GetObject
    already returned the retention headers (pinned)."""
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    until = later(days=30)
    first = put_anchor(s3, bucket, until=until)
    second = put_anchor(s3, bucket, until=later(days=60))
    got = retention(s3, bucket, first)
    # botocore sends the header in whole seconds.
    assert got == {"Mode": "COMPLIANCE", "RetainUntilDate": until.replace(microsecond=0)}
    assert retention(s3, bucket, second)["RetainUntilDate"] > got["RetainUntilDate"]
    for read in (s3.head_object, s3.get_object):
        answer = read(Bucket=bucket, Key="anchors/0001.json", VersionId=first)
        assert (answer["ObjectLockMode"], answer["ObjectLockRetainUntilDate"]) == (
            "COMPLIANCE", got["RetainUntilDate"])
        headers = answer["ResponseMetadata"]["HTTPHeaders"]
        assert MS_DATE.fullmatch(headers["x-amz-object-lock-retain-until-date"])

    s3.put_object(Bucket=bucket, Key="plain.json", Body=b"{}")
    err = refused(lambda: s3.get_object_retention(Bucket=bucket, Key="plain.json"))
    assert error_of(err) == ("NoSuchObjectLockConfiguration",
                             "The specified object does not have a ObjectLock configuration", 404)
    s3.create_bucket(Bucket="unlocked")
    s3.put_object(Bucket="unlocked", Key="plain.json", Body=b"{}")
    err = refused(lambda: s3.get_object_retention(Bucket="unlocked", Key="plain.json"))
    assert error_of(err) == ("InvalidRequest", MISSING_LOCK, 400)
    err = refused(lambda: s3.get_object_retention(Bucket=bucket, Key="missing.json"))
    assert error_of(err)[0::2] == ("NoSuchKey", 404)
    marker = s3.delete_object(Bucket=bucket, Key="anchors/0001.json")["VersionId"]
    err = refused(lambda: s3.get_object_retention(Bucket=bucket, Key="anchors/0001.json", VersionId=marker))
    assert error_of(err)[0::2] == ("MethodNotAllowed", 405)
    assert retention(s3, bucket, first)["Mode"] == "COMPLIANCE"


def test_retain_until_dates_in_any_iso8601_form(fresh: str) -> None:
    """An offset or nanoseconds (moto failed with HTTP 500 on the delete)."""
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    year = later(days=365).year
    body = b"{}"
    for key, sent, kept in (
        ("nanos.json", f"{year}-01-02T03:04:05.123456789Z", f"{year}-01-02T03:04:05.123Z"),
        ("offset.json", f"{year}-01-02T05:04:05+02:00", f"{year}-01-02T03:04:05.000Z"),
    ):
        status, headers, answer = signed_request(fresh, "PUT", f"/{bucket}/{key}", "s3", body=body, headers={
            "x-amz-object-lock-mode": "COMPLIANCE", UNTIL: sent, "content-type": "application/json",
            "x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": b64sha256(body)})
        assert status == 200, answer
        version = headers["x-amz-version-id"]
        head = s3.head_object(Bucket=bucket, Key=key, VersionId=version)
        assert head["ResponseMetadata"]["HTTPHeaders"][UNTIL] == kept
        err = refused(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version))
        assert error_of(err) == ("AccessDenied", LOCKED, 403)


# --------------------------------------------------------------------------
# S3 Object Lock: deletes and overwrites
# --------------------------------------------------------------------------


def test_a_locked_version_cannot_be_deleted(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    key = "anchors/0001.json"
    version = put_anchor(s3, bucket)
    for bypass in ({}, {"BypassGovernanceRetention": True}):
        err = refused(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version, **bypass))
        # moto: "Access Denied"
        assert error_of(err) == ("AccessDenied", LOCKED, 403)
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": version}]},
                                   **bypass)
        # moto left the VersionId out of the error.
        assert answer["Errors"] == [{"Key": key, "VersionId": version, "Code": "AccessDenied",
                                     "Message": LOCKED}]
        assert "Deleted" not in answer
    assert s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read() == ANCHOR


def test_governance_delete_needs_the_bypass_header_to_say_true(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    key = "anchors/0001.json"
    version = put_anchor(s3, bucket, mode="GOVERNANCE")
    # moto took any value of x-amz-bypass-governance-retention, "false" included.
    err = refused(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version,
                                           BypassGovernanceRetention=False))
    assert error_of(err) == ("AccessDenied", LOCKED, 403)
    other = put_anchor(s3, bucket, mode="GOVERNANCE")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": key, "VersionId": version}, {"Key": key, "VersionId": other}]})
    assert [e["VersionId"] for e in answer["Errors"]] == [version, other]
    answer = s3.delete_objects(Bucket=bucket, BypassGovernanceRetention=True, Delete={"Objects": [
        {"Key": key, "VersionId": other}]})
    assert answer["Deleted"] == [{"Key": key, "VersionId": other}]
    s3.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_a_legal_hold_refuses_a_delete_even_with_the_bypass(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    version = s3.put_object(Bucket=bucket, Key="held.json", Body=b"{}",
                            ObjectLockLegalHoldStatus="ON")["VersionId"]
    err = refused(lambda: s3.delete_object(Bucket=bucket, Key="held.json", VersionId=version,
                                           BypassGovernanceRetention=True))
    assert error_of(err) == ("AccessDenied", LOCKED, 403)
    s3.put_object_legal_hold(Bucket=bucket, Key="held.json", VersionId=version,
                             LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=bucket, Key="held.json", VersionId=version)


def test_a_version_can_be_deleted_once_its_retention_has_passed(fresh: str) -> None:
    """moto already lets a version go when its date has passed (pinned; the
    patched date check must keep doing so)."""
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    version = put_anchor(s3, bucket, until=later(seconds=1.5))
    err = refused(lambda: s3.delete_object(Bucket=bucket, Key="anchors/0001.json", VersionId=version))
    assert error_of(err)[0::2] == ("AccessDenied", 403)
    time.sleep(1.6)
    s3.delete_object(Bucket=bucket, Key="anchors/0001.json", VersionId=version)
    # An expired retention is still reported by GetObjectRetention in AWS; the
    # version is gone here, so the key is.
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_overwrites_and_plain_deletes_leave_the_anchor_as_it_was(fresh: str) -> None:
    """moto already does this (pinned): a PutObject to the key adds a version, a
    DeleteObject without VersionId adds a delete marker; the locked version
    stays readable by its VersionId with its retention."""
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    key = "anchors/0001.json"
    version = put_anchor(s3, bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"forged": true}', ChecksumAlgorithm="SHA256")
    marker = s3.delete_object(Bucket=bucket, Key=key)
    assert marker["DeleteMarker"] is True
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]][-1] == version
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker["VersionId"]]
    got = s3.get_object(Bucket=bucket, Key=key, VersionId=version)
    assert got["Body"].read() == ANCHOR
    assert got["ObjectLockMode"] == "COMPLIANCE"


def test_versioning_cannot_be_suspended_with_object_lock(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    err = refused(lambda: s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}))
    assert error_of(err) == ("InvalidBucketState",
                             "An Object Lock configuration is present on this bucket, so the "
                             "versioning state cannot be changed.", 409)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.create_bucket(Bucket="unlocked")
    s3.put_bucket_versioning(Bucket="unlocked", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket="unlocked", VersioningConfiguration={"Status": "Suspended"})


# --------------------------------------------------------------------------
# S3 PutObject: lock parameters and checksums
# --------------------------------------------------------------------------


def test_lock_parameters_need_md5_or_a_flexible_checksum(fresh: str) -> None:
    s3 = s3_when_required(fresh)
    bucket = locked_bucket(s3)
    lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": later(days=1)}
    for extra in ({}, {"ObjectLockLegalHoldStatus": "ON"}):
        err = refused(lambda: s3.put_object(Bucket=bucket, Key="a.json", Body=ANCHOR, **lock, **extra))
        # moto: MissingUploadObjectWithObjectLockHeaders
        assert error_of(err) == ("InvalidRequest", DIGEST_REQUIRED, 400)
    md5 = base64.b64encode(hashlib.md5(ANCHOR).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5.json", Body=ANCHOR, ContentMD5=md5, **lock)
    # A bare x-amz-checksum-sha256 (what the Rust SDK sends for an in-memory
    # body given its checksum): moto asked for x-amz-sdk-checksum-algorithm.
    s3.put_object(Bucket=bucket, Key="bare.json", Body=ANCHOR, ChecksumSHA256=b64sha256(ANCHOR), **lock)
    got = s3.get_object(Bucket=bucket, Key="bare.json", ChecksumMode="ENABLED")
    assert (got["Body"].read(), got["ChecksumSHA256"]) == (ANCHOR, b64sha256(ANCHOR))
    s3.put_object(Bucket=bucket, Key="sdk.json", Body=ANCHOR, ChecksumAlgorithm="SHA256", **lock)
    got = client(fresh, "s3").get_object(Bucket=bucket, Key="sdk.json", ChecksumMode="ENABLED")
    assert (got["Body"].read(), got["ChecksumSHA256"]) == (ANCHOR, b64sha256(ANCHOR))


def test_lock_parameters_are_checked(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)

    def put(**lock: Any) -> Any:
        return lambda: s3.put_object(Bucket=bucket, Key="a.json", Body=b"{}", **lock)

    err = refused(put(ObjectLockMode="COMPLIANCE"))
    assert error_of(err) == ("InvalidArgument", BOTH, 400)
    assert (err["Error"]["ArgumentName"], err["Error"]["ArgumentValue"]) == (UNTIL, None)  # empty
    err = refused(put(ObjectLockRetainUntilDate=later(days=1)))
    assert error_of(err) == ("InvalidArgument", BOTH, 400)
    assert err["Error"]["ArgumentName"] == "x-amz-object-lock-mode"
    err = refused(put(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(days=-1)))
    assert error_of(err) == ("InvalidArgument", FUTURE, 400)
    assert err["Error"]["ArgumentName"] == UNTIL
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
    # Pinned (moto already answers it, in S3's PutObject wording without spaces).
    s3.create_bucket(Bucket="unlocked")
    err = refused(lambda: s3.put_object(Bucket="unlocked", Key="a.json", Body=b"{}",
                                        ObjectLockMode="COMPLIANCE",
                                        ObjectLockRetainUntilDate=later(days=1)))
    assert error_of(err) == ("InvalidRequest", "Bucket is missing ObjectLockConfiguration", 400)


@pytest.mark.parametrize("signed", [True, False], ids=["signed-chunks", "unsigned-chunks"])
def test_aws_chunked_put_with_a_trailing_checksum(fresh: str, signed: bool) -> None:
    """The body is decoded and stored as sent (moto already did: pinned); a
    trailing checksum that does not match is BadDigest (moto stored it)."""
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    lock = {"x-amz-object-lock-mode": "COMPLIANCE",
            UNTIL: later(days=1).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    status, headers, answer = chunked_put(fresh, f"/{bucket}/anchor.json", ANCHOR, signed, extra=lock)
    assert status == 200, answer
    version = headers["x-amz-version-id"]
    got = s3.get_object(Bucket=bucket, Key="anchor.json", VersionId=version, ChecksumMode="ENABLED")
    assert got["Body"].read() == ANCHOR
    assert got["ChecksumSHA256"] == b64sha256(ANCHOR)
    assert got.get("ContentEncoding") is None
    assert retention(s3, bucket, version, key="anchor.json")["Mode"] == "COMPLIANCE"

    status, _, answer = chunked_put(fresh, f"/{bucket}/bad.json", ANCHOR, signed,
                                    value=b64sha256(b"something else"), extra=lock)
    assert (status, xml_error(answer)) == (
        400, ("BadDigest", "The SHA256 you specified did not match the calculated checksum."))


def test_flexible_checksums_must_be_consistent_and_match(fresh: str) -> None:
    s3 = client(fresh, "s3")
    bucket = locked_bucket(s3)
    path = f"/{bucket}/a.json"
    body = b"{}"
    cases = [
        ({"x-amz-sdk-checksum-algorithm": "SHA256"},
         ("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                            "x-amz-checksum-* or x-amz-trailer headers were found.")),
        ({"x-amz-sdk-checksum-algorithm": "CRC32", "x-amz-checksum-sha256": b64sha256(body)},
         ("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")),
        ({"x-amz-checksum-sha256": b64sha256(b"other")},
         ("BadDigest", "The SHA256 you specified did not match the calculated checksum.")),
        ({"x-amz-checksum-crc32": "AAAAAA=="},
         ("BadDigest", "The CRC32 you specified did not match the calculated checksum.")),
        ({"content-md5": base64.b64encode(hashlib.md5(b"other").digest()).decode()},
         ("BadDigest", "The Content-MD5 you specified did not match what we received.")),
    ]
    for headers, expected in cases:
        headers["content-type"] = "application/json"  # urllib would send a form type
        status, _, answer = signed_request(fresh, "PUT", path, "s3", body=body, headers=headers)
        assert (status, xml_error(answer)) == (400, expected), headers
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
    status, _, _ = signed_request(fresh, "PUT", path, "s3", body=body, headers={
        "x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": b64sha256(body),
        "content-type": "application/json"})
    assert status == 200


# --------------------------------------------------------------------------
# KMS Sign / Verify
# --------------------------------------------------------------------------


def signing_key(kms: Any, spec: str = "ECC_NIST_P256") -> str:
    return kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["Arn"]


def test_sign_and_verify_need_a_signing_key(fresh: str) -> None:
    kms = client(fresh, "kms")
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    for operation, call in (
        ("Sign", lambda: kms.sign(KeyId=symmetric, Message=ANCHOR, MessageType="RAW",
                                  SigningAlgorithm="ECDSA_SHA_256")),
        ("Verify", lambda: kms.verify(KeyId=symmetric, Message=ANCHOR, MessageType="RAW",
                                      Signature=b"0" * 70, SigningAlgorithm="ECDSA_SHA_256")),
    ):
        # moto: ValidationException
        assert error_of(refused(call)) == (
            "InvalidKeyUsageException",
            f"{symmetric} key usage is ENCRYPT_DECRYPT which is not valid for {operation}.", 400)


def test_a_key_created_without_usage_is_an_encryption_key(fresh: str) -> None:
    kms = client(fresh, "kms")
    created = kms.create_key()["KeyMetadata"]
    # moto: no KeyUsage at all
    assert created["KeyUsage"] == "ENCRYPT_DECRYPT"
    described = kms.describe_key(KeyId=created["KeyId"])["KeyMetadata"]
    assert (described["KeyUsage"], described["KeySpec"]) == ("ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT")


def test_the_signing_algorithm_must_fit_the_key_spec(fresh: str) -> None:
    kms = client(fresh, "kms")
    for spec, algorithm in (("ECC_NIST_P256", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_256"),
                            ("RSA_2048", "ECDSA_SHA_256")):
        key = signing_key(kms, spec)
        err = refused(lambda: kms.sign(KeyId=key, Message=ANCHOR, MessageType="RAW",
                                       SigningAlgorithm=algorithm))
        # moto: ValidationException
        assert error_of(err) == ("InvalidKeyUsageException",
                                 f"Algorithm {algorithm} is incompatible with key spec {spec}.", 400)
    raw = client(fresh, "kms", validate=False)
    err = refused(lambda: raw.sign(KeyId=key, Message=ANCHOR, MessageType="RAW",
                                   SigningAlgorithm="RSASSA_PSS_SHA_1"))
    assert error_of(err)[0] == "ValidationException"


def test_a_raw_message_is_at_most_4096_bytes(fresh: str) -> None:
    kms = client(fresh, "kms")
    key = signing_key(kms)
    kms.sign(KeyId=key, Message=b"x" * 4096, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    err = refused(lambda: kms.sign(KeyId=key, Message=b"x" * 4097, MessageType="RAW",
                                   SigningAlgorithm="ECDSA_SHA_256"))
    # moto signed it.
    assert error_of(err) == ("ValidationException",
                             "1 validation error detected: Value at 'message' failed to satisfy "
                             "constraint: Member must have length less than or equal to 4096", 400)


def test_disabled_and_pending_deletion_keys_do_not_sign(fresh: str) -> None:
    kms = client(fresh, "kms")
    key = signing_key(kms)
    signature = kms.sign(KeyId=key, Message=ANCHOR, MessageType="RAW",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    sign = lambda: kms.sign(KeyId=key, Message=ANCHOR, MessageType="RAW",  # noqa: E731
                            SigningAlgorithm="ECDSA_SHA_256")
    verify = lambda: kms.verify(KeyId=key, Message=ANCHOR, MessageType="RAW",  # noqa: E731
                                Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    kms.disable_key(KeyId=key)  # by ARN: moto answered HTTP 500
    for call in (sign, verify):
        # moto signed and verified with it.
        assert error_of(refused(call)) == ("DisabledException", f"{key} is disabled.", 400)
    # GetPublicKey still answers for a disabled key, as AWS does (pinned).
    assert kms.get_public_key(KeyId=key)["KeyId"] == key
    kms.enable_key(KeyId=key)
    assert verify()["SignatureValid"] is True
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    for call in (sign, verify, lambda: kms.get_public_key(KeyId=key)):
        assert error_of(refused(call)) == ("KMSInvalidStateException", f"{key} is pending deletion.", 400)


def test_verify_raises_when_the_signature_does_not_match(fresh: str) -> None:
    kms = client(fresh, "kms")
    key, other = signing_key(kms), signing_key(kms)

    def signature(by: str, message: bytes = ANCHOR) -> bytes:
        return kms.sign(KeyId=by, Message=message, MessageType="RAW",
                        SigningAlgorithm="ECDSA_SHA_256")["Signature"]

    good = signature(key)
    answer = kms.verify(KeyId=key, Message=ANCHOR, MessageType="RAW", Signature=good,
                        SigningAlgorithm="ECDSA_SHA_256")
    assert (answer["SignatureValid"], answer["KeyId"]) == (True, key)
    for message, sig in ((ANCHOR + b" ", good), (ANCHOR, signature(other)), (ANCHOR, b"\x30\x00")):
        err = refused(lambda: kms.verify(KeyId=key, Message=message, MessageType="RAW", Signature=sig,
                                         SigningAlgorithm="ECDSA_SHA_256"))
        # moto answered SignatureValid false.
        assert error_of(err) == ("KMSInvalidSignatureException", "", 400)


def test_signatures_verify_with_the_public_key(fresh: str) -> None:
    """moto already signed ECDSA and RSA PKCS#1 v1.5 for real over the message
    (pinned); RSASSA-PSS now uses a salt as long as the digest, as KMS does
    (moto: the longest salt), and GetPublicKey answers the key ARN."""
    kms = client(fresh, "kms")
    ecc, rsa = signing_key(kms), signing_key(kms, "RSA_2048")
    pem = {key: kms.get_public_key(KeyId=key.split("/")[-1]) for key in (ecc, rsa)}
    assert pem[ecc]["KeyId"] == ecc  # moto: the key id
    assert (pem[ecc]["KeySpec"], pem[ecc]["KeyUsage"], pem[ecc]["SigningAlgorithms"]) == (
        "ECC_NIST_P256", "SIGN_VERIFY", ["ECDSA_SHA_256"])

    def signature(key: str, algorithm: str) -> bytes:
        return kms.sign(KeyId=key, Message=ANCHOR, MessageType="RAW", SigningAlgorithm=algorithm)["Signature"]

    public = {key: serialization.load_der_public_key(answer["PublicKey"]) for key, answer in pem.items()}
    public[ecc].verify(signature(ecc, "ECDSA_SHA_256"), ANCHOR, ec.ECDSA(hashes.SHA256()))
    public[rsa].verify(signature(rsa, "RSASSA_PKCS1_V1_5_SHA_256"), ANCHOR, padding.PKCS1v15(),
                       hashes.SHA256())
    for algorithm, digest in (("RSASSA_PSS_SHA_256", hashes.SHA256()), ("RSASSA_PSS_SHA_512", hashes.SHA512())):
        public[rsa].verify(signature(rsa, algorithm), ANCHOR,
                           padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)


def test_a_digest_message_is_signed_as_given(fresh: str) -> None:
    kms = client(fresh, "kms")
    key = signing_key(kms)
    digest = hashlib.sha256(ANCHOR).digest()
    sig = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST",
                   SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    public.verify(sig, ANCHOR, ec.ECDSA(hashes.SHA256()))  # moto hashed the digest again
    assert kms.verify(KeyId=key, Message=ANCHOR, MessageType="RAW", Signature=sig,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    err = refused(lambda: kms.sign(KeyId=key, Message=digest[:20], MessageType="DIGEST",
                                   SigningAlgorithm="ECDSA_SHA_256"))
    assert error_of(err) == ("ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.", 400)


# --------------------------------------------------------------------------
# The anchor, end to end
# --------------------------------------------------------------------------


def test_an_anchor_is_written_read_back_and_verified(fresh: str) -> None:
    """What `apply` and `log verify --anchors` do. Fails on moto 5.2.5 at
    GetObjectRetention (HTTP 500)."""
    s3, kms = client(fresh, "s3"), client(fresh, "kms")
    bucket = locked_bucket(s3)
    key = signing_key(kms)
    heads = [b'{"chain_head":"' + bytes(str(i), "ascii") * 64 + b'"}' for i in range(3)]
    for head in heads:
        sig = kms.sign(KeyId=key, Message=head, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
        anchor = json.dumps({"head": head.decode(), "key": sig["KeyId"],
                             "signature": base64.b64encode(sig["Signature"]).decode()}).encode()
        put_anchor(s3, bucket, key="anchors/latest.json", body=anchor, until=later(days=2555))
    versions = s3.list_object_versions(Bucket=bucket, Prefix="anchors/")["Versions"]
    assert len(versions) == 3
    seen = []
    for version in versions:
        got = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        anchor = json.loads(got["Body"].read())
        assert retention(s3, bucket, version["VersionId"], key=version["Key"])["Mode"] == "COMPLIANCE"
        answer = kms.verify(KeyId=anchor["key"], Message=anchor["head"].encode(), MessageType="RAW",
                            Signature=base64.b64decode(anchor["signature"]),
                            SigningAlgorithm="ECDSA_SHA_256")
        assert answer["SignatureValid"] is True
        seen.append(anchor["head"].encode())
    assert sorted(seen) == sorted(heads)
