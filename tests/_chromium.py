"""A headless Chromium driven over the DevTools protocol, for the browser test of report.html.

Chromium is started with ``--remote-debugging-port=0`` (it picks a free port and writes it
to ``DevToolsActivePort`` in the profile folder); one page target is then driven over its
websocket (the ``websocket-client`` package, a dev dependency): set the viewport, load a
file, evaluate JavaScript, take a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


class Chromium:
    """One headless browser with one page; use as a context manager."""

    def __init__(self, executable: str, profile: Path, *, timeout: float = 30.0):
        self.timeout = timeout
        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        if port_file.exists():  # left by an earlier browser on this profile: not ours
            port_file.unlink()
        self.proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}",
                                      "--remote-debugging-port=0", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._connect(port_file, timeout)
        except BaseException:
            self.close()  # never leave a browser behind
            raise

    def _connect(self, port_file: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit {self.proc.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=timeout).read())
        page = next(t for t in targets if t.get("type") == "page")
        import websocket  # websocket-client, a dev dependency

        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                              suppress_origin=True)
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method: str, **params):
        """Call one DevTools method and return its result (events on the way are dropped)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def wait_event(self, name: str) -> dict:
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == name:
                return msg.get("params", {})

    def viewport(self, width: int, height: int = 900) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def load(self, path: Path) -> None:
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        self.wait_event("Page.loadEventFired")

    def eval(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> None:
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            width = self.eval("document.documentElement.scrollWidth")
            height = min(int(self.eval("document.documentElement.scrollHeight")), 16000)
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        Path(path).write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **params)["data"]))

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - closing a dead socket
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def chromium_path() -> str | None:
    """The Chromium executable: $THEORYCHECK_CHROMIUM, else chromium on PATH, else None."""
    import shutil

    return os.environ.get("THEORYCHECK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
