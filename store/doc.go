// Package store keeps Headroom's plans, jobs and their data — per-second
// windows with their HDR histograms, steps, findings, live events, baselines,
// schedules, reviews and API tokens — in SQLite (the default, one file in WAL
// mode) or PostgreSQL (for several servers sharing one store). The schema comes
// only from the migration files of package migrations, applied with goose when
// the store opens.
//
// Every method takes a context and runs in its own transaction; timestamps
// come from Options.Now, in UTC, to the microsecond.
//
//	st, err := store.Open(ctx, "headroom.db", store.Options{})
//	if err != nil { … }
//	defer st.Close()
//	p, _ := st.CreatePlan(ctx, "checkout", yamlText)
//	job, _ := st.CreateJob(ctx, store.Job{PlanID: p.ID, Kind: "study", Target: "127.0.0.1:8081"})
//	claimed, _ := st.ClaimJob(ctx, "server-1", nil) // job, now running
//	_ = st.AppendWindows(ctx, claimed.ID, windows)   // every second as it closes
//	_ = st.FinishJob(ctx, claimed.ID, store.Passed, summary, result, "")
package store
