"""Page-view path benchmark: a widget's config and loader.js against a bare Flask answer.

    .venv/bin/python benchmarks/pageview.py [--seconds N] [--connections N] [--no-nginx]

Every page view of every embedding site fetches loader.js and its widget's
config, so these two answers are where the volume is. This serves the app and
``baseline_app.py`` (``GET /json``, a small JSON object) under the same
gunicorn command, loads each with the same wrk client and concurrency in the
same run, and prints requests/s, p50/p99 and the servers' CPU per request,
with each answer's ratio to the baseline. Then it starts Debian's nginx on
loopback with ``docs/nginx.conf`` (README's recipe) in front of the app and
measures the config and the loader through it. It also prints whether each
answer is keepable by a shared cache (public, no ``Vary: Cookie``, no
cookie, no limiter headers). Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402  (run.py sits beside this script)
    BALANCED_SHARE,
    PAGE_ORIGIN,
    ROOT,
    Server,
    bench_env,
    create_widget,
    free_port,
    gunicorn_command,
    http_get,
    until_balanced,
    verdict,
)

CONFIG_TARGET = 0.5
LOADER_TARGET = 0.8
NGINX_RECIPE = ROOT / "docs" / "nginx.conf"


def wrk(port: int, path: str, seconds: float, connections: int, headers: dict) -> dict:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(HERE / "get_summary.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], check=False,
                          capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode or not match:
        raise SystemExit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


class Nginx:
    """Debian's nginx with the README recipe, on a spare loopback port, in front of the app."""

    def __init__(self, app_port: int, workdir: Path):
        self.port = free_port()
        self.dir = workdir / "nginx"
        (self.dir / "cache").mkdir(parents=True)
        recipe = NGINX_RECIPE.read_text()
        recipe = recipe.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
        recipe = recipe.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        recipe = recipe.replace("/var/cache/nginx/widget-server", str(self.dir / "cache"))
        temp = self.dir / "temp"
        user = "user root root;\n" if os.getuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\naccess_log off;\nclient_body_temp_path {temp}/body;\n"
            f"proxy_temp_path {temp}/proxy;\nfastcgi_temp_path {temp}/fastcgi;\n"
            f"uwsgi_temp_path {temp}/uwsgi;\nscgi_temp_path {temp}/scgi;\n"
            f"{recipe}\n}}\n")
        temp.mkdir()
        self.process = subprocess.Popen(
            [self.binary(), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                http_get(self.port, "/healthz")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"nginx did not start: {self.process.stderr.read().decode()}")

    @staticmethod
    def binary() -> str:
        return shutil.which("nginx") or "/usr/sbin/nginx"

    # The master's and its workers' CPU, read as for the gunicorn servers.
    cpu_seconds = Server.cpu_seconds
    worker_cpu = Server.worker_cpu

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def cacheable(headers: dict) -> str:
    """What in an answer keeps a shared cache from keeping it; "yes" when nothing does."""
    problems = []
    if "public" not in headers.get("cache-control", ""):
        problems.append("not public")
    if "cookie" in headers.get("vary", "").lower():
        problems.append("Vary: Cookie")
    problems += [name for name in ("set-cookie", "x-ratelimit-limit") if name in headers]
    return "yes" if not problems else "no: " + ", ".join(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="each measured run (default 8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, "
                        "issue 15's command)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-nginx", action="store_true", help="skip the runs through nginx")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: scripts/bootstrap --dev installs it")
    use_nginx = not options.no_nginx
    if use_nginx and not Path(Nginx.binary()).exists():
        raise SystemExit("nginx is needed (scripts/bootstrap --dev installs nginx-light); "
                         "or pass --no-nginx")

    workdir = Path(tempfile.mkdtemp(prefix="widget-server-pageview-"))
    servers: list = []
    load_before = os.getloadavg()[0]
    try:
        env = bench_env(workdir / "instance")
        token = create_widget(env)
        app_port, base_port = free_port(), free_port()
        app_cmd = gunicorn_command("widget_server:create_app()", app_port, options.workers,
                                   options.threads, ROOT)
        base_cmd = gunicorn_command("baseline_app:app", base_port, options.workers,
                                    options.threads, HERE)
        app, base = Server("app", app_cmd, env, app_port, workdir), Server(
            "baseline", base_cmd, env, base_port, workdir)
        servers += [app, base]
        for server in (app, base):
            server.wait_ready(timeout=120)
        proxy = Nginx(app_port, workdir) if use_nginx else None
        if proxy:
            servers.append(proxy)

        config_path = f"/embed/v1/config/{token}"
        origin = {"Origin": PAGE_ORIGIN, "Accept-Encoding": "gzip"}
        gzip_only = {"Accept-Encoding": "gzip"}
        etag = http_get(app_port, "/embed/v1/loader.js", gzip_only)[1]["etag"]
        checks = {"config": http_get(app_port, config_path, origin)[1],
                  "loader.js": http_get(app_port, "/embed/v1/loader.js", gzip_only)[1]}
        runs = [("baseline GET /json", base, base_port, "/json", gzip_only),
                ("app config", app, app_port, config_path, origin),
                ("app loader.js", app, app_port, "/embed/v1/loader.js", gzip_only),
                ("app loader.js 304", app, app_port, "/embed/v1/loader.js",
                 gzip_only | {"If-None-Match": etag})]
        if proxy:
            runs += [("nginx config", proxy, proxy.port, config_path, origin),
                     ("nginx loader.js", proxy, proxy.port, "/embed/v1/loader.js", gzip_only)]
        results = {}
        for label, server, port, path, headers in runs:
            wrk(port, path, 2, options.connections, headers)  # warm-up

            def run(_attempt: int, server=server, port=port, path=path, headers=headers):
                cpu = server.cpu_seconds() + (app.cpu_seconds() if server is proxy else 0)
                result = wrk(port, path, options.seconds, options.connections, headers)
                spent = server.cpu_seconds() + (app.cpu_seconds() if server is proxy else 0) - cpu
                result["cpu_ms"] = spent * 1000 / max(result["requests"], 1)
                return result

            # nginx spreads its own connections: only a gunicorn's workers are watched.
            results[label] = until_balanced(None if server is proxy else server, run)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print("widget-server page-view benchmark (all traffic on 127.0.0.1)")
    print(f"  app:      {' '.join(app_cmd)}")
    print(f"  baseline: {' '.join(base_cmd)}")
    print(f"  client:   wrk, 1 thread, {options.connections} connections; "
          f"{options.seconds} s per run after a 2 s warm-up")
    print(f"  machine:  {os.cpu_count()} cores, 1-minute load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (figures from a busy machine are low)")
    for name, headers in checks.items():
        print(f"  {name} keepable by a shared cache: {cacheable(headers)} "
              f"(Cache-Control: {headers.get('cache-control')}; Vary: {headers.get('vary')})")
    print()
    baseline = results["baseline GET /json"]
    targets = {"app config": CONFIG_TARGET, "app loader.js": LOADER_TARGET}
    header = ("answer", "req/s", "ratio", "target", "p50 / p99 ms", "CPU ms/req",
              "busiest (tries)", "result")
    rows = [header]
    invalid = []
    for label, result in results.items():
        ratio = result["rps"] / baseline["rps"]
        target = targets.get(label)
        rows.append((label, f"{result['rps']:,.0f}", f"{ratio:.2f}",
                     f">= {target}" if target else "",
                     f"{result['p50_us'] / 1000:.1f} / {result['p99_us'] / 1000:.1f}",
                     f"{result['cpu_ms']:.2f}",
                     f"{result['busiest']:.2f} ({result['tries']})"
                     if result["busiest"] is not None else "",
                     verdict(ratio >= target) if target else ""))
        expected = {"304"} if label.endswith("304") else {"200"}
        if set(result["statuses"]) != expected or result["socket_errors"]:
            invalid.append(f"{label}: statuses {result['statuses']}, "
                           f"socket errors {result['socket_errors']}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    print("(ratio: the answer's req/s over the baseline's; CPU: the serving processes' user+system"
          " time per request, nginx's and the app's together behind nginx; busiest: the share of"
          f" the CPU one gunicorn worker spent, a run above {BALANCED_SHARE} run again)")
    for problem in invalid:
        print(f"INVALID RUN: {problem}")
    missed = any(row[-1] == "FAIL" for row in rows)
    return 1 if invalid or (options.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
