"""router.py: one endpoint over several server.py processes, answering as one server.

    <venv>/bin/pytest tests/emulator/test_router.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from test_extension import MGMT_ACCOUNT, client, reset_emulator, start_server, stop_server
from test_fast_dispatch import start as start_server_py

ROUTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "router.py")
PROCESSES = 3


def start_router(*flags: str) -> tuple[subprocess.Popen, str]:
    return start_server(None, *flags, script=ROUTER, timeout=120)


@pytest.fixture(scope="module")
def router() -> Iterator[str]:
    proc, url = start_router("--processes", str(PROCESSES), "--pin", "log-archive",
                             "--max-session-seconds", "2")
    yield url
    stop_server(proc)


@pytest.fixture(autouse=True)
def reset(router: str) -> None:
    reset_emulator(router)


def stats(url: str) -> dict[str, Any]:
    return json.load(urllib.request.urlopen(f"{url}/_router", timeout=30))


def organization(url: str, names: list[str]) -> dict[str, str]:
    org = client(url, "organizations")
    org.create_organization(FeatureSet="ALL")
    return {
        n: org.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for n in names
    }


def assume(url: str, account: str) -> dict[str, str]:
    return client(url, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="router-test",
    )["Credentials"]


def owner(account: str) -> int:
    return int(account) % PROCESSES


def test_accounts_are_spread_and_each_key_acts_in_its_account(router: str) -> None:
    names = [f"member-{i}" for i in range(12)]
    ids = organization(router, names)
    assert len({owner(a) for a in ids.values()}) > 1  # random ids: several processes
    before = stats(router)["processes"]
    for name, account in ids.items():
        creds = assume(router, account)
        assert client(router, "sts", creds=creds).get_caller_identity()["Account"] == account
        iam = client(router, "iam", creds=creds)
        # The access role CreateAccount made is in the account's own IAM, wherever it is.
        assert "OrganizationAccountAccessRole" in [r["RoleName"] for r in iam.list_roles()["Roles"]]
        iam.create_role(RoleName=f"only-in-{name}", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": []}))
        # A member session's Organizations calls reach the organization (process 0).
        described = client(router, "organizations", creds=creds).describe_organization()
        assert described["Organization"]["MasterAccountId"] == MGMT_ACCOUNT
    for name, account in ids.items():
        roles = client(router, "iam", creds=assume(router, account)).list_roles()["Roles"]
        assert sorted(r["RoleName"] for r in roles) == sorted(
            ["OrganizationAccountAccessRole", f"only-in-{name}"])
    after = stats(router)["processes"]
    served = [a["requests"] - b["requests"] for a, b in zip(after, before)]
    assert all(n > 0 for n in served), served


def test_pinned_accounts_live_with_the_management_account(router: str) -> None:
    ids = organization(router, ["log-archive"] + [f"workload-{i}" for i in range(8)])
    assert ids["log-archive"] in stats(router)["router"]["pinned"]
    org_id = client(router, "organizations").describe_organization()["Organization"]["Id"]
    # The management account's buckets are in every process (S3 writes mirrored), so
    # another process's Config finds the bucket it delivers to; that process knows the
    # organization of its accounts (aws:SourceOrgID).
    member = {"StringEquals": {"aws:SourceOrgID": org_id}}
    s3 = client(router, "s3")
    s3.create_bucket(Bucket="central-logs")
    s3.put_bucket_policy(Bucket="central-logs", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::central-logs",
             "Condition": member},
            {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::central-logs/AWSLogs/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                            **member["StringEquals"]}}},
        ],
    }))
    mirrored = sum(p["mirrored"] for p in stats(router)["processes"])
    assert mirrored == 2 * (PROCESSES - 1)
    workload = next(a for n, a in ids.items() if n != "log-archive" and owner(a) != 0)
    creds = assume(router, workload)
    iam = client(router, "iam", creds=creds)
    iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
    time.sleep(0.6)  # the consistency window for the new role
    config = client(router, "config", creds=creds)
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default",
        "roleARN": f"arn:aws:iam::{workload}:role/aws-service-role/"
                   "config.amazonaws.com/AWSServiceRoleForConfig",
        "recordingGroup": {"allSupported": True},
    })
    config.put_delivery_channel(DeliveryChannel={"name": "default",
                                                 "s3BucketName": "central-logs"})
    with pytest.raises(ClientError) as refused:
        config.put_delivery_channel(DeliveryChannel={"name": "default",
                                                     "s3BucketName": "no-such-bucket"})
    assert refused.value.response["Error"]["Code"] == "NoSuchBucketException"


def test_expired_sessions_are_refused_wherever_they_are_sent(router: str) -> None:
    ids = organization(router, ["short-lived"])
    creds = assume(router, ids["short-lived"])
    client(router, "organizations", creds=creds).describe_organization()
    time.sleep(2.2)
    for service, call in [
        ("sts", lambda c: c.get_caller_identity()),
        ("organizations", lambda c: c.describe_organization()),
        ("iam", lambda c: c.list_roles()),
    ]:
        with pytest.raises(ClientError) as refused:
            call(client(router, service, creds=creds))
        assert "Expired" in refused.value.response["Error"]["Code"], service


def test_reset_forgets_everything(router: str) -> None:
    ids = organization(router, ["gone"])
    creds = assume(router, ids["gone"])
    assert stats(router)["router"]["learned_keys"] == 1
    reset_emulator(router)
    assert stats(router)["router"]["learned_keys"] == 0
    # After a reset an old key acts as the management account again, as with one server.
    assert client(router, "sts", creds=creds).get_caller_identity()["Account"] == MGMT_ACCOUNT


def raw_exchange(url: str, requests: list[bytes]) -> list[bytes]:
    """Send requests one after another on one connection; each whole answer."""
    host, port = url.removeprefix("http://").split(":")
    out = []
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        reader = sock.makefile("rb")
        for request in requests:
            sock.sendall(request)
            status = reader.readline()
            headers = {}
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            if status.startswith(b"HTTP/1.1 100"):
                status = reader.readline()
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = reader.read(int(headers.get("content-length", "0")))
            out.append(status + body)
    return out


def signed(method: str, path: str, service: str, body: bytes, extra: str = "",
           chunked: bool = False) -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/"
        "aws4_request, SignedHeaders=host, Signature=0\r\n" + extra
    )
    if chunked:
        half = len(body) // 2
        chunks = b"".join(
            f"{len(part):x}\r\n".encode() + part + b"\r\n"
            for part in (body[:half], body[half:]) if part
        )
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks + b"0\r\n\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_http_framing(router: str) -> None:
    """Keep-alive, chunked and 100-continue requests, HEAD, on one client connection."""
    identity = b"Action=GetCallerIdentity&Version=2011-06-15"
    answers = raw_exchange(router, [
        signed("POST", "/", "sts", identity),
        signed("POST", "/", "sts", identity, chunked=True),
        signed("POST", "/", "sts", identity, extra="Expect: 100-continue\r\n"),
        signed("PUT", "/framing-bucket", "s3", b""),
        signed("HEAD", "/framing-bucket", "s3", b""),
        signed("POST", "/", "sts", identity),
    ])
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 6
    for i in (0, 1, 2, 5):
        assert b"<Account>123456789012</Account>" in answers[i]


def test_keep_alive_server_keeps_connections_and_answers_alike() -> None:
    proc, url = start_server_py("--keep-alive")
    try:
        identity = b"Action=GetCallerIdentity&Version=2011-06-15"
        answers = raw_exchange(url, [
            signed("POST", "/", "sts", identity),
            signed("PUT", "/kept-bucket", "s3", b""),
            signed("POST", "/", "sts", identity),
        ])
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
        # A chunked request is served and its connection closed, as without --keep-alive.
        last = raw_exchange(url, [signed("POST", "/", "sts", identity, chunked=True)])
        assert b"<Account>123456789012</Account>" in last[0]
    finally:
        stop_server(proc)


def test_router_exits_with_its_stdin_and_stops_its_processes() -> None:
    proc, url = start_router("--processes", "2")
    pids = [p["pid"] for p in stats(url)["processes"]]
    proc.stdin.close()
    proc.wait(timeout=30)
    deadline = time.time() + 15
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") and
                                         "Z" not in open(f"/proc/{p}/stat").read().split()[2]
                                         for p in pids):
        time.sleep(0.2)
    for pid in pids:
        alive = os.path.exists(f"/proc/{pid}")
        assert not alive or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
