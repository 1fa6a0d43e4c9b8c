// The job page's Profiles section: the pprof profiles Headroom took during
// the study's steps, by kind (CPU first), each with its step (rate and
// verdict from the ladder), its top functions against the baseline, a
// download of the raw profile for `go tool pprof`, and a flame graph drawn
// on opening it. The largest CPU profile of a degraded step opens.
import { api, APIError, FlameTree, Get, Profile, ProfileFunction, session } from "../../api";
import { clear, h, when } from "../../dom";
import { flame, Flame } from "../../flame";
import type { JobState } from "./state";

const KINDS: Record<string, string> = { cpu: "CPU", alloc: "Allocations", heap: "Heap", mutex: "Mutex waits", block: "Blocking" };
const ORDER = ["cpu", "alloc", "heap", "mutex", "block"];

// unitOf formats a value in the profile's sample unit: nanoseconds (CPU,
// mutex and block delay), bytes (alloc, heap) or a count.
export function unitOf(p: Pick<Profile, "kind" | "unit">): (v: number) => string {
  const u = p.unit ?? (p.kind === "alloc" || p.kind === "heap" ? "bytes" : "nanoseconds");
  if (u === "bytes") return bytes;
  if (u !== "nanoseconds") return (v: number) => `${v.toFixed(0)} ${u}`;
  return (ns: number) => {
    const s = ns / 1e9;
    if (s >= 1) return s.toFixed(2) + " s";
    if (s >= 1e-3) return (s * 1e3).toFixed(1) + " ms";
    return (s * 1e6).toFixed(0) + " µs";
  };
}

function bytes(b: number): string {
  if (b >= 1 << 30) return (b / (1 << 30)).toFixed(2) + " GiB";
  if (b >= 1 << 20) return (b / (1 << 20)).toFixed(1) + " MiB";
  if (b >= 1 << 10) return (b / (1 << 10)).toFixed(1) + " KiB";
  return b.toFixed(0) + " B";
}

const share = (v: number) => (typeof v === "number" && isFinite(v) ? (100 * v).toFixed(1) + "%" : "—");
const num = (v: number | null | undefined, digits: number, sign = false) =>
  typeof v === "number" && isFinite(v) ? (sign && v > 0 ? "+" : "") + v.toFixed(digits) : "—";

// title names a profile as a person reads it: "CPU · degraded step 5 (search) · shop".
export function title(p: Profile): string {
  const step = p.phase === "baseline" ? "baseline" : `${p.phase} step ${p.step}`;
  return [KINDS[p.kind] ?? p.kind, step, p.component].filter(Boolean).join(" · ");
}

// renderProfiles fills box with the job's profiles. A job without any says
// how to get them when it is a study, and shows nothing otherwise.
export async function renderProfiles(box: HTMLElement, st: JobState): Promise<() => void> {
  const { id, isStudy } = st;
  let list: Profile[] = [];
  try {
    list = (await api<Get<"/jobs/{id}/profiles">>(`/jobs/${id}/profiles`)).profiles ?? [];
  } catch (e) {
    if (!(e instanceof APIError && e.status === 404)) {
      clear(box, h("h2#profiles-h", "Profiles"), h("p.error", { role: "alert" }, "Could not load the profiles: " + (e as Error).message));
      return () => {};
    }
  }
  if (!list.length) {
    if (isStudy)
      clear(box, h("h2#profiles-h", "Profiles"), h("p.muted", "No profiles: name the service's pprof endpoint in the plan (observe.pprof) and the study profiles its baseline and degraded steps."));
    else clear(box);
    box.dataset.profiles = "0";
    return () => {};
  }
  // CPU first, then the other kinds; within a kind in the order fetched.
  const kinds = [...new Set(list.map((p) => p.kind))].sort((a, b) => rank(a) - rank(b));
  const open = degradedFirst(list, (p) => st.steps.get(`${p.phase}:${p.step}`)?.verdict);
  const flames: Flame[] = [];
  clear(
    box,
    h("h2#profiles-h", "Profiles"),
    h(
      "p.muted",
      "Taken from the service's pprof endpoint over each step's measured part. Own is a function's share of the profile with the standard library it called charged to it (what the findings rank by); flat and cum are pprof's; points are the change of the own share against the baseline step. A downloaded profile opens with ",
      h("code", "go tool pprof -http=: FILE"),
      ".",
    ),
    kinds.map((k) => {
      const of = list.filter((p) => p.kind === k);
      return h(
        "section.profile-kind",
        { "data-kind": k },
        h("h3", `${KINDS[k] ?? k} · ${of.length} profile${of.length === 1 ? "" : "s"}`),
        of.map((p) => profileCard(st, p, p === open, flames)),
      );
    }),
  );
  box.dataset.profiles = String(list.length);
  return () => flames.forEach((f) => f.destroy());
}

const rank = (k: string) => (ORDER.indexOf(k) < 0 ? ORDER.length : ORDER.indexOf(k));

// degradedFirst is the profile a finding is about: of the first kind (CPU
// first), the largest profile (the most samples: the steadiest shares; an
// overloaded step may answer few requests and sample little) of a step the
// study judged not acceptable, as the findings merge the degraded steps'
// profiles against the baseline's. Without verdicts, the largest after the
// baseline; else the first.
export function degradedFirst(list: Profile[], verdict: (p: Profile) => string | undefined): Profile | undefined {
  if (!list.length) return undefined;
  const kind = [...list].sort((a, b) => rank(a.kind) - rank(b.kind))[0].kind;
  const of = list.filter((p) => p.kind === kind && p.phase !== "baseline");
  const busiest = (ps: Profile[]) => ps.reduce<Profile | undefined>((best, p) => (!best || (p.bytes ?? 0) > (best.bytes ?? 0) ? p : best), undefined);
  const bad = of.filter((p) => {
    const v = verdict(p);
    return v !== undefined && v !== "" && v !== "acceptable";
  });
  return busiest(bad) ?? busiest(of) ?? list[0];
}

function profileCard(st: JobState, p: Profile, open: boolean, flames: Flame[]): HTMLElement {
  const id = st.id;
  const name = title(p);
  const s = st.steps.get(`${p.phase}:${p.step}`);
  const about = [
    s?.rate ? `${s.rate.toFixed(0)}/s offered` : "",
    s?.verdict ?? "",
    p.seconds ? p.seconds.toFixed(0) + " s" : "",
    p.requests ? `${p.requests} requests` : "",
    p.bytes ? bytes(p.bytes) : "",
    p.fetched_at ? when(p.fetched_at) : "",
  ].filter(Boolean);
  const graph = h("div.flame-box", h("p.muted", "Open the profile to draw its flame graph."));
  const card = h(
    "details.card.profile",
    { open, "data-profile": p.id, "data-kind": p.kind, "data-phase": p.phase, "data-step": String(p.step), "data-verdict": s?.verdict ?? "", "data-bytes": String(p.bytes) },
    h("summary", h("span.ptitle", name), about.length ? h("span.muted.small", " · " + about.join(" · ")) : ""),
    p.top?.[0]?.sentence ? h("p.psentence", p.top[0].sentence) : "",
    p.problem ? h("p.error", p.problem) : "",
    h("div.actions", downloadLink(id, p)),
    topTable(p, name),
    graph,
  );
  let loaded = false;
  const load = async () => {
    if (loaded || !card.open) return;
    loaded = true;
    clear(graph, h("p.muted", "Drawing the flame graph…"));
    try {
      const tree = await api<FlameTree>(`/jobs/${id}/profiles/${encodeURIComponent(p.id)}/flame`);
      clear(graph);
      const f = flame(tree, { title: `Flame graph of ${name}`, unit: unitOf(p) });
      flames.push(f);
      graph.append(h("h3", "Flame graph"), f.el);
    } catch (e) {
      loaded = false;
      clear(graph, h("p.error", { role: "alert" }, "Could not load the flame graph: " + (e as Error).message));
    }
  };
  card.addEventListener("toggle", () => void load());
  if (open) queueMicrotask(() => void load());
  return card;
}

function topTable(p: Profile, name: string): HTMLElement {
  const top = p.top ?? [];
  if (!top.length) return h("p.muted", p.problem ? "No functions: the profile could not be read." : "The profile holds no samples.");
  const own = top.some((t) => typeof t.own === "number");
  // Per request: milliseconds for time, else the profile's unit (bytes).
  const ms = top.some((t) => typeof t.per_request_ms === "number");
  const perReq = ms || top.some((t) => typeof t.per_request === "number");
  const unit = unitOf(p);
  const perCell = (t: ProfileFunction) => (ms ? num(t.per_request_ms, 2) : typeof t.per_request === "number" ? unit(t.per_request) : "—");
  const delta = top.some((t) => typeof t.delta_points === "number");
  const cols = ["Function", ...(own ? ["Own"] : []), "Flat", "Cum", ...(perReq ? [ms ? "ms per request" : "Per request"] : []), ...(delta ? ["Points vs baseline"] : [])];
  return h(
    "table.list.profile-top",
    h("caption.sr", `Top functions of ${name}`),
    h("thead", h("tr", cols.map((c, i) => h(i ? "th.num" : "th", { scope: "col" }, c)))),
    h(
      "tbody",
      top.map((t) =>
        h(
          "tr",
          { "data-function": t.function },
          h("th.mono", { scope: "row" }, t.function),
          own ? h("td.num", share(t.own ?? NaN)) : null,
          h("td.num", share(t.flat)),
          h("td.num", share(t.cum)),
          perReq ? h("td.num", perCell(t)) : null,
          delta ? h("td.num", { "data-delta": t.delta_points ?? "" }, num(t.delta_points, 1, true)) : null,
        ),
      ),
    ),
  );
}

// downloadLink fetches the raw profile with the token (a plain link cannot
// send it) and saves it under the server's file name.
function downloadLink(id: string, p: Profile): HTMLAnchorElement {
  const fallback = `job-${id}-${p.kind}-${p.phase}-${p.step}.pb.gz`;
  return h(
    "a.button",
    {
      href: p.download,
      "data-download": p.id,
      onclick: async (e: Event) => {
        e.preventDefault();
        const a = e.currentTarget as HTMLAnchorElement;
        try {
          const res = await fetch(p.download, { headers: { Authorization: "Bearer " + session.token } });
          if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
          const file = /filename="?([^";]+)"?/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? fallback;
          const url = URL.createObjectURL(await res.blob());
          const save = h("a", { href: url, download: file, hidden: true });
          document.body.append(save);
          save.click();
          save.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        } catch (err) {
          a.textContent = `Download failed: ${(err as Error).message}`;
        }
      },
    },
    "Download profile (.pb.gz)",
  );
}
