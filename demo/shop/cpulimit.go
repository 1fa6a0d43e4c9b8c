package shop

import (
	"fmt"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom-sre/headroom/demo/internal/cpuquota"
)

// cgroupName is the prefix of the shop's cgroup; the process ID follows.
const cgroupName = "headroom-shop"

// cpuLimit runs the whole process the shop is in under a CFS quota (the
// cpu_limit knob): on the first limit it creates a cgroup of its own and
// moves the process into it; Shutdown moves it back and removes the cgroup.
type cpuLimit struct {
	host cpuquota.Host
	pid  int

	mu    sync.Mutex
	group *cpuquota.Group // nil until a limit is first set
}

// set applies a limit in cores; 0 lifts it (the cgroup stays until close).
func (c *cpuLimit) set(cores float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.group == nil {
		if cores == 0 {
			return nil
		}
		g, err := cpuquota.Create(c.host, cgroupName, c.pid)
		if err != nil {
			return fmt.Errorf("shop: cpu_limit: %w", err)
		}
		c.group = g
	}
	if err := c.group.SetLimit(cores); err != nil {
		return fmt.Errorf("shop: cpu_limit: %w", err)
	}
	return nil
}

// close moves the process back to its cgroup and removes the shop's.
func (c *cpuLimit) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.group == nil {
		return nil
	}
	err := c.group.Remove(c.pid)
	c.group = nil
	if err != nil {
		return fmt.Errorf("shop: cpu_limit: %w", err)
	}
	return nil
}

func (c *cpuLimit) current() *cpuquota.Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.group
}

// cfsCollector exports the kernel's counters of the shop's cgroup under
// cAdvisor's names, so the PromQL that reads a Kubernetes container's
// throttling reads the shop's too. Nothing is exported before a limit is
// first set; the quota and period gauges only while one is.
type cfsCollector struct {
	limit     *cpuLimit
	container string

	periods, throttledPeriods, throttledSeconds, quota, period *prometheus.Desc
}

func newCFSCollector(limit *cpuLimit, container string) *cfsCollector {
	labels := []string{"container", "id"}
	return &cfsCollector{
		limit: limit, container: container,
		periods: prometheus.NewDesc("container_cpu_cfs_periods_total",
			"Number of elapsed enforcement period intervals (cpu.stat nr_periods).", labels, nil),
		throttledPeriods: prometheus.NewDesc("container_cpu_cfs_throttled_periods_total",
			"Number of throttled period intervals (cpu.stat nr_throttled).", labels, nil),
		throttledSeconds: prometheus.NewDesc("container_cpu_cfs_throttled_seconds_total",
			"Total time duration the container has been throttled (cpu.stat throttled_time / throttled_usec).", labels, nil),
		quota: prometheus.NewDesc("container_spec_cpu_quota",
			"CPU quota of the container, in microseconds per period.", labels, nil),
		period: prometheus.NewDesc("container_spec_cpu_period",
			"CPU period of the container, in microseconds.", labels, nil),
	}
}

// Describe sends the descriptors of every series the collector can export.
func (c *cfsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.periods, c.throttledPeriods, c.throttledSeconds, c.quota, c.period} {
		ch <- d
	}
}

// Collect reads cpu.stat and the quota at scrape time.
func (c *cfsCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.limit.current()
	if g == nil {
		return
	}
	// A failed read leaves the series out of this scrape rather than
	// failing the whole scrape.
	st, err := g.Stat()
	if err != nil {
		return
	}
	lv := []string{c.container, g.Path}
	ch <- prometheus.MustNewConstMetric(c.periods, prometheus.CounterValue, float64(st.Periods), lv...)
	ch <- prometheus.MustNewConstMetric(c.throttledPeriods, prometheus.CounterValue, float64(st.ThrottledPeriods), lv...)
	ch <- prometheus.MustNewConstMetric(c.throttledSeconds, prometheus.CounterValue, st.Throttled.Seconds(), lv...)
	if quota, period, err := g.Limit(); err == nil && quota > 0 {
		ch <- prometheus.MustNewConstMetric(c.quota, prometheus.GaugeValue, float64(quota.Microseconds()), lv...)
		ch <- prometheus.MustNewConstMetric(c.period, prometheus.GaugeValue, float64(period.Microseconds()), lv...)
	}
}

var _ prometheus.Collector = (*cfsCollector)(nil)

// newCPULimit is the shop's limiter for this process on host.
func newCPULimit(host cpuquota.Host) *cpuLimit {
	return &cpuLimit{host: host, pid: os.Getpid()}
}
