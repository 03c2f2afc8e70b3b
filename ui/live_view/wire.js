// ---------------------------------------------------------------- wire.js
// Decodes the payloads of wgan_core/engine/wire.py (byte layout in its docstring).
// Typed arrays are little-endian on every browser we target; the payload is copied to a
// fresh ArrayBuffer first (Streamlit hands a Uint8Array that is a view into the whole
// protobuf message, at an arbitrary byteOffset), so the format's 4/8-byte alignment holds.

const EM_U16_NAN = 65535, EM_U16_MAX = 65534, EM_U8_NAN = 255, EM_U8_MAX = 254, EM_I16_NAN = -32768;
const EM_STATUS = ["ok", "diverged"];
const EM_PAD_FRAC = 0.5;
const emPad = (n, k) => (k - (n % k)) % k;

function emDequantPoints(codes, box) {
  // box: xlo, xhi, ylo, yhi; codes: Uint16Array (x, y, x, y, ...) -> Float32Array, NaN where flagged
  const out = new Float32Array(codes.length);
  const sx = (box[1] - box[0]) / EM_U16_MAX, sy = (box[3] - box[2]) / EM_U16_MAX;
  for (let i = 0; i < codes.length; i += 2) {
    out[i] = codes[i] === EM_U16_NAN ? NaN : box[0] + codes[i] * sx;
    out[i + 1] = codes[i + 1] === EM_U16_NAN ? NaN : box[2] + codes[i + 1] * sy;
  }
  return out;
}

function emPaddedBox(e) {
  const dx = (e[1] - e[0]) * EM_PAD_FRAC, dy = (e[3] - e[2]) * EM_PAD_FRAC;
  return [e[0] - dx, e[1] + dx, e[2] - dy, e[3] + dy];
}

// A pictures frame (EMD1): n pictures of side x side ink bytes (0 paper .. 255 ink), kept as a view.
function emDecodePictures(buf, off, dv) {
  const n = dv.getUint16(28, true), side = dv.getUint16(30, true);
  return {
    kind: "pictures", t: dv.getFloat64(8, true), serial: dv.getUint32(16, true), run: dv.getUint32(20, true),
    gen: dv.getUint32(24, true), n, side, N: n * side * side, status: EM_STATUS[dv.getUint8(32)] || "ok",
    extent: [0, 1, 0, 1], ink: new Uint8Array(buf, off + 40, n * side * side),
    G: 0, Na: 0, M: 0, P: 0, fake: null, grid: null, arrows: null, manifold: null, plan: null,
  };
}

function emDecodeFrame(buf, off) {
  const dv = new DataView(buf, off);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic === "EMD1") return emDecodePictures(buf, off, dv);
  if (magic !== "EMF1") throw new Error("live view: not a frame at offset " + off);
  const extent = [0, 1, 2, 3].map((k) => dv.getFloat64(16 + 8 * k, true));
  const f = {
    kind: "points", t: dv.getFloat64(8, true), extent, serial: dv.getUint32(48, true), run: dv.getUint32(52, true),
    gen: dv.getUint32(56, true), N: dv.getUint16(60, true), G: dv.getUint16(62, true),
    Na: dv.getUint16(64, true), M: dv.getUint16(66, true), P: dv.getUint16(68, true),
    status: EM_STATUS[dv.getUint8(70)] || "ok", grid: null, arrows: null, manifold: null, plan: null,
  };
  const lo = dv.getFloat32(72, true), hi = dv.getFloat32(76, true), scale = dv.getFloat32(80, true);
  const box = emPaddedBox(extent);
  let p = off + 88;
  f.fake = emDequantPoints(new Uint16Array(buf, p, 2 * f.N), box);
  p += 4 * f.N;
  if (f.G) {
    const n = f.G * f.G, codes = new Uint8Array(buf, p, n), g = new Float32Array(n), s = (hi - lo) / EM_U8_MAX;
    for (let i = 0; i < n; i++) g[i] = codes[i] === EM_U8_NAN ? NaN : lo + codes[i] * s;
    f.grid = g;
    p += n + emPad(n, 4);
  }
  if (f.Na) {
    const codes = new Int16Array(buf, p, 2 * f.Na), a = new Float32Array(2 * f.Na);
    for (let i = 0; i < a.length; i++) a[i] = codes[i] === EM_I16_NAN ? NaN : codes[i] * scale;
    f.arrows = a;
    p += 4 * f.Na;
  }
  if (f.M) {
    f.manifold = emDequantPoints(new Uint16Array(buf, p, 2 * f.M * f.M), box);
    p += 4 * f.M * f.M;
  }
  if (f.P) f.plan = new Uint16Array(buf, p, f.P).slice();
  return f;
}

// bytes: Uint8Array | ArrayBuffer | DataView -> {header, real (Float32Array | null), R, frames}
function emDecodePayload(bytes) {
  const src = bytes instanceof ArrayBuffer ? new Uint8Array(bytes)
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u8 = new Uint8Array(src.length);
  u8.set(src);                                             // aligned copy at offset 0
  const buf = u8.buffer, dv = new DataView(buf);
  if (u8.length < 48 || String.fromCharCode(...u8.subarray(0, 4)) !== "EMP1") {
    throw new Error("live view: not an Earthmover payload");
  }
  const H = dv.getUint32(4, true), k = dv.getUint32(8, true), R = dv.getUint32(12, true);
  const bbox = [0, 1, 2, 3].map((i) => dv.getFloat64(16 + 8 * i, true));
  let off = 48;
  const header = H ? JSON.parse(new TextDecoder().decode(u8.subarray(off, off + H))) : {};
  off += H + emPad(H, 8);
  let real = null;
  if (R) {
    real = emDequantPoints(new Uint16Array(buf, off, 2 * R), bbox);
    off += 4 * R + emPad(4 * R, 8);
  }
  const frames = [];
  for (let i = 0; i < k; i++) {
    const len = dv.getUint32(off + 4, true);
    frames.push(emDecodeFrame(buf, off));
    off += len + emPad(len, 8);
  }
  return { header, real, R, frames };
}
