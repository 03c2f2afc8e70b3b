"""A minimal Streamlit browser stand-in speaking the app's websocket protocol (Streamlit 1.67).

It does what the real frontend does for one tab, and nothing more, so that
dozens of "students" fit in one asyncio loop without stealing the server's CPU
(the protocol's pieces are in ``benchmarks/wsproto.py``):

* connects to ``ws://HOST:PORT/_stcore/stream`` with subprotocol ``streamlit``
  (no Origin header is sent, so no XSRF token is needed there); ``address``
  sets an ``X-Forwarded-For`` header, as a proxy (a Hugging Face Space) does, so
  one machine can play students from many addresses (the app's caps count per
  address: wgan_core/serve/admission.py);
* sends ``BackMsg.rerun_script`` with the page name and query string of a URL
  such as ``/train_live?preset=classroom-gp``, later with the page script hash the
  server announced (``navigation``) and the query string it last wrote
  (``page_info_changed``), exactly as the frontend's ``sendRerunBackMsg``;
* keeps the frontend's ForwardMsg cache (``wsproto.MessageCache``);
* emulates fragment auto-reruns: for each ``auto_rerun(interval, fragment_id)`` it
  sends ``rerun_script(fragment_id, is_auto_rerun=True)`` every ``interval`` s;
  a ``new_session`` of a full run clears all timers (``cleanupAutoReruns``);
  ``stop_auto_rerun`` clears single ones;
* presses buttons (``trigger_value``), sets select sliders (``string_array_value``)
  and uploads files (``file_urls_request``, an HTTP PUT with the XSRF cookie the page
  load got, then the uploader's ``file_uploader_state_value``); other widgets are
  not resent: the server keeps their values in session state;
* the live view (``ui/live_view``): every payload of an ``earthmover_live_view``
  component is decoded with ``wgan_core.engine.wire`` and each frame's view, run,
  serial and size recorded (``Stats.frames``): the browser plays every frame it
  receives, so distinct serials per second are the snapshots a student sees;
* pictures (``st.image``): a new ``/media/...`` URL at an element's place is a new
  picture, fetched as a browser ``<img>`` would (keep-alive; the newest pending URL).

Use ``StreamlitClient`` from asyncio; see ``benchmarks/classroom.py``.
"""
from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from wsproto import (
    EARLY,
    FINISHED,
    FRAGMENT_FINISHED,
    MessageCache,
    PageView,
    Stats,
    Widget,
    file_urls_request,
    http_request,
    multipart,
    rerun_message,
)

PARALLEL = 6                # connections a browser opens to one host for a page's files (HTTP/1.1)
__all__ = ["StreamlitClient", "Stats", "Widget"]


class StreamlitClient(PageView):
    """One browser tab on one page of a running Streamlit app."""

    def __init__(self, base_url: str, page: str = "", query: str = "", fetch_media: bool = True,
                 on_message: Callable[[StreamlitClient, ForwardMsg], None] | None = None,
                 message_cache: bool = True, address: str = "", light: bool = False):
        u = urlsplit(base_url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.ws_url = f"ws://{self.host}:{self.port}/_stcore/stream"
        self.page, self.query, self.page_hash = page, query, ""
        self.fetch_media, self.on_message, self.address = fetch_media, on_message, address
        PageView.__init__(self, light)
        self.session_id = ""
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.cache = MessageCache(message_cache)
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._tasks: list[asyncio.Task] = []
        self._want_media: str | None = None
        self._media_event = asyncio.Event()
        self._changed = asyncio.Event()           # set after every message; for wait_for
        self._closing = False
        self._had_session = False
        self._file_urls: dict[str, object] = {}   # file_urls_request id -> its FileURLsResponse

    def _headers(self) -> str:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return (f"X-Forwarded-For: {self.address}\r\n" if self.address else "") + (f"Cookie: {cookie}\r\n" if cookie else "")

    # -- connection ------------------------------------------------------------------------
    async def load_page(self) -> float:
        """GET the page's HTML and the scripts/styles it names (over PARALLEL connections), as a browser's first visit does (gzip
        accepted; chunks the bundle imports later are not fetched) and the health check, whose answer sets
        the XSRF cookie an upload needs.
        Returns the seconds it took."""
        t = time.monotonic()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            path = f"/{self.page}" + (f"?{self.query}" if self.query else "")
            _, _, html, _ = await http_request(reader, writer, self.host, self.port, path,
                                               headers="Accept: text/html\r\n" + self._headers())
            assets = re.findall(r'(?:src|href)="\./((?:static/|favicon)[^"]+)"', html.decode("utf-8", "replace"))
            await self._fetch_all(assets, reader, writer)
            # the frontend asks for the health endpoint before it connects; its answer sets the XSRF cookie
            _, hdrs, _, _ = await http_request(reader, writer, self.host, self.port, "/_stcore/health",
                                               headers="Accept: */*\r\n" + self._headers())
            for line in hdrs.get("set-cookie", "").split("\n"):
                name, _, value = line.split(";")[0].partition("=")
                if name.strip():
                    self.cookies[name.strip()] = value.strip().strip('"')
        finally:
            writer.close()
        self.stats.page_load_s = time.monotonic() - t
        return self.stats.page_load_s

    async def _fetch_all(self, assets: list[str], reader, writer) -> None:
        """The static files over ``PARALLEL`` keep-alive connections, as a browser fetches a page's module
        preloads (Chromium: 6 connections per host over HTTP/1.1)."""
        todo = list(assets)
        async def fetch(r, w) -> None:  # noqa: E306
            while todo:
                await http_request(r, w, self.host, self.port, "/" + todo.pop(0),
                                   headers="Accept: */*\r\nAccept-Encoding: gzip\r\n" + self._headers())

        extra = [await asyncio.open_connection(self.host, self.port) for _ in range(min(PARALLEL, len(todo)) - 1)]
        try:
            await asyncio.gather(fetch(reader, writer), *(fetch(r, w) for r, w in extra))
        finally:
            for _, w in extra:
                w.close()

    async def connect(self) -> None:
        extra = {"X-Forwarded-For": self.address} if self.address else {}
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           ping_interval=None, open_timeout=60, additional_headers=extra)
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
        url = f"http://{self.host}:{self.port}/{self.page}" + (f"?{self.query}" if self.query else "")
        msg = rerun_message(query=self.query, page_hash=self.page_hash, page=self.page, widgets=widgets,
                            fragment_id=fragment_id, auto=auto, cached=self.cache.hashes(), url=url)
        self._had_session = False                 # the frontend's hasReceivedNewSession
        self.trace.append((time.monotonic(), "rerun", [fragment_id[-8:]] + [w.id[-12:] for w in widgets or []]))
        await self.send(msg)

    # -- widgets ---------------------------------------------------------------------------
    # a widget inside a fragment reruns that fragment only, as in the frontend (it sends the element's fragment id)
    async def click(self, label: str) -> None:
        w = self.widgets[label]
        await self.rerun([WidgetState(id=w.id, trigger_value=True)], fragment_id=w.fragment_id)

    async def set_select_slider(self, label: str, option: str) -> None:
        w = self.widgets[label]
        state = WidgetState(id=w.id)
        state.string_array_value.data.append(option)
        await self.rerun([state], fragment_id=w.fragment_id)

    async def upload(self, label: str, name: str, data: bytes, timeout: float = 60.0) -> int:
        """Upload one file into the file uploader ``label`` as the frontend does; returns the PUT's HTTP status
        (the page run it starts is not awaited). Needs load_page() first (the XSRF cookie)."""
        rid, msg = file_urls_request(self.session_id, [name])
        await self.send(msg)
        if not await self.wait_for(lambda: rid in self._file_urls, timeout):
            raise TimeoutError("no file_urls_response")
        resp = self._file_urls.pop(rid)
        if resp.error_msg or not resp.file_urls:
            raise RuntimeError(f"upload refused: {resp.error_msg}")
        urls = resp.file_urls[0]
        ctype, body = multipart(name, data)
        token = self.cookies.get("_streamlit_xsrf", "")
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            path = urlsplit(urls.upload_url).path
            code, *_ = await http_request(reader, writer, self.host, self.port, path, "PUT",
                                          f"Content-Type: {ctype}\r\nX-Xsrftoken: {token}\r\n" + self._headers(), body)
        finally:
            writer.close()
        if code == 204 or code == 200:
            state = WidgetState(id=self.widgets[label].id)
            info = state.file_uploader_state_value.uploaded_file_info.add()
            info.name, info.size, info.file_id = name, len(data), urls.file_id
            info.file_urls.CopyFrom(urls)
            await self.rerun([state])
        return code

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
                self.stats.messages += 1
                self.stats.bytes += len(data)
                msg = self.cache.resolve(data, self.stats)
                if msg is None:
                    continue
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
        kind, now = msg.WhichOneof("type"), time.monotonic()
        if kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self.element(msg.delta.new_element, tuple(msg.metadata.delta_path), now, msg.delta.fragment_id)
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fid)
        elif kind == "new_session":
            self._had_session = True
            ns = msg.new_session
            self.cache.max_age = ns.config.max_cached_message_age or self.cache.max_age
            self.page_hash = ns.page_script_hash
            self.session_id = ns.initialize.session_id or self.session_id
            self.trace.append((now, "session", list(msg.metadata.run.fragment_ids)))
            if msg.metadata.run.fragment_ids:
                self.stats.fragment_runs.append(now)
            else:
                self.stats.full_runs.append(now)
                for fid in list(self._timers):
                    self._stop_timer(fid)
        elif kind == "navigation" and msg.navigation.page_script_hash:
            self.page_hash = msg.navigation.page_script_hash     # with st.navigation, the page's own hash
        elif kind == "script_finished":
            self.trace.append((now, "finished", int(msg.script_finished)))
            # A full run ends with FINISHED, or, when fragment reruns were queued behind it, with the last of those
            if msg.script_finished == FINISHED or (msg.script_finished == FRAGMENT_FINISHED
                                                   and self.stats.full_started > self.stats.full_finished):
                self.stats.full_finished = now
            if msg.script_finished != EARLY:
                self.stats.finished = now                  # any run: a fragment's too
                if self._had_session:
                    self.cache.age(list(msg.metadata.run.fragment_ids))
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
            self.trace.append((now, "query", self.query[-60:]))
        elif kind == "file_urls_response":
            self._file_urls[msg.file_urls_response.response_id] = msg.file_urls_response

    # -- fragment timers -------------------------------------------------------------------
    def _auto_rerun(self, fid: str, interval: float) -> None:
        self.stats.auto_reruns.append((time.monotonic(), fid, interval))
        if not fid or (fid in self._timers and self._timers[fid][0] == interval):
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
    def picture(self, url: str, now: float) -> None:
        if self.fetch_media and url.startswith("/"):
            self._want_media = url
            self._media_event.set()
        else:
            super().picture(url, now)

    async def _media_loop(self) -> None:
        reader = writer = None
        try:
            while True:
                await self._media_event.wait()
                self._media_event.clear()
                url, self._want_media = self._want_media, None
                if url is None:
                    continue
                ok = False
                for attempt in range(2):
                    try:
                        if writer is None:
                            reader, writer = await asyncio.open_connection(self.host, self.port)
                        code, _, _, keep = await http_request(reader, writer, self.host, self.port, url,
                                                              headers="Accept: image/*\r\n" + self._headers())
                        ok = code == 200
                        if not keep:
                            writer.close()
                            reader = writer = None
                        break
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        if writer is not None:
                            writer.close()
                        reader = writer = None
                        if attempt:
                            break
                if ok:
                    self.stats.shown.append((time.monotonic(), url))
                else:
                    self.stats.fetch_errors += 1
        finally:
            if writer is not None:
                writer.close()
