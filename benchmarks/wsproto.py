"""The browser's side of Streamlit 1.67's protocol, without a connection: what `wsclient.StreamlitClient` uses.

* `Stats`: what one client saw (runs, the live view's payloads and frames, pictures, status lines);
* `rerun_message`: a ``BackMsg.rerun_script`` as the frontend's ``sendRerunBackMsg`` builds it;
* `MessageCache`: the frontend's ``ForwardMessageCache`` (messages kept by hash, aged per run);
* `live_payload`: the frames of one payload of the live view (``ui/live_view``: a bidi component named
  ``earthmover_live_view`` whose ``bytes`` are a ``wgan_core.engine.wire`` payload), decoded as the
  browser decodes them;
* `http_request`: one HTTP/1.1 request on a keep-alive connection (page loads, pictures, uploads).
"""
from __future__ import annotations

import asyncio
import collections
import json
import re
import statistics
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from wgan_core.engine import wire  # noqa: E402

VIEW_NAME = "earthmover_live_view"           # ui.live_view.NAME (its drawing code is NAME + "_code")
STATUS_RE = re.compile(r"generator step \*\*([\d,]+)\*\*")
TRAINING_RE = re.compile(r"Training with lr (\S+) / (\S+) \(critic / generator\)")
FINISHED, EARLY = ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_EARLY_FOR_RERUN
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
WIDGETS = ("button", "slider", "selectbox", "checkbox", "button_group", "number_input", "file_uploader", "radio")


@dataclass
class Widget:
    kind: str          # the Element oneof name: button, slider, selectbox, ...
    id: str
    label: str
    options: tuple = ()
    value: tuple = ()  # sliders: the server's value if it set one, else the default (not the user's choice)
    fragment_id: str = ""   # the fragment it was drawn in ("" : the page's full run)


@dataclass
class Stats:
    """What one client saw; times are time.monotonic()."""
    messages: int = 0
    bytes: int = 0                                     # every websocket message received
    ref_hashes: int = 0
    cache_misses: int = 0                              # ref_hash messages not in the cache (must stay 0)
    auto_reruns: list = field(default_factory=list)   # (t, fragment id, interval) of each AutoRerun message
    full_runs: list = field(default_factory=list)     # t of each full run's start (new_session, no fragment ids)
    fragment_runs: list = field(default_factory=list)  # t of each fragment run's start (new_session with
    # fragment ids; it may end "early for rerun" after its body ran when another request waits: still a run)
    payloads: list = field(default_factory=list)      # (t, view id, payload bytes, frames in it)
    frames: list = field(default_factory=list)        # (t, view id, run, serial, gen_steps, frame bytes)
    bad_payloads: list = field(default_factory=list)  # (t, why) of payloads that did not decode
    reals: set = field(default_factory=set)           # (view id, run) whose real points arrived (-1: any run)
    images: list = field(default_factory=list)        # (t, url) of each picture whose URL changed at its place
    shown: list = field(default_factory=list)         # (t, url) of each such picture loaded in full
    fetch_errors: int = 0
    steps: list = field(default_factory=list)         # (t, generator steps) from the status line
    training_with: list = field(default_factory=list)  # (t, "Training with ..." text) when it changed
    exceptions: list = field(default_factory=list)    # texts of st.exception / st.error elements
    alerts: list = field(default_factory=list)        # texts of every alert (error, warning, info, success)
    charts: int = 0                                   # vega-lite chart elements received
    page_load_s: float = 0.0                          # load_page(): HTML + its scripts and styles
    full_finished: float = 0.0                        # the latest script_finished of a full run
    finished: float = 0.0                             # the latest script_finished of any run (fragments too)

    @property
    def full_started(self) -> float:
        """The latest new_session of a full run (0 before any)."""
        return self.full_runs[-1] if self.full_runs else 0.0

    def views(self) -> list[str]:
        return sorted({v for _, v, *_ in self.payloads})

    def snapshots(self, t0: float = 0.0, t1: float = float("inf"), view: str | None = None) -> int:
        """Distinct frames (view, run, serial) received in [t0, t1): the browser plays every one."""
        return len({(v, r, s) for t, v, r, s, *_ in self.frames if t0 <= t < t1 and view in (None, v)})

    def lost(self, view: str | None = None) -> int:
        """Frames of a run never received though a later one was (serials are consecutive within a run)."""
        by: dict[tuple, set] = {}
        for _, v, r, s, *_ in self.frames:
            if view in (None, v):
                by.setdefault((v, r), set()).add(s)
        return sum(max(s) - min(s) + 1 - len(s) for s in by.values())

    def without_real(self) -> list[str]:
        """Views whose newest frame's run never got its real points (the browser then draws none: view.js)."""
        last = {v: r for _, v, r, *_ in self.frames}
        return [v for v, r in last.items() if (v, r) not in self.reals and (v, -1) not in self.reals]

    def frame_bytes(self, t0: float = 0.0, t1: float = float("inf")) -> list[int]:
        return [n for t, *_, n in self.frames if t0 <= t < t1]

    def payload_bytes(self, t0: float = 0.0, t1: float = float("inf"), with_frames: bool = True) -> list[int]:
        return [n for t, _, n, k in self.payloads if t0 <= t < t1 and (k or not with_frames)]

    def bytes_per_snapshot(self, t0: float = 0.0, t1: float = float("inf")) -> float:
        """Median over payloads with frames of payload bytes / frames in it (header and real points included)."""
        per = [n / k for t, _, n, k in self.payloads if t0 <= t < t1 and k]
        return statistics.median(per) if per else float("nan")

    def latest_steps(self) -> int | None:
        return self.steps[-1][1] if self.steps else None


class PageView:
    """What a browser tab knows of its page from the elements it was sent: widgets, status lines, the live
    view's frames, pictures (`Stats`), and a trace of the run lifecycle. No connection."""

    def __init__(self, light: bool = False):
        self.light = light                        # live view: read frame headers only (no dequantising)
        self.widgets: dict[str, Widget] = {}      # by label (the latest element with that label)
        self.seen: dict[str, float] = {}          # widget label -> when the server last sent it
        self.status = ""                          # the latest status markdown body
        self.training_with = ""                   # the latest "Training with lr ..." text
        self.stats = Stats()
        self.trace: collections.deque = collections.deque(maxlen=400)   # (t, event, detail): the run lifecycle
        self._pictures: dict[tuple, str] = {}     # (delta path, index) -> its picture's URL

    def picture(self, url: str, now: float) -> None:
        """A new picture at its place: an inline one is shown at once (a client that loads URLs overrides this)."""
        if not url.startswith("/"):
            self.stats.shown.append((now, url))

    def element(self, el, path: tuple, now: float, fragment_id: str = "") -> None:
        """Take one new element (its delta path, when it came, the fragment that drew it)."""
        kind = el.WhichOneof("type")
        if kind == "bidi_component":
            got = live_payload(el.bidi_component, now, self.stats, self.light)
            if got is not None:
                self.trace.append((now, "payload", [s for _, s, *_ in got["frames"]][-3:]))
        elif kind == "markdown":
            body = el.markdown.body
            m = STATUS_RE.search(body)
            if m:
                self.status = body
                self.stats.steps.append((now, int(m.group(1).replace(",", ""))))
            elif body.removeprefix("✓ ").startswith("Training with ") and body != self.training_with:  # side panel, sliders
                self.training_with = body
                self.stats.training_with.append((now, body))
        elif kind == "imgs":
            for i, img in enumerate(el.imgs.imgs):
                url = img.url
                if url and self._pictures.get((path, i)) != url:
                    self._pictures[(path, i)] = url
                    self.stats.images.append((now, url))
                    self.picture(url, now)
        elif kind == "vega_lite_chart":
            self.stats.charts += 1
        elif kind in ("exception", "alert"):
            text = el.exception.message if kind == "exception" else el.alert.body
            if kind == "exception" or el.alert.format == 1:         # Alert.ERROR
                self.stats.exceptions.append(text)
            self.stats.alerts.append(text)
        elif kind in WIDGETS:
            sub = getattr(el, kind)
            label = getattr(sub, "label", "") or ""
            options = tuple(getattr(sub, "options", ()) or ())
            value = (tuple(sub.value) if sub.set_value else tuple(sub.default)) if kind == "slider" else ()
            self.widgets[label] = Widget(kind, sub.id, label, options, value, fragment_id)
            self.seen[label] = now


def training_lr(text: str) -> tuple[float, float] | None:
    """(critic lr, generator lr) of a "Training with lr A / B (critic / generator) ..." text."""
    m = TRAINING_RE.search(text)
    return (float(m.group(1)), float(m.group(2))) if m else None


def rerun_message(*, query: str, page_hash: str, page: str, widgets, fragment_id: str, auto: bool,
                  cached: list, url: str) -> BackMsg:
    msg = BackMsg()
    cs = msg.rerun_script
    cs.query_string = query
    cs.page_script_hash = page_hash
    if not page_hash:
        cs.page_name = page
    cs.fragment_id = fragment_id
    cs.is_auto_rerun = auto
    cs.cached_message_hashes.extend(cached)
    cs.widget_states.SetInParent()
    for w in widgets or []:
        cs.widget_states.widgets.append(w)
    cs.context_info.timezone = "UTC"
    cs.context_info.url = url
    return msg


def file_urls_request(session_id: str, names: list[str]) -> tuple[str, BackMsg]:
    msg, rid = BackMsg(), uuid.uuid4().hex
    msg.file_urls_request.request_id = rid
    msg.file_urls_request.session_id = session_id
    msg.file_urls_request.file_names.extend(names)
    return rid, msg


class MessageCache:
    """The frontend's ForwardMessageCache: messages the server marks ``metadata.cacheable`` are kept by hash
    (their hashes go with every rerun), a ``ref_hash`` is answered from here, and entries unused for more
    than ``max_age`` runs are dropped (after a fragment run, only those of the fragments that ran)."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.max_age, self.runs = enabled, 2, 0
        self.entries: dict[str, list] = {}               # hash -> [serialized ForwardMsg, run count, fragment id]

    def hashes(self) -> list[str]:
        return list(self.entries)

    def resolve(self, data: bytes, stats: Stats) -> ForwardMsg | None:
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.ref_hash:
            stats.ref_hashes += 1
            entry = self.entries.get(msg.ref_hash)
            if entry is None:
                stats.cache_misses += 1
                return None
            entry[1] = self.runs
            msg = ForwardMsg()
            msg.ParseFromString(entry[0])
        elif self.enabled and msg.metadata.cacheable and msg.hash:
            if msg.hash in self.entries:
                self.entries[msg.hash][1] = self.runs
            else:
                self.entries[msg.hash] = [data, self.runs, msg.delta.fragment_id]
        return msg

    def age(self, fragment_ids: list) -> None:
        """The frontend's incrementRunCount."""
        self.runs += 1
        for h, (_, runs, fid) in list(self.entries.items()):
            if fragment_ids and (not fid or fid not in fragment_ids):
                continue
            if self.runs - runs > self.max_age:
                del self.entries[h]


def live_payload(bidi, t: float, stats: Stats, light: bool = False) -> dict | None:
    """Record one live-view element's payload and its frames in ``stats`` (None for other components).
    ``light``: read the frame headers only (the arrays are not dequantised)."""
    if bidi.component_name != VIEW_NAME or bidi.WhichOneof("data") != "bytes":
        return None
    view, data = bidi.id, bidi.bytes
    try:
        if light:
            frames = _frame_heads(data)
        else:
            p = wire.decode_payload(data)
            frames = [(f["run"], f["serial"], f["gen_steps"]) for f in p["frames"]]
            lengths = [n for *_, n in _frame_heads(data)]
            frames = [(*f, n) for f, n in zip(frames, lengths)]
    except (ValueError, KeyError, IndexError) as err:
        stats.bad_payloads.append((t, repr(err)))
        return None
    stats.payloads.append((t, view, len(data), len(frames)))
    _, H, _, R, *_ = wire.PAYLOAD_HEAD.unpack_from(data)
    if R:                                           # as view.js files them: header real_run, else the last frame's run
        run = json.loads(bytes(data[wire.PAYLOAD_HEAD.size:wire.PAYLOAD_HEAD.size + H])).get("real_run")
        last = [r for _, v, r, *_ in stats.frames[-50:] if v == view]
        run = run if isinstance(run, int) else frames[-1][0] if frames else last[-1] if last else -1
        stats.reals.add((view, run))
    for run, serial, steps, n in frames:
        stats.frames.append((t, view, run, serial, steps, n))
    return {"view": view, "frames": frames}


def _frame_heads(data: bytes) -> list[tuple[int, int, int, int]]:
    """(run, serial, gen_steps, frame bytes) of each frame, from the headers only (layout: wire's module doc)."""
    _, H, k, R, *_ = wire.PAYLOAD_HEAD.unpack_from(data)
    off = wire.PAYLOAD_HEAD.size + H + (-H % 8) + 4 * R + (-(4 * R) % 8)
    out = []
    for _ in range(k):
        run, serial, steps, length = wire.frame_head(data, off)
        out.append((run, serial, steps, length))
        off += length + (-length % 8)
    return out


async def http_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int,
                       path: str, method: str = "GET", headers: str = "Accept: image/*\r\n",
                       body: bytes = b"") -> tuple[int, dict, bytes, bool]:
    """One request on a keep-alive connection -> (status, response headers (lower-case names; Set-Cookie
    values joined by newlines), body, keep-alive)."""
    length = f"Content-Length: {len(body)}\r\n" if body or method in ("PUT", "POST") else ""
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}{length}\r\n".encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    hdrs: dict[str, str] = {}
    for k, _, v in (x.partition(":") for x in lines[1:] if x):
        k = k.strip().lower()
        hdrs[k] = hdrs[k] + "\n" + v.strip() if k in hdrs else v.strip()
    got = []
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            got.append((await reader.readexactly(size + 2))[:-2])
            if size == 0:
                break
    else:
        got.append(await reader.readexactly(int(hdrs.get("content-length", "0"))))
    return code, hdrs, b"".join(got), hdrs.get("connection", "").lower() != "close"


def multipart(name: str, data: bytes, mime: str = "application/octet-stream") -> tuple[str, bytes]:
    """(content type, body) of a form with one file field "file", as the frontend's upload sends it."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body
