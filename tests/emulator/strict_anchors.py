"""The change log's anchors as AWS keeps them: S3 Object Lock and KMS Sign/Verify.
See tests/emulator/README.md (both tables) and test_strict_anchors.py.

After each apply baseline signs the log's chain head with an asymmetric KMS key
and writes the anchor with PutObject (COMPLIANCE retention, a flexible checksum)
to a bucket with Object Lock; `log verify --anchors` reads every version back
and checks each signature with kms:Verify. moto 5.2.5 lets a retention be cut
short, has no GetObjectRetention, answers a failed Verify with
SignatureValid=false and signs with keys AWS refuses. This module makes it
answer as AWS does.

s3   PutObjectRetention on a version whose retention still holds: COMPLIANCE
     may only be kept or extended (another mode, an earlier date or no
     retention -> AccessDenied 403 "Access Denied because object protected by
     object lock."); GOVERNANCE likewise unless the request sends
     x-amz-bypass-governance-retention: true. The date must be in the
     future (InvalidArgument); a bucket without Object Lock -> InvalidRequest
     "Bucket is missing Object Lock Configuration" (moto changed anything).
     https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
     GetObjectRetention (moto has none: HTTP 500): the version's Mode and
     RetainUntilDate; NoSuchObjectLockConfiguration (404) for a version
     without retention, InvalidRequest (400) in a bucket without Object Lock,
     MethodNotAllowed (405) for a delete marker's version id.
     DeleteObject / DeleteObjects of a locked version: AccessDenied "Access
     Denied because object protected by object lock." (moto: "Access Denied"
     for DeleteObject); the bypass header counts only when it says "true"
     (moto took any value, "false" included); DeleteObjects' errors name the
     VersionId. A retain-until date in any ISO 8601 form is understood (moto
     failed with HTTP 500 on an offset or on nanoseconds).
     PutObject with Object Lock parameters (or into a bucket with a default
     retention) needs Content-MD5 or a flexible checksum: an x-amz-checksum-*
     header or an x-amz-trailer naming one (aws-chunked, signed or unsigned)
     -> else InvalidRequest "Content-MD5 OR x-amz-checksum- HTTP header is
     required for Put Object requests with Object Lock parameters" (moto
     wanted x-amz-sdk-checksum-algorithm and refused a bare
     x-amz-checksum-sha256). Mode without date or date without mode, a date
     that is not ISO 8601 or not in the future -> InvalidArgument. Retention
     dates are kept to the millisecond, as S3 returns them.
     Every PutObject: x-amz-sdk-checksum-algorithm without a matching
     x-amz-checksum-* header or trailer -> InvalidRequest; a CRC32, SHA1,
     SHA256 or Content-MD5 value that does not match the body -> BadDigest
     (moto stored any value and echoed it back). A checksum sent as a bare
     header is kept and returned with x-amz-checksum-mode: ENABLED.
     PutBucketVersioning Suspended on a bucket with Object Lock ->
     InvalidBucketState (409).
kms  Sign and Verify: a key that is not SIGN_VERIFY -> InvalidKeyUsageException
     "<arn> key usage is <usage> which is not valid for Sign." (moto:
     ValidationException); a signing algorithm of the enum the key spec does
     not support -> InvalidKeyUsageException "Algorithm <alg> is incompatible
     with key spec <spec>."; a message over 4096 bytes -> ValidationException;
     a DIGEST of the wrong length -> ValidationException; a disabled key ->
     DisabledException; a key pending deletion -> KMSInvalidStateException
     (moto signed with both). Verify of a signature that does not match ->
     KMSInvalidSignatureException (moto: SignatureValid false). RSASSA-PSS
     uses a salt as long as the digest, as KMS does (moto: the longest salt),
     and MessageType DIGEST signs the digest as given (moto hashed it again).
     GetPublicKey answers the key ARN in KeyId (moto: the key id) and KeySpec.
     DisableKey, EnableKey and CancelKeyDeletion take a key ARN (moto: 500).
     https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
     https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html
     https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html

moto already did right (pinned by the tests, not patched): real ECDSA and RSA
PKCS #1 v1.5 signatures over the message, verifiable with the DER public key GetPublicKey
returns; GetPublicKey for a disabled key; a versioned PutObject to a locked key
adds a version and leaves the locked one as it was; DeleteObject without a
VersionId adds a delete marker; HeadObject/GetObject return the retention in
x-amz-object-lock-mode / x-amz-object-lock-retain-until-date; the aws-chunked
body (STREAMING-UNSIGNED-PAYLOAD-TRAILER and
STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) is decoded and stored as sent;
PutObject with lock parameters to a bucket without Object Lock answers
InvalidRequest "Bucket is missing ObjectLockConfiguration" (without spaces,
as S3 does for PutObject).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from typing import Any, Callable
from xml.sax.saxutils import escape

import botocore.session
import xmltodict
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.kms.exceptions import ValidationException
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse
from moto.s3 import exceptions as s3_exceptions
from moto.s3.exceptions import (
    LockNotEnabled,
    MalformedXML,
    MethodNotAllowed,
    MissingKey,
    MissingUploadObjectWithObjectLockHeaders,
    MissingVersion,
    S3ClientError,
)
from moto.s3.models import FakeKey, S3Backend
from moto.s3.responses import S3Response

_APPLIED = False


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# --------------------------------------------------------------------------
# S3: answers with their own status
# --------------------------------------------------------------------------

LOCKED = "Access Denied because object protected by object lock."
MISSING_LOCK_CONFIGURATION = "Bucket is missing Object Lock Configuration"
NO_RETENTION = "The specified object does not have a ObjectLock configuration"
DIGEST_REQUIRED = (
    "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
    "with Object Lock parameters"
)
BOTH_SUPPLIED = (
    "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
)
IN_THE_FUTURE = "The retain until date must be in the future!"
NOT_ISO8601 = "The retain until date must be provided in ISO 8601 format"
SDK_ALGORITHM_ALONE = (
    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
    "x-amz-trailer headers were found."
)
SDK_ALGORITHM_INVALID = "Value for x-amz-sdk-checksum-algorithm header is invalid."
VERSIONING_LOCKED = (
    "An Object Lock configuration is present on this bucket, so the versioning state "
    "cannot be changed."
)

MODE = "x-amz-object-lock-mode"
UNTIL = "x-amz-object-lock-retain-until-date"
HOLD = "x-amz-object-lock-legal-hold"
BYPASS = "x-amz-bypass-governance-retention"
MODES = ("GOVERNANCE", "COMPLIANCE")
# x-amz-checksum-* request headers that carry no checksum value.
_NOT_CHECKSUMS = {"x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"}
_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Refusal(Exception):
    """An S3 error answered with a status moto's S3 model does not know
    (InvalidBucketState 409, NoSuchObjectLockConfiguration 404, ...) or with
    extra elements (ArgumentName, ArgumentValue)."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> tuple[int, dict[str, str], str]:
        fields = [f"<Code>{escape(self.code)}</Code>", f"<Message>{escape(self.message)}</Message>"]
        fields += [f"<{name}>{escape(value)}</{name}>" for name, value in self.extra.items()]
        fields.append("<RequestId>BASELINEEMULATOR</RequestId><HostId>baseline-emulator</HostId>")
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(fields) + "</Error>"
        return self.status, {"Content-Type": "application/xml"}, body


def _answering_refusals(handler: Callable[..., Any]) -> Callable[..., Any]:
    def answer(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except S3Refusal as refusal:
            return refusal.response()

    return answer


def _headers(response: S3Response) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in response.headers.items()}


def parse_retain_until(text: str | None) -> datetime.datetime | None:
    """An ISO 8601 date and time (Z or an offset, any fraction) in UTC; None
    when `text` is not one."""
    if not text:
        return None
    match = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:?\d\d)?", text.strip()
    )
    if not match:
        return None
    stamp, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z", "z") else zone
    if len(zone) == 5:  # +0100
        zone = zone[:3] + ":" + zone[3:]
    micro = f".{(fraction or '0')[:6]:0<6}"
    try:
        when = datetime.datetime.fromisoformat(stamp + micro + zone)
    except ValueError:
        return None
    return when.astimezone(datetime.timezone.utc)


def format_retain_until(when: datetime.datetime) -> str:
    """S3 keeps a retain-until date to the millisecond (2030-01-01T00:00:00.000Z)."""
    when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _retention_holds(key: FakeKey) -> bool:
    until = parse_retain_until(str(key.lock_until)) if key.lock_until else None
    return key.lock_mode in MODES and until is not None and until > _now()


def _is_locked(self: FakeKey, governance_bypass: Any) -> bool:
    """Legal hold, or retention until a date still to come (GOVERNANCE gives
    way to the bypass header when it says "true")."""
    if self.lock_legal_status == "ON":
        return True
    bypass = governance_bypass is True or str(governance_bypass).strip().lower() == "true"
    if self.lock_mode == "GOVERNANCE" and bypass:
        return False
    return _retention_holds(self)


def _locked_init(self: Any) -> None:
    S3ClientError.__init__(self, "AccessDenied", LOCKED)


# ------------------------------------------------------------------ checksums


def _trailers(raw: bytes) -> dict[str, str]:
    """The trailing headers of an aws-chunked body (signed or unsigned chunks)."""
    pos = 0
    try:
        while True:
            end = raw.index(b"\r\n", pos)
            size = int(raw[pos:end].split(b";", 1)[0].strip() or b"0", 16)
            pos = end + 2
            if size == 0:
                break
            pos += size + 2
    except ValueError:
        return {}
    found: dict[str, str] = {}
    while True:
        end = raw.find(b"\r\n", pos)
        if end <= pos:
            return found
        name, _, value = raw[pos:end].partition(b":")
        found[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        pos = end + 2


def _checksum_headers(headers: dict[str, str]) -> dict[str, str]:
    """{ALGORITHM: value} of the x-amz-checksum-<algorithm> request headers."""
    return {
        name[len("x-amz-checksum-"):].upper(): value
        for name, value in headers.items()
        if name.startswith("x-amz-checksum-") and name not in _NOT_CHECKSUMS
    }


def _trailer_algorithm(headers: dict[str, str]) -> str | None:
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    return trailer[len("x-amz-checksum-"):].upper() if trailer.startswith("x-amz-checksum-") else None


def _computed(body: bytes, algorithm: str) -> str | None:
    """The base64 checksum of `body`, for the algorithms the standard library has."""
    if algorithm == "CRC32":
        digest = binascii.crc32(body).to_bytes(4, "big")
    elif algorithm in ("SHA1", "SHA256", "MD5"):
        digest = hashlib.new(algorithm.lower(), body).digest()
    else:  # CRC32C, CRC64NVME, ...: not checked
        return None
    return base64.b64encode(digest).decode()


def _check_checksum_headers(headers: dict[str, str]) -> None:
    sdk = headers.get("x-amz-sdk-checksum-algorithm", "").strip().upper()
    if not sdk:
        return
    sent = list(_checksum_headers(headers)) + [a for a in [_trailer_algorithm(headers)] if a]
    if not sent:
        raise S3Refusal(400, "InvalidRequest", SDK_ALGORITHM_ALONE)
    if sdk not in sent:
        raise S3Refusal(400, "InvalidRequest", SDK_ALGORITHM_INVALID)


def _has_integrity_header(headers: dict[str, str]) -> bool:
    return bool(
        headers.get("content-md5")
        or _checksum_headers(headers)
        or _trailer_algorithm(headers)
    )


def _sent_checksum(response: S3Response, headers: dict[str, str]) -> tuple[str, str] | None:
    """(ALGORITHM, value) of the flexible checksum the request sent, as a header
    or as an aws-chunked trailer."""
    named = _checksum_headers(headers)
    if named:
        return next(iter(named.items()))
    trailed = _trailer_algorithm(headers)
    if trailed:
        raw = response.raw_body if isinstance(response.raw_body, bytes) else b""
        value = _trailers(raw).get(f"x-amz-checksum-{trailed.lower()}")
        if value:
            return trailed, value
    return None


def _verify_digests(response: S3Response, headers: dict[str, str]) -> None:
    body = response.body or b""
    if isinstance(body, str):
        body = body.encode()
    md5 = headers.get("content-md5")
    if md5:
        try:
            valid = len(base64.b64decode(md5, validate=True)) == 16
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise S3Refusal(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
        if _computed(body, "MD5") != md5:
            raise S3Refusal(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
    sent = _sent_checksum(response, headers)
    if sent is not None:
        algorithm, value = sent
        expected = _computed(body, algorithm)
        if expected is not None and expected != value:
            raise S3Refusal(
                400, "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
            )


# ------------------------------------------------------------------ PutObject


def _check_put_object_lock(response: S3Response, headers: dict[str, str], bucket: Any) -> None:
    mode, until, hold = headers.get(MODE), headers.get(UNTIL), headers.get(HOLD)
    has_lock = bool(mode or until or hold)
    if has_lock or (bucket.object_lock_enabled and bucket.has_default_lock):
        if not _has_integrity_header(headers):
            raise S3Refusal(400, "InvalidRequest", DIGEST_REQUIRED)
    if not has_lock:
        return
    if not bucket.object_lock_enabled:
        raise LockNotEnabled()  # "Bucket is missing ObjectLockConfiguration", as S3 says for PutObject
    if bool(mode) != bool(until):
        missing = UNTIL if mode else MODE
        raise S3Refusal(400, "InvalidArgument", BOTH_SUPPLIED, ArgumentName=missing, ArgumentValue="")
    if until:
        when = parse_retain_until(until)
        if when is None:
            raise S3Refusal(400, "InvalidArgument", NOT_ISO8601, ArgumentName=UNTIL, ArgumentValue=until)
        if when <= _now():
            raise S3Refusal(400, "InvalidArgument", IN_THE_FUTURE, ArgumentName=UNTIL, ArgumentValue=until)


def _key_response_put(self: S3Response, query: dict[str, Any], key_name: str) -> Any:
    """moto's _key_response_put with AWS's Object Lock and checksum checks."""
    self._set_action("KEY", "PUT", query)
    self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)

    if query.get("uploadId") and query.get("partNumber"):
        if "x-amz-copy-source" in self.headers:
            return self.upload_part_copy()
        return self.upload_part()

    bucket = self.backend.get_bucket(self.bucket_name)
    headers = _headers(self)
    subresource = any(name in query for name in ("retention", "legal-hold", "acl", "tagging"))
    if "x-amz-copy-source" in headers and not subresource:
        # CopyObject keeps moto's checks.
        if headers.get(MODE) or headers.get(UNTIL) or headers.get(HOLD) == "ON":
            if not headers.get("content-md5") and not headers.get("x-amz-sdk-checksum-algorithm"):
                raise MissingUploadObjectWithObjectLockHeaders
            if not bucket.object_lock_enabled:
                raise LockNotEnabled
        return self.copy_object()
    if not subresource:
        _check_checksum_headers(headers)
        _check_put_object_lock(self, headers, bucket)
        _verify_digests(self, headers)
        result = self.put_object()
        _keep_bare_checksum(self, headers, key_name)
        return result

    if "retention" in query:
        return self.put_object_retention()
    if "legal-hold" in query:
        return self.put_object_legal_hold()
    if "acl" in query:
        return self.put_object_acl()
    return self.put_object_tagging()


def _keep_bare_checksum(response: S3Response, headers: dict[str, str], key_name: str) -> None:
    """A checksum sent as a bare x-amz-checksum-* header (no
    x-amz-sdk-checksum-algorithm) is kept too, as S3 does (moto dropped it)."""
    if headers.get("x-amz-sdk-checksum-algorithm"):
        return
    named = _checksum_headers(headers)
    if not named:
        return
    key = response.backend.get_object(response.bucket_name, key_name)
    if key is not None and not key.checksum_algorithm:
        key.checksum_algorithm, key.checksum_value = next(iter(named.items()))


def _lock_details(original: Callable[..., Any]) -> Callable[..., Any]:
    def _get_lock_details(self: S3Response, bucket: Any, lock_enabled: bool) -> Any:
        hold, mode, until = original(self, bucket, lock_enabled)
        when = parse_retain_until(until) if until else None
        return hold, mode, format_retain_until(when) if when else until

    return _get_lock_details


# ------------------------------------------------------------------ retention


def _version_of(response: S3Response, key_name: str) -> FakeKey:
    version_id = response._get_param("versionId")
    key = response.backend.get_object(
        response.bucket_name, key_name, version_id=version_id, return_delete_marker=bool(version_id)
    )
    if key is not None and not isinstance(key, FakeKey):  # a delete marker named by its VersionId
        raise MethodNotAllowed(method=response.method, resource_type="DeleteMarker")
    if key is None:
        if version_id:
            raise MissingVersion(key=key_name, version_id=version_id)
        raise MissingKey(key=key_name)
    return key


def _requested_retention(body: bytes) -> tuple[str | None, datetime.datetime | None]:
    """The Mode and RetainUntilDate of a PutObjectRetention body (both None:
    remove the retention)."""
    if not body:
        raise S3ClientError("MissingRequestBodyError", "Request Body is empty")
    try:
        retention = xmltodict.parse(body).get("Retention")
    except Exception:
        raise MalformedXML()
    retention = retention if isinstance(retention, dict) else {}
    mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
    if mode is None and until is None:
        return None, None
    when = parse_retain_until(until) if isinstance(until, str) else None
    if mode not in MODES or when is None:
        raise MalformedXML()
    if when <= _now():
        raise S3Refusal(400, "InvalidArgument", IN_THE_FUTURE)
    return mode, when


def put_object_retention(self: S3Response) -> Any:
    """PutObjectRetention: COMPLIANCE is only ever kept or extended; GOVERNANCE
    too unless the bypass header says true."""
    key_name = self.parse_key_name()
    bucket = self.backend.get_bucket(self.bucket_name)
    if not bucket.object_lock_enabled:
        raise S3Refusal(400, "InvalidRequest", MISSING_LOCK_CONFIGURATION)
    key = _version_of(self, key_name)
    mode, when = _requested_retention(self.body)
    if _retention_holds(key):
        current = parse_retain_until(str(key.lock_until))
        kept = mode == key.lock_mode and when is not None and current is not None and when >= current
        bypass = _headers(self).get(BYPASS, "").strip().lower() == "true"
        if not kept and (key.lock_mode == "COMPLIANCE" or not bypass):
            raise S3Refusal(403, "AccessDenied", LOCKED)
    key.lock_mode = mode
    key.lock_until = format_retain_until(when) if when else None
    response_headers = self._get_cors_headers_other()
    return 200, response_headers, ""


def get_object_retention(self: S3Response) -> Any:
    key_name = self.parse_key_name()
    bucket = self.backend.get_bucket(self.bucket_name)
    if not bucket.object_lock_enabled:
        raise S3Refusal(400, "InvalidRequest", MISSING_LOCK_CONFIGURATION)
    key = _version_of(self, key_name)
    until = parse_retain_until(str(key.lock_until)) if key.lock_until else None
    if key.lock_mode not in MODES or until is None:
        raise S3Refusal(404, "NoSuchObjectLockConfiguration", NO_RETENTION)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Retention xmlns="{_S3_NS}"><Mode>{key.lock_mode}</Mode>'
        f"<RetainUntilDate>{format_retain_until(until)}</RetainUntilDate></Retention>"
    )
    return 200, {"Content-Type": "application/xml"}, body


def _key_response_get(original: Callable[..., Any]) -> Callable[..., Any]:
    def answer(self: S3Response, query: dict[str, Any], key_name: str) -> Any:
        if "retention" not in query:
            return original(self, query, key_name)
        self._set_action("KEY", "GET", query)
        self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
        return get_object_retention(self)

    return answer


# ------------------------------------------------------------------ deletes, versioning


def _bucket_response_delete_keys(
    self: S3Response, bucket_name: str, authenticated: bool = True
) -> Any:
    """DeleteObjects (moto's), with the VersionId of each refused version."""
    from moto.iam.access_control import PermissionResult

    body = xmltodict.parse(self.body, strip_whitespace=False)
    bypass = _headers(self).get(BYPASS, "").strip().lower() == "true"
    objects = body["Delete"].get("Object", [])
    objects = objects if isinstance(objects, list) else [objects]
    if not objects:
        raise MalformedXML()
    deleted: list[tuple[str, str | None, str | None]] = []
    errors: list[dict[str, Any]] = []
    if not authenticated:
        errors = [{"Key": o["Key"], "Code": "AccessDenied", "Message": "Access Denied"} for o in objects]
    else:
        bucket = self.backend.get_bucket(bucket_name)
        for obj in objects:
            version_id = obj.get("VersionId")
            error = {"Key": obj["Key"], "VersionId": version_id, "Code": "AccessDenied"}
            perm = bucket.get_permission(
                "s3:DeleteObject", f"arn:aws:s3:::{bucket_name}/{obj['Key']}"
            )
            if perm == PermissionResult.DENIED:
                errors.append({**error, "Message": "Access Denied"})
                continue
            done, refused = self.backend.delete_objects(bucket_name, [obj], bypass)
            deleted.extend(done)
            errors.extend({**error, "Message": LOCKED} for _ in refused)
    self.data["Action"] = "DeleteObjects"
    return self.serialized(
        ActionResult(
            {
                "Deleted": [
                    {
                        "Key": k,
                        "VersionId": v or None,
                        "DeleteMarkerVersionId": dv or None,
                        "DeleteMarker": True if dv else None,
                    }
                    for k, v, dv in deleted
                ],
                "Errors": [{k: v for k, v in e.items() if v is not None} for e in errors],
            }
        )
    )


def _put_bucket_versioning(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_bucket_versioning(self: S3Backend, bucket_name: str, status: str) -> None:
        bucket = self.get_bucket(bucket_name)
        if bucket.object_lock_enabled and status != "Enabled":
            raise S3Refusal(409, "InvalidBucketState", VERSIONING_LOCKED)
        original(self, bucket_name, status)

    return put_bucket_versioning


def _patch_s3() -> None:
    FakeKey.is_locked = _is_locked
    s3_exceptions.AccessDeniedByLock.__init__ = _locked_init
    S3Response._key_response_put = _key_response_put
    S3Response._get_lock_details = _lock_details(S3Response._get_lock_details)
    S3Response.put_object_retention = put_object_retention
    S3Response._key_response_get = _key_response_get(S3Response._key_response_get)
    S3Response._bucket_response_delete_keys = _bucket_response_delete_keys
    S3Backend.put_bucket_versioning = _put_bucket_versioning(S3Backend.put_bucket_versioning)
    S3Response._key_response = _answering_refusals(S3Response._key_response)
    S3Response._bucket_response = _answering_refusals(S3Response._bucket_response)


# --------------------------------------------------------------------------
# KMS Sign / Verify
# --------------------------------------------------------------------------

MAX_MESSAGE = 4096
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}


def _kms_enum(shape: str) -> list[str]:
    model = botocore.session.get_session().get_service_model("kms")
    return list(model.shape_for(shape).enum)


def _kms_error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


def _blob(value: Any) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    for suffix, hash_class in _HASHES.items():
        if algorithm.endswith(suffix):
            return hash_class()
    raise ValidationException(f"Unsupported hash type in SigningAlgorithm '{algorithm}'")


def _signing_key(response: KmsResponse, operation: str) -> tuple[Any, bytes, str, str]:
    """Checks a Sign or Verify request as KMS does; returns the key, the
    message, its type and the signing algorithm."""
    key_id = response._get_param("KeyId")
    message = _blob(response._get_param("Message"))
    message_type = response._get_param("MessageType") or "RAW"
    algorithm = response._get_param("SigningAlgorithm")
    if not message:
        raise ValidationException(
            "1 validation error detected: Value at 'Message' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if len(message) > MAX_MESSAGE:
        raise ValidationException(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_MESSAGE}"
        )
    if message_type not in ("RAW", "DIGEST"):
        raise ValidationException(
            f"1 validation error detected: Value '{message_type}' at 'messageType' failed to "
            f"satisfy constraint: Member must satisfy enum value set: {_kms_enum('MessageType')}"
        )
    if algorithm not in _kms_enum("SigningAlgorithmSpec"):
        raise ValidationException(
            f"1 validation error detected: Value '{algorithm}' at 'signingAlgorithm' failed to "
            "satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(_kms_enum('SigningAlgorithmSpec'))}]"
        )
    response._validate_key_id(key_id)
    key = response.kms_backend.describe_key(key_id)
    if key.key_state == "Disabled":
        raise _kms_error("DisabledException", f"{key.arn} is disabled.")
    if key.key_state == "PendingDeletion":
        raise _kms_error("KMSInvalidStateException", f"{key.arn} is pending deletion.")
    if key.key_usage != "SIGN_VERIFY":
        raise _kms_error(
            "InvalidKeyUsageException",
            f"{key.arn} key usage is {key.key_usage or 'ENCRYPT_DECRYPT'} which is not valid "
            f"for {operation}.",
        )
    if algorithm not in (key.signing_algorithms or []):
        raise _kms_error(
            "InvalidKeyUsageException",
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec}.",
        )
    if message_type == "DIGEST" and len(message) != _hash_of(algorithm).digest_size:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    return key, message, message_type, algorithm


def _scheme(algorithm: str, message_type: str) -> tuple[Any, Any]:
    """(padding or None, hash) for cryptography's sign/verify."""
    digest = _hash_of(algorithm)
    chosen = utils.Prehashed(digest) if message_type == "DIGEST" else digest
    if algorithm.startswith("RSASSA_PSS"):
        # KMS: "PSS padding ... with a salt" as long as the digest (256-bit for SHA-256).
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.DIGEST_LENGTH), chosen
    if algorithm.startswith("RSASSA_PKCS1"):
        return padding.PKCS1v15(), chosen
    return None, chosen


def sign_message(private_key: Any, message: bytes, message_type: str, algorithm: str) -> bytes:
    pad, chosen = _scheme(algorithm, message_type)
    if pad is None:
        return private_key.sign(message, ec.ECDSA(chosen))
    return private_key.sign(message, pad, chosen)


def signature_matches(
    public_key: Any, signature: bytes, message: bytes, message_type: str, algorithm: str
) -> bool:
    pad, chosen = _scheme(algorithm, message_type)
    try:
        if pad is None:
            public_key.verify(signature, message, ec.ECDSA(chosen))
        else:
            public_key.verify(signature, message, pad, chosen)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(self: KmsResponse) -> str:
    key, message, message_type, algorithm = _signing_key(self, "Sign")
    signature = sign_message(key.private_key.private_key, message, message_type, algorithm)
    return json.dumps(
        {
            "KeyId": key.arn,
            "Signature": base64.b64encode(signature).decode(),
            "SigningAlgorithm": algorithm,
        }
    )


def verify(self: KmsResponse) -> str:
    signature = self._get_param("Signature") or b""
    if isinstance(signature, str):  # moto's _get_param decodes Message, not Signature
        try:
            signature = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationException("Signature is not valid base64.")
    if not signature:
        raise ValidationException(
            "1 validation error detected: Value at 'Signature' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    key, message, message_type, algorithm = _signing_key(self, "Verify")
    public_key = key.private_key.private_key.public_key()
    if not signature_matches(public_key, signature, message, message_type, algorithm):
        # AWS raises it without a message.
        raise _kms_error("KMSInvalidSignatureException", "")
    return json.dumps({"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm})


def _get_public_key(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_public_key(self: KmsResponse) -> str:
        self._validate_key_id(self._get_param("KeyId"))
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        if key.key_state == "PendingDeletion":
            raise _kms_error("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        answer = json.loads(original(self))
        answer["KeyId"] = key.arn
        answer["KeySpec"] = key.key_spec
        return json.dumps(answer)

    return get_public_key


def _by_key_arn(original: Callable[..., Any]) -> Callable[..., Any]:
    """DisableKey / EnableKey / CancelKeyDeletion take a key id or key ARN
    (moto: HTTP 500 for an ARN)."""

    def by_id(self: KmsBackend, key_id: str, *args: Any) -> Any:
        return original(self, self.get_key_id(key_id), *args)

    return by_id


def _default_key_usage(original: Callable[..., Any]) -> Callable[..., Any]:
    # CreateKey without KeyUsage makes an ENCRYPT_DECRYPT key (API reference, KeyUsage:
    # "Default: ENCRYPT_DECRYPT"), and DescribeKey says so; moto left it out.
    def create_key(self: KmsBackend, policy: Any, key_usage: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, policy, key_usage or "ENCRYPT_DECRYPT", *args, **kwargs)

    return create_key


def _patch_kms() -> None:
    _kms_enum("SigningAlgorithmSpec")  # load the model now, not in the first request
    KmsBackend.create_key = _default_key_usage(KmsBackend.create_key)
    for name in ("disable_key", "enable_key", "cancel_key_deletion"):
        setattr(KmsBackend, name, _by_key_arn(getattr(KmsBackend, name)))
    KmsResponse.sign = sign
    KmsResponse.verify = verify
    KmsResponse.get_public_key = _get_public_key(KmsResponse.get_public_key)


def apply() -> None:
    """Apply this module's patches (server.py calls it after baseline_moto_ext)."""
    global _APPLIED
    if _APPLIED:
        return
    _patch_s3()
    _patch_kms()
    _APPLIED = True
