"""A minimal Streamlit browser stand-in speaking the app's websocket protocol (Streamlit 1.67).

It does what the real frontend does for one tab, and nothing more, so that
dozens of "students" fit in one asyncio loop without stealing the server's CPU:

* connects to ``ws://HOST:PORT/_stcore/stream`` with subprotocol ``streamlit``
  (the frontend's first subprotocol entry; the second one, an XSRF token, only
  matters for auth cookies, and no Origin header is sent, so none is needed);
* sends ``BackMsg.rerun_script`` with the page name and query string of a URL
  such as ``/train_live?preset=classroom-gp``, later with the page script hash the
  server announced (``navigation`` for an st.navigation app: ``new_session``
  may carry the main script's hash) and the query string it last wrote
  (``page_info_changed``), exactly as the frontend's ``sendRerunBackMsg``;
* keeps the frontend's ForwardMsg cache (``ForwardMessageCache``): messages the
  server marks ``metadata.cacheable`` are kept by hash, their hashes go with every
  rerun (``cached_message_hashes``), so the server answers a repeat of a large
  element (an unchanged inline picture) with a small ``ref_hash`` that is
  resolved here; entries expire after ``max_cached_message_age`` runs that did not
  use them, counted as the frontend does (``message_cache=False`` turns this off,
  and the server then always sends the full messages);
* emulates fragment auto-reruns: for each ``auto_rerun(interval, fragment_id)`` it
  sends ``rerun_script(fragment_id, is_auto_rerun=True)`` every ``interval`` s;
  a ``new_session`` of a full run (no fragment ids) clears all timers, as does
  the frontend's ``cleanupAutoReruns``; ``stop_auto_rerun`` clears single ones;
* presses buttons (a ``trigger_value``) and sets select sliders
  (``string_array_value``); other widgets are not resent: the server keeps their
  values in session state, so only what changed has to travel;
* counts pictures: an ``st.image`` frame is a new ``/media/...`` URL, fetched as a
  browser ``<img>`` would (HTTP/1.1 keep-alive; only the newest pending URL, like
  an ``img`` whose ``src`` changed again while loading), so that media serving
  counts as server work; an inline picture (``st.html`` with an ``<img src="data:
  image/...">``) is shown when its message arrives, a new one when its bytes differ.

Use ``StreamlitClient`` from asyncio; see ``benchmarks/classroom.py``.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STATUS_RE = re.compile(r"generator step \*\*([\d,]+)\*\*")
FINISHED, EARLY = ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_EARLY_FOR_RERUN
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@dataclass
class Widget:
    kind: str          # the Element oneof name: button, slider, selectbox, ...
    id: str
    label: str
    options: tuple = ()
    value: tuple = ()  # sliders: the server's value if it set one, else the default (not the user's choice)


@dataclass
class Stats:
    """What one client saw; times are time.monotonic()."""
    messages: int = 0
    bytes: int = 0
    ref_hashes: int = 0
    auto_reruns: list = field(default_factory=list)    # (t, fragment id, interval) of each AutoRerun message
    full_runs: list = field(default_factory=list)     # t of each full run's start (new_session, no fragment ids)
    fragment_runs: list = field(default_factory=list)  # t of each fragment run's start (new_session with
    # fragment ids; it may end "early for rerun" after its body ran when another request waits: still a run)
    images: list = field(default_factory=list)       # (t, url or inline-picture hash) of each new picture
    shown: list = field(default_factory=list)        # (t, same) of each picture loaded in full (inline: at once)
    cache_misses: int = 0                            # ref_hash messages not in the cache (must stay 0)
    fetch_errors: int = 0
    steps: list = field(default_factory=list)        # (t, generator steps) from the status line
    exceptions: list = field(default_factory=list)   # texts of st.exception / st.error elements
    charts: int = 0                                  # vega-lite chart elements received
    page_load_s: float = 0.0                         # load_page(): HTML + its scripts and styles
    full_finished: float = 0.0                       # the latest script_finished of a full run

    @property
    def full_started(self) -> float:
        """The latest new_session of a full run (0 before any)."""
        return self.full_runs[-1] if self.full_runs else 0.0


class StreamlitClient:
    """One browser tab on one page of a running Streamlit app."""

    def __init__(self, base_url: str, page: str = "", query: str = "", fetch_media: bool = True,
                 on_message: Callable[[StreamlitClient, ForwardMsg], None] | None = None,
                 message_cache: bool = True):
        u = urlsplit(base_url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.ws_url = f"ws://{self.host}:{self.port}/_stcore/stream"
        self.page, self.query = page, query
        self.page_hash = ""
        self.fetch_media = fetch_media
        self.on_message = on_message
        self.widgets: dict[str, Widget] = {}      # by label (the latest element with that label)
        self.seen: dict[str, float] = {}          # widget label -> when the server last sent it
        self.status = ""                          # the latest status markdown body
        self.stats = Stats()
        self.ws = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._tasks: list[asyncio.Task] = []
        self._want_media: str | None = None
        self._media_event = asyncio.Event()
        self._changed = asyncio.Event()           # set after every message; for wait_for
        self._closing = False
        self.message_cache = message_cache
        self._cache: dict[str, list] = {}          # hash -> [serialized ForwardMsg, run count, fragment id]
        self._runs = 0                            # the frontend's scriptRunCount
        self._max_age = 2                         # new_session.config.max_cached_message_age
        self._had_session = False
        self.trace: collections.deque = collections.deque(maxlen=400)   # (t, event, detail): the run lifecycle

    # -- connection ------------------------------------------------------------------------
    async def load_page(self) -> float:
        """GET the page's HTML and the scripts/styles it names, as a browser's first visit does (gzip
        accepted; chunks the bundle imports later are not fetched). Returns the seconds it took."""
        t = time.monotonic()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            html: list[bytes] = []
            path = f"/{self.page}" + (f"?{self.query}" if self.query else "")
            await _http_get(reader, writer, self.host, self.port, path, "Accept: text/html\r\n", html)
            assets = re.findall(r'(?:src|href)="\./((?:static/|favicon)[^"]+)"', b"".join(html).decode("utf-8", "replace"))
            for a in assets:
                await _http_get(reader, writer, self.host, self.port, "/" + a, "Accept: */*\r\nAccept-Encoding: gzip\r\n")
        finally:
            writer.close()
        self.stats.page_load_s = time.monotonic() - t
        return self.stats.page_load_s

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           ping_interval=None, open_timeout=60)
        self._tasks.append(asyncio.create_task(self._reader()))
        if self.fetch_media:
            self._tasks.append(asyncio.create_task(self._media_loop()))
        await self.rerun()

    async def close(self) -> None:
        self._closing = True
        for _, task in self._timers.values():
            task.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task

    async def send(self, msg: BackMsg) -> None:
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, widgets: list | None = None, fragment_id: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if not self.page_hash:
            cs.page_name = self.page
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.cached_message_hashes.extend(self._cache)
        self._had_session = False                 # the frontend's hasReceivedNewSession
        cs.widget_states.SetInParent()
        for w in widgets or []:
            cs.widget_states.widgets.append(w)
        cs.context_info.timezone = "UTC"
        cs.context_info.url = f"http://{self.host}:{self.port}/{self.page}" + (f"?{self.query}" if self.query else "")
        self.trace.append((time.monotonic(), "rerun", fragment_id or [w.id[-12:] for w in widgets or []]))
        await self.send(msg)

    # -- widgets ---------------------------------------------------------------------------
    async def click(self, label: str) -> None:
        await self.rerun([WidgetState(id=self.widgets[label].id, trigger_value=True)])

    async def set_select_slider(self, label: str, option: str) -> None:
        state = WidgetState(id=self.widgets[label].id)
        state.string_array_value.data.append(option)
        await self.rerun([state])

    async def wait_for(self, pred: Callable[[], bool], timeout: float) -> bool:
        """Wait until pred() holds after some message (True) or timeout s pass (False)."""
        end = time.monotonic() + timeout
        while not pred():
            left = end - time.monotonic()
            if left <= 0 or self.ws is None:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    # -- incoming messages -----------------------------------------------------------------
    async def _reader(self) -> None:
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self.stats.messages += 1
                self.stats.bytes += len(data)
                if msg.ref_hash:
                    self.stats.ref_hashes += 1
                    entry = self._cache.get(msg.ref_hash)
                    if entry is None:
                        self.stats.cache_misses += 1
                        continue
                    entry[1] = self._runs
                    msg = ForwardMsg()
                    msg.ParseFromString(entry[0])
                elif self.message_cache and msg.metadata.cacheable and msg.hash:
                    if msg.hash in self._cache:
                        self._cache[msg.hash][1] = self._runs
                    else:
                        self._cache[msg.hash] = [data, self._runs, msg.delta.fragment_id]
                self._handle(msg)
                if self.on_message is not None:
                    self.on_message(self, msg)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self._closing:
                self.ws = None
                self._changed.set()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element)
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fid)
        elif kind == "new_session":
            self._had_session = True
            self._max_age = msg.new_session.config.max_cached_message_age or self._max_age
            self.page_hash = msg.new_session.page_script_hash
            self.trace.append((time.monotonic(), "session", list(msg.metadata.run.fragment_ids)))
            if msg.metadata.run.fragment_ids:
                self.stats.fragment_runs.append(time.monotonic())
            else:
                self.stats.full_runs.append(time.monotonic())
                for fid in list(self._timers):
                    self._stop_timer(fid)
        elif kind == "navigation" and msg.navigation.page_script_hash:
            self.page_hash = msg.navigation.page_script_hash     # with st.navigation, the page's own hash
        elif kind == "script_finished":
            self.trace.append((time.monotonic(), "finished", int(msg.script_finished)))
            # A full run ends with FINISHED, or, when fragment reruns were queued behind it, with the
            # last of those (the browser's "running" state ends either way).
            if msg.script_finished == FINISHED or (msg.script_finished == FRAGMENT_FINISHED
                                                   and self.stats.full_started > self.stats.full_finished):
                self.stats.full_finished = time.monotonic()
            if msg.script_finished != EARLY and self._had_session:
                self._age_cache(list(msg.metadata.run.fragment_ids))
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
            self.trace.append((time.monotonic(), "query", self.query[-60:]))

    def _element(self, el) -> None:
        kind = el.WhichOneof("type")
        if kind == "markdown":
            body = el.markdown.body
            m = STATUS_RE.search(body)
            if m:
                self.status = body
                self.stats.steps.append((time.monotonic(), int(m.group(1).replace(",", ""))))
        elif kind == "imgs":
            for img in el.imgs.imgs:
                url = img.url
                if url and (not self.stats.images or self.stats.images[-1][1] != url):
                    self.stats.images.append((time.monotonic(), url))
                    if self.fetch_media and url.startswith("/"):
                        self._want_media = url
                        self._media_event.set()
        elif kind == "html" and "data:image/" in el.html.body:
            key = f"inline:{hash(el.html.body):x}"
            if not self.stats.images or self.stats.images[-1][1] != key:
                now = time.monotonic()
                self.stats.images.append((now, key))
                self.stats.shown.append((now, key))
        elif kind == "vega_lite_chart":
            self.stats.charts += 1
        elif kind in ("exception", "alert"):
            text = el.exception.message if kind == "exception" else el.alert.body
            if kind == "exception" or el.alert.format == 1:         # Alert.ERROR
                self.stats.exceptions.append(text)
        elif kind in ("button", "slider", "selectbox", "checkbox", "button_group", "number_input"):
            sub = getattr(el, kind)
            label = getattr(sub, "label", "") or ""
            options = tuple(getattr(sub, "options", ()) or ())
            value = (tuple(sub.value) if sub.set_value else tuple(sub.default)) if kind == "slider" else ()
            self.widgets[label] = Widget(kind, sub.id, label, options, value)
            self.seen[label] = time.monotonic()

    def _age_cache(self, fragment_ids: list) -> None:
        """The frontend's incrementRunCount: drop cached messages unused for more than max age runs
        (after a fragment run, only those of the fragments that ran)."""
        self._runs += 1
        for h, (_, runs, fid) in list(self._cache.items()):
            if fragment_ids and (not fid or fid not in fragment_ids):
                continue
            if self._runs - runs > self._max_age:
                del self._cache[h]

    # -- fragment timers -------------------------------------------------------------------
    def _auto_rerun(self, fid: str, interval: float) -> None:
        self.stats.auto_reruns.append((time.monotonic(), fid, interval))
        if not fid:
            return
        if fid in self._timers and self._timers[fid][0] == interval:
            return
        self._stop_timer(fid)
        self._timers[fid] = (interval, asyncio.create_task(self._tick(fid, interval)))

    def _stop_timer(self, fid: str) -> None:
        item = self._timers.pop(fid, None)
        if item is not None:
            item[1].cancel()

    async def _tick(self, fid: str, interval: float) -> None:
        nxt = time.monotonic() + interval
        while self.ws is not None:
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
            nxt += interval
            if nxt < time.monotonic():          # fell behind (a busy client loop): skip, as setInterval does
                nxt = time.monotonic() + interval
            try:
                await self.rerun(fragment_id=fid, auto=True)
            except websockets.ConnectionClosed:
                return

    # -- media, as an <img> would load it --------------------------------------------------
    async def _media_loop(self) -> None:
        reader = writer = None
        try:
            while True:
                await self._media_event.wait()
                self._media_event.clear()
                url, self._want_media = self._want_media, None
                if url is None:
                    continue
                for attempt in range(2):
                    try:
                        if writer is None:
                            reader, writer = await asyncio.open_connection(self.host, self.port)
                        ok, keep = await _http_get(reader, writer, self.host, self.port, url)
                        if not keep:
                            writer.close()
                            reader = writer = None
                        break
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        if writer is not None:
                            writer.close()
                        reader = writer = None
                        ok = False
                        if attempt:
                            break
                if ok:
                    self.stats.shown.append((time.monotonic(), url))
                else:
                    self.stats.fetch_errors += 1
        finally:
            if writer is not None:
                writer.close()


async def _http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int,
                    path: str, extra: str = "Accept: image/*\r\n", body: list | None = None) -> tuple[bool, bool]:
    """One GET on a keep-alive connection; the body is dropped (or appended to `body`). -> (200, keep-alive)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    got = []
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            got.append((await reader.readexactly(size + 2))[:-2])
            if size == 0:
                break
    else:
        got.append(await reader.readexactly(int(headers.get("content-length", "0"))))
    if body is not None:
        body.extend(got)
    return code == 200, headers.get("connection", "").lower() != "close"
