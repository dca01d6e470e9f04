"""Instructions a call request costs, counted by callgrind: a figure the machine does not move.

Run: ``.venv/bin/python benchmarks/instructions.py [--requests N] [--postgres ADMIN_URL]
[--redis-url URL]`` (needs Debian's ``valgrind``). CPU milliseconds under gunicorn
(run.py) move by a fifth from one hour to the next on a shared VM, more than most
single changes save; instructions executed do not. This script serves requests
in process (no gunicorn, no HTTP: the WSGI app called directly, one thread) inside
``valgrind --tool=callgrind`` and counts the instructions of N requests of each kind:

- the bare Flask echo (``baseline_app.py``): the baseline;
- an admitted ``POST /embed/v1/calls`` (fresh nonce, ALTCHA solution and number);
- the same request against a full cap (a second app on the instance with
  ``CAP_PER_WIDGET=0``).

It prints each per request and as a ratio. Only this process's own
instructions count: not PostgreSQL's or Redis's work, nor the kernel's in
sending and receiving the round trips, so a request with more round trips
costs more CPU than its instructions say (an admission has four more than a
refusal). To compare two versions of the code, run the script from each
checkout; the figures repeat to within a few thousand instructions. ``--keep DIR``
copies the dumps out, to read where they went with ``callgrind_annotate``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402  (the benchmarks' own helpers: scratch database, widget, bodies)

WARM_UP = 100


def _environ(path: str, body: bytes) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0), "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_ORIGIN": "http://127.0.0.1:8000"}


def _status(app, environ: dict) -> str:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    b"".join(app(environ, start_response))
    return statuses[0]


def _serve(app, path: str, bodies, expected: str) -> None:
    """Call ``app`` with each body; anything but ``expected`` makes the count meaningless."""
    for body in bodies:
        status = _status(app, _environ(path, body.encode()))
        if not status.startswith(expected):
            raise SystemExit(f"{path} answered {status}, not {expected}")


def _callgrind(command: str, pid: int) -> None:
    subprocess.run(["callgrind_control", command, str(pid)], check=True, capture_output=True)


def measure(env: dict, bodies_path: Path, requests: int) -> None:
    """Inside callgrind: count each kind of request between a zeroing and a dump."""
    from baseline_app import app as echo_app

    from widget_server import create_app
    from widget_server.config import settings_from_env

    app = create_app(settings_from_env(env))
    capped = create_app(settings_from_env(env | {"WIDGET_SERVER_CAP_PER_WIDGET": "0"}))
    bodies = iter(bodies_path.read_text().splitlines())
    kinds = [("echo", echo_app, "/echo", "200"), ("admitted", app, "/embed/v1/calls", "202"),
             ("cap_reached", capped, "/embed/v1/calls", "429")]
    for name, target, path, expected in kinds:
        echo = name == "echo"
        _serve(target, path, ('{"a":1}' if echo else next(bodies) for _ in range(WARM_UP)),
               expected)
        _callgrind("--zero", os.getpid())
        _serve(target, path, ('{"a":1}' if echo else next(bodies) for _ in range(requests)),
               expected)
        _callgrind(f"--dump={name}", os.getpid())


def counted(out_dir: Path) -> dict[str, int]:
    """Instructions of each dump, by the name it was dumped under."""
    found = {}
    for dump in out_dir.glob("callgrind.out.*.*"):
        text = dump.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\w+)|^desc: Trigger: dump (\w+)",
                            text, re.M)
        summary = re.search(r"^summary: (\d+)", text, re.M)
        if trigger and summary:
            found[trigger.group(1) or trigger.group(2)] = int(summary.group(1))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=250)
    parser.add_argument("--postgres", default="", metavar="ADMIN_URL",
                        help="run on a scratch PostgreSQL database made through this URL")
    parser.add_argument("--redis-url", default="", help="the limiter and the queue on Redis")
    parser.add_argument("--keep", metavar="DIR",
                        help="copy the callgrind dumps here, for callgrind_annotate")
    parser.add_argument("--inside", nargs=1, metavar="BODIES", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.inside:  # the measured process, started below with the settings chosen
        measure(dict(os.environ), Path(options.inside[0]), options.requests)
        return 0

    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="widget-server-instructions-"))
    database = run.ScratchDatabase(options.postgres) if options.postgres else None
    try:
        instance = work / "instance"
        env = run.bench_env(instance, database.url if database else "", options.redis_url)
        token = run.create_widget(env)
        bodies_path = work / "bodies.txt"
        run.CallBodies(env, token).write(bodies_path, 2 * (options.requests + WARM_UP))
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.out.%p",
                   sys.executable, __file__, "--requests", str(options.requests),
                   "--inside", str(bodies_path)]
        done = subprocess.run(command, env=env, cwd=HERE.parent,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise SystemExit(f"the measured process failed:\n{done.stderr[-3000:]}")
        found = counted(work)
        if options.keep:
            for dump in work.glob("callgrind.out.*"):
                shutil.copy(dump, options.keep)
        storage = "PostgreSQL" if database else "SQLite"
        print(f"instructions a request, in process under callgrind, {options.requests} of each "
              f"({storage}, {'Redis' if options.redis_url else 'in-process limits and queue'}):")
        echo = found["echo"] / options.requests
        for name in ("echo", "admitted", "cap_reached"):
            each = found[name] / options.requests
            print(f"  {name:12} {each:>12,.0f}   {each / echo:5.1f}x the echo"
                  + (f"   {each / (found['admitted'] / options.requests):.2f} of an admission"
                     if name == "cap_reached" else ""))
        return 0
    finally:
        if database:
            database.drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
