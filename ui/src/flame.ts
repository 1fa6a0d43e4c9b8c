// A flame graph drawn as SVG (no library): the root on top, callees under
// their callers, width in proportion to the profile's value. A click or
// Enter zooms into a function, Escape zooms back out; the arrow keys move
// between functions (a roving tabindex: the graph is one tab stop), and the
// selected function's figures are read out in a live line under the graph.
import { h } from "./dom";
import { Box, FlameNode, Key, label, layout, move, Placed, view, hue } from "./flamelayout";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 18; // px per stack frame
const CHAR = 6.9; // px per character of the 11.5px monospace label
const HUES = 6; // --flame-0 … --flame-5

export interface FlameOptions {
  // title names the graph for assistive technology ("CPU flame graph of …").
  title: string;
  // unit formats a node's value (e.g. nanoseconds as "1.2 s").
  unit: (v: number) => string;
}

export interface Flame {
  el: HTMLElement;
  // nodes is how many functions the graph holds (tests read it).
  nodes: number;
  destroy(): void;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// flame renders the /flame tree into a figure that redraws on resize.
export function flame(root: FlameNode, opt: FlameOptions): Flame {
  const boxes = layout(root);
  const total = boxes[0].value;
  const depth = boxes.reduce((d, b) => Math.max(d, b.depth), 0) + 1;
  const hintID = `flame-hint-${Math.random().toString(36).slice(2, 9)}`;
  const g = svg("svg", { role: "tree", "aria-label": opt.title, "aria-describedby": hintID, class: "flame-svg", height: depth * ROW });
  const hint = h("p.small.muted.flame-hint", { id: hintID }, "Click a function, or Enter on it, to zoom in; Escape zooms out. The arrow keys move: up to the caller, down to a callee, left and right along the row.");
  const said = h("p.flame-said", { "aria-live": "polite" }, "");
  const reset = h("button.ghost.flame-reset", { type: "button", hidden: true }, "Show the whole profile");
  const fig = h("figure.flame", { "data-nodes": String(boxes.length) }, hint, g, h("div.row", said, reset));

  let focus = 0; // the zoomed box
  let at = 0; // the selected box (the roving tab stop)
  let placed: Placed[] = [];
  const items = new Map<number, SVGGElement>();

  const share = (b: Box) => (total ? b.value / total : 0);
  const describe = (b: Box) => {
    const parent = boxes[b.parent];
    const ofCaller = parent && parent.value ? ` (${((100 * b.value) / parent.value).toFixed(1)}% of its caller ${parent.name})` : "";
    return `${b.name}: ${opt.unit(b.value)}, ${(100 * share(b)).toFixed(1)}% of the profile${ofCaller}`;
  };

  const draw = () => {
    const width = Math.max(200, Math.floor(fig.clientWidth || 800));
    g.setAttribute("width", String(width));
    g.setAttribute("viewBox", `0 0 ${width} ${depth * ROW}`);
    placed = view(boxes, focus);
    items.clear();
    g.replaceChildren();
    for (const p of placed) {
      const b = boxes[p.index];
      const x = p.x * width;
      const w = Math.max(p.w * width, 1);
      const item = svg("g", {
        role: "treeitem",
        tabindex: p.index === at ? 0 : -1,
        "aria-level": b.depth + 1,
        "aria-selected": String(p.index === at),
        transform: `translate(${x.toFixed(1)},${b.depth * ROW})`,
        class: `flame-node ${p.ancestor ? "anc" : `f${hue(b.name, HUES)}`}`,
        "data-name": b.name,
        "data-index": p.index,
      });
      if (b.children.length) item.setAttribute("aria-expanded", "true");
      // The title is the function's name for assistive technology and the
      // tooltip of a pointer.
      const title = svg("title", {});
      title.textContent = describe(b);
      item.append(title, svg("rect", { width: Math.max(w - 1, 0.5).toFixed(1), height: ROW - 1, rx: 2 }));
      const text = label(b.name, w - 8, CHAR);
      if (text) {
        const t = svg("text", { x: 4, y: ROW - 5.5 });
        t.textContent = text;
        item.append(t);
      }
      items.set(p.index, item);
      g.append(item);
    }
    reset.hidden = focus === 0;
    fig.dataset.focus = boxes[focus].name;
  };

  const select = (i: number, moveFocus: boolean, announce = true) => {
    at = i;
    for (const [k, el] of items) {
      el.setAttribute("tabindex", k === at ? "0" : "-1");
      el.setAttribute("aria-selected", String(k === at));
    }
    if (announce) said.textContent = describe(boxes[at]);
    fig.dataset.selected = boxes[at].name;
    if (moveFocus) items.get(at)?.focus();
  };

  const zoom = (i: number, moveFocus: boolean) => {
    focus = i;
    at = i;
    draw();
    select(i, moveFocus);
  };

  g.addEventListener("click", (e) => {
    const item = (e.target as Element).closest("g.flame-node") as SVGGElement | null;
    if (!item) return;
    const i = Number(item.dataset.index);
    zoom(i === focus && boxes[i].parent >= 0 ? boxes[i].parent : i, true);
  });
  g.addEventListener("keydown", (e) => {
    const k = e.key;
    if (k === "Enter" || k === " ") {
      e.preventDefault();
      zoom(at === focus && boxes[at].parent >= 0 ? boxes[at].parent : at, true);
    } else if (k === "Escape") {
      if (focus !== 0) {
        e.preventDefault();
        zoom(0, true);
      }
    } else if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home"].includes(k)) {
      e.preventDefault();
      select(move(boxes, placed, at, k as Key), true);
    }
  });
  g.addEventListener("focusin", (e) => {
    const item = (e.target as Element).closest("g.flame-node") as SVGGElement | null;
    if (item && Number(item.dataset.index) !== at) select(Number(item.dataset.index), false);
    else if (item) said.textContent = describe(boxes[at]);
  });
  reset.addEventListener("click", () => zoom(0, false));

  // Redraw when the figure's width changes (a resized window, a wider screen).
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(fig.clientWidth);
    if (w && w !== lastWidth) {
      lastWidth = w;
      const had = g.contains(document.activeElement);
      draw();
      select(at, had, false);
    }
  });
  ro.observe(fig);
  draw();
  select(0, false, false);
  return { el: fig, nodes: boxes.length, destroy: () => ro.disconnect() };
}
