package report

import (
	"errors"

	"github.com/headroom-sre/headroom/pipeline"
)

// regression compares the document with its baseline. (Waiting for the
// compare package.)
func regression(base, cur pipeline.Artifact, o Options) (*regressionView, error) {
	return nil, errors.New("not built yet")
}
