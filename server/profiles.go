package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/profiles"
	"github.com/headroom-sre/headroom/report"
	"github.com/headroom-sre/headroom/store"
)

// topFunctions is how many functions each profile lists.
const topFunctions = 5

// profileDoc is one kept profile as GET /jobs/:id/profiles lists it.
type profileDoc struct {
	ID        string           `json:"id"`
	Kind      string           `json:"kind"`
	Phase     string           `json:"phase"`
	Step      int              `json:"step"`
	Component string           `json:"component"`
	Seconds   float64          `json:"seconds"`
	Requests  int64            `json:"requests"`
	Bytes     int              `json:"bytes"`
	FetchedAt time.Time        `json:"fetched_at"`
	Unit      string           `json:"unit,omitempty"`
	Top       []profiles.Entry `json:"top"`
	Problem   string           `json:"problem,omitempty"`
	Download  string           `json:"download"`
}

// apiKind is a stored profile kind as the API names it (allocs is "alloc").
func apiKind(k string) string { return profiles.Kind(k).Name() }

// getProfiles is GET /api/v1/jobs/:id/profiles: the job's kept profiles,
// each with its top functions against the baseline step's.
func (s *Server) getProfiles(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	ps, err := s.st.Profiles(c.Request().Context(), j.ID)
	if err != nil {
		return err
	}
	// Each kept profile against the baseline step's of its kind and
	// component, as profiles.List sums up a study's (the CLI's list too).
	kept := make([]profiles.Kept, len(ps))
	parseErrs := make([]error, len(ps))
	for i, p := range ps {
		kept[i] = profiles.Kept{Phase: p.Phase, Component: p.Component, Step: p.Step, Requests: p.Requests}
		pp, err := profiles.Parse(p.Raw)
		if err != nil {
			parseErrs[i] = fmt.Errorf("profile %d: %w", p.ID, err)
			continue
		}
		kept[i].Fetched = &profiles.Fetched{Kind: profiles.Kind(p.Kind), Raw: p.Raw, Profile: pp}
	}
	docs := make([]profileDoc, 0, len(ps))
	for i, l := range profiles.List(kept, topFunctions) {
		p := ps[i]
		d := profileDoc{
			ID: strconv.FormatInt(p.ID, 10), Kind: apiKind(p.Kind), Phase: p.Phase, Step: p.Step, Component: p.Component,
			Seconds: p.Seconds, Requests: p.Requests, Bytes: p.Bytes, FetchedAt: p.FetchedAt, Unit: l.Unit,
			Top: []profiles.Entry{}, Download: fmt.Sprintf("/api/v1/jobs/%d/profiles/%d", j.ID, p.ID),
		}
		switch {
		case parseErrs[i] != nil:
			d.Problem = parseErrs[i].Error()
		case l.Problem != "":
			d.Problem = l.Problem
		default:
			for _, r := range l.Top {
				d.Top = append(d.Top, l.Diff.Entry(r, l.Unit))
			}
		}
		docs = append(docs, d)
	}
	return c.JSON(http.StatusOK, map[string]any{"profiles": docs})
}

// profileOf reads the profile the path names, with its bytes.
func (s *Server) profileOf(c echo.Context) (store.Job, store.Profile, error) {
	j, err := s.jobOf(c)
	if err != nil {
		return store.Job{}, store.Profile{}, err
	}
	pid, err := parseID(c.Param("pid"), "profile id")
	if err != nil {
		return j, store.Profile{}, err
	}
	p, err := s.st.Profile(c.Request().Context(), j.ID, pid)
	return j, p, err
}

// getProfile is GET /api/v1/jobs/:id/profiles/:pid: the profile as the
// service sent it (gzipped protobuf), for `go tool pprof`.
func (s *Server) getProfile(c echo.Context) error {
	j, p, err := s.profileOf(c)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("job%d-%s-%s%d-%d.pb.gz", j.ID, apiKind(p.Kind), p.Phase, p.Step, p.ID)
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, p.Raw)
}

// getFlame is GET /api/v1/jobs/:id/profiles/:pid/flame: the profile's
// flame graph, stacks merged by function name from the root.
func (s *Server) getFlame(c echo.Context) error {
	_, p, err := s.profileOf(c)
	if err != nil {
		return err
	}
	pp, err := profiles.Parse(p.Raw)
	if err != nil {
		return fmt.Errorf("profile %d: %w", p.ID, err)
	}
	root, err := profiles.Flame(pp, profiles.Kind(p.Kind))
	if err != nil {
		return fmt.Errorf("profile %d: %w", p.ID, err)
	}
	return c.JSON(http.StatusOK, root)
}

// reportProfiles is what a report says of the job's kept profiles (nil
// when none are kept or they cannot be read: the report goes without).
func (s *Server) reportProfiles(c echo.Context, jobID int64) *report.Profiles {
	ps, err := s.st.ProfileList(c.Request().Context(), jobID)
	if err != nil || len(ps) == 0 {
		return nil
	}
	out := &report.Profiles{Count: len(ps), Kinds: map[string]int{}, URL: fmt.Sprintf("/api/v1/jobs/%d/profiles", jobID)}
	for _, p := range ps {
		out.Kinds[apiKind(p.Kind)]++
	}
	return out
}
