// Timeline holds a job's seconds as columns, overall and per request name,
// ready for uPlot: one array per metric, aligned on the overall windows'
// start times. Windows from /windows and from the event stream go through add,
// which drops one already held, so a reload can replay without doubling.
import type { WindowLike } from "./api";
import { lat } from "./api";

export interface Cols {
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  rps: (number | null)[];
  errs: (number | null)[];
}

function cols(n = 0): Cols {
  const z = () => new Array<number | null>(n).fill(null);
  return { p50: z(), p95: z(), p99: z(), rps: z(), errs: z() };
}

export class Timeline {
  t: number[] = []; // unix seconds of each overall window's start
  keys: number[] = []; // its start in ms, the identity of a second
  all = cols();
  inFlight: (number | null)[] = [];
  dropped: (number | null)[] = [];
  offered: (number | null)[] = [];
  vus: (number | null)[] = [];
  phase: string[] = [];
  step: number[] = [];
  names = new Map<string, Cols>();
  private idx = new Map<number, number>();
  private seen = new Set<string>(); // name@key of per-name windows held
  onNewName: (name: string) => void = () => {};

  get length(): number {
    return this.t.length;
  }

  // add takes one element of /windows or one `window` event.
  add(w: WindowLike): void {
    const key = Date.parse(w.start ?? "");
    if (isNaN(key)) return;
    const name: string = w.name ?? "";
    const d = w.duration_s && w.duration_s > 0 ? w.duration_s : 1;
    if (name === "" || name === "all") {
      if (this.seen.has("\u0000@" + key)) return; // held already
      this.seen.add("\u0000@" + key);
      const i = this.slot(key);
      const r = typeof w.throughput_rps === "number" ? w.throughput_rps : (w.requests ?? 0) / d;
      this.all.p50[i] = lat(w, "p50") ?? null;
      this.all.p95[i] = lat(w, "p95") ?? null;
      this.all.p99[i] = lat(w, "p99") ?? null;
      this.all.rps[i] = r;
      this.all.errs[i] = (w.errors ?? 0) / d;
      this.inFlight[i] = w.in_flight ?? null;
      this.dropped[i] = (w.dropped ?? 0) / d;
      this.offered[i] = w.offered ?? null;
      this.vus[i] = w.vus ?? null;
      this.phase[i] = w.phase ?? "";
      this.step[i] = w.step ?? 0;
      for (const n of w.by_name ?? []) this.addName(n.name ?? "", key, d, n);
    } else {
      this.addName(name, key, d, w);
    }
  }

  private addName(name: string, key: number, d: number, w: WindowLike): void {
    const id = name + "@" + key;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const i = this.slot(key);
    let c = this.names.get(name);
    if (!c) {
      c = cols(this.t.length);
      this.names.set(name, c);
      this.onNewName(name);
    }
    c.p50[i] = lat(w, "p50") ?? null;
    c.p95[i] = lat(w, "p95") ?? null;
    c.p99[i] = lat(w, "p99") ?? null;
    c.rps[i] = typeof w.throughput_rps === "number" ? w.throughput_rps : (w.requests ?? 0) / d;
    c.errs[i] = (w.errors ?? 0) / d;
  }

  // slot returns the index of the second starting at key, making room for it.
  private slot(key: number): number {
    const have = this.idx.get(key);
    if (have !== undefined) return have;
    let i = this.keys.length;
    if (i > 0 && key < this.keys[i - 1]) {
      // Out of order (rare): find the place and shift every column.
      i = this.keys.findIndex((k) => k > key);
      this.keys.splice(i, 0, key);
      this.t.splice(i, 0, key / 1000);
      for (const c of [this.all, ...this.names.values()]) for (const a of Object.values(c)) a.splice(i, 0, null);
      for (const a of [this.inFlight, this.dropped, this.offered, this.vus]) a.splice(i, 0, null);
      this.phase.splice(i, 0, undefined as unknown as string);
      this.step.splice(i, 0, 0);
      this.idx.clear();
      this.keys.forEach((k, j) => this.idx.set(k, j));
      return i;
    }
    this.keys.push(key);
    this.t.push(key / 1000);
    for (const c of [this.all, ...this.names.values()]) for (const a of Object.values(c)) a.push(null);
    for (const a of [this.inFlight, this.dropped, this.offered, this.vus]) a.push(null);
    this.phase.push(undefined as unknown as string);
    this.step.push(0);
    this.idx.set(key, i);
    return i;
  }

  // stepBands are the spans of each study step, for shading.
  stepBands(): { from: number; to: number; step: number; phase: string }[] {
    const out: { from: number; to: number; step: number; phase: string }[] = [];
    for (let i = 0; i < this.t.length; i++) {
      const s = this.step[i];
      if (!s) continue;
      const last = out[out.length - 1];
      if (last && last.step === s) last.to = this.t[i] + 1;
      else out.push({ from: this.t[i], to: this.t[i] + 1, step: s, phase: this.phase[i] });
    }
    return out;
  }
}
