// Package migrations holds the store's schema as SQL migration files, one
// folder per dialect (sqlite/, postgres/), embedded so the binary carries them.
// Package store applies them with goose when it opens a database.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql, goose's numbered migration files.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
