"""Issue 11, end to end: the real server (``reclaim serve``) under hostile input.

A subprocess serves a fresh database (SQLite, and the real PostgreSQL) holding one store per
platform, each made with the CLI. Over real sockets:

1. 100 MB bodies with no credentials, to every route that takes a body (listed from the app
   itself, so a new route cannot be missed), once with Content-Length and once chunked, and
   correctly signed ones to the webhooks and the events API: every one is refused (a 4xx,
   never a 2xx or a 5xx) and the server's peak resident memory stays under 300 MB.
2. Every route, with valid credentials, gets a seeded set of hostile inputs: lone surrogates,
   invalid UTF-8, NUL in every string field (ids included), NaN / Infinity / 1e999, 10**30,
   10,000-deep arrays, 1 MB strings, huge path and query values, broken tracking tokens,
   chunked bodies, wrong content types, empty bodies. No answer is a 5xx and no connection is
   dropped (one keep-alive connection, so a reset is seen too).
3. Signed deliveries whose ids hold NUL are answered (2xx, or 422 "rejected" with the reason)
   and kept in the inbox exactly once.
4. The fuzz carries recognisable personal data; after it, and after the worker has processed
   what was kept, neither the server's log nor the worker's holds any of it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import json
import os
import random
import re
import select
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text

from helpers import SECRET, shopify_headers, stripe_headers, woo_headers
from reclaim.adapters.db.engine import make_engine
from reclaim.adapters.db.tables import metadata
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.entrypoints.api import create_app

# About a minute for both databases on a 2-core machine (45 s idle, more under load or while
# the server still reads whole bodies): 38 bodies of 100 MB and ~1,000 requests per database.
pytestmark = pytest.mark.slow

RECLAIM = [sys.executable, "-m", "reclaim"]
FIX = Path(__file__).resolve().parents[1] / "fixtures"
SECRET_KEY = "hostile-e2e-secret-key-" + "k" * 32
SEED = 20261107

BIG = 100 * 1024 * 1024  # bytes in each oversized body
PIECE = 64 * 1024  # streamed in pieces of this size
PEAK_LIMIT_KB = 300 * 1024  # the server's peak resident memory must stay below this
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WEBHOOK_PLATFORMS = ("shopify", "woocommerce", "stripe")

SHOPIFY_TOPICS = {
    "checkout_create_de.json": "checkouts/create",
    "checkout_update_jp.json": "checkouts/update",
    "order_create_pending_br.json": "orders/create",
    "order_paid_gb.json": "orders/paid",
    "order_cancelled_us.json": "orders/cancelled",
    "fulfillment_update.json": "fulfillments/update",
    "fulfillment_event_delivered.json": "fulfillment_events/create",
}
WOO_TOPICS = {"order_deleted.json": "order.deleted"}  # every other fixture: order.updated


# -- the deployment: a database with four stores, made with the CLI ---------------------------


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: tuple[str, ...]
    path_params: tuple[str, ...]
    query_params: tuple[tuple[str, bool], ...]  # (name, required)


@dataclass
class Deployment:
    name: str
    database_url: str
    env: dict[str, str]
    stores: dict[str, dict[str, str]]  # platform (or "custom") -> {"id", "api_key"}
    workdir: Path
    routes: list[RouteInfo]
    tokens: dict[str, str]  # label -> a tracking token signed with the server's key

    @property
    def api_key(self) -> str:
        return self.stores["custom"]["api_key"]


def cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> str:
    p = subprocess.run(
        [*RECLAIM, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    if p.returncode != 0:
        pytest.fail(f"`reclaim {' '.join(args)}` exited {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout


def app_routes(database_url: str) -> tuple[list[RouteInfo], dict[str, str]]:
    """The routes of the app the server runs (built here only to list them), and tracking
    tokens signed the way the server signs them, with ``SECRET_KEY``."""

    def query_params(dependant: Any) -> list[Any]:
        found = list(dependant.query_params)
        for sub in dependant.dependencies:
            found += query_params(sub)
        return found

    rt = bootstrap(Settings(database_url=database_url, secret_key=SECRET_KEY))
    try:
        app = create_app(rt)
        links = rt.links()
        unknown = 987_654_321  # no such message
        made = {
            "open": links.open(unknown).rsplit("/", 1)[1].removesuffix(".gif"),
            "click": links.click(unknown, "https://shop.example/p/1").rsplit("/", 1)[1],
            "click-javascript": links.click(unknown, "javascript:alert(1)").rsplit("/", 1)[1],
            "restore": links.restore(unknown).rsplit("/", 1)[1],
            "unsubscribe": links.unsubscribe(unknown).rsplit("/", 1)[1],
        }
    finally:
        rt.close()
    routes = []
    for route in app.routes:
        methods = tuple(sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}))
        if not methods:
            continue
        dependant = getattr(route, "dependant", None)
        params = query_params(dependant) if dependant is not None else []
        routes.append(
            RouteInfo(
                path=route.path,
                methods=methods,
                path_params=tuple(re.findall(r"\{(\w+)", route.path)),
                query_params=tuple((p.alias, p.field_info.is_required()) for p in params),
            )
        )
    return routes, made


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    workdir = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'reclaim.sqlite3'}"
    else:  # the session's throwaway database (skips, or fails under CI, without a server)
        url = request.getfixturevalue("pg_database")
        engine = make_engine(url)
        with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env |= {
        "RECLAIM_DATABASE_URL": url,
        "RECLAIM_SECRET_KEY": SECRET_KEY,
        "RECLAIM_CONFIG": str(workdir / "absent.toml"),
        "RECLAIM_LOG_LEVEL": "INFO",  # the default: what production logs carry
        "RECLAIM_RATE_LIMIT_ENABLED": "false",  # one client sends it all
        "RECLAIM_DATABASE_POOL_SIZE": "8",
        "PYTHONUNBUFFERED": "1",
    }
    cli(["init"], env, workdir)
    stores = {}

    def store_add(platform: str) -> subprocess.Popen[str]:
        args = ["store", "add", "--name", f"Hostile {platform}", "--platform", platform,
                "--currency", "EUR", "--timezone", "Europe/Berlin", "--domain", "shop.example",
                "--webhook-secret", SECRET, "--json"]  # fmt: skip
        return subprocess.Popen(
            [*RECLAIM, *args], env=env, cwd=workdir, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    # The four stores at once: each start of `reclaim` costs a second or two.
    adding = {platform: store_add(platform) for platform in (*WEBHOOK_PLATFORMS, "custom")}
    for platform, proc in adding.items():
        out, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            pytest.fail(
                f"`reclaim store add --platform {platform}` exited {proc.returncode}: {err}"
            )
        stores[platform] = json.loads(out.strip().splitlines()[-1])
        assert stores[platform]["id"].startswith("st_"), out
    routes, tokens = app_routes(url)
    return Deployment(request.param, url, env, stores, workdir, routes, tokens)


# -- the server: a real subprocess, its log in a file -----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid]
        found += children
        frontier += children
    return found


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_bytes().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size

    def listeners(self) -> list[int]:
        """The processes holding the listening socket: the server itself, or, if ``serve``
        ever becomes a wrapper, whichever of its descendants runs uvicorn."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    cols = line.split()
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == self.port:
                        inodes.add(f"socket:[{cols[9]}]")
        owners = []
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            with contextlib.suppress(OSError):
                fds = Path(f"/proc/{pid}/fd")
                if any(os.readlink(fd) in inodes for fd in fds.iterdir()):
                    owners.append(pid)
        return owners

    def peak_kb(self) -> int:
        """VmHWM (peak resident set) of the processes serving the port, the largest."""
        owners = self.listeners()
        assert owners, f"no process of pid {self.proc.pid}'s tree listens on {self.port}"
        peaks = []
        for pid in owners:
            found = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
            assert found, f"no VmHWM for pid {pid}"
            peaks.append(int(found[1]))
        return max(peaks)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False


@contextlib.contextmanager
def serving(dep: Deployment, name: str) -> Iterator[Server]:
    port = free_port()
    env = {**dep.env, "RECLAIM_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    log_path = dep.workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*RECLAIM, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=dep.workdir, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(proc, port, log_path, env)
    try:
        deadline = time.monotonic() + 60
        while not server.healthy():
            if proc.poll() is not None:
                pytest.fail(f"server exited {proc.returncode}: {server.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"server not healthy after 60 s: {server.log_text()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Iterator[Server]:
    with serving(deployment, "server") as running:
        yield running


# -- 1. big bodies ----------------------------------------------------------------------------


@dataclass
class RawAnswer:
    status: int | None
    note: str  # how it ended: answered, closed, reset, stalled …
    sent: int  # body bytes the server took before it answered or closed


def stream_request(
    port: int,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    pieces: Iterable[bytes],
    *,
    chunked: bool,
    length: int,
    quiet_s: float = 30.0,
) -> RawAnswer:
    """Send a request whose body is streamed piece by piece over a raw socket, watching with
    select() for an answer (or a close) before every piece, and stop sending then."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + framing + "\r\n\r\n"

    def frames() -> Iterator[bytes]:
        for piece in pieces:
            yield b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece
        if chunked:
            yield b"0\r\n\r\n"

    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as exc:
        return RawAnswer(None, f"cannot connect: {exc}", 0)
    received = bytearray()
    sent = 0
    note = "answered"
    with sock:
        sock.sendall(head.encode("latin-1"))
        sock.setblocking(False)
        outgoing = frames()
        pending = b""
        finished = False
        while b"\r\n\r\n" not in received:
            wait = [sock] if not finished else []
            readable, writable, _ = select.select([sock], wait, [], quiet_s if wait else 60)
            if not readable and not writable:
                note = "stalled: neither reading the body nor answering"
                break
            if readable:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    note = f"reset ({type(exc).__name__})"
                    break
                if not data:
                    note = "closed"
                    break
                received += data
                continue
            if not pending:
                try:
                    pending = next(outgoing)
                except StopIteration:
                    finished = True
                    continue
            try:
                n = sock.send(pending)
            except BlockingIOError:
                continue
            except OSError as exc:  # closed on us: an answer may still be waiting to be read
                note = f"send failed ({type(exc).__name__})"
                sock.setblocking(True)
                sock.settimeout(2)
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in received and (data := sock.recv(65536)):
                        received += data
                break
            sent += n
            pending = pending[n:]
    match = re.match(rb"HTTP/1\.[01] (\d{3})", bytes(received))
    return RawAnswer(int(match[1]) if match else None, note, sent)


def big_pieces(total: int = BIG) -> Iterator[bytes]:
    """A JSON object of ``total`` bytes: ``{"pad":"aaaa…"}``."""
    prefix, suffix = b'{"pad":"', b'"}'
    left = total - len(prefix) - len(suffix)
    full = b"a" * PIECE
    yield prefix
    while left > 0:
        n = min(PIECE, left)
        yield full if n == PIECE else full[:n]
        left -= n
    yield suffix


def streamed_hmac(key: bytes, pieces: Iterable[bytes], prefix: bytes = b"") -> hmac.HMAC:
    mac = hmac.new(key, prefix, hashlib.sha256)
    for piece in pieces:
        mac.update(piece)
    return mac


def big_signed_headers(platform: str) -> list[tuple[str, str]]:
    key = SECRET.encode()
    if platform == "stripe":
        t = int(time.time())
        mac = streamed_hmac(key, big_pieces(), prefix=f"{t}.".encode()).hexdigest()
        return [("Stripe-Signature", f"t={t},v1={mac}")]
    mac64 = base64.b64encode(streamed_hmac(key, big_pieces()).digest()).decode()
    if platform == "shopify":
        return [("X-Shopify-Topic", "orders/create"), ("X-Shopify-Hmac-Sha256", mac64),
                ("X-Shopify-Webhook-Id", f"big-{uuid.uuid4().hex}"),
                ("X-Shopify-Shop-Domain", "shop.example")]  # fmt: skip
    return [("X-WC-Webhook-Topic", "order.updated"), ("X-WC-Webhook-Signature", mac64)]


def fill(path: str, values: dict[str, str]) -> str:
    """``path`` with its parameters replaced (raw, already percent-encoded values)."""
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: values.get(m[1], "x"), path)


def sample_paths(route: RouteInfo, dep: Deployment) -> list[str]:
    """The route with plausible parameters (one per platform for the webhooks)."""
    platforms = WEBHOOK_PLATFORMS if "platform" in route.path_params else ("custom",)
    return [
        fill(
            route.path,
            {
                "platform": p,
                "store_id": dep.stores[p]["id"],
                "case_id": "1",
                "order_id": "o-1",
                "token": "not-a-token",
            },
        )
        for p in platforms
    ]


def test_big_bodies_are_refused_and_memory_stays_bounded(deployment: Deployment) -> None:
    dep = deployment
    body_routes = [r for r in dep.routes if BODY_METHODS & set(r.methods)]
    assert any(r.path.startswith("/webhooks/") for r in body_routes), dep.routes
    results: list[tuple[str, str, str, RawAnswer]] = []
    started = time.monotonic()
    with serving(dep, "big-bodies") as srv:
        at_start = srv.peak_kb()
        json_type = ("Content-Type", "application/json")
        for route in body_routes:
            for method in sorted(BODY_METHODS & set(route.methods)):
                for path in sample_paths(route, dep):
                    for chunked in (False, True):
                        answer = stream_request(
                            srv.port, method, path, [json_type], big_pieces(),
                            chunked=chunked, length=BIG,
                        )  # fmt: skip
                        framing = "chunked" if chunked else "content-length"
                        results.append((f"{method} {path}", framing, "no credentials", answer))
        signed = [
            (f"/webhooks/{p}/{dep.stores[p]['id']}", p, big_signed_headers(p))
            for p in WEBHOOK_PLATFORMS
        ]
        signed.append(("/api/v1/events", "API key", [("Authorization", f"Bearer {dep.api_key}")]))
        for path, what, headers in signed:
            for chunked in (True, False):
                answer = stream_request(
                    srv.port, "POST", path, [json_type, *headers], big_pieces(),
                    chunked=chunked, length=BIG,
                )  # fmt: skip
                framing = "chunked" if chunked else "content-length"
                results.append((f"POST {path}", framing, f"signed ({what})", answer))
        alive = srv.proc.poll() is None
        healthy = alive and srv.healthy()
        peak = srv.peak_kb() if alive else -1
        log_tail = srv.log_text()[-2000:]
    elapsed = time.monotonic() - started
    print(f"\n[{dep.name}] server peak RSS (VmHWM): {at_start / 1024:.0f} MB after start, "
          f"{peak / 1024:.0f} MB after {len(results)} bodies of 100 MB ({elapsed:.1f} s)")  # fmt: skip
    problems = []
    for what, framing, auth, a in results:
        line = (
            f"{what} [{framing}, {auth}]: {a.status or '-'} {a.note}, took {a.sent / 2**20:.1f} MB"
        )
        print("  " + line)
        if auth.startswith("signed"):
            if a.status != 413:
                problems.append(f"{line} — a signed 100 MB body must be refused with 413")
        elif a.status is None:
            if not (a.note in ("closed",) or a.note.startswith(("reset", "send failed"))):
                problems.append(f"{line} — no answer")
        elif not 400 <= a.status < 500:
            problems.append(f"{line} — must be refused with a 4xx")
    if not alive:
        problems.append(f"the server died: {log_tail}")
    elif not healthy:
        problems.append("the server no longer answers /healthz")
    if peak >= PEAK_LIMIT_KB:
        problems.append(
            f"peak resident memory {peak / 1024:.0f} MB ≥ {PEAK_LIMIT_KB // 1024} MB "
            f"(it was {at_start / 1024:.0f} MB after start)"
        )
    assert not problems, f"[{dep.name}] {len(problems)} problems:\n" + "\n".join(problems)


# -- 2. the fuzz ------------------------------------------------------------------------------


@dataclass
class Markers:
    """Recognisable personal data: each kind has a random tag that nothing else contains."""

    email_tag: str = field(default_factory=lambda: f"pii.{uuid.uuid4().hex[:10]}")
    phone_digits: str = field(
        default_factory=lambda: f"{random.SystemRandom().randrange(10**7):07d}"
    )
    name_tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    street_tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    n: int = 0

    def email(self) -> str:
        self.n += 1
        return f"{self.email_tag}.{self.n}@example.com"

    def phone(self) -> str:
        self.n += 1
        return f"+49151{self.phone_digits}{self.n % 10}"

    def needles(self) -> dict[str, str]:
        """What to look for: the random part alone, which survives a NUL put into the value,
        escaping and quoting (``pii.<tag>.1@…`` with a NUL after its first character)."""
        return {"email": self.email_tag.removeprefix("pii."), "phone": f"151{self.phone_digits}",
                "name": self.name_tag, "street": self.street_tag}  # fmt: skip


EMAIL_KEYS = {"email", "contact_email", "receipt_email", "customer_email", "billing_email"}
PHONE_KEYS = {"phone", "sms_marketing_phone"}
STREET_KEYS = {"address1", "address_1", "line1", "street"}
PERSON_PARENTS = {"customer", "billing", "shipping", "billing_address", "shipping_address",
                  "billing_details", "customer_details"}  # fmt: skip
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def personalise(node: Any, m: Markers, now: datetime, parent: str | None = None) -> Any:
    """A fixture with its personal data replaced by markers and its times by ``now`` (so that
    what the worker processes is current, not history from before the store was connected)."""
    if isinstance(node, list):
        return [personalise(v, m, now, parent) for v in node]
    if not isinstance(node, dict):
        return node
    return {key: _personal(key, value, m, now, parent) for key, value in node.items()}


def _personal(key: str, value: Any, m: Markers, now: datetime, parent: str | None) -> Any:
    if isinstance(value, str):
        if key in EMAIL_KEYS:
            return m.email()
        if key in PHONE_KEYS:
            return m.phone()
        if key == "first_name":
            return f"Erika-{m.name_tag}"
        if key == "last_name":
            return f"Mustermann-{m.name_tag}"
        if key == "name" and parent in PERSON_PARENTS:
            return f"Erika Mustermann-{m.name_tag}"
        if key in STREET_KEYS:
            return f"Hauptstraße 5 {m.street_tag}"
        if match := ISO_TIME.match(value):
            at = now.replace(tzinfo=None).isoformat(timespec="seconds")
            return at + ("Z" if match[1] == "Z" else "+00:00" if match[1] else "")
        return value
    if key == "created" and isinstance(value, int) and not isinstance(value, bool):
        return int(now.timestamp())
    return personalise(value, m, now, key)


Path_ = tuple[Any, ...]


def leaves(node: Any, prefix: Path_ = ()) -> list[tuple[Path_, Any]]:
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in leaves(v, (*prefix, k))]
    if isinstance(node, list) and node:
        return [x for i, v in enumerate(node) for x in leaves(v, (*prefix, i))]
    return [(prefix, node)] if prefix else []


def replaced(tree: Any, path: Path_, value: Any) -> Any:
    out = copy.deepcopy(tree)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return out


def dumps(tree: Any) -> bytes:
    return json.dumps(tree, ensure_ascii=False).encode()


RAW = "@@raw-json@@"


def with_raw(tree: Any, path: Path_, raw: bytes) -> bytes:
    """The tree as JSON with the value at ``path`` replaced by ``raw`` bytes, valid or not."""
    return dumps(replaced(tree, path, RAW)).replace(json.dumps(RAW).encode(), raw, 1)


def map_strings(node: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {k: map_strings(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [map_strings(v, fn) for v in node]
    return fn(node) if isinstance(node, str) else node


def key_of(path: Path_) -> str:
    named = [p for p in path if isinstance(p, str)]
    return named[-1] if named else "[]"


def is_id(path: Path_) -> bool:
    key = key_of(path)
    return key == "id" or key.endswith("_id") or key in {"sku", "code", "token", "name"}


def is_pii(path: Path_) -> bool:
    key = key_of(path)
    return key in EMAIL_KEYS | PHONE_KEYS | STREET_KEYS | {"first_name", "last_name", "address"}


@dataclass
class Variant:
    label: str
    body: bytes
    source: int = 0  # which base tree it came from
    content_type: str | None = "application/json"
    chunked: bool = False


DEEP = 10_000
MB = 1024 * 1024


def body_variants(trees: list[Any], rnd: random.Random, *, nul_fields: int = 10) -> list[Variant]:
    """Hostile bodies made from valid ones (``trees``): a seeded set of each input class."""
    out: list[Variant] = []
    for i, tree in enumerate(trees):
        out.append(Variant("control (valid)", dumps(tree), i))
        out.append(Variant("NUL in every string", dumps(map_strings(tree, lambda s: s[:1] + "\0" + s[1:])), i))  # fmt: skip

    def pick(want: Callable[[Path_, Any], bool]) -> tuple[int, Path_, Any]:
        choices = [(i, p, v) for i, t in enumerate(trees) for p, v in leaves(t) if want(p, v)]
        if not choices:
            choices = [(i, p, v) for i, t in enumerate(trees) for p, v in leaves(t)]
        if not choices:  # a tree with no leaves at all: its root
            return 0, (), None
        return rnd.choice(choices)

    def raw_at(label: str, want: Callable[[Path_, Any], bool], raw: bytes) -> None:
        i, path, _ = pick(want)
        body = with_raw(trees[i], path, raw) if path else raw
        out.append(Variant(label, body, i))

    def is_str(p: Path_, v: Any) -> bool:
        return isinstance(v, str)

    def is_num(p: Path_, v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    def id_str(p: Path_, v: Any) -> bool:
        return isinstance(v, str) and is_id(p)

    def id_any(p: Path_, v: Any) -> bool:
        return is_id(p) and v is not None

    # NUL in single string fields: every id and personal field first, then others.
    strings = [(i, p, v) for i, t in enumerate(trees) for p, v in leaves(t) if isinstance(v, str)]
    firsts = [x for x in strings if is_id(x[1]) or is_pii(x[1])]
    rest = [x for x in strings if x not in firsts]
    chosen = rnd.sample(firsts, min(len(firsts), nul_fields))
    chosen += rnd.sample(rest, min(len(rest), max(0, nul_fields - len(chosen)) // 2 + 1))
    for i, path, value in chosen:
        out.append(Variant(f"NUL in {key_of(path)}", dumps(replaced(trees[i], path, value[:1] + "\0" + value[1:])), i))  # fmt: skip
    raw_at("lone surrogate (id)", id_str, b'"\\ud800"')
    raw_at("lone surrogate", is_str, b'"a\\udfff\\ud800b"')
    raw_at("invalid UTF-8", is_str, b'"\xff\xfe\xed\xa0\x80\xc0\xaf"')
    i = rnd.randrange(len(trees))
    out.append(Variant("invalid UTF-8 (latin-1 body)", dumps(trees[i]).decode().encode("latin-1", "replace") + b"\xe9", i))  # fmt: skip
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"):
        raw_at(f"{literal.decode()} literal", is_num, literal)
    raw_at("integer > 64 bits", is_num, str(10**30).encode())
    raw_at("integer > 64 bits", is_num, str(-(10**30)).encode())
    raw_at("integer > 64 bits (id)", id_any, str(10**30).encode())
    raw_at("integer 2**64 (id)", id_any, str(2**64).encode())
    deep = b"[" * DEEP + b"]" * DEEP
    raw_at("10,000-deep array", lambda p, v: True, deep)
    out.append(Variant("10,000-deep array (body)", deep))
    out.append(Variant("10,000-deep object (body)", b'{"a":' * DEEP + b"1" + b"}" * DEEP))
    raw_at("1 MB string (id)", id_str, json.dumps("x" * MB).encode())
    raw_at("1 MB string (personal)", lambda p, v: isinstance(v, str) and is_pii(p), json.dumps("é" * (MB // 2)).encode())  # fmt: skip
    i = rnd.randrange(len(trees))
    out.append(Variant("chunked (valid)", dumps(trees[i]), i, chunked=True))
    raw_at("chunked NaN", is_num, b"NaN")
    out[-1].chunked = True
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=xyz", "application/xml", None):  # fmt: skip
        i = rnd.randrange(len(trees))
        out.append(Variant(f"content type {ctype}", dumps(trees[i]), i, content_type=ctype))
    for empty in (b"", b" ", b"null", b"[]", b"{}", b"\0", b'""'):
        out.append(Variant(f"empty/trivial body {empty!r}", empty))
    return out


# Path parameter values, already percent-encoded.
PATH_JUNK: dict[str, list[tuple[str, str]]] = {
    "case_id": [
        ("huge id", "99999999999999999999"), ("huge id", "-99999999999999999999"),
        ("huge id", str(2**63)), ("huge id", str(-(2**63) - 1)), ("huge id", "9" * 400),
        ("edge id", "0"), ("edge id", "-1"), ("garbage id", "1e3"), ("garbage id", "NaN"),
        ("NUL", "%00"), ("NUL", "1%00"), ("lone surrogate", "%ED%A0%80"),
        ("invalid UTF-8", "%FF%FE"), ("garbage id", "%D9%A1%D9%A2"),
    ],
    "order_id": [
        ("NUL", "o%00"), ("NUL", "%00"), ("long", "x" * 255), ("long", "x" * 256),
        ("long", "x" * 5000), ("lone surrogate", "%ED%A0%80"), ("invalid UTF-8", "%FF%FE"),
        ("percent junk", "..%2F..%2Fetc%2Fpasswd"), ("huge id", "9" * 30), ("blank", "%20"),
    ],
    "platform": [
        ("unknown platform", "magento"), ("unknown platform", "SHOPIFY"), ("NUL", "shopify%00"),
        ("NUL", "%00"), ("long", "x" * 5000), ("lone surrogate", "%ED%A0%80"),
    ],
    "store_id": [
        ("unknown store", "st_000000000000"), ("long", "x" * 65), ("long", "x" * 5000),
        ("NUL", "st_%00"), ("NUL", "%00"), ("invalid UTF-8", "%FF"), ("huge id", "9" * 30),
    ],
}  # fmt: skip
GENERIC_PATH_JUNK = [("NUL", "%00"), ("long", "x" * 5000), ("huge id", "99999999999999999999"),
                     ("lone surrogate", "%ED%A0%80"), ("invalid UTF-8", "%FF%FE")]  # fmt: skip


def token_junk(dep: Deployment) -> list[tuple[str, str]]:
    other_mac = (
        base64.urlsafe_b64encode(b'{"k":"o","m":1}').rstrip(b"=").decode()
        + ".AAAAAAAAAAAAAAAAAAAAAA"
    )
    return [
        ("garbage token", "garbage"), ("garbage token", "....."), ("garbage token", "a.b.c.d"),
        ("garbage token", other_mac), ("NUL token", "%00"), ("NUL token", "abc%00def.ghi"),
        ("NUL token", other_mac.replace(".", "%00.")),
        ("percent junk token", "%FF%FE.%ED%A0%80"), ("percent junk token", "%25%25%25"),
        ("percent junk token", "%2e%2e%2f%2e%2e%2f"), ("percent junk token", "%C0%AF.%E2%80%AE"),
        ("long token", "A" * 2048), ("long token", "A" * 2049), ("long token", "A" * 12000),
        *[(f"signed token ({k}, unknown message)", t) for k, t in dep.tokens.items()],
    ]  # fmt: skip


QUERY_JUNK = [
    ("huge int", "99999999999999999999"), ("huge int", "-99999999999999999999"),
    ("huge int", str(2**63)), ("NaN/Infinity", "NaN"), ("NaN/Infinity", "Infinity"),
    ("NaN/Infinity", "1e999"), ("NUL", "%00"), ("NUL", "open%00"), ("long", "x" * 4000),
    ("lone surrogate", "%ED%A0%80"), ("invalid UTF-8", "%FF%FE"),
    ("edge date", "0001-01-01T00:00:00%2B14:00"), ("edge date", "9999-12-31T23:59:59-14:00"),
    ("edge date", "2026-05-01T10:00:00"), ("empty", ""),
]  # fmt: skip
QUERY_EXTRA = {
    "item": [("huge int", "MUG-1:99999999999999999999"), ("NUL", "MUG-1%00:1"),
             ("garbage", ":"), ("garbage", "MUG-1:%D9%A1"), ("garbage", "MUG-1:0")],
    "country": [("NUL", "D%00"), ("garbage", "%C3%9F%C3%9F")],
}  # fmt: skip
QUERY_VALID = {"country": "DE", "item": "MUG-1:1"}


@dataclass
class Probe:
    route: str  # "METHOD /template"
    label: str  # the input class
    method: str
    target: str  # path and query, percent-encoded
    body: bytes | None = None
    content_type: str | None = "application/json"
    chunked: bool = False
    sign: str | None = None  # the webhook platform whose signature the body gets
    topic: str = ""
    auth: bool = True


def fixtures(platform: str) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((FIX / platform).glob("*.json"))]


def api_bases(m: Markers, now: datetime) -> dict[str, list[Any]]:
    until = (now + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    suppression = [{"channel": "email", "address": m.email()}, {"channel": "sms", "address": m.phone()}]  # fmt: skip
    return {
        "/api/v1/warehouses": [{"warehouses": [{"code": "W1", "country": "DE", "region": "BY",
                                "timezone": "Europe/Berlin", "cutoff": "15:00",
                                "working_days": "12345"}]}],
        "/api/v1/stock": [{"levels": [{"warehouse": "W1", "sku": "MUG-1", "on_hand": 5},
                                      {"warehouse": "W1", "sku": "MUG-1", "delta": -1}]}],
        "/api/v1/products": [{"products": [{"sku": "MUG-1", "weight_kg": 0.5, "name": "Mug",
                              "category": "kitchen", "price": "9.90", "currency": "EUR",
                              "url": "https://shop.example/p/mug",
                              "image_url": "https://shop.example/i/mug.jpg"}]}],
        "/api/v1/holds": [{"order_id": "o-hold-1", "items": [{"sku": "MUG-1", "quantity": 1}]}],
        "/api/v1/orders/{order_id}/hold": [{"until": until}],
        "/api/v1/feedback": [{"type": "complaint", "email": m.email(), "message_id": "<m1@x.example>"},
                             {"type": "bounce", "email": m.email()}],
        "/api/v1/suppressions/check": suppression,
        "/api/v1/suppressions": suppression,
        "/api/v1/suppressions/remove": suppression,
    }  # fmt: skip


NO_BODY = {"/api/v1/cases/{case_id}/stop"}
ORDER = ["/webhooks/", "/api/v1/events", "/api/v1/warehouses", "/api/v1/stock",
         "/api/v1/products", "/api/v1/holds", "/api/v1/orders/"]  # fmt: skip


@dataclass
class Ctx:
    dep: Deployment
    markers: Markers
    now: datetime


def path_variants(
    route: RouteInfo, dep: Deployment, *, platform: str = "custom"
) -> list[tuple[str, str]]:
    """(label, target) for the route's plausible path and each junk value of each parameter."""
    valid = {"platform": platform, "store_id": dep.stores[platform]["id"], "case_id": "1",
             "order_id": "o-hold-1", "token": "not-a-token"}  # fmt: skip
    found = [("plausible path", fill(route.path, valid))]
    for name in route.path_params:
        junk = token_junk(dep) if name == "token" else PATH_JUNK.get(name, GENERIC_PATH_JUNK)
        found += [(f"path {name}: {label}", fill(route.path, {**valid, name: value}))
                  for label, value in junk]  # fmt: skip
    return found


def probes_for(route: RouteInfo, method: str, ctx: Ctx, rnd: random.Random) -> list[Probe]:
    dep, m = ctx.dep, ctx.markers
    name = f"{method} {route.path}"
    probes: list[Probe] = []
    if route.path.startswith("/webhooks/") and "platform" in route.path_params:
        for platform in WEBHOOK_PLATFORMS:
            named = fixtures(platform)
            trees = [personalise(json.loads(raw), m, ctx.now) for _, raw in named]
            if platform == "shopify":
                topics = [SHOPIFY_TOPICS.get(n, "orders/updated") for n, _ in named]
            elif platform == "woocommerce":
                topics = [WOO_TOPICS.get(n, "order.updated") for n, _ in named]
            else:
                topics = ["" for _ in named]
            target = fill(
                route.path, {"platform": platform, "store_id": dep.stores[platform]["id"]}
            )
            for v in body_variants(trees, rnd, nul_fields=8):
                probes.append(Probe(f"{name} ({platform})", v.label, method, target, v.body,
                                    v.content_type, v.chunked, sign=platform,
                                    topic=topics[v.source], auth=False))  # fmt: skip
        control = dumps(personalise(json.loads(fixtures("shopify")[0][1]), m, ctx.now))
        for label, target in path_variants(route, dep, platform="shopify")[1:]:
            probes.append(Probe(name, label, method, target, control, sign="shopify",
                                topic="checkouts/create", auth=False))  # fmt: skip
        return probes
    if route.path == "/api/v1/events":
        trees = [personalise(json.loads(raw), m, ctx.now) for _, raw in fixtures("generic")]
        for v in body_variants(trees, rnd, nul_fields=12):
            probes.append(
                Probe(name, v.label, method, route.path, v.body, v.content_type, v.chunked)
            )
        return probes
    targets = path_variants(route, dep)
    if method in BODY_METHODS:
        if route.path.startswith("/u/"):  # the one-click unsubscribe: a form
            form = "application/x-www-form-urlencoded"
            for label, target in targets:
                probes.append(
                    Probe(name, label, method, target, b"List-Unsubscribe=One-Click", form)
                )
            bodies = [("1 MB body", b"List-Unsubscribe=One-Click&" + b"x" * MB, form, False),
                      ("NUL body", b"List-Unsubscribe=One-Click\0\0", form, False),
                      ("invalid UTF-8 body", b"\xff\xfe\xed\xa0\x80", form, False),
                      ("chunked body", b"List-Unsubscribe=One-Click", form, True),
                      ("JSON body", b'{"List-Unsubscribe":"One-Click"}', "application/json", False),
                      ("empty body", b"", None, False)]  # fmt: skip
            for label, body, ctype, chunked in bodies:
                probes.append(Probe(name, label, method, targets[1][1], body, ctype, chunked))
            return probes
        if route.path in NO_BODY:
            for label, target in targets:
                probes.append(Probe(name, label, method, target, None, None))
            for v in body_variants([{"reason": "x"}], rnd, nul_fields=1)[:6]:
                probes.append(Probe(name, f"unexpected body: {v.label}", method, targets[0][1],
                                    v.body, v.content_type, v.chunked))  # fmt: skip
            return probes
        bases = api_bases(m, ctx.now).get(route.path) or [
            {"id": "x-1", "email": m.email(), "phone": m.phone(), "name": "Erika"}
        ]
        control = dumps(bases[0])
        for label, target in targets[1:]:
            probes.append(Probe(name, label, method, target, control))
        for v in body_variants(bases, rnd, nul_fields=8):
            probes.append(
                Probe(name, v.label, method, targets[0][1], v.body, v.content_type, v.chunked)
            )
        return probes
    # GET (and anything else without a body): junk in the path and in every query parameter.
    required = {n: QUERY_VALID.get(n, "x") for n, req in route.query_params if req}

    def query(values: dict[str, str]) -> str:
        return "&".join(f"{quote(k)}={v}" for k, v in values.items())

    base_query = query({k: quote(v, safe=":") for k, v in required.items()})
    for label, target in targets:
        probes.append(Probe(name, label, method, target + ("?" + base_query if base_query else "")))
    for param, _ in route.query_params:
        for label, value in QUERY_JUNK + QUERY_EXTRA.get(param, []):
            q = query({**{k: quote(v, safe=":") for k, v in required.items()}, param: value})
            probes.append(Probe(name, f"query {param}: {label}", method, f"{targets[0][1]}?{q}"))
    if route.query_params:
        many = "&".join(f"{k}=MUG-{i}:1" for i in range(600) for k, _ in route.query_params[:1])
        probes.append(Probe(name, "query: 600 repeats", method, f"{targets[0][1]}?{many}"))
    else:
        probes.append(Probe(name, "query: unexpected junk", method,
                            f"{targets[0][1]}?x=%00&cursor=99999999999999999999&y=%FF"))  # fmt: skip
    return probes


def send(client: httpx.Client, probe: Probe, dep: Deployment, n: int) -> tuple[int | None, str]:
    body = probe.body
    headers: dict[str, str] = {}
    if probe.sign == "shopify":
        headers = shopify_headers(body or b"", probe.topic, f"hostile-{n}-{uuid.uuid4().hex[:8]}")
    elif probe.sign == "woocommerce":
        headers = woo_headers(body or b"", probe.topic)
        headers["X-WC-Webhook-Delivery-ID"] = str(n)
    elif probe.sign == "stripe":
        headers = stripe_headers(body or b"", datetime.now(UTC))
    headers.pop("Content-Type", None)
    if probe.content_type:
        headers["Content-Type"] = probe.content_type
    if probe.auth:
        headers["Authorization"] = f"Bearer {dep.api_key}"
    content: Any = body
    if probe.chunked and body is not None:
        content = iter([body[i : i + 16_384] for i in range(0, len(body), 16_384)] or [b""])
    try:
        r = client.request(probe.method, probe.target, content=content, headers=headers)
    except httpx.TransportError as exc:
        return None, f"connection dropped: {type(exc).__name__}: {exc}"[:300]
    return r.status_code, r.text[:300]


@dataclass
class Outcome:
    probe: Probe
    status: int | None
    detail: str


@dataclass
class FuzzRun:
    outcomes: list[Outcome]
    markers: Markers
    seconds: float
    served: set[str]  # "METHOD /path" of the server's own /openapi.json


EXCEPTION_LINE = re.compile(r"^\S*(?:Error|Exception|Warning)\b.*$", re.M)


def run_fuzz(srv: Server, dep: Deployment) -> FuzzRun:
    rnd = random.Random(SEED)
    ctx = Ctx(dep, Markers(), datetime.now(UTC))
    routes = sorted(
        dep.routes,
        key=lambda r: next((i for i, p in enumerate(ORDER) if r.path.startswith(p)), len(ORDER)),
    )
    outcomes: list[Outcome] = []
    offsets: list[int] = []  # the server log's size when each request went out
    started = time.monotonic()
    with httpx.Client(base_url=srv.base, timeout=60) as client:
        spec = client.get("/openapi.json")
        served = set()
        if spec.status_code == 200:
            paths = spec.json()["paths"].items()
            served = {f"{method.upper()} {path}" for path, ops in paths for method in ops}
        for route in routes:
            for method in route.methods:
                for probe in probes_for(route, method, ctx, rnd):
                    offsets.append(srv.log_size())
                    status, detail = send(client, probe, dep, len(outcomes))
                    if status is None:  # a failure itself; then the probe on a new connection
                        if outcomes and (outcomes[-1].status or 0) >= 500:
                            detail += " (right after a 500 on the same connection)"
                        outcomes.append(Outcome(probe, status, detail))
                        offsets.append(srv.log_size())
                        status, detail = send(client, probe, dep, len(outcomes))
                        detail = f"(sent again on a new connection) {detail}"
                    outcomes.append(Outcome(probe, status, detail))
                    if srv.proc.poll() is not None:
                        pytest.fail(f"the server died during the fuzz at {probe}: "
                                    f"{srv.log_text()[-3000:]}")  # fmt: skip
    time.sleep(0.5)
    offsets.append(srv.log_size())
    log = srv.log.read_bytes()
    for i, o in enumerate(outcomes):  # what the server logged about each failure
        if o.status is None or o.status >= 500:
            end = offsets[min(i + 2, len(offsets) - 1)]
            errors = EXCEPTION_LINE.findall(log[offsets[i] : end].decode("utf-8", "replace"))
            o.detail += f" | log: {errors[-1][:300] if errors else '(nothing)'}"
    return FuzzRun(outcomes, ctx.markers, time.monotonic() - started, served)


@pytest.fixture(scope="module")
def fuzzed(server: Server, deployment: Deployment) -> FuzzRun:
    return run_fuzz(server, deployment)


def grouped(outcomes: list[Outcome]) -> str:
    """One line per route and input class, then each request (target, answer, logged error)."""
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[(o.probe.route, o.probe.label)].append(o)
    lines = []
    for (route, label), found in sorted(groups.items()):
        codes = Counter(str(o.status or "dropped") for o in found)
        lines.append(f"{route} [{label}] ×{len(found)} {dict(codes)}")
        lines += [
            f"    {o.status or 'dropped'} {o.probe.target[:100]} → {o.detail[:300]!r}"
            for o in found[:6]
        ]
    return "\n".join(lines)


def test_fuzz_every_route_never_answers_5xx(fuzzed: FuzzRun, deployment: Deployment) -> None:
    outcomes = fuzzed.outcomes
    per_route: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        per_route[o.probe.route][str(o.status or "dropped")] += 1
    print(f"\n[{deployment.name}] {len(outcomes)} hostile requests in {fuzzed.seconds:.1f} s")
    for route, codes in sorted(per_route.items()):
        print(f"  {route}: {sum(codes.values())} {dict(sorted(codes.items()))}")
    # The harness itself: valid deliveries are accepted (right signatures, stores, key) …
    harness = [
        o for o in outcomes
        if o.probe.label in ("control (valid)", "chunked (valid)")
        and (o.probe.sign or o.probe.route.endswith("/api/v1/events"))
        and o.status is not None and not 200 <= o.status < 300 and o.status < 500
    ]  # fmt: skip
    # (the console's routes want a signed-in session, which no probe has: their 401 is right)
    harness += [
        o for o in outcomes
        if o.probe.auth and o.status == 401 and " /console" not in f" {o.probe.target}"
    ]  # fmt: skip
    assert not harness, "valid requests were not accepted:\n" + grouped(harness)
    # … and every route was reached: all the app has, and all the running server documents.
    reached = {o.probe.route.split(" (")[0] for o in outcomes}
    listed = {f"{m} {r.path}" for r in deployment.routes for m in r.methods}
    assert listed <= reached, listed - reached
    assert fuzzed.served <= listed, fuzzed.served - listed
    failures = [o for o in outcomes if o.status is None or o.status >= 500]
    assert not failures, (
        f"[{deployment.name}] {len(failures)} of {len(outcomes)} hostile requests were answered "
        f"5xx or dropped the connection:\n{grouped(failures)}"
    )


# -- 3. signed deliveries whose ids hold NUL --------------------------------------------------


def inbox_rows(url: str, store_id: str) -> dict[int, tuple[str, str | None, str | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, event_id, error FROM inbox WHERE store_id = :s"),
                {"s": store_id},
            ).all()
    finally:
        engine.dispose()
    return {int(r[0]): (r[1], r[2], r[3]) for r in rows}


def test_signed_deliveries_with_nul_ids_are_answered_and_kept(
    server: Server, deployment: Deployment
) -> None:
    dep = deployment
    m = Markers()
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    stripe = personalise(json.loads((FIX / "stripe/payment_intent_payment_failed.json").read_bytes()), m, now)  # fmt: skip
    stripe["id"] = f"evt_{tag}\u0000nul"
    checkout = personalise(json.loads((FIX / "generic/checkout_updated.json").read_bytes()), m, now)  # fmt: skip
    checkout["id"] = f"evt-{tag}-\u0000"
    checkout["data"]["checkout_id"] = f"c-{tag}\u0000"
    order = personalise(json.loads((FIX / "generic/order_created_jp.json").read_bytes()), m, now)
    order["id"] = f"\u0000evt-{tag}"
    order["data"]["order_id"] = f"o-\u0000{tag}"
    order["data"]["items"][0]["sku"] = "MP\u0000NAT"
    payment = personalise(json.loads((FIX / "generic/payment_failed_br.json").read_bytes()), m, now)  # fmt: skip
    payment["id"] = f"evt-pay-{tag}"
    payment["data"]["payment_id"] = f"tx-\u0000{tag}"
    deliveries = [("stripe event id", "stripe", stripe), ("event + checkout id", "custom", checkout),
                  ("event + order id + sku", "custom", order), ("payment id", "custom", payment)]  # fmt: skip
    before = {p: inbox_rows(dep.database_url, dep.stores[p]["id"]) for p in ("stripe", "custom")}
    problems: list[str] = []
    kept: dict[str, set[int]] = {"stripe": set(), "custom": set()}

    def post(client: httpx.Client, store: str, body: bytes) -> httpx.Response:
        if store == "stripe":
            url = f"/webhooks/stripe/{dep.stores['stripe']['id']}"
            return client.post(url, content=body, headers=stripe_headers(body, datetime.now(UTC)))
        headers = {"Authorization": f"Bearer {dep.api_key}", "Content-Type": "application/json"}
        return client.post("/api/v1/events", content=body, headers=headers)

    client = httpx.Client(base_url=server.base, timeout=60)  # one keep-alive connection
    try:
        for what, store, tree in deliveries:
            body = json.dumps(tree).encode()  # NUL as the escape \u0000, as platforms send it
            assert b"\\u0000" in body
            ids = []
            for attempt in ("first", "repeat"):
                try:
                    r = post(client, store, body)
                except httpx.TransportError as exc:  # noted, then again on a new connection
                    problems.append(f"{what} ({attempt}): connection dropped: {exc!r}")
                    client.close()
                    client = httpx.Client(base_url=server.base, timeout=60)
                    r = post(client, store, body)
                if r.status_code not in (200, 202, 422):
                    problems.append(
                        f"{what} ({attempt}): answered {r.status_code} {r.text[:200]!r}"
                    )
                    break
                data = r.json()
                answer = data if store == "stripe" else data["results"][0]
                reason = answer.get("detail") or answer.get("error")
                if r.status_code == 422 and not (answer["status"] == "rejected" and reason):
                    problems.append(f"{what} ({attempt}): 422 without a reason: {r.text[:200]}")
                wanted = ("accepted", "rejected") if attempt == "first" else ("duplicate",)
                if answer["status"] not in wanted and not (
                    attempt == "repeat" and answer["status"] == "rejected"
                    and answer["delivery_id"] == ids[0]
                ):  # fmt: skip
                    problems.append(f"{what} ({attempt}): {answer['status']!r}, not {wanted}")
                ids.append(answer["delivery_id"])
            if ids and isinstance(ids[0], int):
                kept[store].add(ids[0])
            if len(ids) == 2 and ids[0] != ids[1]:
                problems.append(f"{what}: the repeat got delivery {ids[1]}, not {ids[0]}")
    finally:
        client.close()
    for store in ("stripe", "custom"):
        after = inbox_rows(dep.database_url, dep.stores[store]["id"])
        new = set(after) - set(before[store])
        wanted = sum(1 for _, s, _ in deliveries if s == store)
        if len(new) != wanted:
            problems.append(f"{store}: {len(new)} new inbox rows for {wanted} distinct deliveries: "
                            f"{[after[i] for i in sorted(new)]}")  # fmt: skip
        if not kept[store] <= new:
            problems.append(
                f"{store}: answered delivery ids {sorted(kept[store] - new)} not in the inbox"
            )
    assert not problems, f"[{dep.name}] " + "\n".join(problems)


# -- 4. no personal data in the logs ---------------------------------------------------------


def test_logs_carry_no_personal_data(
    fuzzed: FuzzRun, server: Server, deployment: Deployment
) -> None:
    dep = deployment
    needles = fuzzed.markers.needles()
    # The markers really went in: the deliveries kept carry them.
    engine = make_engine(dep.database_url)
    try:
        with engine.connect() as conn:
            bodies = conn.execute(text("SELECT body FROM inbox")).scalars().all()
    finally:
        engine.dispose()
    assert any(needles["email"].encode() in bytes(b) for b in bodies), "no marker was kept"
    # The worker processes what was kept, three hours on: cases open, flow steps are due.
    later = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    p = subprocess.run(
        [*RECLAIM, "worker", "--once", "--json", "--now", later], env=server.env,
        cwd=dep.workdir, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    (dep.workdir / "worker.log").write_text(p.stdout + p.stderr)
    assert p.returncode == 0, f"the worker exited {p.returncode}: {p.stderr[-3000:]}"
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["processed"] > 0, summary  # the fuzz's valid deliveries reached it
    print(f"\n[{dep.name}] worker: {summary}")
    logs = {"worker": p.stdout + p.stderr}
    logs["server"] = server.log_text()
    hits = []
    for source, content in logs.items():
        for number, line in enumerate(content.splitlines(), start=1):
            found = [kind for kind, needle in needles.items() if needle in line]
            if found:
                hits.append(f"{source}:{number} [{', '.join(found)}] {line[:240]}")
    print(f"\n[{dep.name}] scanned {sum(len(c.splitlines()) for c in logs.values())} log lines "
          f"for {needles}")  # fmt: skip
    assert not hits, f"[{dep.name}] personal data in {len(hits)} log lines:\n" + "\n".join(
        hits[:60]
    )
