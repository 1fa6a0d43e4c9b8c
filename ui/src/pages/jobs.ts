import { api, FINISHED, Get, Job, jobDuration } from "../api";
import { clear, debounce, dur, fmt, h, when } from "../dom";
import type { Page } from "../router";

export function statusBadge(status: string): HTMLElement {
  return h("span.badge", { "data-status": status || "unknown" }, status || "—");
}

export function verdictBadge(verdict: string | undefined): HTMLElement | string {
  if (!verdict) return "—";
  return h("span.badge", { "data-verdict": verdict }, verdict.replace(/_/g, " "));
}

// readiness is the report's verdict of a finished job (kept in its summary
// when it finished): a badge, with the sentence that says why as its title.
export function readiness(j: Pick<Job, "summary">): HTMLElement | string {
  const s = j.summary ?? {};
  if (typeof s.ready !== "boolean") return "—";
  return h("span.badge", { "data-verdict": s.ready ? "ready" : "not_ready", title: s.readiness ?? "" }, s.ready ? "Ready" : "Not ready");
}

// answer is a job's answer at a glance: readiness, a study's single-instance
// capacity, the top finding.
export function answer(j: Pick<Job, "summary">): HTMLElement {
  const s = j.summary ?? {};
  return h(
    "div.answer",
    readiness(j),
    typeof s.capacity_rps === "number" ? h("span.cap", ` ${fmt(s.capacity_rps)} req/s per instance`) : null,
    s.top_finding ? h("div.small.muted.top", s.top_finding) : null,
  );
}

const STATUSES = ["", "queued", "running", "passed", "failed", "aborted", "cancelled", "interrupted"];

export const jobsPage: Page = (root, _p, q) => {
  const search = h("input#q", { type: "search", value: q.get("q") ?? "", placeholder: "plan, target, id…" });
  const status = h(
    "select#status",
    STATUSES.map((s) => h("option", { value: s, selected: q.get("status") === s }, s || "any")),
  );
  const kind = h(
    "select#kind",
    ["", "run", "study"].map((s) => h("option", { value: s, selected: q.get("kind") === s }, s || "any")),
  );
  const body = h("tbody");
  const total = h("p.muted", { "aria-live": "polite" });
  let timer = 0;
  let stop = false;

  const load = async () => {
    const params = new URLSearchParams();
    if (search.value) params.set("q", search.value);
    if (status.value) params.set("status", status.value);
    if (kind.value) params.set("kind", kind.value);
    if (location.pathname === "/jobs" || location.pathname === "/") history.replaceState(null, "", "/jobs" + (params.toString() ? "?" + params : ""));
    params.set("limit", "200");
    let doc: Get<"/jobs">;
    try {
      doc = await api<Get<"/jobs">>("/jobs?" + params);
    } catch (e) {
      clear(body, h("tr", h("td", { colspan: 9 }, "Could not load jobs: " + (e as Error).message)));
      return;
    }
    if (stop) return;
    const jobs: Job[] = doc.jobs ?? [];
    total.textContent = `${doc.total ?? jobs.length} jobs`;
    clear(
      body,
      jobs.length
        ? jobs.map((j) =>
            h(
              "tr",
              h("td", h("a", { href: `/jobs/${j.id}` }, "#" + j.id)),
              h("td", j.kind),
              h("td", statusBadge(j.status), j.phase && !FINISHED.has(j.status) ? h("span.muted", " " + j.phase) : null),
              h("td", answer(j)),
              h("td", verdictBadge(j.verdict)),
              h("td", j.plan_id ? h("a", { href: `/plans/${j.plan_id}` }, `${j.plan_name ?? "plan " + j.plan_id} v${j.plan_version ?? "?"}`) : "—"),
              h("td.mono", j.target || "—"),
              h("td.num", dur(jobDuration(j))),
              h("td", when(j.created)),
            ),
          )
        : h("tr", h("td", { colspan: 9 }, "No jobs yet. Start one from a plan.")),
    );
    // Running jobs change: refresh the list while any are not finished.
    clearTimeout(timer);
    if (jobs.some((j) => !FINISHED.has(j.status))) timer = window.setTimeout(load, 2000);
  };
  const reload = debounce(load, 200);
  search.addEventListener("input", reload);
  status.addEventListener("change", load);
  kind.addEventListener("change", load);

  root.append(
    h("h1", "Jobs"),
    h(
      "div.filters",
      { role: "search" },
      h("label", { for: "q" }, "Search"),
      search,
      h("label", { for: "status" }, "Status"),
      status,
      h("label", { for: "kind" }, "Kind"),
      kind,
    ),
    total,
    h(
      "table.list",
      h("caption.sr", "Runs and studies"),
      h(
        "thead",
        h(
          "tr",
          ["Job", "Kind", "Status", "Answer", "Review", "Plan", "Target", "Duration", "Created"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      body,
    ),
  );
  void load();
  return () => {
    stop = true;
    clearTimeout(timer);
  };
};
