package derive

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// HAR is the part of a HAR 1.2 document (an HTTP Archive, as browsers'
// developer tools save it) that a plan needs.
type HAR struct {
	Log struct {
		Version string     `json:"version"`
		Entries []HAREntry `json:"entries"`
	} `json:"log"`
}

// HAREntry is one request and its response.
type HAREntry struct {
	Started time.Time `json:"startedDateTime"`
	Time    float64   `json:"time"` // milliseconds, the whole exchange
	Request struct {
		Method   string      `json:"method"`
		URL      string      `json:"url"`
		Headers  []HARHeader `json:"headers"`
		PostData *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"postData,omitempty"`
	} `json:"request"`
	Response struct {
		Status  int         `json:"status"`
		Headers []HARHeader `json:"headers"`
		Content struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Encoding string `json:"encoding,omitempty"`
		} `json:"content"`
	} `json:"response"`
}

// HARHeader is one header of a HAR request or response.
type HARHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HAROptions shape the plan FromHAR writes.
type HAROptions struct {
	Name    string // plan name; default "recorded"
	BaseURL string // target.base_url; default the origin of the first API request
	// Host keeps the requests to this host (host or host:port); default
	// the host of the first request that is not a static asset.
	Host string
	// Command is how the plan was made, for its first comment.
	Command string
}

// ReadHAR decodes a HAR document.
func ReadHAR(r io.Reader) (*HAR, error) {
	var h HAR
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("not a HAR document: %w", err)
	}
	if len(h.Log.Entries) == 0 {
		return nil, fmt.Errorf("log.entries: no requests in the HAR document")
	}
	for i, e := range h.Log.Entries {
		if e.Request.Method == "" || e.Request.URL == "" {
			return nil, fmt.Errorf("log.entries[%d].request: method and url are required", i)
		}
		if _, err := url.Parse(e.Request.URL); err != nil {
			return nil, fmt.Errorf("log.entries[%d].request.url: %v", i, err)
		}
	}
	return &h, nil
}

// harStep is one request of the recorded journey as the plan will send it.
type harStep struct {
	e       *HAREntry
	method  string
	path    string // with the query; values replaced by templates
	headers map[string]string
	json    any    // decoded JSON body, values replaced
	form    string // a non-JSON body, as is
	extract []harExtract
	think   time.Duration
	comment []string
}

// captured is a value some response carried, and where.
type captured struct {
	step int
	path string // gjson path in that response
	v    string
}

// FromHAR writes a plan of the recording: one journey of its requests to
// the API's host, static assets and other hosts left out, with the pauses
// between them as think times, the headers that matter, and every value a
// request reuses from an earlier response extracted there (`extract`) and
// templated here (`{{ .vars.name }}`). Secrets (passwords, tokens that no
// response gave) become environment variables the plan lists in
// target.env; the comments say which.
func FromHAR(w io.Writer, h *HAR, opts HAROptions) error {
	if opts.Name == "" {
		opts.Name = "recorded"
	}
	entries := make([]*HAREntry, 0, len(h.Log.Entries))
	for i := range h.Log.Entries {
		entries = append(entries, &h.Log.Entries[i])
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Started.Before(entries[j].Started) })
	host := opts.Host
	var origin string
	for _, e := range entries {
		u, _ := url.Parse(e.Request.URL)
		if host == "" && !staticAsset(u, e) {
			host = u.Host
		}
		if u.Host == host && origin == "" {
			origin = u.Scheme + "://" + u.Host
		}
	}
	if host == "" || origin == "" {
		return fmt.Errorf("the HAR document holds no API request (only static assets)")
	}
	base := opts.BaseURL
	if base == "" {
		base = origin
	}
	var steps []*harStep
	var dropped []string
	var prevEnd time.Time
	for _, e := range entries {
		u, _ := url.Parse(e.Request.URL)
		if u.Host != host || staticAsset(u, e) {
			dropped = append(dropped, e.Request.Method+" "+shorten(e.Request.URL))
			continue
		}
		st := &harStep{e: e, method: strings.ToUpper(e.Request.Method), path: u.EscapedPath(), headers: map[string]string{}}
		if u.RawQuery != "" {
			st.path += "?" + u.RawQuery
		}
		if !prevEnd.IsZero() && len(steps) > 0 {
			if d := e.Started.Sub(prevEnd); d > 50*time.Millisecond {
				steps[len(steps)-1].think = d.Round(10 * time.Millisecond)
			}
		}
		prevEnd = e.Started.Add(time.Duration(e.Time * float64(time.Millisecond)))
		if pd := e.Request.PostData; pd != nil && pd.Text != "" {
			if strings.Contains(pd.MimeType, "json") && gjson.Valid(pd.Text) {
				_ = json.Unmarshal([]byte(pd.Text), &st.json)
			} else {
				st.form = pd.Text
			}
		}
		for _, hd := range e.Request.Headers {
			if keepHeader(hd.Name) {
				st.headers[canonical(hd.Name)] = hd.Value
			}
		}
		steps = append(steps, st)
	}
	env := linkValues(steps)
	return writeHARPlan(w, opts, base, host, steps, dropped, env, len(entries))
}

// linkValues finds the values requests reuse from earlier responses,
// adds the extractions and replaces the values by templates; it returns
// the environment variables that stand for secrets.
func linkValues(steps []*harStep) []string {
	var seen []captured
	vars := map[string]string{} // value → var name
	names := map[string]bool{}
	var env []string
	varFor := func(v string) (string, bool) {
		if n, ok := vars[v]; ok {
			return n, true
		}
		for i := len(seen) - 1; i >= 0; i-- {
			c := seen[i]
			if c.v != v {
				continue
			}
			name := varName(c.path, names)
			vars[v] = name
			st := steps[c.step]
			st.extract = append(st.extract, harExtract{Var: name, Path: c.path})
			return name, true
		}
		return "", false
	}
	secret := func(key string) string {
		name := "HAR_" + strings.ToUpper(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, key))
		for _, e := range env {
			if e == name {
				return name
			}
		}
		env = append(env, name)
		return name
	}
	for i, st := range steps {
		// the path's segments and the query's values
		u, _ := url.Parse(st.path)
		segs := strings.Split(u.EscapedPath(), "/")
		for k, s := range segs {
			if linkable(s) {
				if n, ok := varFor(s); ok {
					segs[k] = "{{ .vars." + n + " }}"
				}
			}
		}
		p := strings.Join(segs, "/")
		if u.RawQuery != "" {
			var qs []string
			for _, kv := range strings.Split(u.RawQuery, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if uv, err := url.QueryUnescape(v); err == nil && linkable(uv) {
					if n, ok := varFor(uv); ok {
						v = "{{ .vars." + n + " }}"
					}
				}
				qs = append(qs, k+"="+v)
			}
			p += "?" + strings.Join(qs, "&")
		}
		st.path = p
		// headers: a bearer token from a response, or a secret
		for k, v := range st.headers {
			if k != "Authorization" {
				continue
			}
			scheme, cred, ok := strings.Cut(v, " ")
			if !ok {
				scheme, cred = "", v
			}
			if n, ok := varFor(cred); ok {
				st.headers[k] = strings.TrimSpace(scheme + " {{ .vars." + n + " }}")
			} else {
				st.headers[k] = strings.TrimSpace(scheme + " {{ .env." + secret("token") + " }}")
				st.comment = append(st.comment, "Authorization came from no earlier response: set HAR_TOKEN")
			}
		}
		// the JSON body's values
		st.json = walkJSON(st.json, "", func(key string, v any) any {
			if secretKey(key) {
				return "{{ .env." + secret(key) + " }}"
			}
			var s string
			switch x := v.(type) {
			case string:
				s = x
			case float64:
				s = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				return v
			}
			if linkable(s) {
				if n, ok := varFor(s); ok {
					return "{{ .vars." + n + " }}"
				}
			}
			return v
		})
		// what this response offers the next requests
		if body := st.e.Response.Content.Text; st.e.Response.Content.Encoding == "" && gjson.Valid(body) {
			collect(gjson.Parse(body), "", func(path, v string) {
				if linkable(v) {
					seen = append(seen, captured{step: i, path: path, v: v})
				}
			})
		}
	}
	return env
}

// linkable says whether a value is distinctive enough to be a link
// between a response and a later request: not a small number, not a word.
func linkable(v string) bool {
	if len(v) < 3 || len(v) > 512 {
		return false
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return len(v) >= 3 && !strings.ContainsAny(v, ".eE")
	}
	return len(v) >= 6 && SegmentKind(v) != "" || len(v) >= 16
}

func collect(r gjson.Result, prefix string, f func(path, v string)) {
	switch {
	case r.IsObject():
		r.ForEach(func(k, v gjson.Result) bool {
			key := k.String()
			if strings.ContainsAny(key, ".*?|#@\\") {
				return true
			}
			collect(v, join(prefix, key), f)
			return true
		})
	case r.IsArray():
		i := 0
		r.ForEach(func(_, v gjson.Result) bool {
			if i < 50 {
				collect(v, join(prefix, strconv.Itoa(i)), f)
			}
			i++
			return true
		})
	case r.Type == gjson.String || r.Type == gjson.Number:
		f(prefix, r.String())
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// walkJSON rewrites the leaves of a decoded JSON value.
func walkJSON(v any, key string, f func(key string, v any) any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = walkJSON(e, k, f)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = walkJSON(e, key, f)
		}
		return x
	case nil:
		return nil
	default:
		return f(key, v)
	}
}

func varName(gpath string, used map[string]bool) string {
	parts := strings.Split(gpath, ".")
	base := "value"
	for i := len(parts) - 1; i >= 0; i-- {
		if _, err := strconv.Atoi(parts[i]); err != nil && parts[i] != "" {
			base = parts[i]
			break
		}
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, base)
	if base == "id" && len(parts) > 1 {
		// products.0.id → product_id
		for i := len(parts) - 2; i >= 0; i-- {
			if _, err := strconv.Atoi(parts[i]); err != nil {
				base = strings.TrimSuffix(parts[i], "s") + "_id"
				break
			}
		}
	}
	name := base
	for n := 2; used[name]; n++ {
		name = base + strconv.Itoa(n)
	}
	used[name] = true
	return name
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "passwd", "secret", "api_key", "apikey", "private_key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

var staticExt = map[string]bool{".js": true, ".mjs": true, ".css": true, ".png": true, ".jpg": true, ".jpeg": true,
	".gif": true, ".svg": true, ".ico": true, ".woff": true, ".woff2": true, ".ttf": true, ".map": true, ".webp": true}

func staticAsset(u *url.URL, e *HAREntry) bool {
	if staticExt[strings.ToLower(path.Ext(u.Path))] {
		return true
	}
	mt := e.Response.Content.MimeType
	for _, p := range []string{"image/", "font/", "text/css", "javascript"} {
		if strings.Contains(mt, p) {
			return true
		}
	}
	return false
}

// keepHeader says whether a recorded request header matters to the
// service (not the browser's own: agent, encodings, cookies, fetch metadata).
func keepHeader(name string) bool {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, ":"), strings.HasPrefix(n, "sec-"):
		return false
	}
	switch n {
	case "host", "user-agent", "accept", "accept-encoding", "accept-language", "connection", "content-length",
		"content-type", "origin", "referer", "cookie", "cache-control", "pragma", "dnt", "upgrade-insecure-requests",
		"priority", "te", "traceparent", "tracestate", "if-none-match", "if-modified-since":
		return false
	}
	return true
}

func canonical(name string) string {
	parts := strings.Split(strings.ToLower(name), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}
