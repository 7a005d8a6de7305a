"""fast_dispatch's speed patches give moto's own answers.

The same calls go to a server with the patches (server.py's default) and to one without
(--no-fast-dispatch); which account each key acts on must be the same.

    <venv>/bin/pytest tests/emulator/test_fast_dispatch.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from test_extension import MGMT_ACCOUNT, client, reset_emulator, start_server, stop_server

ACCOUNTS = 100


def start(*flags: str) -> tuple[subprocess.Popen, str]:
    return start_server(None, *flags)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    fast, fast_url = start()
    plain, plain_url = start("--no-fast-dispatch")
    yield {"fast": fast_url, "plain": plain_url}
    stop_server(fast)
    stop_server(plain)


def identity(url: str, creds: dict[str, str]) -> str:
    return client(url, "sts", creds=creds).get_caller_identity()["Account"]


def assume(url: str, account: str, session: str = "fast-dispatch") -> dict[str, str]:
    return client(url, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName=session,
    )["Credentials"]


def transcript(url: str) -> list[Any]:
    """What each key sees, with account ids replaced by their creation order (the ids are
    random, so the two servers give different ones)."""
    reset_emulator(url)
    org = client(url, "organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"acct-{i}", Email=f"acct-{i}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(ACCOUNTS)
    ]
    names = {MGMT_ACCOUNT: "management", **{a: f"#{i}" for i, a in enumerate(ids)}}
    out: list[Any] = []

    def who(creds: dict[str, str]) -> str:
        account = identity(url, creds)
        return names.get(account, account)

    # Assumed-role keys of accounts made early, late and in the middle, each assumed twice.
    picked = [ids[0], ids[1], ids[ACCOUNTS // 2], ids[-2], ids[-1]]
    sessions = {a: [assume(url, a, "first"), assume(url, a, "second")] for a in picked}
    for account, pair in sessions.items():
        out.append(("assumed", names[account], [who(c) for c in pair]))
        # State made with the key lands in that account and no other.
        iam = client(url, "iam", creds=pair[0])
        iam.create_role(RoleName=f"made-in-{names[account][1:]}",
                        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    for account, pair in sessions.items():
        roles = client(url, "iam", creds=pair[1]).list_roles()["Roles"]
        out.append(("roles", names[account], sorted(r["RoleName"] for r in roles)))
    # Long-term keys of an IAM user, in the management account and in a member account.
    mgmt_iam = client(url, "iam")
    mgmt_iam.create_user(UserName="operator")
    mgmt_key = mgmt_iam.create_access_key(UserName="operator")["AccessKey"]
    member_iam = client(url, "iam", creds=sessions[ids[-1]][0])
    member_iam.create_user(UserName="deployer")
    member_key = member_iam.create_access_key(UserName="deployer")["AccessKey"]
    out.append(("user keys", who(mgmt_key), who(member_key)))
    # A key assumed by a member account's session (role chaining) acts in its own account.
    member_iam.create_role(
        RoleName="chain",
        AssumeRolePolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
            f'"Principal":{{"AWS":"arn:aws:iam::{ids[-1]}:root"}}}}]}}'
        ),
    )
    chained = client(url, "sts", creds=sessions[ids[-1]][0]).assume_role(
        RoleArn=f"arn:aws:iam::{ids[-1]}:role/chain", RoleSessionName="chained"
    )["Credentials"]
    out.append(("chained", who(chained)))
    # A deleted key is no one's: moto then acts as the default account.
    member_iam.delete_access_key(UserName="deployer", AccessKeyId=member_key["AccessKeyId"])
    out.append(("deleted", who(member_key)))
    # An unknown key acts as the default account too.
    unknown = {"AccessKeyId": "AKIAUNKNOWNKEY000000", "SecretAccessKey": "x"}
    out.append(("unknown", who(unknown)))
    # After a reset every key is forgotten, and a new organization's keys work again.
    old = sessions[ids[-1]][0]
    reset_emulator(url)
    out.append(("after reset", who(old)))
    org = client(url, "organizations")
    org.create_organization(FeatureSet="ALL")
    fresh = org.create_account(AccountName="fresh", Email="fresh@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    out.append(("new organization", identity(url, assume(url, fresh)) == fresh))
    return out


def test_same_answers_with_and_without_the_patches(servers: dict[str, str]) -> None:
    fast = transcript(servers["fast"])
    plain = transcript(servers["plain"])
    assert fast == plain
    # And the answers are the right ones.
    assert ("assumed", f"#{ACCOUNTS - 1}", [f"#{ACCOUNTS - 1}"] * 2) in fast
    assert ("user keys", "management", f"#{ACCOUNTS - 1}") in fast
    assert ("chained", f"#{ACCOUNTS - 1}") in fast
    assert ("deleted", "management") in fast
    assert ("after reset", "management") in fast
    assert ("new organization", True) in fast


def test_expired_session_is_refused_after_many_accounts() -> None:
    """strict_access finds the session behind a key through the index: an expired session
    of the 100th account is refused, a live one of the same account is not."""
    proc, url = start("--max-session-seconds", "1")
    try:
        org = client(url, "organizations")
        org.create_organization(FeatureSet="ALL")
        ids = [
            org.create_account(AccountName=f"a-{i}", Email=f"a-{i}@example.com")[
                "CreateAccountStatus"
            ]["AccountId"]
            for i in range(ACCOUNTS)
        ]
        old = assume(url, ids[-1])
        time.sleep(1.2)
        with pytest.raises(ClientError) as refused:
            identity(url, old)
        assert refused.value.response["Error"]["Code"] == "ExpiredToken"
        assert identity(url, assume(url, ids[-1])) == ids[-1]
    finally:
        stop_server(proc)


def test_index_follows_every_change_to_an_access_key_dict() -> None:
    """In process: IndexedKeys keeps the index in step with pop, update, clear and del."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fast_dispatch

    keys = fast_dispatch.IndexedKeys("111111111111", "aws", {"AKIAFIRST00000000000": 1})
    assert fast_dispatch._KEY_INDEX["AKIAFIRST00000000000"] == ("111111111111", "aws")
    keys.update({"AKIASECOND0000000000": 2})
    keys.setdefault("AKIATHIRD00000000000", 3)
    assert {k for k, v in fast_dispatch._KEY_INDEX.items() if v[0] == "111111111111"} == {
        "AKIAFIRST00000000000", "AKIASECOND0000000000", "AKIATHIRD00000000000"}
    keys.pop("AKIAFIRST00000000000")
    del keys["AKIASECOND0000000000"]
    assert "AKIAFIRST00000000000" not in fast_dispatch._KEY_INDEX
    assert "AKIASECOND0000000000" not in fast_dispatch._KEY_INDEX
    keys.clear()
    assert "AKIATHIRD00000000000" not in fast_dispatch._KEY_INDEX
