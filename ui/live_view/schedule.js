// ---------------------------------------------------------------- schedule.js
// Playback of snapshots at their own spacing, a fixed delay behind the training clock.
//
//   offset    = min over recent arrivals of (local arrival time - t)   (aligns the clocks)
//   playTime  = local now - offset - delay                              (never runs backwards)
//   shown     = schedule(times, playTime, cuts): the frames i <= j that bracket playTime, and
//               the weight w of j; the picture is (1 - w) * frame i + w * frame j.
//
// delay = header.delay, or max(0.25 s, 1.5 x header.interval): one payload can be late by
// half an interval and still be on time. When frames run out the last one is held (no
// extrapolation); the first frame after a long gap (paused training) cuts in, untweened.
// When the newest frame is more than 3 x delay ahead of playTime (a clock that jumped),
// play time jumps forward to newest - delay.

const EM_MIN_DELAY = 0.25, EM_DELAY_PER_INTERVAL = 1.5, EM_BEHIND = 3, EM_OFFSET_WINDOW = 20;
const EM_MAX_QUEUE = 240, EM_MAX_TWEEN_GAP = 4;   // no tween across a gap > 4 x delay (a pause)

// times: ascending frame times (s); playTime (s); cuts (optional): cuts[j] truthy when frame j
// may not be tweened from frame j - 1 (a new run or a status change).
// -> {i, j, w}: i the latest frame whose time has been reached (0 before the first), j = i + 1
// while tweening toward it, else j = i and w = 0. null when there are no frames.
function schedule(times, playTime, cuts) {
  const n = times.length;
  if (!n) return null;
  if (!(playTime >= times[0])) return { i: 0, j: 0, w: 0 };
  if (playTime >= times[n - 1]) return { i: n - 1, j: n - 1, w: 0 };
  let lo = 0, hi = n - 1;                                  // times[lo] <= playTime < times[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= playTime) lo = mid; else hi = mid;
  }
  if (times[lo] === playTime || (cuts && cuts[hi])) return { i: lo, j: lo, w: 0 };
  const span = times[hi] - times[lo];
  return { i: lo, j: hi, w: span > 0 ? (playTime - times[lo]) / span : 0 };
}

function emDelayFor(header) {
  if (header && Number.isFinite(header.delay) && header.delay >= 0) return header.delay;
  const interval = header && Number.isFinite(header.interval) ? header.interval : 0.3;
  return Math.max(EM_MIN_DELAY, EM_DELAY_PER_INTERVAL * interval);
}

function emIsCut(a, b) {
  return a.run !== b.run || a.status !== b.status || a.N !== b.N
    || a.extent.some((v, k) => v !== b.extent[k]);
}

// The frame queue and the clock. Pure apart from the `now` arguments (seconds, local clock).
class EmQueue {
  constructor() {
    this.frames = []; this.times = []; this.cuts = [];
    this.latencies = [];                                   // recent (arrival - t), for the offset
    this.offset = null; this.delay = null; this.lastPlay = -Infinity;
  }

  // Adds decoded frames that arrived at local time `now`; returns how many were new.
  push(frames, now, delay) {
    if (this.delay === null) this.delay = delay;
    let added = 0;
    for (const f of frames) {
      const last = this.frames[this.frames.length - 1];
      if (last && f.run !== last.run && f.t < last.t) this.reset();      // a new run on another clock
      if (this.frames.some((g) => g.run === f.run && g.serial === f.serial)) continue;
      let k = this.frames.length;
      while (k > 0 && this.frames[k - 1].t > f.t) k--;
      this.frames.splice(k, 0, f);
      this.latencies.push(now - f.t);
      added++;
    }
    if (this.frames.length > EM_MAX_QUEUE) this.frames.splice(0, this.frames.length - EM_MAX_QUEUE);   // a hidden tab
    if (this.latencies.length > EM_OFFSET_WINDOW) this.latencies.splice(0, this.latencies.length - EM_OFFSET_WINDOW);
    if (this.latencies.length) this.offset = Math.min(...this.latencies);
    this._index();
    return added;
  }

  reset() {
    this.frames = []; this.times = []; this.cuts = []; this.latencies = []; this.offset = null;
    this.lastPlay = -Infinity;
  }

  _index() {
    const gap = Math.max(1, EM_MAX_TWEEN_GAP * (this.delay || 0));
    this.times = this.frames.map((f) => f.t);
    this.cuts = this.frames.map((f, k) => k > 0 && (emIsCut(this.frames[k - 1], f) || f.t - this.frames[k - 1].t > gap));
  }

  // Play time at local time `now`: behind the training clock by `delay`, never backwards,
  // jumping forward when more than EM_BEHIND x delay behind the newest frame.
  playTime(now) {
    if (this.offset === null || !this.frames.length) return null;
    let p = Math.max(now - this.offset - this.delay, this.lastPlay);
    const newest = this.times[this.times.length - 1];
    if (newest - p > EM_BEHIND * this.delay) p = newest - this.delay;
    this.lastPlay = p;
    return p;
  }

  // {i, j, w, a, b, done}: the bracket at play time p; `done` when the newest frame is on
  // screen (nothing will change until new frames arrive). Drops frames no longer needed.
  at(p) {
    let s = schedule(this.times, p, this.cuts);
    if (!s) return null;
    const drop = Math.max(0, s.i - 1, this.frames.length - EM_MAX_QUEUE);
    if (drop > 0) {
      this.frames.splice(0, drop);
      this._index();
      s = { i: s.i - drop, j: s.j - drop, w: s.w };
    }
    const done = s.i === this.frames.length - 1 && p >= this.times[s.i];
    return { ...s, a: this.frames[s.i], b: this.frames[s.j], done };
  }
}

// Linear blend of two typed arrays into `out` (reused); where either end is not finite, a's value.
function emLerp(a, b, w, out) {
  if (!a) return null;
  if (!b || b === a || w <= 0 || b.length !== a.length) return a;
  if (!out || out.length !== a.length) out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) {
    const x = a[k], y = b[k];
    out[k] = Number.isFinite(x) && Number.isFinite(y) ? x + (y - x) * w : x;
  }
  return out;
}
