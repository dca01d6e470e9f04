"""The embedded SQLite queue hands a visitor's call to an idle consumer thread at once.

Huey polls SQLite; ``WakingSqliteStorage`` lets a thread wait instead and
wakes it on an enqueue in the same process, looking every ``read_timeout``
for tasks queued by other processes.
"""

from __future__ import annotations

import threading
import time

from widget_server.calls.queue import WakingSqliteHuey


def _consume_one(storage, taken: list) -> threading.Thread:
    def consume() -> None:
        while not taken:
            data = storage.dequeue()  # blocks up to read_timeout, as Huey's loop expects
            if data is not None:
                taken.append(bytes(data))

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return thread


def test_an_enqueue_in_the_process_wakes_a_waiting_consumer_thread(tmp_path):
    huey = WakingSqliteHuey("wake", filename=str(tmp_path / "queue.sqlite3"))
    huey.storage.read_timeout = 120  # only the wake-up can deliver it in time
    taken: list = []
    thread = _consume_one(huey.storage, taken)
    time.sleep(0.3)  # the thread found the queue empty and waits

    huey.storage.enqueue(b"place call 1")
    thread.join(timeout=30)

    assert taken == [b"place call 1"]


def test_a_task_queued_by_another_process_is_found_by_the_periodic_look(tmp_path):
    filename = str(tmp_path / "queue.sqlite3")
    consumer = WakingSqliteHuey("wake", filename=filename)
    consumer.storage.read_timeout = 0.1
    taken: list = []
    thread = _consume_one(consumer.storage, taken)
    time.sleep(0.3)

    # Another process's storage: its enqueue notifies nobody here.
    WakingSqliteHuey("wake", filename=filename).storage.enqueue(b"place call 2")
    thread.join(timeout=30)

    assert taken == [b"place call 2"]
