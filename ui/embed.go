// Package ui is the SRE dashboard. This is a placeholder (helper E) so
// `headroom serve` compiles before the dashboard lands; helper G's package
// replaces this file.
package ui

import (
	"io/fs"
	"testing/fstest"
)

// FS returns the dashboard's files: here only a placeholder index.html.
func FS() fs.FS {
	return fstest.MapFS{"index.html": {Data: []byte(placeholder)}}
}

const placeholder = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Headroom</title></head>
<body><h1>Headroom</h1><p>The dashboard is not built into this binary. The API is at <code>/api/v1</code>.</p></body></html>
`
