"""The daemon's status: JSON metrics and a PNG of the live image over HTTP on loopback.

``GET /metrics`` returns the metrics as JSON; ``GET /live.png`` the live bright-field image
of the open series (missing positions blank). The daemon writes the URL into
``OUTPUT_DIR/acquire.status.json`` so ``ptyflow acquire status`` can find it.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from ptyflow._files import write_text_atomic
from ptyflow.acquire._manager import SeriesManager
from ptyflow.errors import PtyflowError

__all__ = ["STATUS_FILE", "StatusServer", "fetch_status", "metrics"]

STATUS_FILE = "acquire.status.json"


def metrics(
    manager: SeriesManager, queue_depth: int, rate_hz: float, started_s: float
) -> dict[str, Any]:
    """A snapshot of the daemon's counters (read without locks: each value is one read)."""
    cur = manager.current
    out_dir = manager.config.output.directory
    counts = cur.counts.as_dict() if cur is not None else None
    return {
        "uptime_s": time.monotonic() - started_s,
        "frames_per_s": rate_hz,
        "frames_received": manager.frames_received,
        "queue_depth_batches": queue_depth,
        "current_store": str(cur.path) if cur is not None else None,
        "current_series": cur.start.series if cur is not None else None,
        "current_counts": counts,
        "missing": counts["missing"] if counts else 0,
        "malformed": sum(manager.stray.values())
        + (sum(counts["malformed"].values()) if counts else 0),
        "stray_by_reason": dict(manager.stray),
        "series_closed": len(manager.closed),
        "last_series": manager.closed[-1] if manager.closed else None,
        "disk_free_bytes": shutil.disk_usage(out_dir).free if out_dir.exists() else None,
    }


def _live_png(manager: SeriesManager) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    cur = manager.current
    image = np.full((1, 1), np.nan) if cur is None else cur.live_bf.reshape(cur.nav_shape)
    while image.ndim > 2:  # a time series: show the latest scan that has frames
        filled = [i for i in range(len(image)) if np.isfinite(image[i]).any()]
        image = image[filled[-1] if filled else 0]
    buf = io.BytesIO()
    plt.imsave(buf, np.ma.masked_invalid(image), cmap="gray", format="png")
    return buf.getvalue()


class StatusServer:
    """Serves ``/metrics`` and ``/live.png`` from a background thread."""

    def __init__(
        self, host: str, port: int, snapshot: Callable[[], dict[str, Any]], manager: SeriesManager
    ) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    body, kind = json.dumps(snapshot()).encode(), "application/json"
                elif self.path.startswith("/live.png"):
                    body, kind = _live_png(manager), "image/png"
                else:
                    self.send_error(404, "try /metrics or /live.png")
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the daemon's log for the daemon

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        # shutdown() waits up to one poll interval: 0.5 s by default, a quarter of the
        # 2 s a SIGTERM may take to finish the open store.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="acquire-status",
            daemon=True,
        )

    def start(self, status_file: Path) -> None:
        self._thread.start()
        write_text_atomic(status_file, json.dumps({"url": self.url}))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def fetch_status(where: str | Path) -> dict[str, Any]:
    """The metrics of a running daemon, from its URL or its output directory."""
    url = str(where)
    if not url.startswith("http"):
        status_file = Path(where) / STATUS_FILE
        try:
            url = json.loads(status_file.read_text())["url"]
        except (OSError, ValueError, KeyError) as err:
            raise PtyflowError(f"{status_file}: no running daemon found there ({err})") from None
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            return dict(json.loads(resp.read()))
    except OSError as err:
        raise PtyflowError(f"{url}: the daemon does not answer ({err}); is it running?") from None
