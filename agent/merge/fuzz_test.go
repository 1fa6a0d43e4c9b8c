package merge

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzAdd feeds windows with arbitrary histograms and counts: Add either
// keeps the window or rejects it with ErrInvalid, and never panics; what it
// keeps merges.
func FuzzAdd(f *testing.F) {
	r := rand.New(rand.NewPCG(31, 32))
	good := window(f, r, trio[0], 0, names, nil)
	f.Add(good.Total.HDR, int64(0), int64(10), int64(1), int64(time.Second))
	f.Add(good.ByName[0].HDR[:20], int64(3), int64(0), int64(0), int64(time.Second))
	f.Add([]byte("HISTFAAAACR4nJNpmSzMwMDAyAABMFoEaBlA"), int64(1), int64(5), int64(9), int64(0))
	f.Add([]byte{}, int64(-1), int64(-5), int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, hdr []byte, second, requests, errs, dur int64) {
		m := mustNew(t, Options{Agents: []string{"a"}, Start: t0})
		w := good
		w.Agent = "a"
		w.Second = second
		w.Duration = time.Duration(dur)
		w.ByName = append([]Name(nil), good.ByName...)
		w.ByName[0].HDR = hdr
		w.ByName[0].Requests = requests
		w.ByName[0].Errors = errs
		st, err := m.Add(w)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if st != Accepted {
			t.Fatalf("status %s, want accepted", st)
		}
		if got := m.Flush(); len(got) == 0 || got[len(got)-1].Index != second {
			t.Fatalf("Flush gave %d seconds, want up to %d", len(got), second)
		}
	})
}
