// ---------------------------------------------------------------- view.js
// The live view: one EmView per mounted component, kept on its parent element across
// reruns (Streamlit calls the default export again with new `data`; the DOM persists).
// Frames are queued and played on the training clock (schedule.js), tweened at display
// rate with requestAnimationFrame, and the loop stops when nothing changes.

const EM_ALL = ["critic", "contours", "manifold", "transport", "real", "fake", "arrows"];   // drawn bottom -> top
const EM_LEGEND = ["real", "fake", "arrows", "critic", "contours", "manifold", "transport"];
const EM_DEFAULT_ON = ["critic", "contours", "real", "fake", "arrows"];
const EM_LABELS = { real: "real", fake: "generated", arrows: "G step", manifold: "G manifold",
  transport: "transport", critic: "critic", contours: "contours" };
const EM_DIVERGED = "Training diverged (NaN) \u2014 paused";
const EM_SVG = {
  arrows: '<path d="M2 13 L13 3 M7 3 H13 V9" stroke="rgb(94,60,153)" stroke-width="1.8" fill="none" stroke-linecap="round"/>',
  manifold: '<path d="M2 3 Q8 5 14 3 M2 8 Q8 10 14 8 M2 13 Q8 15 14 13 M3 2 Q5 8 3 14 M8 2 Q10 8 8 14 M13 2 Q15 8 13 14" stroke="rgba(120,50,10,0.7)" stroke-width="1" fill="none"/>',
  transport: '<path d="M4 12 L12 4" stroke="rgb(90,90,90)" stroke-width="1.2"/><circle cx="4" cy="12" r="2.6" fill="rgb(230,97,1)"/><circle cx="12" cy="4" r="2.6" fill="rgb(1,102,94)"/>',
  contours: '<path d="M1 12 Q5 4 9 9 T15 5" stroke="rgba(40,40,40,0.85)" stroke-width="1.6" fill="none"/><path d="M1 15 Q5 8 9 13 T15 10" stroke="rgba(40,40,40,0.4)" stroke-width="1" fill="none"/>',
};
const EM_VIEWS = new WeakMap();
const EM_API = { schedule, decodePayload: emDecodePayload, EmQueue, views: new Set(), mounts: 0 };
window.__earthmoverView = EM_API;

function emEl(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function emReadUrlLayers() {
  const v = new URLSearchParams(location.search).get("layers");
  return v === null ? null : v.split(",").filter((n) => EM_ALL.includes(n));
}

function emWriteUrlLayers(names) {
  const keep = location.search.replace(/^\?/, "").split("&").filter((x) => x && !x.startsWith("layers="));
  keep.push("layers=" + names.join(","));
  history.replaceState(history.state, "", location.pathname + "?" + keep.join("&") + location.hash);
}

class EmView {
  constructor(parent) {
    parent.querySelectorAll(":scope > .em-live-view, :scope > div > .em-live-view").forEach((e) => e.remove());
    this.root = emEl("div", "em-live-view", parent);
    this.legend = emEl("div", "em-legend", this.root);
    this.chips = {};
    for (const name of EM_LEGEND) this.chips[name] = this.makeChip(name);
    this.step = emEl("span", "em-step", this.legend);
    this.stage = emEl("div", "em-stage", this.root);
    this.canvas = emEl("canvas", "em-canvas", this.stage);
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "live training view");
    this.ctx = this.canvas.getContext("2d");
    this.banner = emEl("div", "em-banner", this.stage);
    this.wait = emEl("div", "em-wait", this.stage);
    this.wait.textContent = "waiting for the first snapshot\u2026";
    this.q = new EmQueue();
    this.reals = new Map();                                // run -> Float32Array of real points
    this.plans = new Map();                                // run -> its last transport plan (Uint16Array)
    this.header = null; this.on = null; this.scratch = {}; this.sc = {};
    this.paints = 0; this.feeds = 0; this.raf = 0; this.lastKey = ""; this.dirty = true;
    this.L = null; this.size = ""; this.lastPaintAt = 0; this.current = null;
    this.tick = this.tick.bind(this);
    this.onVisible = () => { if (!document.hidden) this.kick(); };
    this.onLayers = (ev) => this.setLayers(ev.detail, false);
    this.onResize = () => this.relayout();
    this.ro = new ResizeObserver(this.onResize);
    this.ro.observe(this.root);
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("em-layers", this.onLayers);
    window.addEventListener("resize", this.onResize);
    EM_API.views.add(this);
    EM_API.mounts += 1;
    this.root.dataset.mount = String(EM_API.mounts);
  }

  makeChip(name) {
    const b = emEl("button", "em-chip", this.legend);
    b.type = "button";
    b.dataset.layer = name;
    const icon = emEl("span", "em-icon em-icon-" + name, b);
    if (EM_SVG[name]) icon.innerHTML = `<svg viewBox="0 0 16 16" aria-hidden="true">${EM_SVG[name]}</svg>`;
    const label = emEl("span", "em-label", b);
    if (name === "critic") {
      b.append(emEl("span", "em-lowhigh"), emEl("span", "em-bar"), emEl("span", "em-lowhigh"));
      b.children[2].textContent = "low"; b.children[4].textContent = "high";
      b.children[3].style.background = EM_GRADIENT_CSS;
      icon.remove();
    }
    label.textContent = EM_LABELS[name];
    b.addEventListener("click", () => {
      const on = new Set(this.on);
      if (on.has(name)) on.delete(name); else on.add(name);
      this.setLayers(EM_ALL.filter((n) => on.has(n)), true);
    });
    return b;
  }

  setLayers(names, mine) {
    this.on = new Set(names);
    for (const [name, chip] of Object.entries(this.chips)) chip.setAttribute("aria-pressed", String(this.on.has(name)));
    if (mine) {
      emWriteUrlLayers(names);
      window.dispatchEvent(new CustomEvent("em-layers", { detail: names }));   // every view on the page follows
    }
    this.repaint();
  }

  applyHeader(h) {
    const first = this.header === null;
    this.header = h;
    const presenter = !!h.presenter, height = Number.isFinite(h.height) ? h.height : null;
    this.root.classList.toggle("em-presenter", presenter);
    this.root.style.height = height ? height + "px" : "";
    this.fixed = height !== null;
    this.fps = Number.isFinite(h.fps) && h.fps > 0 ? h.fps : 0;
    for (const [name, chip] of Object.entries(this.chips)) {
      chip.querySelector(".em-label").textContent = (h.labels && h.labels[name]) || EM_LABELS[name];
    }
    if (first) this.setLayers(emReadUrlLayers() ?? (Array.isArray(h.layers) ? h.layers : EM_DEFAULT_ON), false);
    this.relayout();
  }

  feed(data) {
    const now = performance.now() / 1000;
    let p;
    try {
      p = emDecodePayload(data);
    } catch (err) {
      console.error(err);
      return;
    }
    this.feeds += 1;
    this.root.dataset.feeds = String(this.feeds);
    this.applyHeader(p.header || {});
    const lastRun = p.frames.length ? p.frames[p.frames.length - 1].run : this.q.frames.at(-1)?.run;
    if (p.real) {
      this.reals.set(Number.isInteger(p.header.real_run) ? p.header.real_run : lastRun ?? -1, p.real);
      while (this.reals.size > 4) this.reals.delete(this.reals.keys().next().value);
    }
    for (const f of p.frames) {                              // a plan travels when it changes (about 1/s):
      if (f.plan) this.plans.set(f.run, f.plan);             // frames in between reuse the run's last one
      else if (this.plans.has(f.run)) f.plan = this.plans.get(f.run);
    }
    while (this.plans.size > 4) this.plans.delete(this.plans.keys().next().value);
    const delay = emDelayFor(p.header);
    if (this.q.delay !== null && delay > this.q.delay) this.q.delay = delay;   // grows (a pause), never shrinks
    this.q.push(p.frames, now, delay);
    this.kick();
  }

  kick() {
    if (!this.raf && !document.hidden && this.root.isConnected) this.raf = requestAnimationFrame(this.tick);
  }

  repaint() {
    this.dirty = true;
    this.kick();
  }

  tick() {
    this.raf = 0;
    if (!this.root.isConnected || document.hidden) return;
    const now = performance.now() / 1000;
    if (this.fps && !this.dirty && now - this.lastPaintAt < 1 / this.fps - 0.004) {
      this.kick();
      return;
    }
    const p = this.q.playTime(now), s = p === null ? null : this.q.at(p);
    const key = s ? `${s.a.run}:${s.a.serial}:${s.b.serial}:${s.w.toFixed(4)}` : "";
    if (key !== this.lastKey || this.dirty) this.paint(s, key, now);
    if (s && !s.done) this.kick();
  }

  lerp(name, a, b, w) {
    const out = emLerp(a, b, w, this.sc[name]);
    if (out && out !== a && out !== b) this.sc[name] = out;
    return out;
  }

  state(s) {
    const { a, b, w } = s;
    return {
      extent: a.extent, status: a.status, G: a.G, M: a.M, Na: a.Na, plan: a.plan,
      fake: this.lerp("fake", a.fake, b.fake, w),
      grid: a.grid && this.lerp("grid", a.grid, b.G === a.G ? b.grid : null, w),
      arrows: a.arrows && this.lerp("arrows", a.arrows, b.Na === a.Na ? b.arrows : null, w),
      manifold: a.manifold && this.lerp("manifold", a.manifold, b.M === a.M ? b.manifold : null, w),
      real: this.reals.get(a.run) || this.reals.get(-1) || null,        // never another run's data
    };
  }

  relayout() {
    const W = Math.floor(this.stage.clientWidth), dpr = window.devicePixelRatio || 1;
    if (!W) return;
    const ext = this.current ? this.current.extent : [-1, 1, -1, 1];
    const rootH = this.fixed ? this.root.clientHeight : 0, presenter = !!this.header?.presenter;
    const pic = this.pictures() ? (this.current?.kind === "pictures" ? this.current : { n: 64, side: 8 }) : null;
    const key = [W, dpr, ext, rootH, this.fixed, window.innerHeight, presenter, pic && [pic.n, pic.side]].join("|");
    if (key === this.size) return;
    this.size = key;
    if (pic) {                                               // the Images page: a grid of pictures
      const avail = this.fixed ? Math.max(160, rootH - this.legend.offsetHeight - 6)
        : Math.max(240, window.innerHeight - this.legend.offsetHeight - 48);
      this.L = emPictureLayout(W, avail, pic.n, pic.side, dpr);
      this.legend.style.paddingLeft = this.L.x0 + "px";
      this.legend.style.paddingRight = "";
      this.setCanvas(W, dpr);
      return;
    }
    const family = getComputedStyle(this.root).fontFamily || "sans-serif";
    for (let pass = 0; pass < 2; pass++) {                   // the legend's height depends on its padding
      const legendH = this.legend.offsetHeight, avail = Math.max(160, rootH - legendH - 6);
      const k = Math.min(1.6, Math.max(0.85, Math.min(W, this.fixed ? avail : W) / 640)) * (presenter ? 1.3 : 1);
      this.root.style.setProperty("--em-k", k.toFixed(3));
      // presenter: down to the window's bottom edge from where the plot starts on the page
      const top = presenter ? this.stage.getBoundingClientRect().top + window.scrollY : legendH + 48;
      const maxH = Math.max(240, window.innerHeight - top - (presenter ? 12 : 0));
      this.L = emLayout(this.ctx, W, this.fixed ? avail : null, maxH, ext, k, family);
      const align = W >= 560;                                // legend from the plot's left edge
      this.legend.style.paddingLeft = align ? this.L.x0 + "px" : "";
      this.legend.style.paddingRight = align ? Math.max(0, W - this.L.x0 - this.L.w - 40) + "px" : "";
    }
    this.setCanvas(W, dpr);
  }

  setCanvas(W, dpr) {
    this.dpr = dpr;
    this.canvas.style.width = W + "px";
    this.canvas.style.height = this.L.H + "px";
    this.canvas.width = Math.round(W * dpr);
    this.canvas.height = Math.round(this.L.H * dpr);
    this.repaint();
  }

  pictures() {                                              // frames of pictures (or the header says they come)
    return this.current ? this.current.kind === "pictures" : !!this.header?.pictures;
  }

  paint(s, key, now) {
    if (s && (!this.current || s.a.kind !== this.current.kind || s.a.N !== this.current.N
      || s.a.extent.some((v, i) => v !== this.current.extent[i]))) {
      this.current = s.a;
      this.size = "";
      this.relayout();
    }
    if ((window.devicePixelRatio || 1) !== this.dpr) { this.size = ""; this.relayout(); }
    if (!this.L) return;
    const t0 = performance.now();
    if (this.L.pictures) {
      for (const chip of Object.values(this.chips)) chip.hidden = true;
      if (s && s.a.kind === "pictures") emPaintPictures(this.ctx, this.L, s.a, s.b, s.w, this.scratch, this.dpr);
      else this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    } else {
      const st = s ? this.state(s) : null;
      for (const [name, chip] of Object.entries(this.chips)) {
        const have = !st || { critic: st.grid, contours: st.grid, arrows: st.arrows, manifold: st.manifold,
          transport: st.plan && st.real, real: st.real, fake: true }[name];
        chip.hidden = !have;
      }
      emPaint(this.ctx, this.L, st, this.on || new Set(EM_DEFAULT_ON), this.scratch, this.dpr);
    }
    this.paintMs = 0.9 * (this.paintMs || 0) + 0.1 * (performance.now() - t0);   // data-paint-ms: for benchmarks
    this.paints += 1;
    this.dirty = false; this.lastKey = key; this.lastPaintAt = now;
    const d = this.root.dataset;
    d.paints = String(this.paints);
    d.paintMs = this.paintMs.toFixed(2);
    this.wait.hidden = !!s;
    if (!s) return;
    this.current = s.a;
    d.serial = String(s.a.serial); d.run = String(s.a.run); d.status = s.a.status;
    this.step.textContent = "step " + s.a.gen.toLocaleString("en-US");
    const diverged = s.a.status === "diverged";
    this.banner.hidden = !diverged;
    if (diverged) {
      const msg = this.header && this.header.message ? `<small>${String(this.header.message).replace(/[<>&]/g, "")}</small>` : "";
      this.banner.innerHTML = `<strong>${EM_DIVERGED}</strong>${msg}`;
      this.banner.style.top = this.L.y0 + this.L.h / 2 + "px";
      this.banner.style.left = this.L.x0 + "px";
      this.banner.style.width = this.L.w + "px";
    }
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.ro.disconnect();
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("em-layers", this.onLayers);
    window.removeEventListener("resize", this.onResize);
    EM_API.views.delete(this);
  }
}

// Streamlit calls this on mount and again with every new `data` (raw bytes: a Uint8Array).
function emMount(component) {
  const { data, parentElement } = component;
  let view = EM_VIEWS.get(parentElement);
  if (!view) {
    view = new EmView(parentElement);
    EM_VIEWS.set(parentElement, view);
  }
  if (data) view.feed(data);
  // Streamlit also calls a stale call's cleanup at once: destroy only when really unmounted.
  return () => setTimeout(() => {
    if (!view.root.isConnected) {
      view.destroy();
      EM_VIEWS.delete(parentElement);
    }
  }, 0);
}

// The code component's own export only publishes the mount function; the small view component
// (STUB in __init__.py) calls it, so the ~30 KB of this code travel once per page run, not per frame.
export default function () {
  window.__emMount = emMount;
}
