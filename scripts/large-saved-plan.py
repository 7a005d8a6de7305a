#!/usr/bin/env python3
"""Write a large saved plan (the format of `baseline plan --out`) for measuring `baseline show`.

    scripts/large-saved-plan.py [--accounts N] [--drift-every K] [--no-keys] [--compact] > big.plan.json
    /usr/bin/time -v target/release/baseline show big.plan.json > /dev/null

Every account gets a password policy, a Security Hub, a Config recorder and (unless
--no-keys) a KMS key with a key policy document; every K-th account (default 1: all) drifts
(an update with a policy diff), the others match. The defaults (600 accounts, indented as
`plan --out` writes) make about 15 MB; `--accounts 1150 --compact` about 14 MB of compact JSON.
"""

import argparse
import json
import sys


def policy(account_id, extra):
    statements = [
        {
            "Sid": "EnableRootAccess",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowCloudTrailEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": [
                        f"arn:aws:cloudtrail:*:{account_id}:trail/*"
                    ]
                }
            },
        },
    ]
    for i in range(extra):
        statements.append(
            {
                "Sid": f"AllowRole{i}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:role/app-role-{i}"},
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*"],
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def item(kind, name, account, account_id, region, desired, live_attrs, drift):
    diffs = [
        {"name": k, "before": live_attrs.get(k), "after": v}
        for k, v in desired.items()
        if live_attrs.get(k) != v
    ] if drift else []
    return {
        "address": {"kind": kind, "name": name, "account": account, "region": region},
        "account_id": account_id,
        "region": region or "us-east-1",
        "action": "update" if diffs else None,
        "diffs": diffs,
        "desired": desired,
        "live": {
            "attrs": live_attrs if drift else desired,
            "ids": {"arn": f"arn:aws:{kind}:us-east-1:{account_id}:{name}"},
            "managed": True,
        },
        "findings": [],
    }


def main():
    args = argparse.ArgumentParser(description="Write a large saved plan to stdout.")
    args.add_argument("--accounts", type=int, default=600)
    args.add_argument("--drift-every", type=int, default=1)
    args.add_argument("--no-keys", action="store_true")
    args.add_argument("--compact", action="store_true")
    args = args.parse_args()
    accounts, drift_every, with_keys = args.accounts, args.drift_every, not args.no_keys
    items = []
    fingerprints = {}
    for n in range(accounts):
        account = f"workload-{n:05}"
        account_id = f"{100000000000 + n}"
        drift = n % drift_every == 0
        pp = {"min-length": 14, "require-symbols": True, "max-age": 90, "reuse-prevention": 24}
        items.append(item("password-policy", "default", account, account_id, None, pp,
                          dict(pp, **{"min-length": 8}), drift))
        hub = {"standards": ["aws-foundational-security-best-practices",
                             "cis-aws-foundations-benchmark/1.4.0"], "auto-enable-controls": True}
        items.append(item("security-hub", "default", account, account_id, "us-east-1", hub,
                          dict(hub, standards=hub["standards"][:1]), drift))
        rec = {"all-supported": True, "include-global-resources": True,
               "delivery-bucket": "org-config-logs", "delivery-frequency": "One_Hour"}
        items.append(item("config-recorder", "default", account, account_id, "us-east-1", rec,
                          dict(rec, **{"delivery-frequency": "Six_Hours"}), drift))
        if with_keys:
            key = {"description": "Organization logs", "rotation": True,
                   "policy": policy(account_id, 12)}
            items.append(item("kms-key", "org-logs", account, account_id, "us-east-1", key,
                              dict(key, policy=policy(account_id, 10)), drift))
        if drift:
            for i in items[-(4 if with_keys else 3):]:
                a = i["address"]
                where = f"[{a['account']}/{a['region']}]" if a["region"] else f"[{a['account']}]"
                fingerprints[f"{a['kind']}.{a['name']}{where}"] = f"{n:064x}"
    plan = {
        "saved_plan_format": "1",
        "created": "2026-11-23T10:00:00.000Z",
        "tool_version": "0.1.0",
        "root": "baseline.kdl",
        "baseline_digest": "0" * 64,
        "scope": {"targets": [], "accounts": [], "regions": []},
        "items": items,
        "orphans": [],
        "fingerprints": fingerprints,
    }
    if args.compact:
        json.dump(plan, sys.stdout, separators=(",", ":"))
    else:
        json.dump(plan, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
