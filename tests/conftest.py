import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIRROR = os.environ.get("SRTWINS_MIRROR")


def mirror_path():
    """The real dataset mirror ($SRTWINS_MIRROR), or skip the test with the reason."""
    if not MIRROR or not Path(MIRROR).is_dir():
        pytest.skip("needs the dataset mirror: set SRTWINS_MIRROR to a folder like ../shared/datasets")
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
