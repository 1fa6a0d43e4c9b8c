package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// crashChild is the body of the child process of TestWindowsSurviveSIGKILL:
// it claims the job and appends one second after another, printing each seq
// once AppendWindows returned, until it is killed.
func crashChild() {
	dsn := os.Getenv("STORE_CRASH_DSN")
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	j, err := s.ClaimJob(context.Background(), "child", nil)
	if err != nil || j == nil {
		fmt.Println("error claim", err)
		os.Exit(1)
	}
	t0 := time.Now()
	for seq := 1; ; seq++ {
		w := []Window{{Seq: seq, Start: t0.Add(time.Duration(seq) * time.Second), Requests: int64(seq), HDR: []byte("hdr")},
			{Seq: seq, Name: "GET /", Start: t0.Add(time.Duration(seq) * time.Second), Requests: int64(seq)}}
		if err := s.AppendWindows(context.Background(), j.ID, w); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(seq)
	}
}

// TestWindowsSurviveSIGKILL kills a process in the middle of writing windows:
// every window it was told were stored is there after a restart, and its job
// is marked interrupted.
func TestWindowsSurviveSIGKILL(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "h")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "STORE_CRASH_DSN="+dsn)
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		acked := 0
		sc := bufio.NewScanner(out)
		for acked < 200 && sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child: %s", sc.Text())
			}
			acked = n
		}
		must(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()

		s2 := open(t, dsn, nil)
		n, err := s2.MarkInterrupted(ctx, "")
		must(t, err)
		if n != 1 {
			t.Fatalf("MarkInterrupted after the kill = %d, want 1", n)
		}
		got, err := s2.GetJob(ctx, j.ID)
		must(t, err)
		if got.Status != Interrupted {
			t.Fatalf("job is %s after the kill and restart", got.Status)
		}
		ws, err := s2.Windows(ctx, j.ID, zero, zero)
		must(t, err)
		stored := len(ws) / 2
		if len(ws)%2 != 0 {
			t.Fatalf("%d windows: a second was stored in part", len(ws))
		}
		if stored < acked {
			t.Fatalf("%d seconds stored, but %d were acknowledged before the kill", stored, acked)
		}
		for i, w := range ws {
			if w.Seq != i/2+1 {
				t.Fatalf("window %d has seq %d: a gap", i, w.Seq)
			}
		}
	})
}
