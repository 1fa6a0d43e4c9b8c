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

// descendants is pid and every process below it, from the children files
// of each of its threads (/proc/<pid>/task/<tid>/children); processes
// that end meanwhile are skipped.
func descendants(pid int) []int {
	all := []int{pid}
	for i := 0; i < len(all); i++ {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", all[i]))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, field := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(field); err == nil {
					all = append(all, c)
				}
			}
		}
	}
	return all
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
