import http.server
import importlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIRROR = os.environ.get("SRTWINS_MIRROR")
REQUIRE_MIRROR = os.environ.get("SRTWINS_REQUIRE_MIRROR") == "1"  # CI sets it: a missing mirror fails


def mirror_path():
    """The real dataset mirror ($SRTWINS_MIRROR); without it, skip the test with the reason, or fail when
    $SRTWINS_REQUIRE_MIRROR=1 (CI always has the mirror, so a skip there would hide a broken setup)."""
    if not MIRROR or not Path(MIRROR).is_dir():
        reason = f"needs the dataset mirror: set SRTWINS_MIRROR to a folder like ../shared/datasets (got {MIRROR!r})"
        if REQUIRE_MIRROR:
            pytest.fail(reason + "; SRTWINS_REQUIRE_MIRROR=1 makes this an error", pytrace=False)
        pytest.skip(reason)
    return Path(MIRROR).resolve()


@pytest.fixture
def mirror():
    return mirror_path()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}  # path -> list of (status, body, extra headers); the last entry repeats
    hits = {}

    def do_GET(self):  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        plan = self.routes.get(self.path, [(404, b"not found", {})])
        status, body, headers = plan[min(self.hits[self.path], len(plan)) - 1]
        self.send_response(status)
        self.send_header("Content-Length", str(headers.get("declared_length", len(body))))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A loopback HTTP server: ``server.route(path, (status, body, headers), ...)``, ``server.url(path)``."""
    handler = type("H", (_Handler,), {"routes": {}, "hits": {}})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.route = lambda path, *plan: handler.routes.__setitem__(path, [(s, b, dict(h)) for s, b, h in plan])
    srv.url = lambda path: f"http://127.0.0.1:{srv.server_address[1]}{path}"
    srv.hits = handler.hits
    yield srv
    srv.shutdown()


def run_stage(stage, cwd, env=None, args=()):
    """Run ``python -m stages.<stage> [args]`` in ``cwd`` with the repo on the path."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", f"stages.{stage}", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True)


@pytest.fixture
def call_stage(monkeypatch, capsys):
    """``call_stage(stage, cwd, env=None, args=())``: a stage's ``main`` through ``cli.run`` in this process,
    as ``python -m stages.<stage>`` would run it; returns (returncode, stdout, stderr) like ``run_stage``.

    In-process, so a test of bad input skips the 8-9 s of importing TensorFlow in a fresh process;
    the end-to-end tests run every stage as its own process."""
    from srtwins import cli

    def call(stage, cwd, env=None, args=()):
        module = importlib.import_module(f"stages.{stage}")
        with monkeypatch.context() as m:
            m.chdir(cwd)
            m.setattr(sys, "argv", [f"stages/{stage}.py", *args])
            for key, value in (env or {}).items():
                m.setenv(key, value)
            capsys.readouterr()
            try:
                cli.run(module.main)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            out, err = capsys.readouterr()
        return subprocess.CompletedProcess([stage, *args], code, out, err)

    return call


# The files that run pipelines or fresh training processes, longest first: `pytest -n 2 --dist loadfile
# --no-loadscope-reorder` (the README's test command) starts its two workers on the first two.
LONGEST_FIRST = ["test_full_profile.py", "test_e2e.py", "test_switches.py", "test_gan.py"]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file stays
