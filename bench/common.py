"""What every benchmark shares: databases, servers, the load client, the report.

Each benchmark compares the app with a baseline measured in the same run on
the same machine, and prints one line per figure with the word ``ratio``
(decision 42). Before it prints a ratio it checks that both sides did the
same work, and refuses otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import io
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
LUA = ROOT / "bench" / "fixed_requests.lua"
BIN = Path(sys.executable).parent

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 (a benchmark's own)
PSEUDONYM_KEY = "bench-pseudonym-key-not-for-production"
PASSWORD = "bench-password-1234"  # noqa: S105
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1/postgres"


class BenchError(RuntimeError):
    """The benchmark could not run as designed (a server did not start, a client failed)."""


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"date": dt.date.today().isoformat(), "nproc": os.cpu_count(), "cpu": model,
            "python": platform.python_version(), "kernel": platform.release(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


# --------------------------------------------------------------------------- report


class Report:
    """Prints figures as ``<what> ratio <number> (<details>)`` and keeps them for JSON."""

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream or sys.stdout
        self.figures: list[dict] = []
        self.refusals: list[dict] = []
        self.data: dict = {}

    def ratio(self, what: str, value: float, details: str = "", **extra) -> None:
        line = f"{what} ratio {value:.2f}" + (f" ({details})" if details else "")
        print(line, file=self.stream, flush=True)
        self.figures.append({"what": what, "ratio": round(value, 4), "details": details, **extra})

    def refuse(self, what: str, reason: str) -> None:
        """No ratio: the two sides did not do the same work (or could not be measured)."""
        print(f"{what}: no ratio: {reason}", file=self.stream, flush=True)
        self.refusals.append({"what": what, "reason": reason})

    def note(self, text: str) -> None:
        print(f"  {text}", file=self.stream, flush=True)

    def write(self) -> Path:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{self.name}.json"
        path.write_text(json.dumps({"machine": machine(), "figures": self.figures,
                                    "refusals": self.refusals, "data": self.data},
                                   indent=2, default=str))
        return path

    @property
    def ok(self) -> bool:
        return not self.refusals


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was measured."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


# --------------------------------------------------------------------------- databases


def postgres_admin_url() -> str:
    """FEEDBACK_BENCH_POSTGRES_URL, or the local server; empty means "no PostgreSQL"."""
    return os.environ.get("FEEDBACK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it can."""
    url = postgres_admin_url()
    if not url:
        return "FEEDBACK_BENCH_POSTGRES_URL is empty"
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"cannot reach {url}: {str(error).strip().splitlines()[0]}"
    return None


@dataclass
class Database:
    """A database of its own for one benchmark: a SQLite file or a PostgreSQL database."""

    kind: str  # "sqlite" or "postgresql"
    name: str
    path: Path | None = None  # SQLite
    admin_url: str | None = None  # PostgreSQL server's admin database

    @classmethod
    def create(cls, kind: str, workdir: Path, purpose: str) -> Database:
        name = f"feedback_bench_{purpose}_{uuid.uuid4().hex[:8]}"
        if kind == "sqlite":
            return cls(kind, name, path=workdir / f"{name}.sqlite")
        import psycopg

        admin = postgres_admin_url()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return cls(kind, name, admin_url=admin)

    @property
    def dsn(self) -> str:
        """For sqlite3.connect (a path) or psycopg / psql (a libpq URL)."""
        if self.kind == "sqlite":
            return str(self.path)
        import sqlalchemy as sa

        url = sa.make_url(self.admin_url).set(database=self.name)
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def url(self) -> str:
        """For SQLAlchemy, as FEEDBACK_DATABASE_URL."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        return "postgresql+psycopg" + self.dsn[len("postgresql"):]

    def connect(self):
        """A plain DB-API connection (sqlite3 or psycopg), autocommit."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=10000")
            return conn
        import psycopg

        return psycopg.connect(self.dsn, autocommit=True)

    def scalar(self, sql: str, params=()):
        conn = self.connect()
        try:
            return conn.execute(sql, params).fetchone()[0]
        finally:
            conn.close()

    def clone(self, purpose: str) -> Database:
        """An identical copy (the baseline gets the same rows as the app)."""
        name = f"feedback_bench_{purpose}_{uuid.uuid4().hex[:8]}"
        if self.kind == "sqlite":
            copy = Database("sqlite", name, path=self.path.parent / f"{name}.sqlite")
            src, dst = sqlite3.connect(self.path), sqlite3.connect(copy.path)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            return copy
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return Database("postgresql", name, admin_url=self.admin_url)

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self.path}{suffix}").unlink()
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def counts(self, queries: dict[str, str]) -> dict[str, int]:
        conn = self.connect()
        try:
            return {name: conn.execute(sql).fetchone()[0] for name, sql in queries.items()}
        finally:
            conn.close()


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A temporary directory for one benchmark's databases, logs and request files."""
    path = Path(tempfile.mkdtemp(prefix=f"feedback-bench-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def app_config(database: Database) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database.url, "SECRET_KEY": SECRET_KEY,
            "FEEDBACK_PSEUDONYM_KEY": PSEUDONYM_KEY}


def server_env(database: Database, **extra) -> dict[str, str]:
    """The environment the app (and the baselines) run with under gunicorn."""
    from feedback import clock

    env = dict(os.environ)
    env.update({
        # The server's clock starts where this process's clock is (the real time,
        # or the tests' frozen instant in the smoke tests), so links issued here
        # are valid there.
        "FEEDBACK_CLOCK_START": clock.now().isoformat(),
        "FEEDBACK_DATABASE_URL": database.url,
        "FEEDBACK_SECRET_KEY": SECRET_KEY,
        "FEEDBACK_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BENCH_DATABASE": database.dsn,
        "BENCH_DATABASE_KIND": database.kind,
    })
    env.update(extra)
    return env


@contextlib.contextmanager
def seeding_app(database: Database, *, migrate: bool = True):
    """The app on ``database`` in an app context, for creating data through its services.

    Seeding commits without waiting for the disk (synchronous=OFF on SQLite,
    synchronous_commit=off on PostgreSQL): only the data matters here, not
    its durability. The servers measured later use the app's own settings.
    """
    from flask_migrate import upgrade
    from sqlalchemy import event

    from feedback import create_app
    from feedback.extensions import db

    app = create_app(app_config(database))
    with app.app_context():
        if migrate:
            # Alembic logs every migration to stderr; only a failure is worth showing.
            log = io.StringIO()
            try:
                with contextlib.redirect_stderr(log):
                    upgrade()
            except Exception:
                sys.stderr.write(log.getvalue())
                raise
        db.engine.dispose()

        def fast(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            if database.kind == "sqlite":
                cur.execute("PRAGMA synchronous=OFF")
            else:
                cur.execute("SET synchronous_commit = off")
            cur.close()
            if database.kind == "postgresql":
                dbapi_conn.commit()

        event.listen(db.engine, "connect", fast)
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    host: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.contextmanager
def gunicorn(target: str, env: dict[str, str], workdir: Path, name: str,
             probe: str = "/", workers: int | None = None) -> Iterator[Server]:
    """``gunicorn -c deploy/gunicorn.conf.py <target>``, as in production, on a free port.

    The app and the baselines run under the same configuration (gthread
    workers and threads from deploy/gunicorn.conf.py, access log on).
    """
    port = free_port()
    env = {**env, "FEEDBACK_BIND": f"127.0.0.1:{port}"}
    if workers is not None:
        env["FEEDBACK_WORKERS"] = str(workers)
    log = workdir / f"{name}.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), target],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
    server = Server(name, "127.0.0.1", port, process, log)
    expected = int(env.get("FEEDBACK_WORKERS") or min(4, (os.cpu_count() or 1) * 2))
    try:
        _wait_until_serving(server, probe, expected)
        yield server
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: Server, probe: str, workers: int, timeout: float = 60) -> None:
    """Until every worker has booted and the probe path answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        booted = server.log.read_text(errors="replace").count("Booting worker")
        try:
            status, _headers, _body = http_request(server.url, "GET", probe)
        except OSError:
            time.sleep(0.1)
            continue
        if status >= 500:
            raise BenchError(f"{server.name} answered {probe} with {status}")
        if booted >= workers:
            time.sleep(0.5)  # the last worker logs its line before it has loaded the app
            return
        time.sleep(0.1)
    raise BenchError(f"{server.name} did not start within {timeout} s")


# --------------------------------------------------------------------------- HTTP


def http_request(base_url: str, method: str, path: str, *, body: bytes | None = None,
                 headers: dict[str, str] | None = None,
                 timeout: float = 60) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, no redirects followed; returns status, headers and the raw body."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body,
                     headers={"User-Agent": "feedback-bench", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def cookie_value(headers: http.client.HTTPMessage, name: str) -> str | None:
    for header in headers.get_all("Set-Cookie") or []:
        first = header.split(";", 1)[0]
        key, _, value = first.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


# --------------------------------------------------------------------------- load client


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    cookie: str = ""
    body: str = ""

    def line(self) -> str:
        for part in (self.method, self.path, self.cookie, self.body):
            if "\t" in part or "\n" in part:
                raise ValueError("request parts may not contain tabs or newlines")
        return f"{self.method}\t{self.path}\t{self.cookie}\t{self.body}\n"


@dataclass
class LoadResult:
    requests: int
    elapsed: float  # seconds from the first send to the last reply
    latencies: list[float]  # seconds
    statuses: Counter
    client_cpu: float  # seconds of CPU used by the client's threads while sending
    busiest_thread: float  # share of one core used by the busiest client thread
    extra: int = 0  # requests sent beyond the list (must be 0)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else float("nan")

    @property
    def client_cores(self) -> float:
        return self.client_cpu / self.elapsed if self.elapsed > 0 else float("nan")

    @property
    def client_bound(self) -> bool:
        """The client saturated a core, so the server may have been waiting on it."""
        return self.busiest_thread >= 0.9

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct)

    def merge(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            self.requests + other.requests, self.elapsed + other.elapsed,
            self.latencies + other.latencies, self.statuses + other.statuses,
            self.client_cpu + other.client_cpu, max(self.busiest_thread, other.busiest_thread),
            self.extra + other.extra)

    def summary(self) -> dict:
        return {"requests": self.requests, "elapsed_s": round(self.elapsed, 4),
                "throughput": round(self.throughput, 2), "p50_s": self.p(50),
                "p95_s": self.p(95), "p99_s": self.p(99), "statuses": dict(self.statuses),
                "client_cores": round(self.client_cores, 3),
                "busiest_client_thread": round(self.busiest_thread, 3),
                "client_bound": self.client_bound}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_load(base_url: str, requests: list[Req], connections: int, workdir: Path,
             timeout: float = 600) -> LoadResult:
    """Send every request exactly once over ``connections`` keep-alive connections with wrk.

    wrk (C, LuaJIT) generates the load so that the client is not the
    bottleneck; bench/fixed_requests.lua times each request and the CPU used
    by each client thread.
    """
    wrk = wrk_path()
    if not wrk:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    connections = max(1, min(connections, len(requests)))
    prefix = workdir / f"load-{uuid.uuid4().hex[:8]}"
    for n in range(connections):
        with open(f"{prefix}.{n}.req", "w") as fh:
            fh.writelines(r.line() for r in requests[n::connections])
    args = [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{int(timeout)}s",
            "--timeout", "20s", "-s", str(LUA), base_url, "--", str(prefix)]
    outs = [Path(f"{prefix}.{n}.out") for n in range(connections)]
    with open(f"{prefix}.wrk.log", "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    try:
        while not all(out.exists() for out in outs):
            if process.poll() is not None or time.monotonic() > deadline:
                missing = sum(not out.exists() for out in outs)
                raise BenchError(
                    f"wrk ended before {missing} of its threads had every reply: "
                    + Path(f"{prefix}.wrk.log").read_text()[-1500:])
            time.sleep(0.02)
    finally:
        # wrk sleeps for its whole duration; SIGINT ends it once the work is done.
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return _read_load(outs, len(requests))


def _read_load(outs: list[Path], expected: int) -> LoadResult:
    starts, ends, cpus, busiest, latencies = [], [], [], 0.0, []
    statuses: Counter = Counter()
    extra = 0
    for out in outs:
        lines = out.read_text().splitlines()
        at = lines.index("latencies")
        fields: dict[str, int] = {}
        for line in lines[:at]:
            parts = line.split()
            if parts[0] == "status":
                statuses[int(parts[1])] += int(parts[2])
            else:
                fields[parts[0]] = int(parts[1])
        starts.append(fields["start"])
        ends.append(fields["end"])
        cpus.append(fields["cpu"] / 1e6)
        extra += fields["extra"]
        span = (fields["end"] - fields["start"]) / 1e6
        if span > 0:
            busiest = max(busiest, fields["cpu"] / 1e6 / span)
        latencies += [int(v) / 1e6 for v in lines[at + 1:] if v]
    if len(latencies) != expected:
        raise BenchError(f"the client timed {len(latencies)} replies, expected {expected}")
    return LoadResult(expected, (max(ends) - min(starts)) / 1e6, latencies, statuses,
                      sum(cpus), busiest, extra)


def describe(result: LoadResult) -> str:
    text = (f"{result.throughput:.0f} req/s, p50 {fmt_ms(result.p(50))}, "
            f"p95 {fmt_ms(result.p(95))}; client {result.client_cores:.2f} cores")
    if result.client_bound:
        text += ", CLIENT-BOUND"
    return text


@dataclass
class Rounds:
    """Interleaved rounds of two sides (app, baseline, app, baseline, ...)."""

    app: list[LoadResult] = field(default_factory=list)
    baseline: list[LoadResult] = field(default_factory=list)
    warmup: list[LoadResult] = field(default_factory=list)

    def total(self, side: str) -> LoadResult:
        results = getattr(self, side)
        merged = results[0]
        for r in results[1:]:
            merged = merged.merge(r)
        return merged
