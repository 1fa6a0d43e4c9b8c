// Package agent runs a load test on a fleet of `headroom agent` processes.
//
// An agent dials out to the server (nothing to open on its host), registers
// its capacity, and waits on a stream of orders. The server's Fleet keeps
// the agents and their leases, gives each one a share of a job — arrivals
// Index, Index+Count, … of the plan's one open-model schedule, or users
// Index, Index+Count, … of a closed model's, and the same slice of every
// data file's rows — measures each agent's clock offset
// with a four-timestamp exchange, starts all of them at one agreed
// instant, merges their per-second windows exactly (package agent/merge)
// and hands the merged seconds to the run or study machinery as if one
// generator had sent them:
//
//	fleet := agent.NewFleet(ledger, agent.FleetOptions{})
//	job := fleet.Job(jobID, 3, planYAML)
//	defer job.Close("passed")
//	res, err := pipeline.Run(ctx, p, settings, pipeline.Hooks{Engine: job.Run})
//
// On the agent's side, Run is the whole process:
//
//	err := agent.Run(ctx, agent.Config{Server: "http://127.0.0.1:8080", Token: token})
//
// The wire protocol is proto/headroom/agent/v1/agent.proto, served with
// Connect over HTTP/2.
package agent
