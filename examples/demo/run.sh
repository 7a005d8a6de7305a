#!/usr/bin/env bash
# The demo: a local AWS emulator, the sample organization seeded with drift, then
#   baseline plan -> baseline apply -> baseline plan (no changes).
# Needs only a Rust toolchain and Python 3.11 with venv; installs the rest (the pinned
# emulator venv under target/, the baseline binary). Talks to no real AWS account.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${repo}"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Installing the emulator (moto 5.2.5, pinned) and building baseline"
venv="$(tests/emulator/ensure-venv.sh | tail -n1)"
cargo build --quiet --bin baseline
baseline="${repo}/target/debug/baseline"

say "Starting the AWS emulator on a free loopback port"
workdir="$(mktemp -d)"
mkfifo "${workdir}/stdin"
# The server stops when its stdin closes: hold the fifo open for as long as this script runs.
"${venv}/bin/python" tests/emulator/server.py --port 0 <"${workdir}/stdin" >"${workdir}/ready" 2>"${workdir}/server.log" &
server=$!
exec 3>"${workdir}/stdin"
cleanup() { exec 3>&-; kill "${server}" 2>/dev/null || true; wait "${server}" 2>/dev/null || true; rm -rf "${workdir}"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q BASELINE_EMULATOR_READY "${workdir}/ready" 2>/dev/null && break
    sleep 0.1
done
endpoint="$(awk '/BASELINE_EMULATOR_READY/ {print $2}' "${workdir}/ready")"
[[ -n "${endpoint}" ]] || { echo "the emulator did not start:"; cat "${workdir}/server.log"; exit 1; }
echo "emulator: ${endpoint}"

export AWS_ENDPOINT_URL="${endpoint}" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
aws() { "${venv}/bin/aws" --output text "$@"; }

say "Seeding the sample organization (management + 5 accounts, all in the root) with drift"
aws organizations create-organization --feature-set ALL >/dev/null
declare -A ids
for name in log-archive audit prod-app prod-data staging-app; do
    ids[${name}]="$(aws organizations create-account --account-name "${name}" \
        --email "${name}@example.com" --query CreateAccountStatus.AccountId)"
    echo "  account ${name}: ${ids[${name}]}"
done
# Drift a platform team would recognise:
# - an SCP created by hand (untagged) with the declared name: baseline adopts it;
aws organizations create-policy --name deny-leave-organization --type SERVICE_CONTROL_POLICY \
    --description "hand-made" \
    --content "$(cat baselines/policies/deny-leave-organization.json)" >/dev/null
echo "  hand-made SCP deny-leave-organization (untagged)"
# - a weak password policy in prod-app, set through the assumed access role.
creds="$(aws sts assume-role --role-arn "arn:aws:iam::${ids[prod-app]}:role/OrganizationAccountAccessRole" \
    --role-session-name demo-seed --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]')"
read -r ak sk st <<<"${creds}"
AWS_ACCESS_KEY_ID="${ak}" AWS_SECRET_ACCESS_KEY="${sk}" AWS_SESSION_TOKEN="${st}" \
    aws iam update-account-password-policy --minimum-password-length 8
echo "  weak password policy in prod-app (min length 8)"

cd examples/sample-org

say "baseline plan"
"${baseline}" plan

say "baseline apply --auto-approve"
"${baseline}" apply --auto-approve --change-log "${workdir}/baseline-changes.jsonl"

say "baseline plan again: nothing left to change"
"${baseline}" plan
# The same, checked by machine: no change of any kind is left (findings, such as a root user
# without MFA, need a person and stay reported).
"${baseline}" plan --format json | "${venv}/bin/python" -c '
import json, sys
s = json.load(sys.stdin)["summary"]
changes = sum(s[k] for k in ("create", "adopt", "update", "replace", "delete"))
findings, unchanged = s["findings"], s["unchanged"]
print(f"changes left: {changes}, findings: {findings}, instances that match: {unchanged}")
sys.exit(1 if changes else 0)'

say "baseline log verify: the change log's hash chain is intact"
"${baseline}" log verify --log "${workdir}/baseline-changes.jsonl"

say "baseline log export --format markdown (the auditor's view; first lines)"
"${baseline}" log export --log "${workdir}/baseline-changes.jsonl" --format markdown >"${workdir}/changes.md"
head -n 16 "${workdir}/changes.md"

say "baseline report --framework soc2: the controls an auditor asks about (coverage line)"
"${baseline}" report --framework soc2 --format html >"${workdir}/soc2.html"
cp "${workdir}/soc2.html" "${repo}/target/demo-soc2-report.html"
echo "(the HTML report is in target/demo-soc2-report.html)"

say "Done: the emulator stops now"
