import { api, APIError, Body, Get, Job, Problem, session } from "../api";
import { clear, debounce, h, when } from "../dom";
import { navigate } from "../router";
import type { Page } from "../router";
import { statusBadge, verdictBadge } from "./jobs";

const TEMPLATE = `version: 1
name: my-service
description: A short run of two requests.

target:
  base_url: http://127.0.0.1:18081
  timeout: 5s

slo:
  p95: 250ms
  error_rate: 1%

load:
  model: open
  stages:
    - { duration: 10s, target: 10 }
    - { duration: 20s, target: 10 }

journeys:
  - name: browse
    steps:
      - name: list products
        get: /v1/products?page={{ randInt 1 50 }}
        expect: { status: 200 }
`;

export const plansPage: Page = async (root) => {
  const body = h("tbody");
  root.append(
    h("h1", "Plans"),
    session.canOperate() ? h("p", h("a.button.primary", { href: "/plans/new" }, "New plan")) : "",
    h("table.list", h("caption.sr", "Plans"), h("thead", h("tr", ["Plan", "Latest version", "Created"].map((c) => h("th", { scope: "col" }, c)))), body),
  );
  try {
    const d = await api<Get<"/plans">>("/plans");
    const plans = d.plans ?? [];
    clear(
      body,
      plans.length
        ? plans.map((p) => h("tr", h("td", h("a", { href: `/plans/${p.id}` }, p.name)), h("td.num", "v" + p.version), h("td", when(p.created))))
        : h("tr", h("td", { colspan: 3 }, "No plans yet.")),
    );
  } catch (e) {
    clear(body, h("tr", h("td", { colspan: 3 }, "Could not load plans: " + (e as Error).message)));
  }
};

// editor is a textarea with a line-number gutter that marks the problem lines.
function editor(text: string) {
  const gutter = h("div.gutter", { "aria-hidden": "true" });
  const ta = h("textarea#yaml", { spellcheck: "false", wrap: "off", autocapitalize: "off", "aria-describedby": "problems" }) as HTMLTextAreaElement;
  ta.value = text;
  let marks = new Map<number, string>();
  const lines = () => {
    const n = ta.value.split("\n").length;
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const m = marks.get(i);
      frag.append(h("div.ln", { "data-line": i, class: m ? "err" : "", title: m }, String(i)));
    }
    gutter.replaceChildren(frag);
    gutter.scrollTop = ta.scrollTop;
  };
  ta.addEventListener("scroll", () => (gutter.scrollTop = ta.scrollTop));
  ta.addEventListener("input", lines);
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Tab" && !e.shiftKey && !e.altKey && !e.ctrlKey) {
      // Two spaces, as YAML wants; Escape then Tab leaves the editor.
      if ((ta as HTMLTextAreaElement & { escaped?: boolean }).escaped) return;
      e.preventDefault();
      ta.setRangeText("  ", ta.selectionStart, ta.selectionEnd, "end");
      lines();
    }
    (ta as HTMLTextAreaElement & { escaped?: boolean }).escaped = e.key === "Escape";
  });
  lines();
  return {
    el: h("div.editor", gutter, ta),
    ta,
    mark(problems: Problem[]) {
      marks = new Map();
      for (const p of problems) if (p.line) marks.set(p.line, (marks.has(p.line) ? marks.get(p.line) + "; " : "") + p.message);
      lines();
    },
    goto(line: number) {
      const all = ta.value.split("\n");
      const start = all.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      ta.focus();
      ta.setSelectionRange(start, start + (all[line - 1]?.length ?? 0));
      const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
      ta.scrollTop = Math.max(0, (line - 5) * lh);
    },
  };
}

export const planPage: Page = async (root, { id }, q) => {
  const isNew = !id;
  let plan: Partial<Get<"/plans/{id}">> & Pick<Get<"/plans/{id}">, "yaml" | "versions"> = { yaml: TEMPLATE, versions: [] };
  if (!isNew) {
    try {
      plan = await api<Get<"/plans/{id}">>(`/plans/${id}` + (q.get("version") ? `?version=${q.get("version")}` : ""));
    } catch (e) {
      root.append(h("h1", "Plan"), h("p.error", { role: "alert" }, (e as Error).message));
      return;
    }
  }
  const ed = editor(plan.yaml ?? "");
  const problems = h("ol#problems.problems", { "aria-live": "polite" });
  const state = h("p#valid", { "aria-live": "polite" });
  const showProblems = (ps: Problem[], err?: string) => {
    ed.mark(ps);
    clear(
      problems,
      ps.map((p) =>
        h(
          "li",
          { "data-line": p.line ?? "" },
          h("button.link", { type: "button", onclick: () => p.line && ed.goto(p.line) }, p.line ? `line ${p.line}` : "plan"),
          p.field ? h("code", " " + p.field) : null,
          ": " + p.message,
        ),
      ),
    );
    state.className = ps.length || err ? "error" : "ok";
    state.textContent = ps.length ? `${ps.length} problem${ps.length > 1 ? "s" : ""}` : err ? err : "Valid plan";
  };
  const validate = async (): Promise<boolean> => {
    try {
      await api<{ valid: boolean }>("/plans/validate", { yaml: ed.ta.value });
      showProblems([]);
      return true;
    } catch (e) {
      if (e instanceof APIError && e.status === 422) showProblems(e.problems.length ? e.problems : [{ message: e.message }]);
      else showProblems([], "Could not validate: " + (e as Error).message);
      return false;
    }
  };
  ed.ta.addEventListener("input", debounce(validate, 400));

  const msg = h("p", { role: "status" });
  const save = h(
    "button.primary",
    {
      type: "button",
      id: "save",
      onclick: async () => {
        msg.textContent = "";
        try {
          if (isNew) {
            const r = await api<Body<"PlanSaved">>("/plans", { yaml: ed.ta.value });
            navigate(`/plans/${r.id}`, true);
          } else {
            const r = await api<Body<"PlanSaved">>(`/plans/${id}/versions`, { yaml: ed.ta.value });
            navigate(`/plans/${id}?version=${r.version}`, true);
          }
        } catch (e) {
          if (e instanceof APIError && e.status === 422) showProblems(e.problems.length ? e.problems : [{ message: e.message }]);
          else msg.textContent = "Save failed: " + (e as Error).message;
        }
      },
    },
    isNew ? "Create plan" : "Save as new version",
  );
  const start = (kind: "run" | "study") =>
    h(
      "button",
      {
        type: "button",
        id: "start-" + kind,
        onclick: async () => {
          try {
            const r = await api<Body<"Accepted">>("/jobs", { body: { plan_id: Number(id), kind } });
            navigate(`/jobs/${r.id}`);
          } catch (e) {
            msg.textContent = `Could not start the ${kind}: ${(e as Error).message}`;
          }
        },
      },
      kind === "run" ? "Start run" : "Start study",
    );
  const versions = plan.versions ?? [];
  const verSel = versions.length
    ? h(
        "select#version",
        {
          onchange: (e: Event) => navigate(`/plans/${id}?version=${(e.target as HTMLSelectElement).value}`),
        },
        versions.map((v) => {
          const n = v.version;
          return h("option", { value: n, selected: n === plan.version }, `v${n}${v.created ? " · " + when(v.created) : ""}`);
        }),
      )
    : null;

  root.append(
    h("h1", isNew ? "New plan" : `Plan ${plan.name} `, isNew ? null : h("span.muted", "v" + plan.version)),
    h(
      "div.actions",
      session.canOperate() ? save : h("span.muted", "Viewers read plans; an operator saves and starts them."),
      !isNew && session.canOperate() ? [start("run"), start("study")] : null,
      verSel ? [h("label", { for: "version" }, "Version"), verSel] : null,
    ),
    msg,
    h("label", { for: "yaml" }, "Plan YAML"),
    ed.el,
    state,
    problems,
  );
  void validate();
  if (!isNew) {
    const jobsBox = h("section", h("h2", "Jobs of this plan"));
    root.append(jobsBox);
    const [d, base] = await Promise.all([api<Get<"/jobs">>(`/jobs?plan_id=${id}&limit=20`).catch((): { jobs: Job[] } => ({ jobs: [] })), api<Get<"/plans/{id}/baseline">>(`/plans/${id}/baseline`).catch(() => null)]);
    const bid = base?.job_id;
    const jobs = d.jobs ?? [];
    jobsBox.append(
      jobs.length
        ? h(
            "table.list",
            h("thead", h("tr", ["Job", "Kind", "Status", "Verdict", "Created"].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              jobs.map((j) =>
                h("tr", h("td", h("a", { href: `/jobs/${j.id}` }, "#" + j.id), String(j.id) === String(bid) ? h("span.badge", " baseline") : null), h("td", j.kind), h("td", statusBadge(j.status)), h("td", verdictBadge(j.verdict)), h("td", when(j.created))),
              ),
            ),
          )
        : h("p.muted", "No jobs yet."),
    );
  }
};
