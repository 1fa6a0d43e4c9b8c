package server

import (
	"io"

	"github.com/headroom-sre/headroom/pipeline"
)

// writeText writes a job's document as plain text, as the CLI prints it
// (pipeline's WriteText): its summary, then its top findings.
func writeText(w io.Writer, a pipeline.Artifact) error {
	return a.WriteText(w)
}
