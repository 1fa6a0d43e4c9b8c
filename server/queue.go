package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// DefaultAllow is the server's allow-list when --allow is not given: load
// goes to this machine only. It is also the default of --observe-allow and
// of the webhook allow-list.
var DefaultAllow = []string{"127.0.0.1", "localhost", "::1"}

// ownAddr is the address this server listens on, once Serve has it: no
// plan may send load, or point observe, there.
type ownAddr struct{ v atomic.Pointer[net.TCPAddr] }

// denies reports whether e is this server's own address.
func (o *ownAddr) denies(e plan.Endpoint) bool {
	a := o.v.Load()
	if a == nil {
		return false
	}
	var own []string
	if a.IP != nil && !a.IP.IsUnspecified() {
		own = append(own, a.IP.String())
	}
	if a.IP == nil || a.IP.IsUnspecified() {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, ad := range addrs {
				if n, ok := ad.(*net.IPNet); ok {
					own = append(own, n.IP.String())
				}
			}
		}
	}
	return e.Local(a.Port, own...)
}

// rulesFrom builds the plan rules of a configuration.
func rulesFrom(cfg Config, own *ownAddr) (plan.Rules, error) {
	load, err := plan.ParseHostList(cfg.Allow)
	if err != nil {
		return plan.Rules{}, fmt.Errorf("--allow: %w", err)
	}
	obs, err := plan.ParseHostList(cfg.ObserveAllow)
	if err != nil {
		return plan.Rules{}, fmt.Errorf("--observe-allow: %w", err)
	}
	return plan.Rules{
		Shared: true, Load: load, Observe: obs, Env: cfg.PlanEnv, MaxVUs: cfg.MaxVUs, Deny: own.denies,
		Files: plan.Files{Dir: cfg.DataDir, MaxBytes: cfg.MaxDataBytes, MaxRows: cfg.MaxDataRows},
	}, nil
}

// parsePlan parses a plan's text under this server's rules.
func (s *Server) parsePlan(file string, text []byte) (*plan.Plan, error) {
	return plan.ParseWith(file, text, s.rules)
}

// loadPlan reads a stored plan version (0 = the latest) and parses it
// under this server's rules: the one way a stored plan becomes runnable.
func (s *Server) loadPlan(ctx context.Context, id int64, version int) (store.Plan, *plan.Plan, error) {
	sp, err := s.st.GetPlan(ctx, id, version)
	if err != nil {
		return sp, nil, err
	}
	p, err := s.parsePlan(planFile(sp.Name), []byte(sp.YAML))
	return sp, p, err
}

// checkSettings caps a job's settings at this server's limits and checks
// the URLs they send load to; the result is what the job runs with.
func (s *Server) checkSettings(st pipeline.Settings) (pipeline.Settings, error) {
	if s.cfg.MaxRate > 0 && (st.MaxRate <= 0 || st.MaxRate > s.cfg.MaxRate) {
		st.MaxRate = s.cfg.MaxRate
	}
	return st, nil
}

// checkSettingsURLs checks the URLs a job's settings send load to: on the
// server's allow-list and the plan's.
func (s *Server) checkSettingsURLs(p *plan.Plan, st pipeline.Settings) error {
	for _, f := range []struct{ field, url string }{{"settings.base_url", st.BaseURL}, {"settings.verify_url", st.VerifyURL}} {
		if err := s.rules.CheckURL(f.field, f.url); err != nil {
			return err
		}
		if f.url == "" {
			continue
		}
		if e, _ := plan.URLEndpoint(f.url); !p.Allowed(e.Host) {
			return &plan.Error{Field: f.field, Msg: fmt.Sprintf("host %q is not allowed by the plan (target.allow)", e.Host)}
		}
	}
	return nil
}

// enqueue is the one way a job is queued (POST /jobs, schedules): the
// plan version parsed under the rules, its settings capped and checked,
// the job created with its normalised target, the runner woken.
func (s *Server) enqueue(ctx context.Context, sp store.Plan, p *plan.Plan, kind pipeline.Kind, settings pipeline.Settings) (store.Job, error) {
	if kind != pipeline.KindRun && kind != pipeline.KindStudy {
		return store.Job{}, fmt.Errorf("%w: kind %q: want \"run\" or \"study\"", errInvalid, kind)
	}
	settings, err := s.checkSettings(settings)
	if err != nil {
		return store.Job{}, err
	}
	if err := s.checkSettingsURLs(p, settings); err != nil {
		return store.Job{}, err
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return store.Job{}, err
	}
	job, err := s.st.CreateJob(ctx, store.Job{PlanID: sp.ID, PlanVersion: sp.Version, Kind: string(kind),
		Settings: raw, Target: p.TargetKey(settings.BaseURL)})
	if err != nil {
		return store.Job{}, err
	}
	s.runner.poke()
	return job, nil
}

// webhookList is the webhook allow-list.
func webhookList(cfg Config) (plan.HostList, error) {
	l, err := plan.ParseHostList(cfg.WebhookAllow)
	if err != nil {
		return l, fmt.Errorf("webhook allow-list: %w", err)
	}
	return l, nil
}

// checkWebhookURL refuses a webhook that is not an http(s) URL to an
// endpoint on the webhook allow-list; "" (no webhook) is fine.
func checkWebhookURL(l plan.HostList, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: webhook %q: want an http:// or https:// URL", errInvalid, raw)
	}
	e, err := plan.URLEndpoint(raw)
	if err != nil {
		return fmt.Errorf("%w: webhook: %v", errInvalid, err)
	}
	if !l.Allows(e) {
		return fmt.Errorf("%w: webhook %s is outside this server's webhook allow-list (%s)", errInvalid, e, l)
	}
	return nil
}

// queueLatest queues a job of the latest version of planID with the
// server's default settings (a schedule's review).
func (s *Server) queueLatest(ctx context.Context, planID int64, kind pipeline.Kind) (store.Job, string, error) {
	sp, p, err := s.loadPlan(ctx, planID, 0)
	if err != nil {
		return store.Job{}, sp.Name, err
	}
	job, err := s.enqueue(ctx, sp, p, kind, pipeline.Settings{})
	return job, sp.Name, err
}
