"""A Gavel cluster for the integration tests: a throwaway PostgreSQL (scripts/pg-test.sh, without
syncs), a Redis and n `gavel serve` nodes (conftest.Server) that share them, each with its own
data directory, port and node id. tests/integration/test_cluster.py uses it; scripts/cluster.sh
is its cousin for trying a cluster out by hand.

    c = Cluster(tmp_path, n=3, lease_ms=1500)
    c.nodes[i]                  the current Server of node i (--node-id f"node{i + 1}"): .url,
                                .ws_url, .port, .pid, .log(); a restarted node is a new Server
    c.kill(i, sig=SIGKILL)      SIGKILL: a crash (its exit is not checked); SIGSTOP: the node
                                stalls (c.freeze(i)); SIGCONT: it goes on (c.thaw(i)); SIGTERM or
                                SIGINT: a clean stop (exit 0 checked at close)
    c.restart(i)                a new process on node i's data directory (stops the old one
                                cleanly if it still runs); the new one has another port
    c.stop_redis() / c.start_redis()   Redis goes away / comes back on the same port
    c.stop_pg() / c.start_pg()         PostgreSQL stops / starts again on the same port
    c.health(i)                 (status, body) of node i's GET /api/health ((None, None): no answer)
    c.wait_healthy(i=None)      until the node (every running one) answers 200 with
                                checks.redis "ok"
    c.metrics(i), c.metric(i, name)    node i's parsed /metrics; the sum of a family's samples
    c.close()                   stops everything; fails on a node that did not exit 0 (except
                                those killed on purpose) or left a sanitizer report

Every process is started with the flags the tests' servers use (--dev, --rate-limit-scale 0,
--listen 127.0.0.1:0) plus the cluster's: --store, --node-id, --redis and --lease-ms. Everything
that waits polls a condition under a deadline."""

import copy
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import (
    GAVEL_BIN,
    PG_URL,
    REPO,
    START_TIMEOUT,
    TIMEOUT,
    Server,
    parse_metrics,
    wait_for,
)

PG_TEST = REPO / "scripts" / "pg-test.sh"
NGINX_CONF = REPO / "deploy" / "nginx-cluster.conf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, n=6000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"({path}: {e})"
    return text if len(text) <= n else "...\n" + text[-n:]


class PostgreSQL:
    """scripts/pg-test.sh's server in a temporary directory of its own (as root its files belong to
    the user postgres, who cannot enter pytest's private temporary directories)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gavel-cluster-pg-")
        env = {**os.environ, "GAVEL_PG_FSYNC": "off"}
        made = subprocess.run([PG_TEST, "start", self.dir], capture_output=True, text=True,
                              env=env, timeout=120)
        if made.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            pytest.fail(f"PostgreSQL did not start: {made.stderr}")
        self.uri = made.stdout.strip()
        self.running = True

    def _run(self, cmd):
        done = subprocess.run([PG_TEST, cmd, self.dir], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"pg-test.sh {cmd}: {done.stderr}\n{self.log()}"

    def stop(self):
        if self.running:
            self._run("stop")
            self.running = False

    def start(self):
        if not self.running:
            self._run("restart")
            self.running = True

    def log(self):
        return _tail(Path(self.dir) / "server.log")

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """redis-server on a loopback port, no persistence, in a directory of its own; stop() and
    start() keep the port."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.log_path = self.dir / "redis.log"
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        assert not self.running, "Redis already runs"
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(self.dir),
               "--pidfile", str(self.dir / "redis.pid"), "--logfile", str(self.log_path)]
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            pytest.fail("no redis-server (scripts/deps.sh installs it)")
        if not wait_for(self.ping, timeout=10):
            self.stop(signal.SIGKILL)
            pytest.fail(f"Redis did not start on port {self.port}\n{self.log()}")

    def ping(self):
        """True when the server answers PING."""
        assert self.running, f"redis-server exited ({self.proc.returncode})\n{self.log()}"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM):
        """Stops the server (SIGTERM: it exits at once, having nothing to save)."""
        if self.running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        return _tail(self.log_path)


class Cluster:
    """PostgreSQL, Redis and n nodes; see the module's documentation."""

    def __init__(self, tmpdir, n=3, lease_ms=1500, flags=()):
        if PG_URL:
            pytest.fail("a Cluster brings its own PostgreSQL: mark the test own_store")
        if not GAVEL_BIN.exists():
            pytest.fail(f"gavel binary not found at {GAVEL_BIN}; build it (make build/gavel)")
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.n, self.lease_ms, self.flags = n, lease_ms, tuple(flags)
        self.servers = []  # every process started, the dead ones too: all are checked at close
        self.nodes = []  # the current process of each node
        self.frozen = set()  # the nodes stopped with SIGSTOP
        self.pg = self.redis = None
        try:
            self.pg = PostgreSQL()
            self.redis = Redis(self.tmpdir / "redis")
            self.redis.start()
            for i in range(n):
                self.nodes.append(self._start(i))
            self.wait_healthy()
        except BaseException:
            self.close(check=False)
            raise

    # -- nodes --------------------------------------------------------------------------------

    def node_id(self, i):
        return f"node{i + 1}"

    def node_flags(self, i):
        return ["--store", self.pg.uri, "--node-id", self.node_id(i), "--redis", self.redis.url,
                "--lease-ms", self.lease_ms, *self.flags]

    def _start(self, i, log_mode="wb"):
        workdir = self.tmpdir / self.node_id(i)
        workdir.mkdir(exist_ok=True)
        srv = Server(workdir, self.node_flags(i), log_mode=log_mode)
        srv.node_id = self.node_id(i)
        self.servers.append(srv)
        return srv

    def others(self, i):
        """The current nodes except node i."""
        return [node for k, node in enumerate(self.nodes) if k != i]

    def kill(self, i, sig=signal.SIGKILL):
        node = self.nodes[i]
        if sig == signal.SIGKILL:
            self.frozen.discard(i)
            node.crash()  # kill -9 and wait: its exit status is not checked
        elif sig == signal.SIGSTOP:
            assert node.running(), f"{node.node_id} does not run"
            os.kill(node.pid, signal.SIGSTOP)
            self.frozen.add(i)
            assert wait_for(lambda: _proc_state(node.pid) == "T", timeout=TIMEOUT), (
                f"{node.node_id} did not stop")
        elif sig == signal.SIGCONT:
            os.kill(node.pid, signal.SIGCONT)
            self.frozen.discard(i)
        else:  # a clean stop, checked at close like any other
            self.frozen.discard(i)
            node.stop(sig)

    def freeze(self, i):
        """SIGSTOP: the node stalls (its sockets stay open, it answers nothing)."""
        self.kill(i, signal.SIGSTOP)

    def thaw(self, i):
        """SIGCONT: the stalled node goes on."""
        self.kill(i, signal.SIGCONT)

    def restart(self, i, wait=True):
        """A new process for node i on its data directory; returns its Server."""
        old = self.nodes[i]
        if i in self.frozen:
            self.thaw(i)
        if old.returncode is None:
            old.stop()
        self.nodes[i] = self._start(i, log_mode="ab")
        if wait:
            self.wait_healthy(i)
        return self.nodes[i]

    # -- Redis and PostgreSQL -----------------------------------------------------------------

    def stop_redis(self, sig=signal.SIGTERM):
        self.redis.stop(sig)

    def start_redis(self):
        self.redis.start()

    def stop_pg(self):
        self.pg.stop()

    def start_pg(self):
        self.pg.start()

    # -- probes -------------------------------------------------------------------------------

    def health(self, i):
        """(status, JSON body) of node i's /api/health; (None, None) when it does not answer."""
        try:
            r = requests.get(self.nodes[i].url + "/api/health", timeout=TIMEOUT)
        except requests.RequestException:
            return None, None
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None

    def healthy(self, i):
        status, body = self.health(i)
        return status == 200 and (body or {}).get("checks", {}).get("redis") == "ok"

    def wait_healthy(self, i=None, timeout=START_TIMEOUT):
        """Waits until node i (or every node that runs and is not frozen) answers /api/health 200
        with checks.redis "ok"."""
        which = [i] if i is not None else [
            k for k, node in enumerate(self.nodes) if node.running() and k not in self.frozen]
        for k in which:
            if not wait_for(lambda: self.healthy(k), timeout=timeout, interval=0.1):
                pytest.fail(f"{self.node_id(k)} is not healthy: {self.health(k)}\n"
                            f"{self.nodes[k].describe()}")

    def metrics(self, i):
        """Node i's /metrics, parsed (conftest.Metrics)."""
        r = requests.get(self.nodes[i].url + "/metrics", timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return parse_metrics(r.text)

    def metric(self, i, name):
        """The sum of every sample of the family `name` on node i (0 when there is none)."""
        return sum(v for _, v in self.metrics(i).series(name))

    # -- the end ------------------------------------------------------------------------------

    def close(self, check=True):
        """Stops every node (TERM, all at once, then waits), Redis and PostgreSQL. A stalled node
        is continued first, and PostgreSQL and Redis are brought back if a test left them down:
        a node's shutdown finishes its in-flight commits. With check, fails when a node that was
        not killed on purpose did not exit 0, or any left a sanitizer report."""
        failures = []
        try:
            for i in list(self.frozen):
                if self.nodes[i].running():
                    os.kill(self.nodes[i].pid, signal.SIGCONT)
            self.frozen.clear()
            if self.pg and not self.pg.running:
                self.pg.start()
            if self.redis and not self.redis.running:
                self.redis.start()
        except BaseException as e:  # stop the rest anyway
            failures.append(f"bringing the cluster back for its shutdown: {e!r}")
        live = [s for s in self.servers if s.returncode is None]
        for srv in live:
            srv.send_signal(signal.SIGTERM)
        for srv in live:
            srv.wait()
        if check:
            for srv in self.servers:
                problems = srv.problems()
                if problems:
                    failures.append(f"{srv.node_id} (pid {srv.pid}) did not stop cleanly: "
                                    + "; ".join(problems) + "\n" + srv.describe())
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.close()
        if check:
            assert not failures, "\n\n".join(failures)

    def report_sections(self):
        """What a failed test's report shows (conftest's pytest_runtest_makereport)."""
        out = [(f"gavel log ({srv.node_id}, pid {srv.pid}, port {srv.port})", srv.describe())
               for srv in self.servers]
        if self.redis:
            out.append((f"redis log (port {self.redis.port})", self.redis.log()))
        if self.pg:
            out.append(("postgresql log", self.pg.log()))
        return out


def _proc_state(pid):
    """The state letter of /proc/PID/stat (R, S, T ...), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def via(who, node):
    """The signed-in test_leagues.Client `who`, talking to `node` (the nodes share the database,
    so a token is good on every one)."""
    other = copy.copy(who)
    other.server = node
    return other


class Nginx:
    """nginx running deploy/nginx-cluster.conf in a temporary prefix, with only its ports
    replaced: the upstream's server lines become the nodes' and the listen port a free one."""

    def __init__(self, prefix, ports):
        self.prefix = Path(prefix)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        text = NGINX_CONF.read_text()
        # the upstream's server lines: one per node, with the first shipped line's parameters
        lines = list(re.finditer(r"^([ \t]*server 127\.0\.0\.1:)(\d+)( [^\n]*\n)", text, re.M))
        assert len(lines) >= 2, "the shipped upstream has no server lines"
        first = lines[0]
        servers = "".join(f"{first.group(1)}{p}{first.group(3)}" for p in ports)
        text = text[:first.start()] + servers + text[lines[-1].end():]
        assert text.count("listen 127.0.0.1:8080;") == 1
        text = text.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(text)
        # under a root master, workers run as nobody, who cannot enter pytest's directories
        self.globals = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        self.base = ["nginx", "-p", str(self.prefix), "-c", str(self.conf),
                     "-e", str(self.prefix / "error.log")]
        test = subprocess.run([*self.base, "-g", self.globals, "-t"], capture_output=True,
                              text=True, timeout=30)
        assert test.returncode == 0, f"nginx -t: {test.stderr}"
        self._err = open(self.prefix / "stderr.log", "wb")
        self.proc = subprocess.Popen([*self.base, "-g", self.globals],
                                     stdout=subprocess.DEVNULL, stderr=self._err)
        if not wait_for(self.listening, timeout=10):
            self.stop()
            pytest.fail(f"nginx did not start\n{self.log()}")
        self.host = "127.0.0.1"
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def listening(self):
        assert self.proc.poll() is None, f"nginx exited\n{self.log()}"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log(self):
        return "".join(_tail(self.prefix / name) for name in ("stderr.log", "error.log")
                       if (self.prefix / name).exists())

    def stop(self):
        """Graceful stop (SIGQUIT); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "killed after 15 s"
        self._err.close()
        return code
