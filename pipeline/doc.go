// Package pipeline runs one run or one capacity study of a plan end to end
// — load, SLO evaluation, findings from the plan's telemetry — and returns
// the document that records it: run.json (RunResult) or study.json
// (StudyResult), each with an explicit kind. The CLI and the server's job
// runner both call it; they differ only in Settings and Hooks.
//
//	p, err := plan.LoadFile("plan.yaml")
//	if err != nil { ... }
//	res, err := pipeline.Run(ctx, p, pipeline.Settings{}, pipeline.Hooks{
//		OnWindow: func(w pipeline.Window) { fmt.Println(w.Start, w.Requests) },
//	})
//	if err != nil { ... } // a bad plan or settings: nothing was sent
//	fmt.Println(res.Outcome) // passed, failed, aborted or cancelled
//
// Decode reads either document back by its kind.
package pipeline
