package pipeline_test

import (
	"context"
	"fmt"
	"os"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// A run of a plan file, a line per second, and its document written out.
func ExampleRun() {
	p, err := plan.LoadFile("plan.yaml")
	if err != nil {
		fmt.Println(err) // every problem with its line
		return
	}
	res, err := pipeline.Run(context.Background(), p, pipeline.Settings{NoCorrelate: true}, pipeline.Hooks{
		OnWindow: func(w pipeline.Window) { fmt.Println(w.Start, w.Requests, w.Latency.P99) },
	})
	if err != nil {
		fmt.Println(err) // bad settings: nothing was sent
		return
	}
	fmt.Println(res.Outcome)
}

// Reading back a document written by a run or a study.
func ExampleDecode() {
	data, err := os.ReadFile("study.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := pipeline.Decode(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch a.Kind {
	case pipeline.KindRun:
		fmt.Println(a.Run.Summary.Requests, "requests")
	case pipeline.KindStudy:
		fmt.Println(a.Study.Capacity.SingleInstanceRPS, "req/s")
	}
}
