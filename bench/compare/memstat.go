package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// anonEvery is how often watchAnon samples.
const anonEvery = 100 * time.Millisecond

// watchAnon samples, every anonEvery until stop is closed, the anonymous
// resident memory (RssAnon) of root and its descendants, and sends the
// largest any one process had. Peak RSS from GNU time also counts the
// executable's pages mapped from the page cache, which for a large static
// binary such as headroom is most of it; RssAnon is the working memory
// the load itself takes (heap, stacks, buffers). A process that ends
// between two samples is missed; the tools here run for seconds.
func watchAnon(root int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(anonEvery)
		defer tick.Stop()
		for {
			for _, pid := range descendants(root) {
				if kb, err := rssAnonKB(pid); err == nil {
					peak = max(peak, kb)
				}
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// descendants is root and every process below it, from the parent pid in
// each /proc/<pid>/stat (the children files need a kernel option that not
// every kernel has); processes that end meanwhile are skipped.
func descendants(root int) []int {
	children := map[int][]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, ok := parsePPID(b); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	all := []int{root}
	for i := 0; i < len(all); i++ {
		all = append(all, children[all[i]]...)
	}
	return all
}

// parsePPID reads the parent pid from a /proc/<pid>/stat line, "pid
// (comm) state ppid …": after the last ')', since comm may hold spaces
// and parentheses.
func parsePPID(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// rssAnonKB reads RssAnon from /proc/<pid>/status.
func rssAnonKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseRssAnon(b)
}

// parseRssAnon finds "RssAnon:  1234 kB" in a /proc/<pid>/status text.
func parseRssAnon(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "RssAnon" {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc status: RssAnon %q: want a number of kB", strings.TrimSpace(value))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc status: RssAnon %q: want a number of kB", strings.TrimSpace(value))
		}
		return kb, nil
	}
	return 0, fmt.Errorf("/proc status: no RssAnon line")
}
