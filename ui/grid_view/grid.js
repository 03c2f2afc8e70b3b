// The sensitivity grid (ui/grid_view): a panel per objective, a tile per run (rows n_critic, columns
// learning rate), coloured by its outcome, with its generated points over the real ones. A tile is a
// link to its run in Train live (a new tab). Kept on its parent element across fragment reruns:
// Streamlit calls the default export again with new `data`; only what changed is redrawn.

const GV_STOPS = [[0, [247, 244, 239]], [0.35, [222, 235, 215]], [0.7, [120, 196, 178]], [1, [1, 118, 102]]];
const GV_FAKE = "rgb(230,97,1)";
const GV_REAL = ["rgba(1,102,94,0.3)", "rgba(255,255,255,0.6)"];      // on a light tile, on a dark one
const GV_VIEWS = new WeakMap();

function gvEl(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function gvColour(v) {                                   // value in [0, 1] -> [r, g, b] along GV_STOPS
  const t = Math.max(0, Math.min(1, v));
  for (let i = 1; i < GV_STOPS.length; i++) {
    const [p0, c0] = GV_STOPS[i - 1], [p1, c1] = GV_STOPS[i];
    if (t <= p1) {
      const w = (t - p0) / (p1 - p0);
      return c0.map((c, k) => Math.round(c + w * (c1[k] - c)));
    }
  }
  return GV_STOPS[GV_STOPS.length - 1][1];
}

function gvDark(rgb) {                                   // white text on dark tiles
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 150;
}

function gvBytes(b64) {
  if (!b64) return null;
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}

class GridView {
  constructor(parent) {
    parent.querySelectorAll(":scope > .em-grid").forEach((e) => e.remove());
    this.root = gvEl("div", "em-grid", parent);
    this.legend = gvEl("div", "em-glegend", this.root);
    this.body = gvEl("div", "em-gpanels", this.root);
    this.shape = ""; this.tiles = new Map(); this.real = null; this.realKey = ""; this.feeds = 0;
    this.ro = new ResizeObserver(() => this.tiles.forEach((t) => { t.drawn = ""; this.paint(t); }));
    this.ro.observe(this.root);
  }

  build(d) {                                              // the layout: rebuilt only when its shape changes
    this.body.textContent = "";
    this.tiles.clear();
    const grids = d.panels.map((p) => {
      const panel = gvEl("section", "em-gpanel", this.body);
      gvEl("h4", "em-gtitle", panel, p.title);
      const g = gvEl("div", "em-gtable", panel);
      g.style.gridTemplateColumns = `auto repeat(${d.cols.length}, minmax(0, 1fr))`;
      const corner = gvEl("div", "em-gcorner", g);
      gvEl("span", "", corner, "lr →"); gvEl("span", "", corner, "n_critic ↓");
      d.cols.forEach((c) => gvEl("div", "em-gcol", g, c));
      d.rows.forEach((r, i) => { const h = gvEl("div", "em-grow", g, r); h.style.gridRow = String(i + 2); });
      return g;
    });
    for (const t of d.tiles) {
      const a = gvEl("a", "em-tile", grids[t.panel]);
      a.target = "_blank"; a.rel = "noopener";
      a.style.gridRow = String(t.row + 2); a.style.gridColumn = String(t.col + 2);
      a.dataset.key = t.key;
      const canvas = gvEl("canvas", "em-tcanvas", a);
      const big = gvEl("div", "em-tbig", a), small = [gvEl("div", "em-tsmall", a), gvEl("div", "em-tsmall", a)];
      const bar = gvEl("div", "em-tbar", a);
      this.tiles.set(t.key, { a, canvas, big, small, bar, pts: null, b64: "", drawn: "" });
    }
  }

  feed(d) {
    this.feeds += 1;
    const shape = JSON.stringify([d.panels, d.cols, d.rows, d.tiles.map((t) => t.key)]);
    if (shape !== this.shape) { this.build(d); this.shape = shape; }
    this.legendFor(d.legend);
    if (d.real && d.real !== this.realKey) {
      this.real = gvBytes(d.real); this.realKey = d.real;
      this.tiles.forEach((t) => { t.drawn = ""; });
    }
    let filled = 0;
    for (const t of d.tiles) {
      const tile = this.tiles.get(t.key);
      const rgb = t.v === null || t.v === undefined ? null : gvColour(t.v);
      filled += rgb ? 1 : 0;
      tile.a.href = t.href;
      tile.a.title = t.tip;
      tile.a.dataset.v = rgb ? t.v.toFixed(3) : "";
      tile.a.dataset.state = t.state;
      tile.a.style.background = rgb ? `rgb(${rgb.join(",")})` : "";
      tile.dark = !!rgb && gvDark(rgb);
      tile.a.classList.toggle("em-dark", tile.dark);
      tile.big.textContent = t.big;
      tile.small.forEach((e, i) => { e.textContent = t.small[i] || ""; });
      tile.bar.style.width = `${(100 * t.progress).toFixed(1)}%`;
      if (t.pts !== tile.b64) { tile.b64 = t.pts || ""; tile.pts = gvBytes(t.pts); }
      this.paint(tile);
    }
    this.root.dataset.feeds = String(this.feeds);
    this.root.dataset.filled = String(filled);
  }

  legendFor(l) {
    const key = JSON.stringify(l);
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.textContent = "";
    gvEl("span", "em-glabel", this.legend, `colour: ${l.title}`);
    gvEl("span", "em-gend", this.legend, l.low);
    const ramp = gvEl("span", "em-gramp", this.legend);
    ramp.style.background = `linear-gradient(90deg, ${GV_STOPS.map(([p, c]) => `rgb(${c.join(",")}) ${p * 100}%`).join(", ")})`;
    gvEl("span", "em-gend", this.legend, l.high);
    const dots = gvEl("span", "em-gdots", this.legend);
    gvEl("span", "em-gdot em-gfake", dots); gvEl("span", "", dots, "generated");
    gvEl("span", "em-gdot em-greal", dots); gvEl("span", "", dots, "real");
    if (l.note) gvEl("span", "em-gnote", this.legend, l.note);
    gvEl("span", "em-gnote", this.legend, "click a tile: its run in Train live");
  }

  paint(tile) {                                           // the tile's points, when they or its size changed
    const c = tile.canvas, dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr)), h = Math.max(1, Math.round(c.clientHeight * dpr));
    const key = `${tile.b64.length}:${tile.b64.slice(0, 48)}:${tile.b64.slice(-48)}:${w}x${h}:${this.realKey.length}`
      + `:${tile.dark}`;
    if (key === tile.drawn) return;
    tile.drawn = key;
    c.width = w; c.height = h;
    const ctx = c.getContext("2d"), s = Math.min(w, h), ox = (w - s) / 2, oy = (h - s) / 2;
    const dot = (b, r, fill, rim) => {                   // r: radius in device pixels
      if (!b) return;
      ctx.fillStyle = fill;
      ctx.lineWidth = 0.35 * r; ctx.strokeStyle = "rgba(255,255,255,0.85)";
      for (let i = 0; i + 1 < b.length; i += 2) {
        const x = ox + (b[i] / 255) * s, y = oy + (1 - b[i + 1] / 255) * s;
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
        if (rim) ctx.stroke();
        ctx.fill();
      }
    };
    const r = Math.max(0.9 * dpr, Math.min(3 * dpr, s / 80));          // scales with the tile
    dot(this.real, 1.15 * r, GV_REAL[tile.dark ? 1 : 0], false);
    dot(tile.pts, r, GV_FAKE, r >= 2 * dpr);
  }

  destroy() { this.ro.disconnect(); }
}

export default function (component) {
  const { data, parentElement } = component;
  let view = GV_VIEWS.get(parentElement);
  if (!view) {
    view = new GridView(parentElement);
    GV_VIEWS.set(parentElement, view);
  }
  if (data) view.feed(data);
  return () => setTimeout(() => {                         // Streamlit calls a stale cleanup at once too
    if (!view.root.isConnected) { view.destroy(); GV_VIEWS.delete(parentElement); }
  }, 0);
}
