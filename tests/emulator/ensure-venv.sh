#!/usr/bin/env bash
# Create or refresh the Python venv that runs the AWS emulator (moto server
# plus baseline's extension), its tests and the aws CLI.
#
#   tests/emulator/ensure-venv.sh          # prints the venv path last
#
# Venv location: $BASELINE_EMULATOR_VENV, else <repo root>/target/emulator-venv.
# The work is skipped when the venv's stamp file holds the sha256 of
# requirements.txt. Concurrent callers serialise on a flock'd lock file next
# to the venv, so two test processes starting at once are safe.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/../.." && pwd)"
venv="${BASELINE_EMULATOR_VENV:-${repo_root}/target/emulator-venv}"
requirements="${script_dir}/requirements.txt"
stamp="${venv}/.baseline-requirements.sha256"
lock="${venv}.lock"

if command -v python3.11 >/dev/null 2>&1; then
    python="python3.11"
else
    python="python3"
fi

want="$(sha256sum "${requirements}" | cut -d' ' -f1)"

up_to_date() {
    [[ -x "${venv}/bin/python" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]
}

mkdir -p "$(dirname "${venv}")"

if ! up_to_date; then
    exec 9>"${lock}"
    flock 9
    # Another process may have finished the work while we waited.
    if ! up_to_date; then
        echo "ensure-venv: building ${venv} with ${python}" >&2
        rm -rf "${venv}"
        "${python}" -m venv "${venv}"
        "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "${requirements}" >&2
        echo "${want}" >"${stamp}"
    fi
    flock -u 9
    exec 9>&-
fi

echo "${venv}"
