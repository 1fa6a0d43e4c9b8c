// The flame graph's geometry, apart from the DOM so it can be tested alone:
// a profile's call tree (the API's /flame document) laid out as boxes, the
// root on top and each function's callees under it, widths in shares of the
// root; the view of a zoomed-in box; and where the arrow keys go.

// FlameNode is one node of the /flame document: a function on a stack, its
// value (in the profile's sample unit) and its callees, merged by name.
export interface FlameNode {
  name: string;
  value: number;
  children?: FlameNode[] | null;
}

// Box is one node laid out: x and w are shares of the root's width, depth
// its row (the root is 0), parent and children indexes into the layout.
export interface Box {
  name: string;
  value: number;
  depth: number;
  x: number;
  w: number;
  parent: number;
  children: number[];
}

// layout lays the tree out in pre-order (the root is box 0). Callees are
// placed widest first, from the caller's left edge, so the hottest path
// runs down the left; a caller wider than its callees keeps the rest as
// its own (flat) time. Nodes without a positive value are left out.
export function layout(root: FlameNode): Box[] {
  const out: Box[] = [];
  const total = root.value > 0 ? root.value : 0;
  if (!total) return [{ name: root.name, value: 0, depth: 0, x: 0, w: 1, parent: -1, children: [] }];
  const walk = (n: FlameNode, depth: number, x: number, parent: number): number => {
    const i = out.length;
    out.push({ name: n.name, value: n.value, depth, x, w: n.value / total, parent, children: [] });
    const kids = (n.children ?? []).filter((c) => c.value > 0).sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let cx = x;
    for (const c of kids) {
      out[i].children.push(walk(c, depth + 1, cx, i));
      cx += c.value / total;
    }
    return i;
  };
  walk(root, 0, 0, -1);
  return out;
}

// Placed is a box as the view shows it: x and w in shares of the view's
// width, and whether it is an ancestor of the zoomed box (drawn full width).
export interface Placed {
  index: number;
  x: number;
  w: number;
  ancestor: boolean;
}

// view places the zoomed box (focus) at full width, its descendants in
// proportion under it and its ancestors full width above it; the rest is
// out of view.
export function view(boxes: Box[], focus: number): Placed[] {
  const f = boxes[focus] ?? boxes[0];
  const out: Placed[] = [];
  for (let a = f.parent; a >= 0; a = boxes[a].parent) out.unshift({ index: a, x: 0, w: 1, ancestor: true });
  const fi = boxes.indexOf(f);
  const stack = [fi];
  while (stack.length) {
    const i = stack.pop()!;
    const b = boxes[i];
    out.push({ index: i, x: (b.x - f.x) / f.w, w: b.w / f.w, ancestor: false });
    for (let k = b.children.length - 1; k >= 0; k--) stack.push(b.children[k]);
  }
  return out;
}

export type Key = "ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight" | "Home";

// move is the box the key leads to from box `at` among the placed boxes:
// up to the caller, down to the widest callee, left and right to the next
// box in the same row, Home to the top row; `at` when there is none.
export function move(boxes: Box[], placed: Placed[], at: number, key: Key): number {
  const shown = new Map(placed.map((p) => [p.index, p]));
  const b = boxes[at];
  if (!b || !shown.has(at)) return placed[0]?.index ?? 0;
  switch (key) {
    case "ArrowUp":
      return b.parent >= 0 && shown.has(b.parent) ? b.parent : at;
    case "ArrowDown":
      return b.children.find((c) => shown.has(c)) ?? at;
    case "Home":
      return placed[0]?.index ?? at;
    case "ArrowLeft":
    case "ArrowRight": {
      const row = placed.filter((p) => boxes[p.index].depth === b.depth).sort((p, q) => p.x - q.x);
      const k = row.findIndex((p) => p.index === at);
      const next = row[k + (key === "ArrowLeft" ? -1 : 1)];
      return next ? next.index : at;
    }
  }
  return at;
}

// label fits a function's name into px pixels of text whose characters are
// cw pixels wide: whole, or its tail (the function rather than its package
// path) after an ellipsis, or nothing when under three characters fit.
export function label(name: string, px: number, cw: number): string {
  const fit = Math.floor(px / cw);
  if (fit >= name.length) return name;
  if (fit < 3) return "";
  return "…" + name.slice(name.length - (fit - 1));
}

// hue is a stable colour class (0..n-1) for a function's package, so one
// package's functions share a colour across the graph.
export function hue(name: string, n: number): number {
  const paren = name.indexOf("(");
  const head = paren > 0 ? name.slice(0, paren) : name;
  const slash = head.lastIndexOf("/");
  const dot = head.indexOf(".", slash + 1);
  const pkg = dot > 0 ? head.slice(0, dot) : head;
  let s = 0;
  for (let i = 0; i < pkg.length; i++) s = (s * 31 + pkg.charCodeAt(i)) >>> 0;
  return s % n;
}
