package shop

import (
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/headroom-sre/headroom/demo/internal/cpuquota"
)

// Config configures one shop instance. The zero value is usable: a private
// temporary database, a pool of 10, no faults, no traces exported.
type Config struct {
	// Addr is informational (the CLI listens on it); Serve takes a listener.
	Addr string
	// DBPath is the SQLite file; "" creates a private file in a temporary
	// directory, removed on Shutdown. Instances may share one file. A
	// postgres:// DSN (usually PgBouncer's) runs the shop on PostgreSQL.
	DBPath string
	// PgBouncerAdmin is PgBouncer's admin console DSN (database
	// "pgbouncer"): with it, the pool knob is PgBouncer's default_pool_size
	// and the shop's own pool is wide; without it, the shop's own pool.
	PgBouncerAdmin string

	// The fault knobs at start; see Knobs for their meaning.
	Pool              int // default 10
	NPlusOne          bool
	MissingIndex      bool
	CPUBurn           time.Duration
	DownstreamLatency time.Duration
	Alloc             int
	Capacity          int
	CPULimit          float64
	Leak              int
	ServiceTime       time.Duration
	HotRow            bool
	MutexHold         time.Duration

	// cgroups is where the cpu_limit knob makes its cgroup (zero: the
	// real host); tests point it at a fake tree.
	cgroups cpuquota.Host

	// OTLPEndpoint is host:port of an OTLP/HTTP trace receiver ("" = no export).
	OTLPEndpoint string
	// SpanExporter, when set, receives the spans instead of OTLPEndpoint
	// (tests use tracetest.InMemoryExporter). Shutdown shuts it down.
	SpanExporter sdktrace.SpanExporter
	// ServiceName is resource.service.name of the traces; default "shop".
	ServiceName string
	// Instance is service.instance.id of the traces and a label on nothing
	// else; default the listen address or "shop".
	Instance string

	// Products and Users are seeded when the database is new; defaults
	// 10000 and 1000. Orders seeded: twenty per user.
	Products int
	Users    int
}

// Seeding limits: enough for a realistic catalogue, small enough to start fast.
const (
	defaultProducts = 10000
	defaultUsers    = 1000
	maxSeed         = 1_000_000
	ordersPerUser   = 20
)

func (c Config) withDefaults() Config {
	if c.Pool == 0 {
		c.Pool = 10
	}
	if c.ServiceName == "" {
		c.ServiceName = "shop"
	}
	if c.Instance == "" {
		c.Instance = c.Addr
	}
	if c.Instance == "" {
		c.Instance = c.ServiceName
	}
	if c.Products == 0 {
		c.Products = defaultProducts
	}
	if c.Users == 0 {
		c.Users = defaultUsers
	}
	return c
}

func (c Config) validate() error {
	if c.Products < 1 || c.Products > maxSeed {
		return fmt.Errorf("shop: products: %d is outside 1..%d", c.Products, maxSeed)
	}
	if c.Users < 1 || c.Users > maxSeed/ordersPerUser {
		return fmt.Errorf("shop: users: %d is outside 1..%d", c.Users, maxSeed/ordersPerUser)
	}
	return c.knobs().validate()
}

func (c Config) knobs() Knobs {
	return Knobs{
		Pool:              c.Pool,
		NPlusOne:          c.NPlusOne,
		MissingIndex:      c.MissingIndex,
		CPUBurn:           c.CPUBurn,
		Alloc:             c.Alloc,
		DownstreamLatency: c.DownstreamLatency,
		Capacity:          c.Capacity,
		CPULimit:          c.CPULimit,
		Leak:              c.Leak,
		ServiceTime:       c.ServiceTime,
		HotRow:            c.HotRow,
		MutexHold:         c.MutexHold,
	}
}

// Validate reports the first bad field of c (after defaults) as New would.
func (c Config) Validate() error { return c.withDefaults().validate() }
