// A tiny history router: patterns like "/jobs/:id", links are plain <a href>.

export type Params = Record<string, string>;
export type Page = (root: HTMLElement, params: Params, query: URLSearchParams) => (() => void) | void | Promise<(() => void) | void>;

interface Route {
  re: RegExp;
  keys: string[];
  page: Page;
  title: string;
}

const routes: Route[] = [];
let cleanup: (() => void) | void = undefined;
let rendering = 0;

export function route(pattern: string, title: string, page: Page): void {
  const keys: string[] = [];
  const re = new RegExp(
    "^" + pattern.replace(/:(\w+)/g, (_m, k) => (keys.push(k), "([^/]+)")) + "/?$",
  );
  routes.push({ re, keys, page, title });
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  void render();
}

export let beforeRender: (path: string) => boolean = () => true;
export function setBeforeRender(f: (path: string) => boolean): void {
  beforeRender = f;
}

export async function render(): Promise<void> {
  const root = document.getElementById("main")!;
  const path = location.pathname;
  if (!beforeRender(path)) return;
  const n = ++rendering;
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  root.replaceChildren();
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params: Params = {};
    r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
    document.title = r.title + " · Headroom";
    const c = await r.page(root, params, new URLSearchParams(location.search));
    if (n === rendering) cleanup = c;
    else if (typeof c === "function") c();
    document.dispatchEvent(new CustomEvent("routed", { detail: path }));
    return;
  }
  document.title = "Not found · Headroom";
  root.append(Object.assign(document.createElement("h1"), { textContent: "Not found" }));
}

export function start(): void {
  window.addEventListener("popstate", () => void render());
  document.addEventListener("click", (e) => {
    const a = (e.target as Element).closest?.("a");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    const href = a.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("/api/") || a.target || a.hasAttribute("download")) return;
    e.preventDefault();
    navigate(href);
  });
  void render();
}
