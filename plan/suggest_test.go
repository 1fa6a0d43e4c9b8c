package plan

import "testing"

// TestSuggest proves which typos get a suggestion and which do not.
func TestSuggest(t *testing.T) {
	known := []string{"get", "post", "headers", "abortOnFail", "threshold"}
	cases := []struct{ word, want string }{
		{"gett", "get"},
		{"GET", "get"},
		{"haeders", "headers"}, // swapped neighbours count once
		{"abortonfial", "abortOnFail"},
		{"treshhold", "threshold"},
		{"pst", "post"},
		{"body", ""}, // not close to anything
		{"xyz", ""},
		{string(make([]byte, 100)), ""}, // hostile length is cut off
	}
	for _, c := range cases {
		if got := suggest(c.word, known); got != c.want {
			t.Errorf("suggest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}
