// The client of headroom serve's JSON API (/api/v1) and its event stream.

import type { components, paths } from "./api-types";

// The API's documents, typed from its OpenAPI document (server/openapi.yaml,
// generated into api-types.ts by `npm run types`).
export type Schemas = components["schemas"];
export type Job = Schemas["Job"];
export type JobSummary = NonNullable<Schemas["JobSummary"]>;
export type Step = Schemas["Step"];
export type Window = Schemas["Window"];
export type Reading = Schemas["Reading"];
export type Sample = Schemas["Sample"];
export type StepLevel = Schemas["StepLevel"];
export type Finding = Schemas["Finding"];
export type Correlation = Schemas["Correlation"];
export type Result = Schemas["Result"];
export type Second = Schemas["Second"];
export type NameSummary = Schemas["NameSummary"];
export type Comparison = Schemas["Comparison"];
export type Delta = Schemas["Delta"];
export type Scalability = Schemas["Scalability"];
export type PlanVersion = Schemas["PlanVersion"];
export type Schedule = Schemas["Schedule"];
export type Review = Schemas["Review"];
export type Soak = Schemas["Soak"];
export type SoakSignal = Schemas["SoakSignal"];
export type Spike = Schemas["Spike"];
export type Assessment = Schemas["Assessment"];
export type Profile = Schemas["Profile"];
export type ProfileFunction = Schemas["ProfileFunction"];
export type FlameTree = Schemas["FlameNode"];

// Get is the JSON answer of GET path, as the document describes it.
export type Get<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { "application/json": infer R } } } } } ? R : never;

// WindowLike is a second as /windows, the event stream's window events and
// a result's windows carry it: every field the timeline reads, each optional.
export type WindowLike = Partial<Omit<Window, "by_name">> & { by_name?: WindowLike[] | null };

// Body is the JSON of one of the document's shared responses.
export type Body<R extends keyof components["responses"]> = components["responses"][R] extends { content: { "application/json": infer B } } ? B : never;

// StreamEvent is one event's JSON as the stream sends it (the document does
// not describe text/event-stream payloads); the job page's stream handler
// narrows it per event type to Window, Step and Job fields.
export type StreamEvent = Record<string, unknown>;


const TOKEN_KEY = "headroom.token";

export type Role = components["schemas"]["Role"];

export type Me = Schemas["Me"];

export class APIError extends Error {
  constructor(
    public status: number,
    message: string,
    public problems: Problem[] = [],
  ) {
    super(message);
  }
}

export interface Problem {
  line?: number;
  field?: string;
  message: string;
}

export const session = {
  me: null as Me | null,
  get token(): string {
    try {
      return localStorage.getItem(TOKEN_KEY) ?? "";
    } catch {
      return "";
    }
  },
  set token(t: string) {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
  },
  canOperate(): boolean {
    return this.me?.role === "operator" || this.me?.role === "admin";
  },
  isAdmin(): boolean {
    return this.me?.role === "admin";
  },
};

// onUnauthorized is set by main: a 401 sends the user to sign in again.
export let onUnauthorized: () => void = () => {};
export function setOnUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; yaml?: string; signal?: AbortSignal; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = init.token ?? session.token;
  if (token) headers.Authorization = "Bearer " + token;
  let body: BodyInit | undefined;
  if (init.yaml !== undefined) {
    headers["Content-Type"] = "application/yaml";
    body = init.yaml;
  } else if (init.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await fetch("/api/v1" + path, {
    method: init.method ?? (body ? "POST" : "GET"),
    headers,
    body,
    signal: init.signal,
  });
  const text = await res.text();
  let doc: unknown = {};
  if (text) {
    try {
      doc = JSON.parse(text);
    } catch {
      doc = { error: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && init.token === undefined) onUnauthorized();
    const e = (doc ?? {}) as Partial<Schemas["Error"]>;
    throw new APIError(res.status, e.error ?? res.statusText, e.problems ?? []);
  }
  return doc as T;
}

// The statuses of a job that will not change again.
export const FINISHED = new Set(["passed", "failed", "aborted", "cancelled", "interrupted"]);

export function jobDuration(j: Pick<Job, "started" | "finished" | "status">): number | undefined {
  const start = j.started ? Date.parse(j.started) : NaN;
  if (isNaN(start)) return undefined;
  const end = j.finished ? Date.parse(j.finished) : FINISHED.has(j.status) ? NaN : Date.now();
  if (isNaN(end)) return undefined;
  return (end - start) / 1000;
}

// Latency of any of the project's documents: latency_ms{p50…} (the JSON
// convention) or the older latency{p50_ms…}.
export function lat(o: object | null | undefined, p: "p50" | "p90" | "p95" | "p99" | "max" | "mean"): number | undefined {
  if (!o) return undefined;
  const a = (o as { latency_ms?: Record<string, unknown> }).latency_ms;
  if (a && typeof a === "object" && typeof a[p] === "number") return a[p] as number;
  const b = (o as { latency?: Record<string, unknown> }).latency;
  if (b && typeof b === "object") {
    if (typeof b[p + "_ms"] === "number") return b[p + "_ms"] as number;
    if (typeof b[p] === "number") return b[p] as number;
  }
  return undefined;
}

export function reportURL(id: number | string, format: string): string {
  return `/api/v1/jobs/${id}/report?format=${format}`;
}

// Streams a job's events. An EventSource sends no headers, so each
// connection opens with a one-minute ticket (POST …/events/ticket), never
// the token itself in the URL. EventSource resends Last-Event-ID when it
// reconnects; once it gives up (its ticket expired), a new ticket reopens
// the stream after the last event seen. The first connection starts after
// `after` (0 = from the first event).
export function events(
  id: number | string,
  after: number,
  on: (type: string, data: StreamEvent, eventID: number) => void,
  onError: (closed: boolean) => void,
): () => void {
  let es: EventSource | null = null;
  let stopped = false;
  let last = after;
  let failures = 0;
  const types = ["window", "step", "phase", "finding", "status", "end", "event"];
  const open = async (): Promise<void> => {
    let ticket = "";
    try {
      const t = await api<{ ticket: string }>(`/jobs/${id}/events/ticket`, { method: "POST" });
      ticket = t.ticket;
    } catch {
      if (!stopped) onError(true);
      return;
    }
    if (stopped) return;
    const src = new EventSource(`/api/v1/jobs/${id}/events?after=${last}&ticket=${encodeURIComponent(ticket)}`);
    es = src;
    for (const t of types) {
      src.addEventListener(t, (e) => {
        const me = e as MessageEvent;
        let data: StreamEvent = {};
        try {
          data = JSON.parse(me.data);
        } catch {
          data = { raw: me.data };
        }
        failures = 0;
        const n = Number(me.lastEventId) || 0;
        if (n > last) last = n;
        on(t, data, n);
        if (t === "end") {
          stopped = true;
          src.close();
        }
      });
    }
    src.onerror = () => {
      const closed = src.readyState === EventSource.CLOSED;
      if (closed && !stopped && failures < 3) {
        failures++;
        onError(false);
        void open();
        return;
      }
      onError(closed);
    };
  };
  void open();
  return () => {
    stopped = true;
    es?.close();
  };
}
