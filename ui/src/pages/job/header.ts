// The job page's header: status, the report's readiness verdict and its
// sentence, what it ran, and the actions a role may take.
import { api, jobDuration, reportURL, session } from "../../api";
import { clear, dur, h, when } from "../../dom";
import { readiness, statusBadge, verdictBadge } from "../jobs";
import type { JobState } from "./state";

export function renderHead(head: HTMLElement, st: JobState): void {
  const { id, job } = st;
  const actions = h("div.actions");
  if (!st.finished && session.canOperate()) {
    actions.append(
      h(
        "button.danger",
        {
          type: "button",
          id: "cancel",
          onclick: async (e: Event) => {
            const b = e.currentTarget as HTMLButtonElement;
            b.disabled = true;
            try {
              await api(`/jobs/${id}/cancel`, { method: "POST" });
              b.textContent = "Cancelling…";
            } catch (err) {
              b.disabled = false;
              alert("Cancel failed: " + (err as Error).message);
            }
          },
        },
        job.cancel_requested ? "Cancelling…" : "Cancel",
      ),
    );
  }
  if (st.isStudy) actions.append(h("a.button", { href: `/jobs/${id}/study` }, "Study"));
  actions.append(h("a.button", { href: `/jobs/${id}/findings` }, "Findings"));
  actions.append(h("a.button", { href: `/jobs/${id}/loop` }, "Soak · spike · assess"));
  if (st.finished) {
    actions.append(h("a.button", { href: `/compare?b=${id}` }, "Compare…"));
    for (const f of ["html", "pdf", "md", "junit"]) actions.append(reportLink(id, f));
    if (session.canOperate() && job.plan_id)
      actions.append(
        h(
          "button",
          {
            type: "button",
            id: "baseline",
            onclick: async (e: Event) => {
              const b = e.currentTarget as HTMLButtonElement;
              try {
                await api(`/plans/${job.plan_id}/baseline`, { method: "PUT", body: { job_id: Number(id) } });
                b.textContent = "Baseline ✓";
              } catch (err) {
                b.textContent = "Baseline failed: " + (err as Error).message;
              }
            },
          },
          "Mark as baseline",
        ),
      );
  }
  clear(
    head,
    h("h1", `${st.isStudy ? "Study" : "Run"} #${job.id} `, statusBadge(job.status), " ", readiness(job)),
    job.summary?.readiness ? h("p#readiness", { "data-ready": String(job.summary.ready) }, job.summary.readiness) : "",
    h(
      "dl.meta",
      h("dt", "Plan"),
      h("dd", job.plan_id ? h("a", { href: `/plans/${job.plan_id}` }, `${job.plan_name ?? "plan " + job.plan_id} v${job.plan_version ?? "?"}`) : "—"),
      h("dt", "Target"),
      h("dd.mono", job.target || "—"),
      h("dt", "Phase"),
      h("dd", job.phase || "—"),
      h("dt", "Review"),
      h("dd", verdictBadge(job.verdict)),
      h("dt", "Started"),
      h("dd", when(job.started)),
      h("dt", "Duration"),
      h("dd#duration", dur(jobDuration(job))),
    ),
    job.error ? h("p.error", { role: "alert" }, job.error) : "",
    actions,
  );
}

// updateDuration refreshes the running job's duration.
export function updateDuration(head: HTMLElement, st: JobState): void {
  const d = head.querySelector("#duration");
  if (d) d.textContent = dur(jobDuration(st.job));
}

// reportLink opens a report: fetched with the token (a plain link cannot send
// it), then shown from a blob URL in a new tab.
export function reportLink(id: string | number, format: string): HTMLAnchorElement {
  const href = reportURL(id, format);
  return h(
    "a.button",
    {
      href,
      "data-report": format,
      onclick: async (e: Event) => {
        e.preventDefault();
        const tab = window.open("", "_blank");
        try {
          const res = await fetch(href, { headers: { Authorization: "Bearer " + session.token } });
          if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
          const url = URL.createObjectURL(await res.blob());
          if (tab) tab.location.href = url;
          else location.href = url;
        } catch (err) {
          tab?.close();
          alert(`The ${format} report is not available: ${(err as Error).message}`);
        }
      },
    },
    `Report (${format.toUpperCase()})`,
  );
}
