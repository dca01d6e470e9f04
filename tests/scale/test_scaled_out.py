"""The scaled-out installation holds its limits and its calls under load and faults.

Real processes only: gunicorn app instances and ``widget-server worker``
processes on a scratch PostgreSQL database and Redis, a c2c-php provider fake
on loopback that counts placing requests and dials per call id.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

import pytest
import requests

from tests.abuse.test_caps import post_all_at_once
from tests.conftest import SHARED_REDIS
from tests.scale.conftest import cluster, dials_per_call, place_requests_per_call
from tests.waiting import wait_until

pytestmark = pytest.mark.scale

CONCURRENT = 200
CAP = 5
FINAL = {"completed", "failed", "rejected"}


@pytest.mark.parametrize("guard, settings, refusal", [
    ("daily cap per IP", {"CAP_PER_IP": CAP}, "cap_ip"),
    ("burst limit in Redis", {"LIMIT_CALL_POST": f"{CAP}/minute"}, "rate_limited"),
])
def test_200_concurrent_requests_over_two_instances_admit_exactly_5_each_placed_once(
        tmp_path, scratch_database, redis_prefix, provider_fake, guard, settings, refusal):
    with cluster(tmp_path, scratch_database, SHARED_REDIS, redis_prefix, **settings) as site:
        widget = site.widget_calling(provider_fake)
        bodies = site.call_bodies(widget, CONCURRENT)
        urls = [site.start_instance(), site.start_instance()]
        site.start_worker(threads=4)

        results = post_all_at_once(urls, bodies)

        statuses = Counter(status for status, _ in results)
        assert statuses == {202: CAP, 429: CONCURRENT - CAP}, (guard, statuses, site.logs())
        assert {body["error"] for status, body in results if status == 429} == {refusal}
        admitted = {body["call_id"] for status, body in results if status == 202}

        wait_until(lambda: all(state in FINAL for state, _ in site.calls().values()), 30,
                 "every admitted call to end")
        assert set(site.calls()) == admitted
        assert {state for state, _ in site.calls().values()} == {"completed"}
        assert place_requests_per_call(provider_fake) == dict.fromkeys(admitted, 1)
        assert dials_per_call(provider_fake) == dict.fromkeys(admitted, 1)


def test_a_worker_killed_while_placing_a_call_leaves_it_to_the_next_worker_without_a_second_dial(
        tmp_path, scratch_database, redis_prefix, provider_fake):
    with cluster(tmp_path, scratch_database, SHARED_REDIS, redis_prefix,
                 STALL_SECONDS=1) as site:
        widget = site.widget_calling(provider_fake)
        body = site.call_bodies(widget, 1)[0]
        url = site.start_instance(workers=1)
        # The fake rings, then holds its answer while the worker waits for it.
        provider_fake.place_script = [("delay", 3)]
        first = site.start_worker(threads=1)

        answer = requests.post(f"{url}/embed/v1/calls", json=body,
                               headers={"Origin": url}, timeout=10)
        assert answer.status_code == 202, answer.text
        call_id = answer.json()["call_id"]
        wait_until(lambda: provider_fake.dials, 15, "the worker to dial")
        site.kill(first)
        assert site.calls()[call_id] == ("dialing", None)
        time.sleep(3)  # the fake answers into the dead socket; the call is now stalled

        site.start_worker(threads=1)
        wait_until(lambda: site.calls()[call_id][0] in FINAL, 20, "the call to end")

        assert site.calls()[call_id] == ("completed", None), site.logs()
        assert place_requests_per_call(provider_fake) == {call_id: 2}
        assert dials_per_call(provider_fake) == {call_id: 1}


def test_redis_stopped_during_a_burst_places_nothing_answers_503_and_service_resumes(
        tmp_path, scratch_database, private_redis, provider_fake):
    with cluster(tmp_path, scratch_database, private_redis.url, "wsscale") as site:
        widget = site.widget_calling(provider_fake)
        bodies = deque(site.call_bodies(widget, 120))
        url = site.start_instance()
        site.start_worker(threads=2)
        answers: list[tuple[str, int, dict]] = []
        phase = ["up"]
        lock = threading.Lock()
        stop = threading.Event()

        def visitor() -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    with lock:
                        body, during = (bodies.popleft() if bodies else None), phase[0]
                    if body is None:
                        return
                    reply = session.post(f"{url}/embed/v1/calls", json=body,
                                         headers={"Origin": url}, timeout=20)
                    with lock:
                        answers.append((during if during == phase[0] else "changing",
                                        reply.status_code, reply.json()))
                    time.sleep(0.2)

        burst = [threading.Thread(target=visitor) for _ in range(2)]
        for thread in burst:
            thread.start()
        wait_until(lambda: len(answers) >= 8, 20, "calls admitted while Redis is up")
        with lock:
            phase[0] = "stopping"
        private_redis.stop()
        with lock:
            phase[0] = "down"
        placed_when_down = len(provider_fake.place_requests)
        wait_until(lambda: sum(1 for p, *_ in answers if p == "down") >= 12, 20,
                 "answers while Redis is down")
        frame = requests.get(f"{url}/embed/v1/frame/{body_token(site, widget)}",
                             params={"origin": "https://shop.example"}, timeout=10)
        time.sleep(1)  # a worker with a dial in flight has finished it by now
        placed_while_down = len(provider_fake.place_requests)
        time.sleep(1)
        placed_later_while_down = len(provider_fake.place_requests)
        with lock:
            phase[0] = "restarting"
        private_redis.start()
        with lock:
            phase[0] = "back"
        wait_until(lambda: sum(1 for p, s, _ in answers if p == "back" and s == 202) >= 5, 30,
                 "calls admitted once Redis is back", 0.1)
        stop.set()
        for thread in burst:
            thread.join()

        by_phase = {p: Counter(s for q, s, _ in answers if q == p) for p in ("up", "down",
                                                                              "back")}
        assert set(by_phase["up"]) == {202}, (by_phase, site.logs())
        assert set(by_phase["down"]) == {503}, (by_phase, site.logs())
        assert {s for _, s, _ in answers} <= {202, 503}, answers
        refusals = [b for p, s, b in answers if p == "down"]
        assert {b["error"] for b in refusals} == {"service_unavailable"}
        assert all(b["message"].endswith(".") and " " in b["message"] for b in refusals)
        assert frame.status_code == 200
        # Nothing placed while Redis was down, beyond what was already in flight.
        assert placed_later_while_down == placed_while_down >= placed_when_down
        back = {b["call_id"] for p, s, b in answers if p == "back" and s == 202}
        wait_until(lambda: all(site.calls()[c][0] in FINAL for c in back), 20,
                 "the calls made after Redis came back to end")
        assert {site.calls()[c] for c in back} == {("completed", None)}
        placed = place_requests_per_call(provider_fake)
        assert all(placed[c] == 1 for c in back)
        assert max(placed.values()) == 1


def body_token(site, widget) -> str:
    from widget_server.security import tokens

    with site.app.app_context():
        return tokens.embed_token(widget)
