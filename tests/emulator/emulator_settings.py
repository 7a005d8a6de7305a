"""Knobs of the strict emulator, shared by every strict module.

Each knob is read from the environment at call time, so a test can start a
server with its own values (server.py's flags set these variables before the
server starts serving):

  BASELINE_EMULATOR_CONSISTENCY_SECONDS  (server.py --consistency-window)
      How long AWS's "for a moment" lasts: a policy type stays PENDING_ENABLE,
      a new KMS key or alias is not found, a new IAM role cannot be assumed by
      Config or Backup, a closing account stays PENDING_CLOSURE, an enabling
      region stays ENABLING. Default 0.5 s; 0 turns the windows off.
  BASELINE_EMULATOR_MAX_SESSION_SECONDS  (server.py --max-session-seconds)
      The longest session sts:AssumeRole hands out (AWS: one hour for a
      chained role). Credentials past their Expiration are refused with
      ExpiredToken. Default 3600.

Faults, latency and rate limits (faults.py; POST /_baseline/faults changes
them at runtime by rewriting these variables):

  BASELINE_EMULATOR_LATENCY_MS  (server.py --latency-ms)
      Milliseconds slept before serving each request: an injected round trip.
      Default 0.
  BASELINE_EMULATOR_THROTTLE_RATE  (server.py --throttle-rate)
  BASELINE_EMULATOR_SERVER_ERROR_RATE  (server.py --server-error-rate)
  BASELINE_EMULATOR_DROP_RATE  (server.py --drop-rate)
      Probabilities (0..1, default 0) that a request is answered with the
      service's throttling error, with a server error (HTTP 500), or that its
      connection is dropped without an answer (half before it is served, half
      after). Together at most 1.
  BASELINE_EMULATOR_FAULT_SEED  (server.py --fault-seed)
      Seed of the random stream that picks the faults (unset: a random seed).
  BASELINE_EMULATOR_RATE_LIMITS  (server.py --rate-limit, --aws-rate-limits)
      Token buckets, rules separated by ";" (see faults.parse_rate_limits):
      SERVICE[:OPERATION[,OPERATION...]|:*]=RATE[/BURST], or "aws" for
      faults.AWS_RATE_LIMITS. Default: none.
"""

from __future__ import annotations

import os

CONSISTENCY_ENV = "BASELINE_EMULATOR_CONSISTENCY_SECONDS"
MAX_SESSION_ENV = "BASELINE_EMULATOR_MAX_SESSION_SECONDS"
LATENCY_ENV = "BASELINE_EMULATOR_LATENCY_MS"
THROTTLE_RATE_ENV = "BASELINE_EMULATOR_THROTTLE_RATE"
SERVER_ERROR_RATE_ENV = "BASELINE_EMULATOR_SERVER_ERROR_RATE"
DROP_RATE_ENV = "BASELINE_EMULATOR_DROP_RATE"
FAULT_SEED_ENV = "BASELINE_EMULATOR_FAULT_SEED"
RATE_LIMITS_ENV = "BASELINE_EMULATOR_RATE_LIMITS"

DEFAULT_CONSISTENCY_SECONDS = 0.5
DEFAULT_MAX_SESSION_SECONDS = 3600


def consistency_seconds() -> float:
    """The eventual-consistency window, in seconds (0: none)."""
    return max(0.0, float(os.environ.get(CONSISTENCY_ENV, DEFAULT_CONSISTENCY_SECONDS)))


def max_session_seconds() -> int:
    """The longest assumed-role session, in seconds."""
    return max(1, int(os.environ.get(MAX_SESSION_ENV, DEFAULT_MAX_SESSION_SECONDS)))


def latency_ms() -> float:
    """The round trip added to each request, in milliseconds (0: none)."""
    return max(0.0, float(os.environ.get(LATENCY_ENV) or 0))


def _probability(name: str) -> float:
    return min(1.0, max(0.0, float(os.environ.get(name) or 0)))


def throttle_rate() -> float:
    """Probability that a request is throttled by the fault mix."""
    return _probability(THROTTLE_RATE_ENV)


def server_error_rate() -> float:
    """Probability that a request gets a server error (HTTP 500)."""
    return _probability(SERVER_ERROR_RATE_ENV)


def drop_rate() -> float:
    """Probability that a request's connection is dropped without an answer."""
    return _probability(DROP_RATE_ENV)


def fault_seed() -> int | None:
    """Seed of the fault mix's random stream (None: seeded at random)."""
    value = os.environ.get(FAULT_SEED_ENV)
    return int(value) if value not in (None, "") else None


def rate_limits() -> str:
    """The rate-limit rules, as faults.parse_rate_limits reads them."""
    return os.environ.get(RATE_LIMITS_ENV, "")
