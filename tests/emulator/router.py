#!/usr/bin/env python3
"""Spread the emulator over several server.py processes, behind one endpoint.

    <venv>/bin/python tests/emulator/router.py --processes N [--port P]
        [--pin ACCOUNT-ID-OR-NAME ...] [--ignore-stdin] [server.py flags ...]

One moto process serves a few hundred calls a second on one core (the GIL), so a
load test of a thousand accounts would measure the emulator. The router starts N
server.py processes (every flag it does not know itself, --latency-ms say, is
passed to each of them) and sends each request to the process that owns the
account the request acts in. It answers the same READY line as server.py
(`BASELINE_EMULATOR_READY http://127.0.0.1:<port>`, the only line on stdout),
exits on stdin EOF (unless --ignore-stdin) and on SIGTERM / SIGINT, and stops its
processes with it. Standard library only: asyncio, HTTP/1.1 with keep-alive
connections to each process (Content-Length and chunked bodies; Expect:
100-continue answered by the router).

Who owns what
  Process 0 holds the management account (any key the router has not learned acts
  there, as in server.py), the organization (every `organizations` and `account`
  request goes there), and the pinned accounts (--pin, by id or by the name given
  to CreateAccount). Every other account belongs to process int(id) % N.
  Organization-level resources that other accounts' calls look up must live in
  process 0: pin the accounts that hold them (the log archive whose bucket every
  account's Config delivers to, the delegated administrators).

What the router learns and does to keep one organization across processes
  CreateAccount  is answered by process 0, which makes the access role in the new
                 account's IAM there (sts:AssumeRole's trust check). When another
                 process owns the account, the router makes the same role there
                 (same name, trusting the management account), so the account's
                 own IAM lists it and AssumeRole can be served by its owner.
  AssumeRole     goes to the process owning the role's account, which issues the
                 session there (so its expiry, GetCallerIdentity and the caller's
                 identity in policy checks work as in one process). The router
                 learns access key id -> account (and expiry) from the answer, and
                 sends every request signed with that key to that process.
                 CreateAccessKey's keys are learned the same way.
  Across         A request whose key was issued by another process than the one
                 serving it (an `organizations` call of a member session, say)
                 carries `x-moto-account-id: <account>`, which moto honours. A
                 session past its expiration is sent to the process that issued it,
                 which refuses it (ExpiredToken) as server.py does.
  Membership     each other process is told the organization's id for the accounts it
                 owns (POST /_baseline/organization-member), so that a service acting
                 for one of them carries aws:SourceOrgID there too (Config's delivery
                 check).
  S3 writes      of the management and pinned accounts (PUT, POST, DELETE) are also
                 made in every other process, once process 0 has accepted them, so that those
                 processes find process 0's buckets and their policies (AWS Config's
                 delivery-channel check reads the bucket of the log archive).
  Reset          POST /moto-api/reset resets every process and forgets what was
                 learned.
  Counters       GET/POST /_baseline/faults (faults.py's control endpoint) goes to
                 every process; the answer sums their counters and lists each under
                 "processes". GET /_router answers the router's own figures: requests
                 per process, each process's pid and CPU seconds, the router's CPU.

Not reproduced across processes: anything else one account's call reads from
another account in another process (an organization analyzer's findings see only
process 0's accounts; an opt-in region enabled through process 0 is not enabled
for the other processes' request checks; a role chained from one account into
another process's account). The load bench uses only default regions, pins the
accounts holding organization-level resources, and needs no more.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs, quote, unquote

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
READY = "BASELINE_EMULATOR_READY "
HOST = "127.0.0.1"
MANAGEMENT_ACCOUNT = "123456789012"  # moto's default account: unknown keys act there
CONTROL_FAULTS = b"/_baseline/faults"
CONTROL_ROUTER = b"/_router"
RESET = b"/moto-api/reset"

_CREDENTIAL = re.compile(rb"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_PRESIGNED = re.compile(rb"X-Amz-Credential=([^&]+)")
_ACCESS_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_EXPIRATION = re.compile(rb"<Expiration>([^<]+)</Expiration>")
_ROLE_ARN = re.compile(rb"(?:^|&)RoleArn=([^&]*)")
_ACTION = re.compile(rb"(?:^|&)Action=([^&]*)")
_NO_BODY_STATUS = (204, 304)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its waited-for children), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / _CLOCK_TICKS


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def set_nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Dropped(Exception):
    """The process closed the connection without a (whole) answer: faults.py dropped it,
    or the process died. The client's connection is dropped the same way."""


# --------------------------------------------------------------------------
# HTTP/1.1 messages
# --------------------------------------------------------------------------


class Message:
    """A request or response: its first line, headers (raw, in order) and whole body."""

    __slots__ = ("first", "headers", "body", "_lower")

    def __init__(self, first: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.first = first
        self.headers = headers
        self.body = body
        self._lower: dict[bytes, bytes] | None = None

    def get(self, name: bytes) -> bytes | None:
        if self._lower is None:
            self._lower = {k.lower(): v for k, v in self.headers}
        return self._lower.get(name)

    def encode(self, drop: tuple[bytes, ...] = (), add: list[tuple[bytes, bytes]] | None = None,
               length: bool = True) -> bytes:
        """The message with headers in `drop` (lower case) left out, `add` appended and a
        Content-Length for the (whole, unchunked) body."""
        skip = set(drop) | {b"content-length", b"transfer-encoding"}
        lines = [self.first]
        lines += [k + b": " + v for k, v in self.headers if k.lower() not in skip]
        for k, v in add or ():
            lines.append(k + b": " + v)
        if length:
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


def parse_head(head: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    lines = head[:-4].split(b"\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers (ignored) end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def read_body(reader: asyncio.StreamReader, msg: Message) -> bytes:
    if (msg.get(b"transfer-encoding") or b"").lower().endswith(b"chunked"):
        return await read_chunked(reader)
    length = msg.get(b"content-length")
    if length:
        return await reader.readexactly(int(length))
    return b""


# --------------------------------------------------------------------------
# The processes
# --------------------------------------------------------------------------


class Process:
    """One server.py process and the idle keep-alive connections to it."""

    def __init__(self, index: int, proc: subprocess.Popen, port: int) -> None:
        self.index = index
        self.proc = proc
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.requests = 0
        self.mirrored = 0
        self.opened = 0

    async def exchange(self, request: bytes, head_request: bool) -> Message:
        """Send one request; the whole answer. Dropped when the process closes first."""
        conn = None
        while self.idle:
            conn = self.idle.pop()
            if not conn[0].at_eof() and not conn[1].is_closing():
                break
            conn[1].close()
            conn = None
        if conn is None:
            reader, writer = await asyncio.open_connection(HOST, self.port, limit=1 << 20)
            set_nodelay(writer)
            self.opened += 1
            conn = (reader, writer)
        reader, writer = conn
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            first, headers = parse_head(head)
            status = int(first.split(b" ", 2)[1])
            response = Message(first, headers, b"")
            keep = (response.get(b"connection") or b"").lower() != b"close"
            if head_request or status in _NO_BODY_STATUS or 100 <= status < 200:
                pass
            elif (response.get(b"transfer-encoding") is not None
                  or response.get(b"content-length") is not None):
                response.body = await read_body(reader, response)
            else:  # no length: the body runs to the end of the connection
                response.body = await reader.read()
                keep = False
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError) as e:
            writer.close()
            raise Dropped(str(e)) from e
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append(conn)
        else:
            writer.close()
        return response


def start_processes(count: int, flags: list[str]) -> list[tuple[subprocess.Popen, int]]:
    procs = [
        subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", "--keep-alive", *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    started = []
    for proc in procs:
        line = proc.stdout.readline().decode()
        if not line.startswith(READY):
            for p in procs:
                p.kill()
            raise SystemExit(f"router.py: a server.py process did not start: {line!r}")
        started.append((proc, int(line.strip().rsplit(":", 1)[1])))
    return started


# --------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------


class Router:
    def __init__(self, processes: list[Process], pins: list[str]) -> None:
        self.processes = processes
        self.count = len(processes)
        self.pin_ids = {p for p in pins if p.isdigit()}
        self.pin_names = {p for p in pins if not p.isdigit()}
        self.pinned_by_name: set[str] = set()
        # access key id -> (account, expiry epoch or None, index of the issuing process)
        self.keys: dict[bytes, tuple[str, float | None, int]] = {}
        # The organization's id (from CreateOrganization's answer), which the processes
        # other than 0 are told for the accounts they own.
        self.organization: str | None = None
        self.requests = 0
        self.connections = 0
        self.started = time.time()

    def owner(self, account: str) -> int:
        if (self.count == 1 or account == MANAGEMENT_ACCOUNT or account in self.pin_ids
                or account in self.pinned_by_name):
            return 0
        try:
            return int(account) % self.count
        except ValueError:
            return 0

    def central(self, account: str) -> bool:
        """The management account and the pinned ones, whose S3 writes every process sees."""
        return (account == MANAGEMENT_ACCOUNT or account in self.pin_ids
                or account in self.pinned_by_name)

    # -- the request's destination ---------------------------------------------------

    def route(self, req: Message, path: bytes) -> tuple[int, list[tuple[bytes, bytes]], str | None,
                                                         bytes | None, bytes | None]:
        """(process index, headers to add, the account acted in, signing service, key)."""
        auth = req.get(b"authorization")
        found = _CREDENTIAL.search(auth) if auth else None
        if found is not None:
            key, service = found.group(1), found.group(3)
        else:
            query = req.first.split(b" ", 2)[1].partition(b"?")[2]
            pre = _PRESIGNED.search(query) if query else None
            if pre is None:
                return 0, [], None, None, None
            parts = unquote(pre.group(1).decode()).encode().split(b"/")
            if len(parts) != 5:
                return 0, [], None, None, None
            key, service = parts[0], parts[3]
        learned = self.keys.get(key)
        account = learned[0] if learned else MANAGEMENT_ACCOUNT
        if service == b"organizations" or service == b"account":
            index = 0
        elif service == b"sts" and _is_action(req.body, b"AssumeRole"):
            role = _ROLE_ARN.search(req.body)
            arn = unquote(role.group(1).decode()) if role else ""
            parts = arn.split(":")
            index = self.owner(parts[4]) if len(parts) > 5 else self.owner(account)
        else:
            index = self.owner(account)
        add: list[tuple[bytes, bytes]] = []
        if learned is not None and learned[2] != index:
            expiry = learned[1]
            if expiry is not None and time.time() >= expiry:
                index = learned[2]  # it refuses the expired session itself
            else:
                add.append((b"x-moto-account-id", account.encode()))
        return index, add, account, service, key

    # -- what the router learns ------------------------------------------------------

    async def learn(self, req: Message, response: Message, index: int, account: str | None,
                    service: bytes | None) -> None:
        status = int(response.first.split(b" ", 2)[1])
        if status >= 300 or service is None:
            return
        if service == b"sts" and _is_action(req.body, b"AssumeRole"):
            role = _ROLE_ARN.search(req.body)
            key = _ACCESS_KEY_ID.search(response.body)
            if role and key:
                arn = unquote(role.group(1).decode()).split(":")
                expiry = _EXPIRATION.search(response.body)
                self.keys[key.group(1)] = (
                    arn[4], _epoch(expiry.group(1).decode()) if expiry else None, index)
        elif service == b"iam" and _is_action(req.body, b"CreateAccessKey"):
            key = _ACCESS_KEY_ID.search(response.body)
            if key and account:
                self.keys[key.group(1)] = (account, None, index)
        elif service == b"organizations" and (req.get(b"x-amz-target") or b"").endswith(
                b".CreateAccount"):
            await self.account_created(req, response)
        elif service == b"organizations" and (req.get(b"x-amz-target") or b"").endswith(
                b".CreateOrganization"):
            try:
                self.organization = json.loads(response.body)["Organization"]["Id"]
            except (ValueError, KeyError):
                pass

    async def account_created(self, req: Message, response: Message) -> None:
        try:
            asked = json.loads(req.body or b"{}")
            status = json.loads(response.body)["CreateAccountStatus"]
        except (ValueError, KeyError):
            return
        account = status.get("AccountId")
        if not account:
            return
        if asked.get("AccountName") in self.pin_names:
            self.pinned_by_name.add(account)
        index = self.owner(account)
        if index == 0:
            return
        role_name = asked.get("RoleName") or "OrganizationAccountAccessRole"
        trust = {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }],
        }
        body = (
            f"Action=CreateRole&Version=2010-05-08&RoleName={quote(role_name)}&Path=%2F"
            f"&MaxSessionDuration=3600&AssumeRolePolicyDocument={quote(json.dumps(trust))}"
        ).encode()
        request = Message(
            b"POST / HTTP/1.1",
            [
                (b"Host", f"{HOST}:{self.processes[index].port}".encode()),
                (b"Content-Type", b"application/x-www-form-urlencoded; charset=utf-8"),
                (b"Authorization", b"AWS4-HMAC-SHA256 Credential=BASELINEROUTER000000/"
                 b"20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"),
                (b"x-moto-account-id", account.encode()),
            ],
            body,
        ).encode()
        # The account's organization, for the owner's checks that need its id.
        if self.organization is not None:
            member = json.dumps({"account": account, "organization": self.organization}).encode()
            notice = Message(
                b"POST /_baseline/organization-member HTTP/1.1",
                [
                    (b"Host", f"{HOST}:{self.processes[index].port}".encode()),
                    (b"Content-Type", b"application/json"),
                ],
                member,
            ).encode()
            await self.processes[index].exchange(notice, False)
        # Injected faults may refuse it: the role must be there before CreateAccount answers.
        for _ in range(50):
            try:
                answer = await self.processes[index].exchange(request, False)
            except Dropped:
                continue
            code = int(answer.first.split(b" ", 2)[1])
            if code < 300 or b"EntityAlreadyExists" in answer.body:
                return
            await asyncio.sleep(0.05)
        print(f"router.py: could not make {role_name} in {account}", file=sys.stderr)

    async def mirror(self, raw: bytes) -> None:
        """Make a write of a central account in every other process too."""

        async def one(process: Process) -> None:
            for _ in range(20):
                try:
                    answer = await process.exchange(raw, False)
                except Dropped:
                    continue
                if int(answer.first.split(b" ", 2)[1]) < 500:
                    process.mirrored += 1
                    return

        await asyncio.gather(*(one(p) for p in self.processes[1:]))

    # -- control endpoints -----------------------------------------------------------

    async def broadcast(self, req: Message) -> list[Message]:
        raw = req.encode(drop=(b"expect",))
        return await asyncio.gather(*(p.exchange(raw, False) for p in self.processes))

    async def faults(self, req: Message) -> Message:
        answers = await self.broadcast(req)
        if any(int(a.first.split(b" ", 2)[1]) >= 300 for a in answers):
            return answers[0]
        each = [json.loads(a.body) for a in answers]
        merged = dict(each[0])
        merged["counters"] = _sum([e.get("counters", {}) for e in each])
        merged["processes"] = each
        return _json_response(merged)

    def stats(self) -> Message:
        processes = []
        for p in self.processes:
            try:
                cpu = cpu_seconds(p.proc.pid)
            except OSError:
                cpu = None
            processes.append({"index": p.index, "pid": p.proc.pid, "port": p.port,
                              "requests": p.requests, "mirrored": p.mirrored,
                              "cpu_seconds": cpu, "rss_bytes": rss_bytes(p.proc.pid),
                              "connections_opened": p.opened,
                              "connections_idle": len(p.idle)})
        return _json_response({
            "router": {"pid": os.getpid(), "requests": self.requests,
                       "client_connections": self.connections,
                       "cpu_seconds": time.process_time(),
                       "uptime_seconds": time.time() - self.started,
                       "learned_keys": len(self.keys),
                       "pinned": sorted(self.pin_ids | self.pinned_by_name)},
            "processes": processes,
        })

    # -- one client connection -------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        set_nodelay(writer)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                first, headers = parse_head(head)
                req = Message(first, headers, b"")
                if (req.get(b"expect") or b"").lower() == b"100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                req.body = await read_body(reader, req)
                try:
                    response = await self.answer(req)
                except Dropped:
                    writer.transport.abort()
                    return
                writer.write(_for_client(response, first.startswith(b"HEAD ")))
                await writer.drain()
                if (req.get(b"connection") or b"").lower() == b"close" or first.endswith(
                        b"HTTP/1.0"):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer(self, req: Message) -> Message:
        self.requests += 1
        method, target, _ = req.first.split(b" ", 2)
        path = target.partition(b"?")[0]
        if path == CONTROL_ROUTER:
            return self.stats()
        if path == CONTROL_FAULTS:
            return await self.faults(req)
        if path.startswith(RESET):
            answers = await self.broadcast(req)
            self.keys.clear()
            self.pinned_by_name.clear()
            self.organization = None
            return answers[0]
        index, add, account, service, _key = self.route(req, path)
        process = self.processes[index]
        process.requests += 1
        raw = req.encode(drop=(b"expect",), add=add)
        response = await process.exchange(raw, method == b"HEAD")
        await self.learn(req, response, index, account, service)
        if (service == b"s3" and self.count > 1 and account is not None
                and self.central(account) and method not in (b"GET", b"HEAD")
                and int(response.first.split(b" ", 2)[1]) < 300):
            extra = [] if any(k.lower() == b"x-moto-account-id" for k, _ in add) else [
                (b"x-moto-account-id", account.encode())]
            await self.mirror(req.encode(drop=(b"expect",), add=add + extra))
        return response


def _for_client(response: Message, head_request: bool) -> bytes:
    """The response as the process sent it, but a chunked body (or one that ran to the end
    of the connection) is sent whole, with a Content-Length."""
    chunked = response.get(b"transfer-encoding") is not None
    status = int(response.first.split(b" ", 2)[1])
    bodiless = head_request or status in _NO_BODY_STATUS or 100 <= status < 200
    if chunked or (response.get(b"content-length") is None and not bodiless):
        return response.encode()
    lines = [response.first] + [k + b": " + v for k, v in response.headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + response.body


def _is_action(body: bytes, action: bytes) -> bool:
    found = _ACTION.search(body) if body else None
    return found is not None and found.group(1) == action


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _sum(values: list[Any]) -> Any:
    """Numbers summed, dicts merged key by key; anything else from the first."""
    if all(isinstance(v, bool) for v in values) or not values:
        return values[0] if values else None
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sum(values)
    if all(isinstance(v, dict) for v in values):
        keys: list[Any] = []
        for v in values:
            keys += [k for k in v if k not in keys]
        return {k: _sum([v[k] for v in values if k in v]) for k in keys}
    return values[0]


def _json_response(value: Any) -> Message:
    return Message(b"HTTP/1.1 200 OK", [(b"Content-Type", b"application/json")],
                   json.dumps(value).encode())


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    loop.call_soon_threadsafe(stop.set)


async def run(args: argparse.Namespace, flags: list[str]) -> int:
    loop = asyncio.get_running_loop()
    started = await loop.run_in_executor(None, start_processes, args.processes, flags)
    processes = [Process(i, proc, port) for i, (proc, port) in enumerate(started)]
    router = Router(processes, args.pin)
    server = await asyncio.start_server(router.serve, HOST, args.port, limit=1 << 20,
                                        backlog=1024)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{READY}http://{HOST}:{port}\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not args.ignore_stdin:
        threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()

    code = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
        dead = [p for p in processes if p.proc.poll() is not None]
        if dead:
            print(f"router.py: server.py process {dead[0].index} exited "
                  f"({dead[0].proc.returncode})", file=sys.stderr)
            code = 1
            break
    server.close()
    for p in processes:
        if p.proc.poll() is None:
            p.proc.stdin.close()
    for p in processes:
        try:
            p.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.proc.kill()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Any other flag is passed to every server.py process.",
    )
    parser.add_argument("--processes", type=int, default=2, help="server.py processes (2)")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--pin", action="append", default=[], metavar="ACCOUNT",
                        help="keep this account (id, or name given to CreateAccount) in "
                             "process 0; may repeat")
    parser.add_argument("--ignore-stdin", action="store_true",
                        help="do not exit on stdin EOF (stop with SIGTERM/SIGINT)")
    args, flags = parser.parse_known_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    # Each server.py exits when its stdin closes: with the router, or when it dies.
    return asyncio.run(run(args, [f for f in flags if f != "--ignore-stdin"]))


if __name__ == "__main__":
    sys.exit(main())
