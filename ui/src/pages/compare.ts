import { api, Comparison, Delta, FINISHED, Get, Job, session } from "../api";
import { clear, fmt, h } from "../dom";
import { navigate } from "../router";
import type { Page } from "../router";
import { verdictBadge } from "./jobs";

const METRIC_UNITS: Record<string, string> = { p50: "ms", p95: "ms", p99: "ms", throughput_rps: "req/s", error_rate: "" };

function value(metric: string, v: number): string {
  if (metric === "error_rate") return (v * 100).toFixed(2) + "%";
  return fmt(v, 2) + (METRIC_UNITS[metric] ? " " + METRIC_UNITS[metric] : "");
}

export const comparePage: Page = async (root, _p, q) => {
  const doc = await api<Get<"/jobs">>("/jobs?limit=200").catch((): { jobs: Job[] } => ({ jobs: [] }));
  const jobs = (doc.jobs ?? []).filter((j) => FINISHED.has(j.status));
  let a = q.get("a") ?? "";
  const b = q.get("b") ?? "";
  const bJob = jobs.find((j) => String(j.id) === b);
  if (!a && bJob?.plan_id) {
    const base = await api<Get<"/plans/{id}/baseline">>(`/plans/${bJob.plan_id}/baseline`).catch(() => null);
    const bid = base?.job_id;
    if (bid && String(bid) !== b) a = String(bid);
  }
  const opt = (sel: string) => (j: Job) => h("option", { value: String(j.id), selected: String(j.id) === sel }, `#${j.id} ${j.kind} · ${j.plan_name ?? "plan " + j.plan_id} v${j.plan_version ?? "?"} · ${j.status}`);
  const selA = h("select#cmp-a", h("option", { value: "" }, "choose…"), jobs.map(opt(a)));
  const selB = h("select#cmp-b", h("option", { value: "" }, "choose…"), jobs.map(opt(b)));
  const out = h("section#compare-result", { "aria-live": "polite" });
  root.append(
    h("h1", "Compare two jobs"),
    h(
      "form.filters",
      {
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (selA.value && selB.value) navigate(`/compare?a=${selA.value}&b=${selB.value}`);
        },
      },
      h("label", { for: "cmp-a" }, "Base"),
      selA,
      h("label", { for: "cmp-b" }, "Current"),
      selB,
      h("button.primary", { type: "submit" }, "Compare"),
    ),
    out,
  );
  if (!a || !b) {
    out.append(h("p.muted", "Choose a base (the baseline of the plan when it has one) and a current job."));
    return;
  }
  let r: Comparison;
  try {
    r = await api(`/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  } catch (e) {
    out.append(h("p.error", { role: "alert" }, "Compare failed: " + (e as Error).message));
    return;
  }
  const aJob = jobs.find((j) => String(j.id) === a);
  const baselineBtn =
    session.canOperate() && aJob?.plan_id
      ? h(
          "button",
          {
            type: "button",
            onclick: async (e: Event) => {
              const btn = e.currentTarget as HTMLButtonElement;
              try {
                await api(`/plans/${aJob.plan_id}/baseline`, { method: "PUT", body: { job_id: Number(a) } });
                btn.textContent = `#${a} is the baseline ✓`;
              } catch (err) {
                btn.textContent = "Failed: " + (err as Error).message;
              }
            },
          },
          `Mark #${a} as the plan's baseline`,
        )
      : null;
  const row = (d: Delta) =>
    h(
      "tr",
      { "data-regressed": d.regressed ? "true" : undefined, "data-improved": d.improved ? "true" : undefined },
      h("th", { scope: "row" }, d.metric),
      h("td.num", value(d.metric, d.base)),
      h("td.num", value(d.metric, d.current)),
      h("td.num", (d.change_pct >= 0 ? "+" : "") + fmt(d.change_pct, 1) + "%"),
      h("td.num", d.p_value != null ? d.p_value.toExponential(1) : "—"),
      h("td", d.regressed ? h("span.badge", { "data-verdict": "regression" }, "regressed") : d.improved ? h("span.badge", { "data-verdict": "improvement" }, "improved") : d.significant ? "significant" : "no significant change"),
    );
  clear(
    out,
    h("h2", "Verdict: ", verdictBadge(r.verdict)),
    r.reasons?.length ? h("ul", r.reasons.map((x: string) => h("li", x))) : null,
    baselineBtn,
    r.capacity ? h("section", h("h3", "Capacity"), table([row(r.capacity)])) : null,
    (r.names ?? []).map((n) => h("section", h("h3", n.name === "all" || !n.name ? "All requests" : n.name), table((n.deltas ?? []).map(row)))),
  );
};

function table(rows: HTMLElement[]): HTMLElement {
  return h(
    "table.list",
    h("thead", h("tr", ["Metric", "Base", "Current", "Change", "p-value", "Call"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", rows),
  );
}
