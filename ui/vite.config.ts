import { defineConfig } from "vite";

// The dashboard is served by `headroom serve` at "/": absolute asset paths,
// everything bundled (no CDN, nothing fetched at run time but the API).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    sourcemap: false,
  },
  server: {
    proxy: { "/api": process.env.HEADROOM_URL ?? "http://127.0.0.1:18300" },
  },
});
