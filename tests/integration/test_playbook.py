"""The operations playbook cannot drift from the product: every block of docs/operations.md marked
`sh playbook` runs as written, in order, in one bash shell with `set -euo pipefail`, against the
binary under test (install, first start in production mode with a real SMTP sink, the one-server
lock, metrics, the backup and restore drill, a restore over the live directory, an upgrade, the
JWT secret's rotation, an admin, the incident commands, the stop). The test provides only what a
machine would: the build products in a checkout directory, `gavel` on PATH, the mail settings in
the environment, and the paths of the first block moved into a temporary directory. Afterwards it
checks what the commands should have left behind. Also: every runbook link of the alert rules
names a heading of the playbook."""

import os
import re
import signal
import socket
import sqlite3
import subprocess

import pytest
import yaml

from conftest import GAVEL_BIN, REPO, gavel_env
from test_auth import smtp_sink  # noqa: F401 (a fixture)

# the playbook runs its own servers on SQLite, whatever the pass: once is enough
pytestmark = pytest.mark.own_store

DOC = REPO / "docs" / "operations.md"
ALERTS = REPO / "deploy" / "prometheus" / "gavel-alerts.yml"


def playbook_blocks(text):
    """The bodies of the ```sh playbook fences, in order."""
    return re.findall(r"^```sh playbook\n(.*?)^```$", text, re.M | re.S)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout(tmp_path):
    """What `make` leaves in a checkout: build/gavel and web/dist (here: the binary under test and
    a one-file app)."""
    root = tmp_path / "checkout"
    (root / "build").mkdir(parents=True)
    os.symlink(GAVEL_BIN, root / "build" / "gavel")
    (root / "web" / "dist").mkdir(parents=True)
    (root / "web" / "dist" / "index.html").write_text("<!doctype html><title>Gavel</title>\n")
    return root


def script_of(blocks):
    """One bash script: the blocks in order, each announced on stderr so a failure names it."""
    parts = ["set -Eeuo pipefail", "trap 'echo \"playbook: failed at line $LINENO\" >&2' ERR"]
    for i, body in enumerate(blocks, 1):
        parts.append(f"echo '== playbook block {i}' >&2")
        parts.append(body)
    return "\n".join(parts) + "\n"


def kill_leftover(data):
    """A server the script left running after a failure (never on success)."""
    try:
        pid = int((data / "gavel.lock").read_text().strip())
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def test_playbook_runs_as_written(tmp_path, smtp_sink):  # noqa: F811
    sink, smtp_port = smtp_sink
    blocks = playbook_blocks(DOC.read_text())
    assert len(blocks) >= 10, "the playbook lost its marked blocks"
    root, data = tmp_path / "root", tmp_path / "root" / "var" / "lib" / "gavel"
    backups, port = data / "backups", free_port()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(GAVEL_BIN, bindir / "gavel")
    env = dict(gavel_env(), ROOT=str(root), DATA=str(data), BACKUPS=str(backups),
               LISTEN=f"127.0.0.1:{port}", PATH=f"{bindir}:{os.environ['PATH']}",
               GAVEL_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", GAVEL_MAIL_FROM="ops@gavel.example",
               GAVEL_PUBLIC_URL="https://gavel.example", GAVEL_RATE_LIMIT_SCALE="0")
    script = tmp_path / "playbook.sh"
    script.write_text(script_of(blocks))
    try:
        proc = subprocess.run(["bash", str(script)], cwd=checkout(tmp_path), env=env,
                              capture_output=True, text=True, timeout=240)
    finally:
        kill_leftover(data)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"

    # what the commands left behind
    assert os.access(root / "usr/local/bin/gavel", os.X_OK)
    assert (root / "usr/local/share/gavel/web/index.html").exists()
    assert '"disk":"ok"' in proc.stdout and "check ok" in proc.stdout
    assert (backups / "before-upgrade.gvbackup").exists()
    assert list(data.glob("gavel.db.replaced-*")), "the restore over the live directory kept one"
    secret = data / "jwt.secret"
    assert secret.stat().st_size == 32 and secret.stat().st_mode & 0o077 == 0
    db = sqlite3.connect(f"file:{data / 'gavel.db'}?mode=ro", uri=True)
    admins = {e for (e,) in db.execute("SELECT email FROM users WHERE is_admin = 1")}
    db.close()
    assert {"ops@gavel.example", "someone@gavel.example"} <= admins, admins
    blocks_run = re.findall(r"^== playbook block (\d+)$", proc.stderr, re.M)
    assert len(blocks_run) == len(blocks)


def slug(heading):
    """GitHub's anchor of a heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def test_every_runbook_link_names_a_heading_of_the_playbook():
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", DOC.read_text(), re.M)}
    rules = yaml.safe_load(ALERTS.read_text())
    links = [r["annotations"]["runbook"] for g in rules["groups"] for r in g["rules"]
             if "alert" in r]
    assert links
    for link in links:
        path, _, anchor = link.partition("#")
        assert path.endswith("docs/operations.md") and anchor in anchors, (link, sorted(anchors))
