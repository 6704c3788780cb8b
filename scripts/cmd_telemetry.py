"""Telemetry commands: ``heattwin ingest FILE``, ``token add``, ``mqtt-ingest``, ``ingest-server``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from heattwin.settings import load_settings
from store import cluster
from store.migrate import migrate

FILE_CHUNK_ROWS = 500_000  # one transaction per chunk keeps memory flat on a year of readings
log = logging.getLogger(__name__)


def register(subparsers) -> None:
    ingest = subparsers.add_parser("ingest", help="load readings from a CSV or Parquet file")
    ingest.add_argument("file", type=Path, help="long form (time, sensor_id, value) or wide form "
                                                "(time + one column per sensor id)")
    ingest.add_argument("--origin", help="recorded with refused rows (default bulk:<file name>)")
    ingest.set_defaults(func=_ingest)

    token = subparsers.add_parser("token", help="bearer tokens of data sources posting readings")
    token.add_argument("action", choices=("add", "revoke"))
    token.add_argument("data_source", help="name of the sender, e.g. scada-north")
    token.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
    token.set_defaults(func=_token)

    mqtt = subparsers.add_parser("mqtt-ingest", help="subscribe to heattwin/<source>/<sensor_id> and store")
    mqtt.add_argument("--host", help="broker host (default HEATTWIN_MQTT_HOST)")
    mqtt.add_argument("--port", type=int, help="broker port (default HEATTWIN_MQTT_PORT)")
    mqtt.set_defaults(func=_mqtt)

    server = subparsers.add_parser("ingest-server", help="serve only the HTTP ingest API")
    server.add_argument("--port", type=int, default=8051, help="port on HEATTWIN_HOST (default 8051)")
    server.set_defaults(func=_server)


def _database() -> str:
    url = cluster.database_url(load_settings())
    migrate(url)
    return url


def read_readings(path: Path) -> pd.DataFrame:
    """Long-form rows ``time, sensor_id, value`` from a CSV or Parquet file of either form.

    CSV cells are read as text so that a bad cell is quarantined by ``ingest_rows`` with its
    reason instead of failing the whole file. In wide form an empty cell means "no reading".
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix in (".csv", ".txt") or path.name.lower().endswith(".csv.gz"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        raise ValueError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")
    frame.columns = [str(c).strip() for c in frame.columns]
    if {"time", "sensor_id", "value"} <= set(frame.columns):
        return frame[["time", "sensor_id", "value"]]
    if "time" not in frame.columns:
        raise ValueError(f"{path}: needs columns time, sensor_id, value (long form) or a time column "
                         f"and one column per sensor id (wide form); found {', '.join(frame.columns)}")
    long = frame.melt(id_vars="time", var_name="sensor_id", value_name="value")
    empty = long["value"].isna() | long["value"].astype(str).str.strip().eq("")
    return long[~empty].reset_index(drop=True)


def _ingest(args) -> int:
    from store.db import get_pool
    from store.telemetry import IngestResult, ingest_rows

    rows = read_readings(args.file)
    origin = args.origin or f"bulk:{args.file.name}"
    pool = get_pool(_database())
    total = IngestResult()
    for start in range(0, len(rows), FILE_CHUNK_ROWS):
        total = total + ingest_rows(pool, rows.iloc[start:start + FILE_CHUNK_ROWS], origin)
    print(f"{args.file}: {len(rows)} readings; accepted {total.accepted}, duplicates {total.duplicates}, "
          f"rejected {total.rejected}")
    for reason, count in sorted(total.reasons.items()):
        print(f"  rejected {count} x {reason}")
    return 0


def _token(args) -> int:
    from scripts.actors import cli_actor
    from store.db import get_pool
    from store.tokens import add_token, revoke_tokens

    pool = get_pool(_database())
    actor = cli_actor(pool, "token.manage", args.by)
    if args.action == "revoke":
        print(f"revoked {revoke_tokens(pool, args.data_source, actor=actor)} token(s) of {args.data_source}")
        return 0
    print(add_token(pool, args.data_source, actor=actor))
    return 0


def _mqtt(args) -> int:
    from scripts.mqtt_ingest import MqttIngest

    settings = load_settings()
    host, port = args.host or settings.mqtt_host, args.port or settings.mqtt_port
    subscriber = MqttIngest(_database(), host=host, port=port, username=settings.mqtt_username,
                            password=settings.mqtt_password)
    log.info("subscribing to heattwin/+/+ on %s:%s", host, port)
    subscriber.run_forever()
    return 0


def _server(args) -> int:
    from waitress import serve

    from app.api import create_ingest_app

    settings = load_settings()
    app = create_ingest_app(_database())
    print(f"HeatTwin ingest API on http://{settings.host}:{args.port}/api/v1/readings", flush=True)
    serve(app, host=settings.host, port=args.port, threads=8)
    return 0


def main(argv: list[str] | None = None) -> int:
    """These commands alone (``python -m scripts.cmd_telemetry …``): the bench runs its servers this
    way, independent of every other command module."""
    import argparse

    parser = argparse.ArgumentParser(prog="heattwin")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
