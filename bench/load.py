"""``make load``: respondents under load while gunicorn's processes are killed.

For each engine (SQLite, PostgreSQL) this starts the app as production does
(``gunicorn -c deploy/gunicorn.conf.py``, loopback only) and lets N simulated
respondents answer ORS links as the real page does:

- open the link (``GET /r/<token>``, then the questionnaire page) and send
  back the answers with the page's own CSRF token and the submission id the
  page rendered, asking for JSON as the page's script does;
- tap twice now and then (two identical posts at once);
- drop the connection after sending now and then (the reply is lost), and
  resend the same body after a connection error, a 5xx or a 429, with the
  page's back-off, until the server acknowledges (200/201) or says the
  questionnaire was answered (409).

Meanwhile a worker is killed with SIGKILL every ``--kill-every`` seconds,
and once (half-way) the master: its workers are killed with it, as systemd's
KillMode=mixed does, and gunicorn is started again on the same address.

Afterwards the database is compared with what the respondents were told:

- lost: acknowledged but not stored (must be 0);
- doubled: more than one response for one questionnaire of one invitation (must be 0);
- used without a response: a questionnaire marked used with no response stored (must be 0);
- half stored: a response without all its answers (must be 0).

It prints those, with attempts, throughput and latency percentiles, and
exits with 1 on any loss (or when nothing was acknowledged at all).

    python -m bench.load [--respondents 50] [--duration 120] [--kill-every 20]
                         [--engines sqlite,postgresql] [--max-requests 20000]

PostgreSQL comes from FEEDBACK_BENCH_POSTGRES_URL, as for ``make bench``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import seed
from bench.common import (
    BIN,
    GUNICORN_CONF,
    PASSWORD,
    ROOT,
    BenchError,
    Database,
    cookie_value,
    fmt_ms,
    free_port,
    percentile,
    postgres_admin_url,
    postgres_unavailable,
    seeding_app,
    server_env,
    workspace,
)

ITEM_KEYS = ("individually", "interpersonally", "socially", "overall")
#: What the page's script does after a failure: wait 2 s, doubling up to 30 s.
#: The simulation scales it down (``--backoff``) so a short run sees many resends.
PAGE_BACKOFF = (2.0, 30.0)


# --------------------------------------------------------------------------- figures


@dataclass
class Tally:
    """What the respondents did and were told (shared by their threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: int = 0  # answer posts sent
    opens: int = 0  # link and page requests sent
    open_failed: int = 0  # links the respondent gave up opening
    statuses: Counter = field(default_factory=Counter)  # of answer posts; 0: no reply
    latencies: list[float] = field(default_factory=list)  # answer posts with a reply
    acknowledged: set = field(default_factory=set)  # submission ids the server confirmed
    finished: set = field(default_factory=set)  # ... or said were answered already (409)
    refused: Counter = field(default_factory=Counter)  # gave up on other 4xx
    double_taps: int = 0
    dropped_replies: int = 0
    resends: int = 0

    def count(self, status: int, latency: float | None) -> None:
        with self.lock:
            self.attempts += 1
            self.statuses[status] += 1
            if latency is not None:
                self.latencies.append(latency)


@dataclass
class Faults:
    worker_kills: int = 0
    master_kills: int = 0
    restarts: int = 0
    log: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the server


class Gunicorn:
    """gunicorn as in production on one loopback port, restartable on the same port."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str, workers: int | None):
        self.port = free_port()
        self.env = {**env, "FEEDBACK_BIND": f"127.0.0.1:{self.port}"}
        if workers is not None:
            self.env["FEEDBACK_WORKERS"] = str(workers)
        self.workers = int(self.env.get("FEEDBACK_WORKERS")
                           or min(4, (os.cpu_count() or 1) * 2))
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "feedback:create_app()"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            if len(self.worker_pids()) >= self.workers and self._answers():
                return
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not start within {timeout} s")

    def _answers(self) -> bool:
        try:
            status, _, _ = _request(self.url, "GET", "/health", timeout=5)
        except OSError:
            return False
        return status < 500

    def worker_pids(self) -> list[int]:
        """The master's gunicorn children (not the one-off ``flask check``)."""
        if self.process is None or self.process.poll() is not None:
            return []
        master = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master and b"gunicorn" in cmdline:
                pids.append(int(entry.name))
        return pids

    def kill_worker(self, rng: random.Random) -> int | None:
        pids = self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return pid

    def kill_master(self) -> None:
        """SIGKILL the master, then its workers (systemd's KillMode=mixed does the same)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # Until the port is free of the old workers.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._group_alive():
            time.sleep(0.05)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- HTTP


def _request(base_url: str, method: str, path: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float = 20,
             drop_reply: bool = False):
    """One request on a new connection; ``drop_reply`` closes it before reading the reply."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body,
                     headers={"User-Agent": "feedback-load", **(headers or {})})
        if drop_reply:
            return None
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- respondents


@dataclass
class Behaviour:
    double_tap: float = 0.15  # share of respondents who tap Send twice
    drop_reply: float = 0.1  # share whose first reply is lost on the way
    think: tuple[float, float] = (0.2, 1.5)  # seconds between page and Send
    backoff: float = 0.1  # the page's back-off, scaled (1.0: as the page)


class Respondent(threading.Thread):
    def __init__(self, number: int, server: Gunicorn, links: list, tally: Tally,
                 stop: threading.Event, behaviour: Behaviour, max_requests: int):
        super().__init__(name=f"respondent-{number}", daemon=True)
        self.rng = random.Random(number)
        self.server, self.links, self.tally, self.stop = server, links, tally, stop
        self.behaviour = behaviour
        self.max_requests = max_requests

    def run(self) -> None:
        while not self.stop.is_set() and self.tally.attempts < self.max_requests:
            try:
                link = self.links.pop()
            except IndexError:
                return
            page = self._open(link)
            if page is None:
                with self.tally.lock:
                    self.tally.open_failed += 1
                continue
            self.stop.wait(self.rng.uniform(*self.behaviour.think))
            self._answer(*page)

    def _backoff(self, tries: int) -> float:
        low, high = PAGE_BACKOFF
        return min(low * 2 ** tries, high) * self.behaviour.backoff

    def _open(self, link: seed.IssuedLink):
        """The link, then the questionnaire page: (path, cookie, form fields), or None."""
        for tries in range(20):
            if self.stop.is_set():
                return None
            try:
                with self.tally.lock:
                    self.tally.opens += 1
                status, headers, _ = _request(self.server.url, "GET", f"/r/{link.token}")
                cookie = cookie_value(headers, "feedback_respondent")
                if status != 303 or not cookie:
                    raise OSError(f"opening answered {status}")
                cookie = f"feedback_respondent={cookie}"
                with self.tally.lock:
                    self.tally.opens += 1
                status, _, body = _request(self.server.url, "GET", headers["Location"],
                                           headers={"Cookie": cookie})
                if status != 200:
                    raise OSError(f"the questionnaire answered {status}")
                page = body.decode("utf-8")
                action = re.search(r'<form method="post" action="(/r/q/\d+)"', page)
                hidden = seed.hidden_inputs(page)
                if not action or "submission_id" not in hidden:
                    raise OSError("no questionnaire form on the page")
                return action.group(1), cookie, hidden
            except (OSError, http.client.HTTPException):
                self.stop.wait(self._backoff(tries))
        return None

    def _answer(self, path: str, cookie: str, hidden: dict[str, str]) -> None:
        rng = self.rng
        fields = {"csrf_token": hidden["csrf_token"], "submission_id": hidden["submission_id"]}
        fields.update({key: str(rng.randint(0, 100) / 10).removesuffix(".0")
                       for key in ITEM_KEYS})
        body = urlencode(fields).encode()
        sid = str(uuid.UUID(hidden["submission_id"]))
        headers = {"Cookie": cookie, "Accept": "application/json",
                   "Content-Type": "application/x-www-form-urlencoded"}
        if rng.random() < self.behaviour.double_tap:
            with self.tally.lock:
                self.tally.double_taps += 1
            twin = threading.Thread(target=self._post, args=(path, body, headers, sid),
                                    daemon=True)
            twin.start()
        drop = rng.random() < self.behaviour.drop_reply
        tries = 0
        while not self.stop.is_set():
            if tries:
                with self.tally.lock:
                    self.tally.resends += 1
            outcome = self._post(path, body, headers, sid, drop_reply=drop)
            drop = False
            if outcome in ("done", "refused"):
                return
            self.stop.wait(self._backoff(tries))
            tries += 1

    def _post(self, path: str, body: bytes, headers: dict, sid: str,
              drop_reply: bool = False) -> str:
        started = time.monotonic()
        try:
            reply = _request(self.server.url, "POST", path, body=body, headers=headers,
                             drop_reply=drop_reply)
        except (OSError, http.client.HTTPException):
            self.tally.count(0, None)
            return "again"
        if reply is None:
            with self.tally.lock:
                self.tally.dropped_replies += 1
            self.tally.count(0, None)
            return "again"
        status = reply[0]
        self.tally.count(status, time.monotonic() - started)
        if status in (200, 201):
            with self.tally.lock:
                self.tally.acknowledged.add(sid)
            return "done"
        if status == 409:  # answered already: the page moves on, as after a receipt
            with self.tally.lock:
                self.tally.finished.add(sid)
            return "done"
        if status >= 500 or status == 429:
            return "again"
        with self.tally.lock:
            self.tally.refused[status] += 1
        return "refused"


# --------------------------------------------------------------------------- faults


def _faults(server: Gunicorn, stop: threading.Event, kill_every: float, master_at: float,
            faults: Faults, started: float) -> None:
    rng = random.Random(7)
    master_done = False
    n = 0
    while not stop.wait(kill_every):
        n += 1
        at = time.monotonic() - started
        if not master_done and at >= master_at:
            server.kill_master()
            faults.master_kills += 1
            faults.log.append(f"{at:5.1f} s  kill -9 master {server.process.pid} and workers")
            master_done = True
            stop.wait(1.0)  # systemd's RestartSec, shortened
            if stop.is_set():
                break
            server.start()
            faults.restarts += 1
            faults.log.append(f"{time.monotonic() - started:5.1f} s  restarted "
                              f"(master {server.process.pid})")
            continue
        pid = server.kill_worker(rng)
        if pid:
            faults.worker_kills += 1
            faults.log.append(f"{at:5.1f} s  kill -9 worker {pid}")


# --------------------------------------------------------------------------- the check


CHECKS = {
    "stored": "SELECT count(*) FROM responses",
    "doubled": """SELECT count(*) FROM (SELECT invitation_id, instrument_version_id
                  FROM responses GROUP BY invitation_id, instrument_version_id
                  HAVING count(*) > 1) AS d""",
    "used without a response": """SELECT count(*) FROM invitation_items i
                  WHERE i.used_at IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM responses r WHERE r.invitation_id = i.invitation_id
                    AND r.instrument_version_id = i.instrument_version_id)""",
    "half stored": f"""SELECT count(*) FROM responses r WHERE (
                  SELECT count(*) FROM answers a WHERE a.response_id = r.id) <> {len(ITEM_KEYS)}""",
}


def stored_submission_ids(database: Database) -> set[str]:
    conn = database.connect()
    try:
        rows = conn.execute("SELECT submission_id FROM responses").fetchall()
    finally:
        conn.close()
    return {str(uuid.UUID(str(r[0]))) for r in rows}


@dataclass
class Result:
    engine: str
    tally: Tally
    faults: Faults
    elapsed: float
    counts: dict[str, int]
    lost: int
    links: int

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.counts["doubled"] == 0
                and self.counts["used without a response"] == 0
                and self.counts["half stored"] == 0 and len(self.tally.acknowledged) > 0)

    def lines(self) -> list[str]:
        t = self.tally
        statuses = ", ".join(f"{'no reply' if s == 0 else s}: {n}"
                             for s, n in sorted(t.statuses.items()))
        lat = t.latencies
        return [
            f"{self.engine}: {self.elapsed:.0f} s, {self.faults.worker_kills} workers and "
            f"{self.faults.master_kills} master killed (kill -9), {self.faults.restarts} "
            f"restart(s)",
            f"  attempts               {t.attempts}  (answer posts; {t.resends} resends, "
            f"{t.double_taps} double taps, {t.dropped_replies} replies dropped; "
            f"{t.opens} page requests)",
            f"  statuses               {statuses}",
            f"  acknowledged           {len(t.acknowledged)}",
            f"  answered already (409) {len(t.finished - t.acknowledged)}",
            f"  stored                 {self.counts['stored']}",
            f"  lost                   {self.lost}",
            f"  doubled                {self.counts['doubled']}",
            f"  used without response  {self.counts['used without a response']}",
            f"  half stored            {self.counts['half stored']}",
            f"  links given up         {t.open_failed} (of {self.links})",
            f"  throughput             {len(t.acknowledged) / self.elapsed:.1f} "
            f"acknowledged/s, {t.attempts / self.elapsed:.1f} posts/s",
            f"  latency                p50 {fmt_ms(percentile(lat, 50))}, "
            f"p95 {fmt_ms(percentile(lat, 95))}, p99 {fmt_ms(percentile(lat, 99))}, "
            f"max {fmt_ms(max(lat) if lat else float('nan'))}",
            f"  result                 {'OK' if self.ok else 'FAILED'}",
        ]


def run_engine(kind: str, *, respondents: int, duration: float, kill_every: float,
               max_requests: int, links: int | None = None, workers: int | None = None,
               behaviour: Behaviour | None = None, out=sys.stdout) -> Result:
    """One load-and-fault run on a fresh database of ``kind``."""
    behaviour = behaviour or Behaviour()
    if links is None:
        # Enough for every respondent to keep going for the whole run.
        per_second = 1 / (sum(behaviour.think) / 2 + 0.2)
        links = int(respondents * duration * per_second * 1.3) + respondents
    with workspace(f"load-{kind}") as workdir:
        database = Database.create(kind, workdir, "load")
        server = None
        try:
            started = time.monotonic()
            with seeding_app(database):
                seed.staff(PASSWORD)
                issued = seed.issue_links(seed.CASEWORKER, links)
            print(f"{kind}: {links} links issued in {time.monotonic() - started:.0f} s; "
                  f"{respondents} respondents for {duration:.0f} s, a worker killed every "
                  f"{kill_every:.0f} s", file=out, flush=True)
            server = Gunicorn(server_env(database), workdir, f"load-{kind}", workers)
            server.start()
            tally, faults, stop = Tally(), Faults(), threading.Event()
            random.Random(3).shuffle(issued)
            threads = [Respondent(n, server, issued, tally, stop, behaviour, max_requests)
                       for n in range(respondents)]
            started = time.monotonic()
            killer = threading.Thread(
                target=_faults, args=(server, stop, kill_every, duration / 2, faults, started),
                daemon=True)
            for thread in threads:
                thread.start()
            killer.start()
            deadline = started + duration
            while time.monotonic() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.2)
            stop.set()
            killer.join(timeout=120)
            # Requests in flight get their replies (20 s client timeout).
            for thread in threads:
                thread.join(timeout=30)
            elapsed = time.monotonic() - started
            for line in faults.log:
                print(f"  {line}", file=out, flush=True)
            server.stop()
            counts = database.counts(CHECKS)
            lost = len(tally.acknowledged - stored_submission_ids(database))
            result = Result(kind, tally, faults, elapsed, counts, lost, links)
            for line in result.lines():
                print(line, file=out, flush=True)
            if not result.ok:
                print(f"  gunicorn's log: {server.log}", file=out)
            return result
        finally:
            if server is not None:
                server.stop()
            database.drop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds per engine")
    parser.add_argument("--kill-every", type=float, default=20,
                        help="seconds between kill -9 of a worker")
    parser.add_argument("--max-requests", type=int, default=20000,
                        help="most answer posts per engine")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: as deploy/gunicorn.conf.py)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    ok = True
    for kind in engines:
        if kind == "postgresql":
            why = "FEEDBACK_BENCH_POSTGRES_URL is empty" if not postgres_admin_url() \
                else postgres_unavailable()
            if why:
                print(f"postgresql: not run: {why}", flush=True)
                ok = False
                continue
        result = run_engine(kind, respondents=args.respondents, duration=args.duration,
                            kill_every=args.kill_every, max_requests=args.max_requests,
                            workers=args.workers)
        ok = ok and result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
