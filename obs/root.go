package obs

import (
	"path/filepath"
	"runtime"
)

// sourceRoot is the repository root as seen from this file at build time,
// or "" when the binary was built without source paths (-trimpath).
func sourceRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	return filepath.Dir(filepath.Dir(file))
}
