import { api, Get, session } from "../api";
import { clear, h, when } from "../dom";
import { render } from "../router";
import type { Page } from "../router";
import { verdictBadge } from "./jobs";

export const schedulesPage: Page = async (root) => {
  const [sd, pd, rd] = await Promise.all([
    api<Get<"/schedules">>("/schedules").catch((e): { schedules?: undefined; error: string } => ({ error: (e as Error).message })),
    api<Get<"/plans">>("/plans").catch((): Get<"/plans"> => ({ plans: [] })),
    api<Get<"/reviews">>("/reviews?limit=30").catch((): Get<"/reviews"> => ({ reviews: [] })),
  ]);
  const plans = pd.plans ?? [];
  const planName = (pid: number) => plans.find((p) => p.id === pid)?.name ?? `plan ${pid}`;
  const schedules = sd.schedules ?? [];
  const reviews = rd.reviews ?? [];
  const msg = h("p", { role: "status" });
  root.append(h("h1", "Schedules and reviews"));
  if ("error" in sd) root.append(h("p.error", { role: "alert" }, "Could not load schedules: " + sd.error));

  // The last reviews of each schedule: verdicts and webhook deliveries.
  const lastReviews = (sid: number) => reviews.filter((r) => r.schedule_id === sid).slice(0, 5);
  root.append(
    h(
      "table.list",
      h("caption.sr", "Schedules"),
      h("thead", h("tr", ["Plan", "Kind", "Cron", "Enabled", "Last run", "Next run", "Last verdicts", "Webhook", session.isAdmin() ? "Actions" : ""].filter(Boolean).map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        schedules.length
          ? schedules.map((s) => {
              const rs = lastReviews(s.id);
              return h(
                "tr",
                h("td", h("a", { href: `/plans/${s.plan_id}` }, planName(s.plan_id))),
                h("td", s.kind),
                h("td.mono", s.cron),
                h("td", { "data-enabled": String(!!s.enabled) }, s.enabled ? "yes" : "no"),
                h("td", when(s.last_run)),
                h("td", when(s.next_run)),
                h("td", rs.length ? rs.map((r) => [h("a", { href: `/jobs/${r.job_id}` }, verdictBadge(r.verdict)), " "]) : "—"),
                h("td.small", s.webhook ? [h("span.mono", s.webhook), rs[0] ? h("div", `${rs[0].webhook_status || "—"} after ${rs[0].webhook_attempts ?? 0} attempt(s)`) : null] : "—"),
                session.isAdmin()
                  ? h(
                      "td",
                      h(
                        "button",
                        {
                          type: "button",
                          onclick: async () => {
                            try {
                              await api(`/schedules/${s.id}`, { method: "PUT", body: { enabled: !s.enabled } });
                              void render();
                            } catch (e) {
                              msg.textContent = "Could not change the schedule: " + (e as Error).message;
                            }
                          },
                        },
                        s.enabled ? "Disable" : "Enable",
                      ),
                      " ",
                      h(
                        "button.danger",
                        {
                          type: "button",
                          onclick: async () => {
                            if (!confirm("Delete this schedule?")) return;
                            try {
                              await api(`/schedules/${s.id}`, { method: "DELETE" });
                              void render();
                            } catch (e) {
                              msg.textContent = "Could not delete the schedule: " + (e as Error).message;
                            }
                          },
                        },
                        "Delete",
                      ),
                    )
                  : null,
              );
            })
          : h("tr", h("td", { colspan: 9 }, "No schedules.")),
      ),
    ),
    msg,
  );

  if (session.isAdmin()) {
    const plan = h("select#s-plan", plans.map((p) => h("option", { value: p.id }, p.name)));
    const kind = h("select#s-kind", h("option", { value: "run" }, "run"), h("option", { value: "study" }, "study"));
    const cron = h("input#s-cron", { value: "0 3 * * *", required: true });
    const hook = h("input#s-hook", { type: "url", placeholder: "https://…" });
    const enabled = h("input#s-enabled", { type: "checkbox", checked: true });
    root.append(
      h(
        "form.card",
        {
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              await api("/schedules", { body: { plan_id: Number(plan.value), kind: kind.value, cron: cron.value, webhook: hook.value, enabled: enabled.checked } });
              void render();
            } catch (err) {
              msg.textContent = "Could not create the schedule: " + (err as Error).message;
            }
          },
        },
        h("h2", "New schedule"),
        h("div.formgrid", h("label", { for: "s-plan" }, "Plan"), plan, h("label", { for: "s-kind" }, "Kind"), kind, h("label", { for: "s-cron" }, "Cron"), cron, h("label", { for: "s-hook" }, "Webhook"), hook, h("label", { for: "s-enabled" }, "Enabled"), enabled),
        h("button.primary", { type: "submit" }, "Create schedule"),
      ),
    );
  }

  const list = h("tbody");
  clear(
    list,
    reviews.length
      ? reviews.map((r) =>
          h(
            "tr",
            h("td", when(r.created)),
            h("td", h("a", { href: `/jobs/${r.job_id}` }, "#" + r.job_id)),
            h("td", r.baseline_job_id ? h("a", { href: `/compare?a=${r.baseline_job_id}&b=${r.job_id}` }, "vs #" + r.baseline_job_id) : "—"),
            h("td", verdictBadge(r.verdict)),
            h("td.small", (r.reasons ?? []).join("; ") || "—"),
            h("td", `${r.webhook_status || "—"} (${r.webhook_attempts ?? 0})`),
          ),
        )
      : h("tr", h("td", { colspan: 6 }, "No reviews yet.")),
  );
  root.append(h("h2", "Recent reviews"), h("table.list", h("thead", h("tr", ["When", "Job", "Baseline", "Verdict", "Reasons", "Webhook"].map((c) => h("th", { scope: "col" }, c)))), list));
};
