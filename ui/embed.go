// Package ui holds the SRE dashboard: a TypeScript single-page app built with
// npm and Vite into dist/, embedded here for `headroom serve`.
//
// dist/ is built by `make build` (or `npm ci && npm run build` in this folder)
// and is not committed but for dist/.gitkeep, so `go build ./...` compiles on
// a fresh clone; FS then serves a placeholder page saying how to build it.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist placeholder
var files embed.FS

// FS returns the built dashboard (index.html and assets/ at its root), or a
// placeholder index.html when dist/ holds no built dashboard.
func FS() fs.FS {
	dist, err := fs.Sub(files, "dist")
	if err == nil {
		if _, err := fs.Stat(dist, "index.html"); err == nil {
			return dist
		}
	}
	placeholder, err := fs.Sub(files, "placeholder")
	if err != nil {
		panic("ui: placeholder not embedded: " + err.Error()) // cannot happen: embedded above
	}
	return placeholder
}

// Built reports whether FS serves the built dashboard rather than the placeholder.
func Built() bool {
	_, err := fs.Stat(files, "dist/index.html")
	return err == nil
}
