#!/usr/bin/env python3
"""Run moto's server (with baseline's extension applied) on 127.0.0.1.

    <venv>/bin/python tests/emulator/server.py [--port N] [--log-requests]
        [--consistency-window SECONDS] [--max-session-seconds N]
        [--latency-ms N] [--throttle-rate F] [--server-error-rate F]
        [--drop-rate F] [--fault-seed N] [--rate-limit SERVICE=RATE[/BURST]]...
        [--aws-rate-limits]
        [--no-fast-dispatch] [--keep-alive]

--port 0 (the default) lets the OS pick a free port. Once listening, the
server prints exactly one line to stdout and flushes it:

    BASELINE_EMULATOR_READY http://127.0.0.1:<port>

Anything written to stdout after that line (moto sometimes print()s) is sent
to stderr instead, so a parent that reads only the READY line never blocks on
a full pipe. Request logging is off unless --log-requests is given (then it
goes to stderr). MOTO_ACCOUNT_ID is removed from the environment: it would
pin every request to one account and break assumed-role account isolation.
A port that cannot be bound makes the server exit non-zero at once.

The server exits by itself when its stdin reaches EOF -- so a parent test
process that dies (closing the pipe) never leaves it running -- and on
SIGTERM / SIGINT. Pass --ignore-stdin to run it by hand in the background
(e.g. `server.py --port 5000 --ignore-stdin &`, or `</dev/null` would stop it
at once).

Faults, latency and rate limits (faults.py, the outermost WSGI layer, so a
throttled request changes nothing): --latency-ms sleeps that long before
serving each request; --throttle-rate, --server-error-rate and --drop-rate are
the probabilities (0..1, default 0) that a request gets the service's own
throttling error, an HTTP 500, or a connection closed without an answer (half
before it is served, half after); --fault-seed makes that random stream
reproducible. --rate-limit SERVICE=RATE[/BURST] (repeatable; SERVICE is the
SigV4 signing name, SERVICE:Op1,Op2=... or SERVICE:*=... for per-operation
buckets) refuses requests beyond a token bucket's rate with the throttling
error; --aws-rate-limits adds faults.AWS_RATE_LIMITS (AWS's documented or
inferred limits, Organizations tight). GET /_baseline/faults returns the
counters, POST /_baseline/faults with a JSON body changes the knobs at
runtime; neither is ever delayed or faulted.

fast_dispatch.py's speed patches (same answers, less CPU per request with many
accounts) are applied before anything else; --no-fast-dispatch leaves them out,
to measure what they save. --keep-alive keeps connections open between requests
(werkzeug closes each after one answer); router.py passes it to its processes.
"""

import argparse
import logging
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Before any moto backend exists: the speed patches index IAM's access keys as they are made.
if "--no-fast-dispatch" not in sys.argv[1:]:
    import fast_dispatch  # noqa: E402

    fast_dispatch.apply()

import baseline_moto_ext  # noqa: E402  (applies the patches on import)
import emulator_settings  # noqa: E402
import faults  # noqa: E402  (latency, throttling, 5xx, dropped connections, rate limits)
import strict_access  # noqa: E402
import strict_policies  # noqa: E402  (the router's organization members)
import access_analyzer  # noqa: E402  (IAM Access Analyzer, which moto lacks)
import strict_guardrails  # noqa: E402  (credential report, GuardDuty, EBS, S3 Control)
import strict_anchors  # noqa: E402  (S3 Object Lock, KMS Sign/Verify)
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

if "--no-fast-dispatch" not in sys.argv[1:]:
    fast_dispatch.apply_late()  # noqa: F821  (imported above)
access_analyzer.apply()
strict_guardrails.apply()
strict_anchors.apply()

HOST = "127.0.0.1"


def _watch_stdin(stop: threading.Event) -> None:
    """Set `stop` once stdin reaches EOF (the parent closed it or died)."""
    # os.read on the raw fd: a daemon thread blocked inside sys.stdin's
    # buffered reader would abort the interpreter at shutdown.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument(
        "--log-requests", action="store_true", help="log each request to stderr"
    )
    parser.add_argument(
        "--ignore-stdin",
        action="store_true",
        help="do not exit on stdin EOF (stop with SIGTERM/SIGINT)",
    )
    parser.add_argument(
        "--consistency-window",
        type=float,
        help="seconds AWS takes to become consistent (default 0.5; 0 = at once)",
    )
    parser.add_argument(
        "--max-session-seconds",
        type=int,
        help="longest assumed-role session (default 3600, AWS's limit for chained roles)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0,
        help="round trip added to each request, in milliseconds (default 0)",
    )
    parser.add_argument(
        "--throttle-rate", type=float, default=0.0,
        help="probability that a request is throttled (0..1, default 0)",
    )
    parser.add_argument(
        "--server-error-rate", type=float, default=0.0,
        help="probability that a request gets an HTTP 500 (0..1, default 0)",
    )
    parser.add_argument(
        "--drop-rate", type=float, default=0.0,
        help="probability that a connection is dropped without an answer (0..1)",
    )
    parser.add_argument(
        "--fault-seed", type=int, help="seed of the fault mix's random stream",
    )
    parser.add_argument(
        "--rate-limit", action="append", default=[], metavar="SERVICE=RATE[/BURST]",
        help="token bucket per service (repeatable; SERVICE:Op1,Op2= or SERVICE:*= "
        "for per-operation buckets)",
    )
    parser.add_argument(
        "--aws-rate-limits", action="store_true",
        help="AWS-like rate limits (faults.AWS_RATE_LIMITS; --rate-limit adjusts them)",
    )
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="keep connections open between requests (router.py's processes)",
    )
    parser.add_argument(
        "--no-fast-dispatch",
        action="store_true",
        help="serve without fast_dispatch.py's speed patches (to measure them)",
    )
    args = parser.parse_args(argv)
    rates = (args.throttle_rate, args.server_error_rate, args.drop_rate)
    if min(rates) < 0 or sum(rates) > 1 or args.latency_ms < 0:
        parser.error("fault rates must be in 0..1 and add up to at most 1; latency >= 0")
    rate_limits = ";".join((["aws"] if args.aws_rate_limits else []) + args.rate_limit)
    try:
        faults.parse_rate_limits(rate_limits)
    except ValueError as exc:
        parser.error(str(exc))
    # The strict modules read their knobs from the environment (emulator_settings).
    if args.consistency_window is not None:
        os.environ[emulator_settings.CONSISTENCY_ENV] = str(args.consistency_window)
    if args.max_session_seconds is not None:
        os.environ[emulator_settings.MAX_SESSION_ENV] = str(args.max_session_seconds)
    for name, value in (
        (emulator_settings.LATENCY_ENV, args.latency_ms),
        (emulator_settings.THROTTLE_RATE_ENV, args.throttle_rate),
        (emulator_settings.SERVER_ERROR_RATE_ENV, args.server_error_rate),
        (emulator_settings.DROP_RATE_ENV, args.drop_rate),
    ):
        if value:  # a flag left at 0 keeps the environment's value
            os.environ[name] = str(value)
    if args.fault_seed is not None:
        os.environ[emulator_settings.FAULT_SEED_ENV] = str(args.fault_seed)
    if rate_limits:
        os.environ[emulator_settings.RATE_LIMITS_ENV] = rate_limits

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(
        logging.INFO if args.log_requests else logging.ERROR
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # MOTO_ACCOUNT_ID would pin every request to one account and defeat the
    # per-account state that assumed-role credentials rely on.
    if os.environ.pop("MOTO_ACCOUNT_ID", None) is not None:
        print("server.py: ignoring MOTO_ACCOUNT_ID", file=sys.stderr)

    # Bind in the main thread (what moto's ThreadedMotoServer does inside its
    # thread), so a bind error fails fast instead of hanging start().
    # faults outermost: a throttled, failed or dropped-before request is refused
    # before any strict check or moto sees it.
    app = faults.wrap_wsgi(
        strict_policies.wrap_wsgi(
            strict_access.wrap_wsgi(DomainDispatcherApplication(create_backend_app))
        )
    )
    handler = MotoRequestHandler
    if args.keep_alive:
        import fast_dispatch

        handler = fast_dispatch.keep_alive_handler(MotoRequestHandler)
    server = make_server(HOST, args.port, app, threaded=True, request_handler=handler)
    port = server.server_address[1]
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    # Some moto responses embed the server's own URL (e.g. SQS queue URLs).
    os.environ["MOTO_PORT"] = str(port)

    sys.stdout.write(f"BASELINE_EMULATOR_READY http://{HOST}:{port}\n")
    sys.stdout.flush()
    # From here on, stdout is stderr: the READY line is the only stdout output.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if not args.ignore_stdin:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()

    # Wake up periodically so signal handlers run promptly on every platform.
    while not stop.wait(0.5):
        pass
    server.shutdown()
    serving.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
