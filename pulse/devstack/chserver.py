"""The local ClickHouse server process: real ClickHouse (chdb-core) listening on loopback.

Run as `python -m pulse.devstack.chserver DATA_DIR TCP_PORT HTTP_PORT [HOST]`. clickhouse-local
reads ./config.xml from the working directory; the listeners live as long as the query that
started them runs, so the query never ends on its own. SIGTERM stops the process.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG = """<clickhouse>
  <listen_host>{host}</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
  <!-- Load every table before serving: with asynchronous loading (the default since 24.6) an insert
       right after a restart can reach events_local before its materialized views are loaded, and
       engagement_by_minute silently misses those rows (ClickHouse issue 72589; seen here after a
       30 s outage). Same setting in deploy/clickhouse/config.d/pulse.xml. -->
  <async_load_databases>false</async_load_databases>
</clickhouse>
"""

HOLD = (
    "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; "
    "SELECT sleepEachRow(1) FROM numbers(1000000000) FORMAT Null SETTINGS max_block_size=1"
)


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print("usage: python -m pulse.devstack.chserver DATA_DIR TCP_PORT HTTP_PORT [HOST]", file=sys.stderr)
        return 2
    data_dir = Path(argv[0]).resolve()
    host = argv[3] if len(argv) == 4 else "127.0.0.1"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.xml").write_text(CONFIG.format(host=host, tcp=int(argv[1]), http=int(argv[2])))
    import os

    os.chdir(data_dir)
    from chdb import _chdb  # imported late: it is large, and only this process needs it

    print(f"clickhouse listening on {host}:{argv[1]} (native) and {host}:{argv[2]} (http)", flush=True)
    _chdb.query(HOLD, "TabSeparated", path=str(data_dir / "store"))  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
