// ---------------------------------------------------------------- draw.js
// The layers of wgan_core/draw/render.py on a canvas (same meaning, colours and rules):
// critic heatmap centred at the grid's median m with robust half-range
// r = max(q98 - m, m - q2); contours at m + r k / 5, k = -4..4 (median bolder); manifold
// lines; real and fake discs with a white rim; generator-step arrows (median 5 % of the
// plot width, capped at 2.5 x); transport lines fake[i] -> real[plan[i]].
// All sizes are CSS pixels; the caller scales the context by devicePixelRatio.

const EM_C = {
  real: [1, 102, 94], fake: [230, 97, 1], nan: [200, 200, 200],
  arrow: "rgba(94,60,153,0.9)", manifold: "rgba(120,50,10,0.32)", transport: "rgba(60,60,60,0.32)",
  contour: "rgba(40,40,40,0.24)", median: "rgba(40,40,40,0.51)", frame: "rgb(90,90,90)", text: "rgb(40,40,40)",
  stops: [[0, [243, 178, 112]], [0.25, [250, 214, 172]], [0.5, [247, 247, 245]], [0.75, [176, 222, 214]],
    [1, [112, 190, 180]]],
};
const EM_ARROW_FRAC = 0.05, EM_ARROW_MAX = 2.5, EM_LEVELS = 4;   // levels k = -4..4

const EM_LUT = (() => {                                    // 256 RGBA entries, low -> high critic
  const lut = new Uint8ClampedArray(256 * 4), s = EM_C.stops;
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < s.length - 2 && t > s[k + 1][0]) k++;
    const u = (t - s[k][0]) / (s[k + 1][0] - s[k][0]);
    for (let c = 0; c < 3; c++) lut[4 * i + c] = Math.round(s[k][1][c] + u * (s[k + 1][1][c] - s[k][1][c]));
    lut[4 * i + 3] = 255;
  }
  return lut;
})();
const EM_GRADIENT_CSS = "linear-gradient(90deg," + EM_C.stops.map(([p, c]) => `rgb(${c}) ${p * 100}%`).join(",") + ")";

// numpy's linear-interpolation percentile of a sorted array
function emQuantile(sorted, q) {
  const x = q * (sorted.length - 1), lo = Math.floor(x), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

// median m and robust half-range r of the finite grid values
function emCentreScale(grid) {
  const v = grid.filter(Number.isFinite).sort();
  if (!v.length) return [0, 1];
  const m = emQuantile(v, 0.5), r = Math.max(emQuantile(v, 0.98) - m, m - emQuantile(v, 0.02));
  return [m, r > 0 ? r : 1];
}

// "nice" ticks (1, 2, 5 x 10^k) inside [lo, hi]
function emTicks(lo, hi, n = 5) {
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).reduce((a, b) => (Math.abs(b - raw) < Math.abs(a - raw) ? b : a));
  const out = [];
  for (let i = Math.ceil(lo / step - 1e-9); i <= Math.floor(hi / step + 1e-9); i++) out.push(+(i * step).toFixed(10));
  return out;
}
const emFmt = (v) => (Object.is(v, -0) || v === 0 ? "0" : String(+v.toPrecision(10)).replace("-", "\u2212"));

// Plot box inside a canvas of css size W x H (H null: as tall as the extent's aspect asks,
// at most maxH). -> {W, H, x0, y0, w, h, k, font}
function emLayout(ctx, W, H, maxH, extent, k, family) {
  const font = `${Math.round(Math.max(11, 12 * k))}px ${family}`;
  ctx.font = font;
  const tick = 5 * k, pad = 8 * k, fs = Math.max(11, 12 * k);
  const ylab = Math.max(...emTicks(extent[2], extent[3]).map((v) => ctx.measureText(emFmt(v)).width));
  const left = Math.ceil(ylab + tick + 4 * k + pad), right = Math.ceil(pad + fs * 0.6), top = Math.ceil(pad);
  const bottom = Math.ceil(fs * 1.4 + tick + pad);
  const aspect = (extent[1] - extent[0]) / (extent[3] - extent[2]);
  let w = Math.max(16, W - left - right), h = w / aspect;
  const limitH = H !== null ? H : maxH;
  if (h + top + bottom > limitH) {
    h = Math.max(16, limitH - top - bottom);
    w = Math.min(w, h * aspect);
  }
  if (H === null) H = Math.ceil(h + top + bottom);
  const x0 = Math.round(left + (W - left - right - w) / 2), y0 = Math.round(top + (H - top - bottom - h) / 2);
  return { W, H, x0, y0, w: Math.round(w), h: Math.round(h), k, font };
}

// data -> css pixel maps for a layout and extent
function emMaps(L, e) {
  const sx = L.w / (e[1] - e[0]), sy = L.h / (e[3] - e[2]);
  return [(x) => L.x0 + (x - e[0]) * sx, (y) => L.y0 + L.h - (y - e[2]) * sy];
}

function emHeatmap(ctx, L, grid, G, m, r, scratch) {
  if (!scratch.heat || scratch.heat.width !== G) {
    scratch.heat = document.createElement("canvas");
    scratch.heat.width = scratch.heat.height = G;
    scratch.img = scratch.heat.getContext("2d").createImageData(G, G);
  }
  const px = scratch.img.data;
  for (let row = 0; row < G; row++) {
    for (let col = 0; col < G; col++) {
      const v = grid[row * G + col], o = 4 * ((G - 1 - row) * G + col);   // row 0 (ymin) at the bottom
      if (Number.isFinite(v)) {
        const c = 4 * Math.round(255 * Math.min(1, Math.max(0, 0.5 + 0.5 * (v - m) / r)));
        px[o] = EM_LUT[c]; px[o + 1] = EM_LUT[c + 1]; px[o + 2] = EM_LUT[c + 2];
      } else {
        px[o] = EM_C.nan[0]; px[o + 1] = EM_C.nan[1]; px[o + 2] = EM_C.nan[2];
      }
      px[o + 3] = 255;
    }
  }
  scratch.heat.getContext("2d").putImageData(scratch.img, 0, 0);
  const dx = L.w / (G - 1), dy = L.h / (G - 1);          // pixel centres land on the grid points
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "low";                       // bilinear
  ctx.drawImage(scratch.heat, L.x0 - dx / 2, L.y0 - dy / 2, L.w + dx, L.h + dy);
}

// where level c crosses the edge p -> q, as a fraction of the edge
const emCross = (p, q, c) => (p === q ? 0.5 : Math.min(1, Math.max(0, (c - p) / (q - p))));

// Marching squares at m + r k / 5; a saddle is resolved by the mean of its corners (as raster.py).
function emContours(ctx, L, grid, G, m, r) {
  const paths = [new Path2D(), new Path2D()], sx = L.w / (G - 1), sy = L.h / (G - 1);
  const X = (c) => L.x0 + c * sx, Y = (rw) => L.y0 + L.h - rw * sy;
  const pt = new Float64Array(8);
  for (let k = -EM_LEVELS; k <= EM_LEVELS; k++) {
    const lev = m + (r * k) / 5, path = paths[k === 0 ? 1 : 0];
    for (let row = 0; row < G - 1; row++) {
      for (let col = 0; col < G - 1; col++) {
        const v0 = grid[row * G + col], v1 = grid[row * G + col + 1];
        const v2 = grid[(row + 1) * G + col + 1], v3 = grid[(row + 1) * G + col];
        const cs = (v0 > lev) | ((v1 > lev) << 1) | ((v2 > lev) << 2) | ((v3 > lev) << 3);
        if (cs === 0 || cs === 15 || !(Number.isFinite(v0 + v1 + v2 + v3))) continue;
        pt[0] = col + emCross(v0, v1, lev); pt[1] = row;               // edge 0: corner 0 -> 1
        pt[2] = col + 1; pt[3] = row + emCross(v1, v2, lev);           // edge 1: 1 -> 2
        pt[4] = col + 1 - emCross(v2, v3, lev); pt[5] = row + 1;       // edge 2: 2 -> 3
        pt[6] = col; pt[7] = row + 1 - emCross(v3, v0, lev);           // edge 3: 3 -> 0
        let pairs;
        if (cs === 5 || cs === 10) {
          const cut02 = (cs === 5) !== ((v0 + v1 + v2 + v3) / 4 > lev);
          pairs = cut02 ? [3, 0, 1, 2] : [0, 1, 2, 3];
        } else {
          pairs = [];
          for (let e = 0; e < 4; e++) if (((cs >> e) & 1) !== ((cs >> ((e + 1) % 4)) & 1)) pairs.push(e);
        }
        for (let s = 0; s < pairs.length; s += 2) {
          path.moveTo(X(pt[2 * pairs[s]]), Y(pt[2 * pairs[s] + 1]));
          path.lineTo(X(pt[2 * pairs[s + 1]]), Y(pt[2 * pairs[s + 1] + 1]));
        }
      }
    }
  }
  ctx.lineCap = "round";
  ctx.lineWidth = L.k; ctx.strokeStyle = EM_C.contour; ctx.stroke(paths[0]);
  ctx.lineWidth = 1.3 * L.k; ctx.strokeStyle = EM_C.median; ctx.stroke(paths[1]);
}

function emManifold(ctx, L, e, pts, M) {
  const [X, Y] = emMaps(L, e), path = new Path2D();
  const line = (idx) => {
    let pen = false;
    for (const q of idx) {
      const x = pts[2 * q], y = pts[2 * q + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
      if (pen) path.lineTo(X(x), Y(y)); else path.moveTo(X(x), Y(y));
      pen = true;
    }
  };
  for (let a = 0; a < M; a++) {
    line(Array.from({ length: M }, (_, b) => a * M + b));
    line(Array.from({ length: M }, (_, b) => b * M + a));
  }
  ctx.lineWidth = L.k; ctx.strokeStyle = EM_C.manifold; ctx.lineJoin = "round"; ctx.stroke(path);
}

// A disc with a white rim, drawn once per colour, size and pixel ratio.
function emSprite(scratch, rgb, radius, rim, dpr) {
  const key = `${rgb}|${radius}|${rim}|${dpr}`;
  scratch.sprites = scratch.sprites || new Map();
  let s = scratch.sprites.get(key);
  if (!s) {
    const half = radius + rim + 1, c = document.createElement("canvas");
    c.width = c.height = Math.ceil(2 * half * dpr);
    const g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.fillStyle = "#fff"; g.beginPath(); g.arc(half, half, radius + rim, 0, 2 * Math.PI); g.fill();
    g.fillStyle = `rgb(${rgb})`; g.beginPath(); g.arc(half, half, radius, 0, 2 * Math.PI); g.fill();
    s = { canvas: c, half, size: c.width / dpr };
    scratch.sprites.set(key, s);
  }
  return s;
}

function emPoints(ctx, L, e, pts, rgb, scratch, dpr) {
  const [X, Y] = emMaps(L, e), s = emSprite(scratch, rgb, 2.6 * L.k, Math.max(0.8, 0.9 * L.k), dpr);
  for (let i = 0; i < pts.length; i += 2) {
    const x = pts[i], y = pts[i + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) ctx.drawImage(s.canvas, X(x) - s.half, Y(y) - s.half, s.size, s.size);
  }
}

function emArrows(ctx, L, e, fake, vec, Na) {
  const [X, Y] = emMaps(L, e), norms = [];
  for (let i = 0; i < Na; i++) {
    const n = Math.hypot(vec[2 * i], vec[2 * i + 1]);
    if (Number.isFinite(n) && n > 0) norms.push(n);
  }
  if (!norms.length) return;
  norms.sort((a, b) => a - b);
  const med = emQuantile(norms, 0.5), unit = EM_ARROW_FRAC * L.w, head = 5 * L.k;
  const c = Math.cos(0.45), s = Math.sin(0.45), path = new Path2D();
  for (let i = 0; i < Na; i++) {
    const vx = vec[2 * i], vy = -vec[2 * i + 1], n = Math.hypot(vx, vy);
    const x = X(fake[2 * i]), y = Y(fake[2 * i + 1]);
    if (!(n > 0) || !Number.isFinite(n) || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    const len = unit * Math.min(n / med, EM_ARROW_MAX);
    if (len < 2) continue;
    const ux = vx / n, uy = vy / n, tx = x + ux * len, ty = y + uy * len, hl = Math.min(head, 0.6 * len);
    path.moveTo(x, y); path.lineTo(tx, ty);
    path.moveTo(tx - hl * (c * ux - s * uy), ty - hl * (s * ux + c * uy));
    path.lineTo(tx, ty);
    path.lineTo(tx - hl * (c * ux + s * uy), ty - hl * (-s * ux + c * uy));
  }
  ctx.lineWidth = 1.3 * L.k; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.strokeStyle = EM_C.arrow; ctx.stroke(path);
}

function emTransport(ctx, L, e, fake, real, plan) {
  const [X, Y] = emMaps(L, e), path = new Path2D();
  for (let i = 0; i < plan.length; i++) {
    const x = fake[2 * i], y = fake[2 * i + 1], u = real[2 * plan[i]], v = real[2 * plan[i] + 1];
    if ([x, y, u, v].every(Number.isFinite)) { path.moveTo(X(x), Y(y)); path.lineTo(X(u), Y(v)); }
  }
  ctx.lineWidth = 0.8 * L.k; ctx.strokeStyle = EM_C.transport; ctx.stroke(path);
}

function emAxes(ctx, L, e) {
  const tick = 5 * L.k, lw = Math.max(1, L.k);
  ctx.strokeStyle = EM_C.frame; ctx.fillStyle = EM_C.text; ctx.lineWidth = lw; ctx.font = L.font;
  ctx.strokeRect(L.x0 - lw / 2, L.y0 - lw / 2, L.w + lw, L.h + lw);
  const [X, Y] = emMaps(L, e), path = new Path2D();
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of emTicks(e[0], e[1])) {
    const x = X(v);
    path.moveTo(x, L.y0 + L.h + lw / 2); path.lineTo(x, L.y0 + L.h + tick);
    ctx.fillText(emFmt(v), x, L.y0 + L.h + tick + 2 * L.k);
  }
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of emTicks(e[2], e[3])) {
    const y = Y(v);
    path.moveTo(L.x0 - lw / 2, y); path.lineTo(L.x0 - tick, y);
    ctx.fillText(emFmt(v), L.x0 - tick - 4 * L.k, y);
  }
  ctx.stroke(path);
}

// One picture: s = {extent, status, grid, G, fake, arrows, Na, manifold, M, real, plan} (tweened
// arrays), on = Set of visible layers. Clears and draws everything inside the layout L.
function emPaint(ctx, L, s, on, scratch, dpr) {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, L.W, L.H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(L.x0, L.y0, L.w, L.h);
  if (!s) { emAxes(ctx, L, [-1, 1, -1, 1]); return; }
  const e = s.extent;
  ctx.save();
  ctx.beginPath(); ctx.rect(L.x0, L.y0, L.w, L.h); ctx.clip();
  if (s.grid) {
    const [m, r] = emCentreScale(s.grid);
    if (on.has("critic")) emHeatmap(ctx, L, s.grid, s.G, m, r, scratch);
    if (on.has("contours")) emContours(ctx, L, s.grid, s.G, m, r);
  }
  if (on.has("manifold") && s.manifold) emManifold(ctx, L, e, s.manifold, s.M);
  if (on.has("transport") && s.plan && s.real) emTransport(ctx, L, e, s.fake, s.real, s.plan);
  if (on.has("real") && s.real) emPoints(ctx, L, e, s.real, EM_C.real, scratch, dpr);
  if (on.has("fake")) emPoints(ctx, L, e, s.fake, EM_C.fake, scratch, dpr);
  if (on.has("arrows") && s.arrows) emArrows(ctx, L, e, s.fake, s.arrows, s.Na);
  if (s.status === "diverged") { ctx.fillStyle = "rgba(255,255,255,0.5)"; ctx.fillRect(L.x0, L.y0, L.w, L.h); }
  ctx.restore();
  emAxes(ctx, L, e);
}

// ---------------------------------------------------------------- pictures (the Images page)
// A grid of n pictures (8 a row), each side x side pixels with a white margin of one pixel, 1-px grey
// gaps between tiles (as wgan_core.lessons.images.grid_image). Pixels are scaled by a whole number of
// device pixels, so every pixel of a digit stays a crisp square.
const EM_PIC_COLS = 8, EM_PIC_GAP = 190;

function emPictureLayout(W, maxH, n, side, dpr) {
  const cols = Math.min(EM_PIC_COLS, Math.max(1, n)), rows = Math.ceil(Math.max(1, n) / cols), cell = side + 2;
  const iw = cols * (cell + 1) + 1, ih = rows * (cell + 1) + 1;
  const s = Math.max(1, Math.floor(Math.min((W * dpr) / iw, (maxH * dpr) / ih)));
  const w = (iw * s) / dpr, h = (ih * s) / dpr;
  return { pictures: true, cols, rows, cell, iw, ih, w, h, x0: Math.max(0, Math.floor((W - w) / 2)), y0: 0, H: Math.ceil(h) };
}

// Frames a and b (the next one) blended by w: the ink moves smoothly between snapshots.
function emPaintPictures(ctx, L, a, b, w, scratch, dpr) {
  const { n, side } = a, size = side * side;
  if (!scratch.pic || scratch.pic.width !== L.iw || scratch.pic.height !== L.ih) {
    scratch.pic = document.createElement("canvas");
    scratch.pic.width = L.iw; scratch.pic.height = L.ih;
    scratch.picCtx = scratch.pic.getContext("2d");
    scratch.picImg = scratch.picCtx.createImageData(L.iw, L.ih);
  }
  const img = scratch.picImg, d = img.data, mix = b && b !== a && b.n === n && b.side === side && w > 0;
  for (let k = 0; k < d.length; k += 4) { d[k] = d[k + 1] = d[k + 2] = EM_PIC_GAP; d[k + 3] = 255; }
  for (let i = 0; i < n && i < L.cols * L.rows; i++) {
    const r = Math.floor(i / L.cols), c = i % L.cols;
    const x0 = 1 + c * (L.cell + 1), y0 = 1 + r * (L.cell + 1);
    for (let y = 0; y < L.cell; y++) {
      for (let x = 0; x < L.cell; x++) {
        let v = 0;
        if (y > 0 && x > 0 && y <= side && x <= side) {
          const q = i * size + (y - 1) * side + (x - 1);
          v = a.ink[q];
          if (mix) v += (b.ink[q] - v) * w;
        }
        const k = 4 * ((y0 + y) * L.iw + x0 + x), g = 255 - v;
        d[k] = d[k + 1] = d[k + 2] = g;
      }
    }
  }
  scratch.picCtx.putImageData(img, 0, 0);
  const c = ctx.canvas;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch.pic, Math.round(L.x0 * dpr), 0, Math.round(L.w * dpr), Math.round(L.h * dpr));
}
