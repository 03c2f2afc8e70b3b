"""Start the app as the README does (`streamlit run app.py`) on a free local port, for benchmarks and tests."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(env: dict | None = None, timeout: float = 60.0, script: str = "app.py"):
    """Yield (base_url, process) of a running app (``script``, relative to the repository); the log
    goes to a temp file."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w", prefix=f"earthmover_{port}_", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})),
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}; log: {log.name}")
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"the app did not answer within {timeout} s; log: {log.name}")
        yield url, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def press(page, name: str, then: str, tries: int = 3, wait_ms: int = 20_000) -> None:
    """Click the button ``name`` until the button ``then`` shows (Play until Pause): a click that lands while
    a page run moves the layout under the pointer reaches nothing, and a user would click again. Fails with
    what the page says when the button never changes."""
    for _ in range(tries):
        button = page.get_by_role("button", name=name, exact=True)
        if button.count():
            button.first.click()
        try:
            page.get_by_role("button", name=then, exact=True).first.wait_for(timeout=wait_ms)
            return
        except Exception:                                    # noqa: BLE001  (Playwright's TimeoutError)
            continue
    raise AssertionError(f"pressing {name!r} never showed {then!r}; the page says: {page_text(page)}")


def page_text(page, limit: int = 1500) -> str:
    """The page's text on one line (for a failure's message)."""
    return " | ".join(t for t in page.inner_text("body").split("\n") if t.strip())[:limit]


def wait_text(page, pattern: str, timeout_ms: int) -> None:
    """Wait until the page's text matches the JavaScript regular expression ``pattern``; fail with what the
    page says instead."""
    try:
        page.wait_for_function("(p) => new RegExp(p).test(document.body.innerText)", arg=pattern, timeout=timeout_ms)
    except Exception as err:                                 # noqa: BLE001  (Playwright's TimeoutError)
        raise AssertionError(f"no /{pattern}/ in {timeout_ms / 1000:.0f} s; the page says: {page_text(page)}") from err


def rss_tree_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError):
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            total += int(open(f"/proc/{p}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        todo += children.get(p, [])
    return total
