"""A tiny headless-Chromium driver for the report tests (DevTools protocol over a pipe).

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands on file
descriptor 3 and writes replies and events on descriptor 4, each message a JSON text
ended by a NUL byte: no websocket library and no open port are needed. This module
opens one page, records what the page logs (console errors, uncaught exceptions,
CSP violations) and every network request it makes, evaluates JavaScript and takes
screenshots. Name resolution is disabled (``--host-resolver-rules``) so that even a
request that slipped through could not reach a server.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium executable on PATH (Debian's package is ``chromium``), or ``None``."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, executable: str, width: int = 1366, height: int = 900, timeout: float = 60):
        self.executable = executable
        self.width, self.height, self.timeout = width, height, timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._proc: subprocess.Popen | None = None
        self._profile: str | None = None
        self.session: str | None = None

    # ---------------------------------------------------------------- process
    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="jtbd-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # the child must find them at 3 (reads commands) and 4 (writes replies): copy
        # them above 10 first, so that moving one to 3 cannot overwrite the other
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def wire() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [
            self.executable,
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",  # tests may run as root (CI containers)
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire,  # noqa: PLW1509 - single-threaded test process
        )
        for fd in {to_child_r, from_child_w, hi_r, hi_w}:
            os.close(fd)
        self._write, self._read = to_child_w, from_child_r
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._proc and self._proc.poll() is None:
                try:
                    self.call("Browser.close", timeout=5)
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
        finally:
            for fd in (getattr(self, "_write", None), getattr(self, "_read", None)):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if self._profile:
                shutil.rmtree(self._profile, ignore_errors=True)

    # ---------------------------------------------------------------- protocol
    def _send(self, message: dict[str, Any]) -> None:
        os.write(self._write, json.dumps(message).encode() + b"\0")

    def _receive(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe (did it crash?)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply; events met meanwhile are recorded."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Record events for ``seconds`` (lets timers and rendering run)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.events.append(self._receive(deadline))
            except BrowserError as exc:
                if "in time" in str(exc):
                    return
                raise

    # ---------------------------------------------------------------- page
    def open(self, url: str, settle: float = 1.0) -> None:
        """Navigate and wait for the load event, then let scripts settle."""
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._receive(deadline))
        self.pump(settle)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script error: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def screenshot(
        self, path: Path, full_page: bool = False, max_height: int = 16000, y: int | None = None
    ) -> Path:
        """A PNG of the viewport, of the page from ``y`` down (one viewport high), or of the
        whole page (``full_page``, cut at ``max_height`` pixels)."""
        params: dict[str, Any] = {"format": "png"}
        if y is not None:
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": y, "width": self.width, "height": self.height, "scale": 1},
            )
        elif full_page:
            height = min(int(self.evaluate("document.documentElement.scrollHeight")), max_height)
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1},
            )
        data = self.call("Page.captureScreenshot", params, session=True)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    # ---------------------------------------------------------------- what happened
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP included)."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                what = d.get("exception", {}).get("description") or d.get("text")
                out.append(f"exception: {what}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                out.append(f"console.{params['type']}: {' '.join(map(str, args))}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                where = entry.get("url", "")
                out.append(f"log ({entry.get('source')}): {entry.get('text')} {where}")
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for (documents, scripts, media, fetches...)."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
