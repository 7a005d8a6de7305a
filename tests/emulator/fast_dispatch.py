"""Speed patches for moto 5.2.5 in server mode: same answers, less CPU per request.

moto's server spends most of a request's CPU on look-ups that grow with the number of
accounts or repeat work whose answer never changes while the server runs. With 1,000 member
accounts a plain request cost about 10 ms of server CPU (2 ms with 10 accounts); these
patches bring it back to what it costs with a handful of accounts. server.py applies them
(`--no-fast-dispatch` leaves them out, to measure the difference).

  access keys  moto.iam.models.get_account_id_from(key) scanned every account's IAM backend
               in every partition (creating the missing ones: six IAM backends per account)
               on every request, twice with strict_access (the account, then the session).
               Each IAM backend's `access_keys` dict is now an IndexedKeys that records, in a
               process-wide index, which account and partition holds each key; the look-up
               is one dict read. The index follows every write to those dicts (CreateAccessKey,
               AssumeRole's temporary keys, DeleteAccessKey, moto's reset), and an entry that
               no longer matches its backend falls back to moto's own scan, so the answer is
               always moto's: the account holding the key, else the default account.
  backends     BackendDict[account] built a list of every account id to test membership
               (O(accounts), several times per request) under moto's global backend lock,
               which a thread creating a backend holds meanwhile; an account already there is
               now one dict look-up, without the lock.
  dispatch     DomainDispatcherApplication.get_backend_for_host listed moto's package folder
               (os.listdir plus an isdir per entry) and tried every service's URL regex, for
               every request, under the dispatcher's global lock; the answer depends on the
               host string only, so it is memoised per host.
  actions      BaseResponse.call_action listed the response class's methods with
               inspect.getmembers on every request; the list is memoised per class (every
               patch is applied at import, before the server serves).
  cold caches  moto memoises each service's botocore model and request router with
               functools.cache, which does not stop threads that miss at the same time from
               each building it: a burst of concurrent first requests to a service had every
               thread parse the same JSON model (EC2's is megabytes) and compile the same
               routing map (and, for an error, a botocore Session). They are now built once,
               under a lock, while the others wait. faults.py's memoised model look-ups
               likewise (apply_late(), once faults is imported): 256 concurrent first
               requests had left each process at 900 MiB and 30 s of CPU.

keep_alive_handler() (server.py --keep-alive, which router.py passes to its processes) is
opt-in: werkzeug's development server closes the connection after every answer, so a
client that sends many requests pays a new connection, and the server a new thread, for
each. With it, a request whose body has a Content-Length is read whole before moto sees it
and the connection stays open for the next request (a chunked request, or one that asks for
it, still closes it).
"""

from __future__ import annotations

import functools
import io
import selectors
import sys
import threading
import types
from typing import Any

from moto.core import base_backend
from moto.core import responses as moto_responses
from moto.core import routing as moto_routing
from moto.core import utils as moto_utils
from moto.iam import models as iam_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_applied = False

# access key id -> (account id, partition) of the IAM backend whose access_keys holds it.
_KEY_INDEX: dict[str, tuple[str, str]] = {}
_KEY_LOCK = threading.Lock()
_original_get_account_id_from = iam_models.get_account_id_from


class IndexedKeys(dict):
    """An IAM backend's `access_keys`: a dict that tells the index about every change."""

    __slots__ = ("account_id", "partition")

    def __init__(self, account_id: str, partition: str, initial: dict[str, Any]) -> None:
        super().__init__()
        self.account_id = account_id
        self.partition = partition
        for key, value in initial.items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        with _KEY_LOCK:
            _KEY_INDEX[key] = (self.account_id, self.partition)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._forget(key)

    def _forget(self, key: str) -> None:
        with _KEY_LOCK:
            if _KEY_INDEX.get(key) == (self.account_id, self.partition):
                del _KEY_INDEX[key]

    def pop(self, key: str, *default: Any) -> Any:
        had = key in self
        value = super().pop(key, *default)
        if had:
            self._forget(key)
        return value

    def popitem(self) -> tuple[str, Any]:
        key, value = super().popitem()
        self._forget(key)
        return key, value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return super().__getitem__(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        for key in list(self):
            self._forget(key)
        super().clear()

    def __ior__(self, other: Any) -> "IndexedKeys":
        self.update(other)
        return self


def _holder(key: str) -> str | None:
    """The account whose live IAM backend holds `key`, from the index; None when the index
    has no entry, or one that no longer matches (a backend replaced by a reset)."""
    entry = _KEY_INDEX.get(key)
    if entry is None:
        return None
    account_id, partition = entry
    # Plain dict reads: BackendDict.__getitem__ would create a missing account or partition.
    account = dict.get(iam_models.iam_backends, account_id)
    backend = dict.get(account, partition) if account is not None else None
    keys = getattr(backend, "access_keys", None)
    if keys is not None and key in keys:
        return account_id
    return None


def get_account_id_from(access_key: str) -> str:
    """moto's get_account_id_from, by index: the account holding the key, else the
    default account."""
    account_id = _holder(access_key)
    if account_id is not None:
        return account_id
    if access_key in _KEY_INDEX:
        # A stale entry: let moto's scan decide, as it always did.
        return _original_get_account_id_from(access_key)
    # Every IAM backend's access_keys is an IndexedKeys, so a key the index has never seen
    # is held by no backend: moto's scan would return the default account.
    return iam_models.DEFAULT_ACCOUNT_ID


def _patch_access_keys() -> None:
    original_init = iam_models.IAMBackend.__init__

    def __init__(self: Any, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        self.access_keys = IndexedKeys(account_id, region_name, self.access_keys)

    iam_models.IAMBackend.__init__ = __init__
    # Backends made before the patch (none when server.py applies it first) join the index.
    for account_id, account in list(dict.items(iam_models.iam_backends)):
        for partition, backend in list(dict.items(account)):
            if not isinstance(backend.access_keys, IndexedKeys):
                backend.access_keys = IndexedKeys(account_id, partition, backend.access_keys)
    iam_models.get_account_id_from = get_account_id_from


def _patch_backend_dict() -> None:
    BackendDict = base_backend.BackendDict

    def _create_account_specific_backend(self: Any, account_id: str) -> None:
        # An account already there, in a dict registered in _instances (which reset()
        # clears: a dict filled again while reset() re-initialises other backends must be
        # registered again), needs nothing, nor the global lock, which a thread creating a
        # backend holds meanwhile.
        if dict.__contains__(self, account_id) and any(
            instance is self for instance in BackendDict._instances
        ):
            return
        with base_backend.backend_lock:
            if not dict.__contains__(self, account_id):
                self[account_id] = base_backend.AccountSpecificBackend(
                    service_name=self.service_name,
                    account_id=account_id,
                    backend=self.backend,
                    use_boto3_regions=self._use_boto3_regions,
                    additional_regions=self._additional_regions,
                )
            if not any(instance is self for instance in BackendDict._instances):
                if self not in BackendDict._instances:
                    BackendDict._instances.append(self)

    BackendDict._create_account_specific_backend = _create_account_specific_backend


def _patch_dispatcher() -> None:
    original = DomainDispatcherApplication.get_backend_for_host
    cache: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        # Called under the dispatcher's lock; the answer depends on the host only
        # (moto's package folders and its URL patterns do not change while it runs).
        try:
            return cache[host]
        except KeyError:
            pass
        backend = original(self, host)
        if backend is not None:
            cache[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def _patch_method_names() -> None:
    original = moto_utils.method_names_from_class
    cache: dict[type, frozenset[str]] = {}

    def method_names_from_class(clazz: Any) -> Any:
        names = cache.get(clazz)
        if names is None:
            names = cache[clazz] = frozenset(original(clazz))
        return names

    moto_responses.method_names_from_class = method_names_from_class


_COLD_LOCK = threading.RLock()


def _single_flight(fn: Any) -> Any:
    """`fn` (a memoised function of hashable arguments) computed at most once per arguments:
    a miss is computed under one lock, the other threads wait for it."""
    results: dict[tuple[Any, ...], Any] = {}

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return results[args]
        except KeyError:
            pass
        with _COLD_LOCK:
            if args not in results:
                results[args] = fn(*args)
            return results[args]

    wrapper.__wrapped_original__ = fn  # type: ignore[attr-defined]
    return wrapper


def _patch_cold_caches() -> None:
    replaced: dict[int, Any] = {}
    for module, name in (
        (moto_utils, "get_service_model"),
        (moto_utils, "get_pagination_model"),
        (moto_routing, "get_service_router"),
        (moto_utils, "service_name_from_moto_package_name"),
    ):
        original = getattr(module, name)
        replaced[id(original)] = _single_flight(original)
        setattr(module, name, replaced[id(original)])
    # Modules that imported them by name already (moto imports service modules lazily; the
    # later ones import the wrappers).
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith("moto"):
            continue
        for name in ("get_service_model", "get_pagination_model", "get_service_router",
                     "service_name_from_moto_package_name"):
            value = getattr(module, name, None)
            if value is not None and id(value) in replaced:
                setattr(module, name, replaced[id(value)])

    original_get_router = moto_routing.ServiceOperationRouter._get_router

    def _get_router(self: Any, protocol: str) -> Any:
        routers = self._routers
        if protocol in routers:
            return routers[protocol]
        with _COLD_LOCK:
            return original_get_router(self, protocol)

    moto_routing.ServiceOperationRouter._get_router = _get_router


# faults.py's memoised look-ups of botocore models (each builds a botocore Session and
# parses the service's model on a miss): built once each, as moto's own above.
_FAULTS_MEMOS = ("_service_model", "_rest_routes", "_token_names", "_has_tokens")


def apply_late() -> None:
    """Patches of modules server.py imports after moto's (called once they are imported)."""
    faults = sys.modules.get("faults")
    if faults is None:
        return
    for name in _FAULTS_MEMOS:
        fn = getattr(faults, name, None)
        if fn is not None and hasattr(fn, "cache_info") and not hasattr(
            fn, "__wrapped_original__"
        ):
            setattr(faults, name, _single_flight(fn))


def apply() -> None:
    """Apply the patches once (server.py calls this before serving)."""
    global _applied
    if _applied:
        return
    _applied = True
    _patch_access_keys()
    _patch_backend_dict()
    _patch_dispatcher()
    _patch_method_names()
    _patch_cold_caches()


# --------------------------------------------------------------------------
# Keep-alive connections (opt-in)
# --------------------------------------------------------------------------

_handler_state = threading.local()


class _NoDrain:
    """werkzeug drains the socket after each answer, expecting it to close next; on a
    kept-alive connection that would swallow the next request, and the body was read
    whole before the application ran, so there is nothing to drain."""

    def register(self, *args: Any) -> None:
        pass

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def _default_selector() -> Any:
    if getattr(_handler_state, "keep_alive", False):
        return _NoDrain()
    return selectors.DefaultSelector()


def keep_alive_handler(base: type) -> type:
    """A subclass of werkzeug's request handler `base` that keeps connections open."""
    import werkzeug.serving as serving

    serving.selectors = types.SimpleNamespace(  # only run_wsgi's drain uses it
        DefaultSelector=_default_selector, EVENT_READ=selectors.EVENT_READ
    )

    class KeepAliveHandler(base):  # type: ignore[misc, valid-type]
        # werkzeug writes the headers and the body apart: without TCP_NODELAY the body of
        # an answer on a kept connection waits for the client's delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            length = self.headers.get("Content-Length")
            keep = (
                self.request_version == "HTTP/1.1"
                and "Transfer-Encoding" not in self.headers
                and self.headers.get("Connection", "").lower() != "close"
                and (length is None or length.strip().isdigit())
            )
            if keep:
                body = self.rfile.read(int(length)) if length else b""
                environ["wsgi.input"] = io.BytesIO(body)
            self.keep_alive = keep
            _handler_state.keep_alive = keep
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            if (keyword.lower() == "connection" and value.lower() == "close"
                    and getattr(self, "keep_alive", False)):
                return  # werkzeug's unconditional close
            super().send_header(keyword, value)

        def handle_one_request(self) -> None:
            self.keep_alive = False
            _handler_state.keep_alive = False
            super().handle_one_request()

    return KeepAliveHandler
