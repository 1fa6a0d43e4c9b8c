package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestAgentFlags: bad flags are refused with exit 2 and a line naming the flag.
func TestAgentFlags(t *testing.T) {
	t.Setenv("HEADROOM_AGENT_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token", "t"}, "--server"},
		{[]string{"--server", "ftp://x", "--token", "t"}, "--server"},
		{[]string{"--server", "http://127.0.0.1:1"}, "--token"},
		{[]string{"--server", "http://127.0.0.1:1", "--token", "t", "--jobs", "0"}, "--jobs"},
		{[]string{"--server", "http://127.0.0.1:1", "--token", "t", "--max-rate", "5", "--calibrate", "1s"}, "--calibrate"},
		{[]string{"--server", "http://127.0.0.1:1", "--token-file", "/nonexistent/token"}, "--token-file"},
		{[]string{"--server", "http://127.0.0.1:1", "--token", "t", "extra"}, "extra"},
	} {
		var out, errb bytes.Buffer
		if code := agentCmd(tc.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %s", tc.args, code, errb.String(), exitUsage, tc.want)
		}
	}
}
