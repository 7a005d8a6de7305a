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
"""

from __future__ import annotations

import os

CONSISTENCY_ENV = "BASELINE_EMULATOR_CONSISTENCY_SECONDS"
MAX_SESSION_ENV = "BASELINE_EMULATOR_MAX_SESSION_SECONDS"

DEFAULT_CONSISTENCY_SECONDS = 0.5
DEFAULT_MAX_SESSION_SECONDS = 3600


def consistency_seconds() -> float:
    """The eventual-consistency window, in seconds (0: none)."""
    return max(0.0, float(os.environ.get(CONSISTENCY_ENV, DEFAULT_CONSISTENCY_SECONDS)))


def max_session_seconds() -> int:
    """The longest assumed-role session, in seconds."""
    return max(1, int(os.environ.get(MAX_SESSION_ENV, DEFAULT_MAX_SESSION_SECONDS)))
