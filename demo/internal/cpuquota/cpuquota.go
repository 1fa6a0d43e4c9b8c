// Package cpuquota runs processes under a real CFS CPU quota: it creates a
// cgroup of its own through the cgroup cpu controller the host offers
// (cgroup v1's cpu.cfs_quota_us or cgroup v2's cpu.max), sets the quota,
// moves processes in, reads the kernel's throttling counters (cpu.stat) and
// removes the cgroup again. It needs root (or a delegated, writable cgroup).
//
//	g, err := cpuquota.Create(cpuquota.Host{}, "headroom-shop", os.Getpid())
//	if err != nil { ... }          // says why neither v1 nor v2 is usable
//	defer g.Remove(os.Getpid())    // moves the process back, removes the cgroup
//	err = g.SetLimit(0.5)          // half a core per period
//	st, err := g.Stat()            // st.ThrottledPeriods rises under load
package cpuquota

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the cgroup hierarchy's version.
type Version int

// The two cgroup versions.
const (
	V1 Version = 1
	V2 Version = 2
)

func (v Version) String() string { return "v" + strconv.Itoa(int(v)) }

// Host says where the cgroup filesystem and this process's cgroup file are.
// The zero value is the real host: /sys/fs/cgroup and /proc/self/cgroup.
// Tests point them at a fake tree.
type Host struct {
	Root       string // the cgroup mount root; "" = /sys/fs/cgroup
	SelfCgroup string // this process's cgroup membership; "" = /proc/self/cgroup

	// RemoveDir removes a cgroup; nil = os.Remove (a real cgroup's control
	// files go with it; a fake tree's need os.RemoveAll).
	RemoveDir func(string) error
}

func (h Host) withDefaults() Host {
	if h.Root == "" {
		h.Root = "/sys/fs/cgroup"
	}
	if h.SelfCgroup == "" {
		h.SelfCgroup = "/proc/self/cgroup"
	}
	if h.RemoveDir == nil {
		h.RemoveDir = os.Remove
	}
	return h
}

// Limits of SetLimit, in cores.
const (
	MinLimit = 0.01
	MaxLimit = 1024.0
)

// Group is one cgroup created by Create, with the cpu controller.
type Group struct {
	// Version is the hierarchy it lives in.
	Version Version
	// Dir is its folder, e.g. /sys/fs/cgroup/cpu/headroom-shop-4242.
	Dir string
	// Path is its path inside the hierarchy (cAdvisor's id label), e.g.
	// /headroom-shop-4242.
	Path string

	home  string // the cgroup folder processes return to on Remove
	rmdir func(string) error
}

// Create makes the cgroup name-pid (after removing empty ones that earlier
// processes of the same name left behind), moves pid into it, and returns
// it with no quota set. It tries cgroup v1's cpu hierarchy first, then v2;
// the error says why neither could be used.
func Create(h Host, name string, pid int) (*Group, error) {
	h = h.withDefaults()
	if name == "" || strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("cpuquota: cgroup name %q must be a plain name", name)
	}
	self, err := os.ReadFile(h.SelfCgroup)
	if err != nil {
		return nil, fmt.Errorf("cpuquota: reading this process's cgroup: %w", err)
	}
	var why []string
	for _, find := range []func(Host, []byte) (site, error){findV1, findV2} {
		s, err := find(h, self)
		if err == nil {
			var g *Group
			if g, err = s.create(h, name, pid); err == nil {
				return g, nil
			}
		}
		why = append(why, err.Error())
	}
	return nil, fmt.Errorf("cpuquota: no writable cgroup cpu controller under %s (a CPU limit needs root and the cgroup cpu controller): %s",
		h.Root, strings.Join(why, "; "))
}

// site is where a new cgroup goes in one hierarchy.
type site struct {
	version Version
	mount   string // the hierarchy's mount folder
	parent  string // hierarchy path the new cgroup is created under
	home    string // hierarchy path of this process's cgroup
}

// findV1 finds the v1 hierarchy with the cpu controller: its mount under the
// root holds cpu.cfs_quota_us; this process's place in it is the
// /proc/self/cgroup line whose controllers include cpu.
func findV1(h Host, self []byte) (site, error) {
	for _, dir := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
		mount := filepath.Join(h.Root, dir)
		if _, err := os.Stat(filepath.Join(mount, "cpu.cfs_quota_us")); err != nil {
			continue
		}
		path := "/"
		for _, line := range strings.Split(string(self), "\n") {
			f := strings.SplitN(line, ":", 3)
			if len(f) == 3 && f[0] != "0" && slices.Contains(strings.Split(f[1], ","), "cpu") {
				path = f[2]
			}
		}
		// In a cgroup namespace the path can name a folder this mount does
		// not show; the mount's own root is then ours.
		if _, err := os.Stat(filepath.Join(mount, path)); err != nil {
			path = "/"
		}
		return site{version: V1, mount: mount, parent: path, home: path}, nil
	}
	return site{}, fmt.Errorf("v1: no cpu hierarchy with cpu.cfs_quota_us under %s", h.Root)
}

// findV2 finds the unified hierarchy (at the root, or at root/unified in
// hybrid mode) with the cpu controller available. New cgroups go at its
// top, where the rule that only leaves hold processes does not apply.
func findV2(h Host, self []byte) (site, error) {
	for _, mount := range []string{h.Root, filepath.Join(h.Root, "unified")} {
		b, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
		if err != nil {
			continue
		}
		if !slices.Contains(strings.Fields(string(b)), "cpu") {
			return site{}, fmt.Errorf("v2: %s does not offer the cpu controller (cgroup.controllers: %q)",
				mount, strings.TrimSpace(string(b)))
		}
		home := "/"
		for _, line := range strings.Split(string(self), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok {
				home = p
			}
		}
		if _, err := os.Stat(filepath.Join(mount, home, "cgroup.procs")); err != nil {
			home = "/"
		}
		return site{version: V2, mount: mount, parent: "/", home: home}, nil
	}
	return site{}, fmt.Errorf("v2: no cgroup2 hierarchy (cgroup.controllers) at %s or %s/unified", h.Root, h.Root)
}

func (s site) create(h Host, name string, pid int) (*Group, error) {
	parentDir := filepath.Join(s.mount, s.parent)
	removeStale(parentDir, name, h.RemoveDir)
	if s.version == V2 {
		if err := enableCPU(parentDir); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(s.parent, name+"-"+strconv.Itoa(pid))
	g := &Group{Version: s.version, Dir: filepath.Join(s.mount, path), Path: path,
		home: filepath.Join(s.mount, s.home), rmdir: h.RemoveDir}
	if err := os.Mkdir(g.Dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s: creating a cgroup: %w", s.version, err)
	}
	if err := g.Add(pid); err != nil {
		_ = g.rmdir(g.Dir)
		return nil, fmt.Errorf("%s: %w", s.version, err)
	}
	return g, nil
}

// enableCPU makes the cpu controller available to dir's children (v2).
func enableCPU(dir string) error {
	file := filepath.Join(dir, "cgroup.subtree_control")
	b, err := os.ReadFile(file)
	if err == nil && slices.Contains(strings.Fields(string(b)), "cpu") {
		return nil
	}
	if err := os.WriteFile(file, []byte("+cpu"), 0o644); err != nil {
		return fmt.Errorf("v2: enabling the cpu controller for %s's children: %w", dir, err)
	}
	return nil
}

// removeStale removes parent's empty name-<pid> cgroups whose process is
// gone (a process killed before it could remove its own).
func removeStale(parent, name string, rmdir func(string) error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), name+"-")
		pid, err := strconv.Atoi(rest)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue // its process still runs
		}
		dir := filepath.Join(parent, e.Name())
		if procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil && strings.TrimSpace(string(procs)) == "" {
			_ = rmdir(dir)
		}
	}
}

// Add moves the process pid (all its threads) into the cgroup.
func (g *Group) Add(pid int) error {
	return writeProcs(g.Dir, pid)
}

func writeProcs(dir string, pid int) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("moving process %d into %s: %w", pid, dir, err)
	}
	return nil
}

// SetLimit sets the quota to cores CPUs per period (0 removes the quota).
func (g *Group) SetLimit(cores float64) error {
	if cores != 0 && (cores < MinLimit || cores > MaxLimit || math.IsNaN(cores)) {
		return fmt.Errorf("cpuquota: limit %g cores is outside %g..%g (0 = none)", cores, MinLimit, MaxLimit)
	}
	_, period, err := g.Limit()
	if err != nil {
		return err
	}
	quota := int64(math.Round(cores * float64(period.Microseconds())))
	if g.Version == V1 {
		v := "-1"
		if cores > 0 {
			v = strconv.FormatInt(max(quota, 1000), 10)
		}
		return g.write("cpu.cfs_quota_us", v)
	}
	v := "max"
	if cores > 0 {
		v = strconv.FormatInt(max(quota, 1000), 10)
	}
	return g.write("cpu.max", v+" "+strconv.FormatInt(period.Microseconds(), 10))
}

// Limit returns the quota per period (0 when there is none) and the period.
func (g *Group) Limit() (quota, period time.Duration, err error) {
	if g.Version == V1 {
		q, err := g.readInt("cpu.cfs_quota_us")
		if err != nil {
			return 0, 0, err
		}
		p, err := g.readInt("cpu.cfs_period_us")
		if err != nil {
			return 0, 0, err
		}
		return time.Duration(max(q, 0)) * time.Microsecond, time.Duration(p) * time.Microsecond, nil
	}
	b, err := os.ReadFile(filepath.Join(g.Dir, "cpu.max"))
	if err != nil {
		return 0, 0, fmt.Errorf("cpuquota: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("cpuquota: %s/cpu.max: %q is not \"quota period\"", g.Dir, b)
	}
	p, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cpuquota: %s/cpu.max: period %q: %w", g.Dir, f[1], err)
	}
	if f[0] == "max" {
		return 0, time.Duration(p) * time.Microsecond, nil
	}
	q, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cpuquota: %s/cpu.max: quota %q: %w", g.Dir, f[0], err)
	}
	return time.Duration(q) * time.Microsecond, time.Duration(p) * time.Microsecond, nil
}

// Stat reads the cgroup's throttling counters.
func (g *Group) Stat() (Stat, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, "cpu.stat"))
	if err != nil {
		return Stat{}, fmt.Errorf("cpuquota: %w", err)
	}
	return ParseStat(b, g.Version)
}

// Remove moves the processes pids back to the cgroup the first one came
// from and removes the cgroup. The cgroup cannot be removed while a process
// is still in it.
func (g *Group) Remove(pids ...int) error {
	var errs []error
	for _, pid := range pids {
		if err := writeProcs(g.home, pid); err != nil {
			errs = append(errs, err)
		}
	}
	if err := g.rmdir(g.Dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("removing %s: %w", g.Dir, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cpuquota: %w", err)
	}
	return nil
}

func (g *Group) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(g.Dir, file), []byte(value), 0o644); err != nil {
		return fmt.Errorf("cpuquota: setting %s to %s: %w", file, value, err)
	}
	return nil
}

func (g *Group) readInt(file string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, file))
	if err != nil {
		return 0, fmt.Errorf("cpuquota: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cpuquota: %s/%s: %w", g.Dir, file, err)
	}
	return n, nil
}
