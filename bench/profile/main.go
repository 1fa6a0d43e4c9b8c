// Command profile runs one plan through generator.Run with a CPU (and
// optionally a heap) profile, to find where headroom's load engine spends
// its time when it is slower than vegeta or wrk. Point it at bench/target:
//
//	bin/bench-target -addr 127.0.0.1:18999 &
//	taskset -c 0 go run ./bench/profile -plan bench/plan.yaml -cpuprofile cpu.out
//	go tool pprof -top bin/bench-profile cpu.out
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	planPath := fs.String("plan", "bench/plan.yaml", "plan `file` to run")
	cpuOut := fs.String("cpuprofile", "cpu.out", "write the CPU profile to this `file`")
	memOut := fs.String("memprofile", "", "write an allocation profile to this `file` at the end")
	seconds := fs.Int("seconds", 0, "run only this long (0: the plan's whole profile)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *seconds < 0 {
		fmt.Fprintf(stderr, "profile: -seconds: %d is negative\n", *seconds)
		return 2
	}
	p, err := plan.LoadFile(*planPath)
	if err != nil {
		fmt.Fprintf(stderr, "profile: -plan: %v\n", err)
		return 2
	}
	if *seconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*seconds)*time.Second)
		defer cancel()
	}
	f, err := os.Create(*cpuOut)
	if err != nil {
		fmt.Fprintf(stderr, "profile: -cpuprofile: %v\n", err)
		return 2
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "profile: %v\n", err)
		return 1
	}
	start := time.Now()
	res, err := generator.Run(ctx, p, generator.Options{})
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintf(stderr, "profile: %v\n", err)
		return 1
	}
	if *memOut != "" {
		if err := writeHeap(*memOut); err != nil {
			fmt.Fprintf(stderr, "profile: -memprofile: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "profile: ran %s, GOMAXPROCS %d\n", time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0))
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res.Summary); err != nil {
		fmt.Fprintf(stderr, "profile: %v\n", err)
		return 1
	}
	return 0
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
