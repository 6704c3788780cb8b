"""MQTT subscriber: readings published on ``heattwin/<source>/<sensor_id>`` go into the store.

Payloads are ``{"t": ..., "v": ...}``, a list of them, or ``{"readings": [...]}``. Messages are
buffered and flushed through ``store.telemetry.ingest_rows`` every ``flush_every`` messages or
``flush_s`` seconds, whichever comes first; a payload that does not parse is quarantined with its
topic as origin. ``local_broker`` starts a private Mosquitto for tests and benches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from psycopg_pool import PoolTimeout

from store.db import get_pool
from store.telemetry import IngestResult, ingest_rows, reject_payload
from store.telemetry.payload import parse_mqtt_messages

TOPIC = "heattwin/+/+"
MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")
log = logging.getLogger(__name__)


class MqttIngest:
    """Subscribe, buffer, flush. ``start()`` returns once subscribed; ``stop()`` flushes the rest."""

    def __init__(self, url: str, *, host: str = "127.0.0.1", port: int = 1883, topic: str = TOPIC,
                 flush_every: int = 2000, flush_s: float = 1.0, client_id: str | None = None,
                 username: str | None = None, password: str | None = None):
        self.url, self.host, self.port, self.topic = url, host, port, topic
        self.flush_every, self.flush_s = flush_every, flush_s
        self.totals = IngestResult()
        self.received = 0
        self._buffer: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._flusher: threading.Thread | None = None
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"heattwin-ingest-{os.getpid()}")
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # paho callbacks run on its network thread: keep them to a list append.
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT broker %s:%s refused the connection: %s", self.host, self.port, reason_code)
            return
        # Subscribing here (not once in start) re-subscribes after every reconnect.
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self._subscribed.set()

    def _on_message(self, client, userdata, message):
        with self._lock:
            self._buffer.append((message.topic, message.payload))
            self.received += 1
            full = len(self._buffer) >= self.flush_every
        if full:
            self._wake.set()

    def start(self, timeout_s: float = 10.0) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self._flusher = threading.Thread(target=self._flush_loop, name="mqtt-ingest-flush", daemon=True)
        self._flusher.start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise RuntimeError(f"no subscription to {self.topic!r} on MQTT broker {self.host}:{self.port} "
                               f"within {timeout_s:g} s: is the broker running (HEATTWIN_MQTT_HOST/PORT)?")

    def stop(self) -> IngestResult:
        self.client.disconnect()
        self.client.loop_stop()
        self._stopping.set()
        self._wake.set()
        if self._flusher is not None:
            self._flusher.join()
        self.flush()
        return self.totals

    def run_forever(self) -> None:
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database may be restarting: keep the batch, try again
                log.exception("flushing MQTT readings failed; retrying in %.1f s", self.flush_s)

    def flush(self) -> IngestResult:
        """Ingest what is buffered now; on failure the batch goes back to the buffer's front."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return IngestResult()
        pool = get_pool(self.url)
        try:
            result = ingest_rows(pool, parse_mqtt_messages(batch), origin="mqtt")
        except (psycopg.OperationalError, PoolTimeout):
            with self._lock:  # the database is away: keep the batch for the next try
                self._buffer[:0] = batch
            raise
        except Exception:
            # A batch the write path cannot take must not block every later one: keep each
            # payload in quarantine for inspection instead.
            log.exception("MQTT batch of %d messages could not be ingested; quarantining it", len(batch))
            result = IngestResult()
            for topic, payload in batch:
                result = result + reject_payload(pool, origin=f"mqtt:{topic}", reason="ingest_failed",
                                                 raw=payload.decode("utf-8", errors="replace"))
        with self._lock:
            self.totals = self.totals + result
        return result


def find_mosquitto() -> str | None:
    on_path = shutil.which("mosquitto")
    return on_path or next((p for p in MOSQUITTO_CANDIDATES if os.path.exists(p)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, log_file: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}: {log_file.read_text()[-500:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{port} within {timeout_s:g} s")


@dataclass(frozen=True)
class Broker:
    """A broker to connect to: where, and the account the subscriber and the senders use."""

    port: int
    username: str
    password: str
    host: str = "127.0.0.1"


def broker_config(port: int, password_file: Path, persist_dir: Path | None = None) -> str:
    """Mosquitto's configuration: loopback only, no anonymous clients, accounts from ``password_file``;
    retained messages kept in ``persist_dir`` across restarts when one is given."""
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous false", f"password_file {password_file}",
             # The subscriber may lag a burst while it writes: queue, never drop.
             "max_queued_messages 0", "max_inflight_messages 0"]
    if persist_dir is None:
        lines.append("persistence false")
    else:
        # Saved on every change, not only at a clean shutdown: a killed demo keeps its accepted command.
        lines += ["persistence true", f"persistence_location {persist_dir}/", "autosave_on_changes true",
                  "autosave_interval 1"]
    if os.geteuid() == 0:
        lines.append("user root")  # otherwise mosquitto drops to a 'mosquitto' user that may not exist
    return "\n".join(lines) + "\n"


def write_password_file(path: Path, accounts: dict[str, str]) -> None:
    """Mosquitto's password file for ``accounts`` (name → password), hashed by ``mosquitto_passwd -U``
    so no password appears on a command line; the clear text exists only until it is hashed."""
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    path.touch(mode=0o600)
    path.write_text("".join(f"{name}:{password}\n" for name, password in accounts.items()))
    subprocess.run([passwd, "-U", str(path)], check=True, capture_output=True)


@contextlib.contextmanager
def local_broker(binary: str | None = None, persist_dir: Path | None = None) -> Iterator[Broker]:
    """A private Mosquitto on a free loopback port with one account (random password); stopped on exit.
    With ``persist_dir`` its retained messages outlive it (the next broker there starts with them)."""
    binary = binary or find_mosquitto()
    if binary is None:
        raise RuntimeError("mosquitto not found; install it (Debian: apt-get install mosquitto)")
    broker = Broker(port=_free_port(), username="heattwin", password=secrets.token_urlsafe(18))
    with tempfile.TemporaryDirectory(prefix="heattwin-mqtt-") as tmp:
        password_file = Path(tmp) / "passwd"
        write_password_file(password_file, {broker.username: broker.password})
        conf = Path(tmp) / "mosquitto.conf"
        if persist_dir is not None:
            persist_dir.mkdir(parents=True, exist_ok=True)
        conf.write_text(broker_config(broker.port, password_file, persist_dir))
        log_file = Path(tmp) / "mosquitto.log"
        with open(log_file, "wb") as log_out:
            proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log_out, stderr=subprocess.STDOUT)
        try:
            _wait_listening(broker.port, proc, log_file, 10.0)
            yield broker
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
