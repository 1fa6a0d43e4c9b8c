// Package derive grounds a plan in production: it reads what a service
// actually served (access logs, HAR recordings, OpenAPI documents,
// Prometheus request counters) and turns it into a plan's request mix,
// journeys, think times and target rates, or checks an existing plan
// against it.
//
// Access logs are read in one pass with memory bounded by the number of
// distinct routes, open sessions and journey shapes, not by the log's
// length:
//
//	prof, err := derive.ReadLogs(ctx, files, derive.LogOptions{Format: derive.FormatCombined})
//	if err != nil { ... }
//	err = derive.WritePlan(os.Stdout, prof, derive.PlanOptions{BaseURL: "http://127.0.0.1:8080"})
//
// The plan it writes parses and validates with package plan; its comments
// carry the evidence behind every figure ("weight 41: 4,100 of 10,000
// sessions") and mark what logs cannot know (bodies, credentials).
package derive
