import "./style.css";
import { api, session, setOnUnauthorized } from "./api";
import { clear, h } from "./dom";
import { navigate, render, route, setBeforeRender, start } from "./router";
import { signIn } from "./pages/signin";
import { jobsPage } from "./pages/jobs";
import { jobPage } from "./pages/job";
import { studyPage } from "./pages/study";
import { findingsPage } from "./pages/findings";
import { comparePage } from "./pages/compare";
import { plansPage, planPage } from "./pages/plans";
import { schedulesPage } from "./pages/schedules";
import { loopPage } from "./pages/loop";

route("/signin", "Sign in", signIn);
route("/", "Jobs", jobsPage);
route("/jobs", "Jobs", jobsPage);
route("/jobs/:id", "Job", jobPage);
route("/jobs/:id/study", "Study", studyPage);
route("/jobs/:id/findings", "Findings", findingsPage);
route("/jobs/:id/loop", "Soak, spike, assess", loopPage);
route("/compare", "Compare", comparePage);
route("/plans", "Plans", plansPage);
route("/plans/new", "New plan", planPage);
route("/plans/:id", "Plan", planPage);
route("/schedules", "Schedules", schedulesPage);

setOnUnauthorized(() => {
  session.token = "";
  session.me = null;
  navigate("/signin?next=" + encodeURIComponent(location.pathname + location.search), true);
});

setBeforeRender((path) => {
  if (path !== "/signin" && !session.me) {
    navigate("/signin?next=" + encodeURIComponent(path + location.search), true);
    return false;
  }
  return true;
});

export function header(): void {
  const top = document.getElementById("top")!;
  const theme = document.documentElement.dataset.theme === "light" ? "light" : "dark";
  const toggle = h(
    "button.ghost",
    {
      type: "button",
      "aria-label": theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme",
      onclick: () => {
        const next = document.documentElement.dataset.theme === "light" ? "dark" : "light";
        document.documentElement.dataset.theme = next;
        localStorage.setItem("headroom.theme", next);
        header();
        void render(); // charts read their colours from the theme
      },
    },
    theme === "dark" ? "Light theme" : "Dark theme",
  );
  const nav = session.me
    ? h(
        "nav",
        { "aria-label": "Main" },
        h("a", { href: "/jobs" }, "Jobs"),
        h("a", { href: "/plans" }, "Plans"),
        h("a", { href: "/compare" }, "Compare"),
        h("a", { href: "/schedules" }, "Schedules"),
      )
    : null;
  const who = session.me
    ? h(
        "span.who",
        h("span", { "data-role": session.me.role }, `${session.me.name} · ${session.me.role}`),
        h(
          "button.ghost",
          {
            type: "button",
            onclick: () => {
              session.token = "";
              session.me = null;
              header();
              navigate("/signin", true);
            },
          },
          "Sign out",
        ),
      )
    : null;
  clear(top, h("a.brand", { href: "/jobs" }, "Headroom"), nav, h("span.spacer"), who, toggle);
  for (const a of top.querySelectorAll("nav a")) {
    const href = a.getAttribute("href")!;
    if (location.pathname.startsWith(href)) a.setAttribute("aria-current", "page");
  }
}

document.addEventListener("routed", header);

async function boot(): Promise<void> {
  if (session.token) {
    try {
      session.me = await api("/me", { token: session.token });
    } catch {
      session.me = null;
    }
  }
  header();
  start();
}

void boot();
