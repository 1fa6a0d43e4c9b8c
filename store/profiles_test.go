package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestProfilesRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "")
		other := newJob(t, s, p.ID, "study", "")
		raw := []byte{0x1f, 0x8b, 0, 1, 2, 3, 0xff}
		at := time.Date(2026, 3, 1, 10, 0, 0, 987654321, time.UTC)
		id, err := s.AddProfile(ctx, j.ID, Profile{Kind: "cpu", Phase: "baseline", Step: 1, Component: "shop",
			Seconds: 7, Requests: 140, FetchedAt: at, Raw: raw})
		must(t, err)
		now := c.Peek()
		id2, err := s.AddProfile(ctx, j.ID, Profile{Kind: "allocs", Phase: "search", Step: 3, Seconds: 5, Raw: []byte{9}})
		must(t, err)

		list, err := s.ProfileList(ctx, j.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != id || list[1].ID != id2 {
			t.Fatalf("ProfileList = %+v, want ids %d, %d", list, id, id2)
		}
		want := Profile{ID: id, JobID: j.ID, Kind: "cpu", Phase: "baseline", Step: 1, Component: "shop", Seconds: 7,
			Requests: 140, FetchedAt: at.Truncate(time.Microsecond), Bytes: len(raw)}
		if got := list[0]; got.Raw != nil || !equalProfile(got, want) {
			t.Errorf("ProfileList[0] = %+v, want %+v without bytes", got, want)
		}
		if !list[1].FetchedAt.Equal(now) {
			t.Errorf("a profile with no fetched_at has %v, want the store's now %v", list[1].FetchedAt, now)
		}

		got, err := s.Profile(ctx, j.ID, id)
		must(t, err)
		if !bytes.Equal(got.Raw, raw) || !equalProfile(got, want) {
			t.Errorf("Profile = %+v, want %+v with its bytes", got, want)
		}
		all, err := s.Profiles(ctx, j.ID)
		must(t, err)
		if len(all) != 2 || !bytes.Equal(all[0].Raw, raw) || !bytes.Equal(all[1].Raw, []byte{9}) {
			t.Errorf("Profiles = %+v, want both with their bytes", all)
		}

		if _, err := s.Profile(ctx, other.ID, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("another job's profile: %v, want ErrNotFound", err)
		}
		if _, err := s.ProfileList(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("profiles of an unknown job: %v, want ErrNotFound", err)
		}
		if _, err := s.AddProfile(ctx, 9999, Profile{Kind: "cpu", Raw: raw}); !errors.Is(err, ErrNotFound) {
			t.Errorf("a profile for an unknown job: %v, want ErrNotFound", err)
		}
		big := make([]byte, MaxProfileBytes+1)
		if _, err := s.AddProfile(ctx, j.ID, Profile{Kind: "cpu", Raw: big}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("a profile over the cap: %v, want ErrTooLarge", err)
		}
		if _, err := s.AddProfile(ctx, j.ID, Profile{Kind: "cpu"}); err == nil {
			t.Error("an empty profile was kept")
		}
		if _, err := s.AddProfile(ctx, j.ID, Profile{Raw: raw}); err == nil {
			t.Error("a profile without a kind was kept")
		}
		list, err = s.ProfileList(ctx, other.ID)
		must(t, err)
		if len(list) != 0 {
			t.Errorf("the other job has %d profiles, want 0", len(list))
		}
	})
}

func equalProfile(a, b Profile) bool {
	return a.ID == b.ID && a.JobID == b.JobID && a.Kind == b.Kind && a.Phase == b.Phase && a.Step == b.Step &&
		a.Component == b.Component && a.Seconds == b.Seconds && a.Requests == b.Requests && a.Bytes == b.Bytes &&
		a.FetchedAt.Equal(b.FetchedAt)
}
