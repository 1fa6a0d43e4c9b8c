package derive

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Record is one request read from a log: what the analysis needs of it.
// Its byte slices point into the line and are valid only until the next
// line is read.
type Record struct {
	Time    time.Time
	Method  string
	Path    []byte // path and query as requested
	Status  int
	Addr    []byte // client address
	Agent   []byte // User-Agent
	Session []byte // the session key when the format carries one (cookie, token, field); nil otherwise
}

// Format is the layout of a log's lines.
type Format string

// The log formats ReadLogs understands.
const (
	// FormatCombined is the NCSA combined format of nginx and Apache
	// (`$remote_addr - $remote_user [$time_local] "$request" $status
	// $body_bytes_sent "$http_referer" "$http_user_agent"`); the common
	// format (no referer and agent) and extra fields after the agent are
	// accepted too.
	FormatCombined Format = "combined"
	// FormatJSON is one JSON object a line, its fields named by Fields.
	FormatJSON Format = "json"
	// FormatAuto picks one of the above from the first line that is not blank.
	FormatAuto Format = "auto"
)

// Fields names the fields of a JSON-lines log (gjson paths, so nested
// fields are "request.method"). Empty names take the defaults in
// DefaultFields.
type Fields struct {
	Time    string // RFC 3339, the combined format's time, or Unix seconds (fraction allowed; milliseconds when > 1e11)
	Method  string
	Path    string // path with the query, or a whole request line "GET /x HTTP/1.1"
	Status  string
	Addr    string
	Agent   string
	Session string // optional: a session key (cookie value, user id, token)
}

// DefaultFields are the field names of nginx's `escape=json` examples and
// most JSON access logs.
var DefaultFields = Fields{
	Time: "time", Method: "method", Path: "path", Status: "status",
	Addr: "remote_addr", Agent: "user_agent",
}

func (f Fields) withDefaults() Fields {
	d := DefaultFields
	pick := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	pick(&f.Time, d.Time)
	pick(&f.Method, d.Method)
	pick(&f.Path, d.Path)
	pick(&f.Status, d.Status)
	pick(&f.Addr, d.Addr)
	pick(&f.Agent, d.Agent)
	return f
}

// errSkip marks a line that holds no request (blank).
var errSkip = errors.New("blank line")

// errNoRoute marks a well-formed line whose request names no route: "-"
// (a connection closed before a request), a TLS handshake sent to a plain
// port, "OPTIONS *". Such lines are counted, not errors.
var errNoRoute = errors.New("request names no route")

// routePath returns the path of a request target: an absolute URL (a proxy
// request) loses its scheme and host; anything not starting with "/" has
// no route.
func routePath(p []byte) ([]byte, bool) {
	for _, scheme := range []string{"http://", "https://"} {
		if len(p) > len(scheme) && strings.EqualFold(string(p[:len(scheme)]), scheme) {
			rest := p[len(scheme):]
			i := bytes.IndexByte(rest, '/')
			if i < 0 {
				return []byte("/"), true
			}
			return rest[i:], true
		}
	}
	return p, len(p) > 0 && p[0] == '/'
}

// parseCombined reads one combined- or common-format line into r.
func parseCombined(line []byte, r *Record) error {
	*r = Record{}
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return errSkip
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return errors.New("no client address: want `ADDR - USER [TIME] \"REQUEST\" STATUS BYTES`")
	}
	r.Addr = line[:sp]
	open := bytes.IndexByte(line, '[')
	if open < 0 {
		return errors.New("no [time]")
	}
	cls := bytes.IndexByte(line[open:], ']')
	if cls < 0 {
		return errors.New("no closing ] after the time")
	}
	t, err := parseCLFTime(line[open+1 : open+cls])
	if err != nil {
		return err
	}
	r.Time = t
	rest := line[open+cls+1:]
	req, rest, ok := quoted(rest)
	if !ok {
		return errors.New("no quoted \"METHOD PATH PROTOCOL\" after the time")
	}
	m, p, ok := splitRequest(req)
	if ok {
		p, ok = routePath(p)
	}
	r.Method, r.Path = m, p
	rest = bytes.TrimLeft(rest, " ")
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		end = len(rest)
	}
	st, err := strconv.Atoi(string(rest[:end]))
	if err != nil || st < 100 || st > 999 {
		return fmt.Errorf("status %q is not an HTTP status", shortBytes(rest[:end]))
	}
	r.Status = st
	if !ok {
		return errNoRoute
	}
	rest = rest[end:]
	// bytes, then optionally "referer" "agent"
	if _, after, ok := quoted(skipField(rest)); ok {
		if agent, _, ok := quoted(after); ok {
			r.Agent = agent
		}
	}
	return nil
}

// quoted returns the first "…" field of b (backslash escapes kept) and
// what follows it.
func quoted(b []byte) (field, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '"')
	if i < 0 {
		return nil, b, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i+1 : j], b[j+1:], true
		}
	}
	return nil, b, false
}

// skipField drops leading spaces and one space-separated field.
func skipField(b []byte) []byte {
	b = bytes.TrimLeft(b, " ")
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[i:]
	}
	return nil
}

// splitRequest splits "GET /path HTTP/1.1" (protocol optional).
func splitRequest(req []byte) (method string, path []byte, ok bool) {
	sp := bytes.IndexByte(req, ' ')
	if sp <= 0 {
		return "", nil, false
	}
	method = internMethod(req[:sp])
	path = req[sp+1:]
	if sp2 := bytes.LastIndexByte(path, ' '); sp2 >= 0 && bytes.HasPrefix(path[sp2+1:], []byte("HTTP/")) {
		path = path[:sp2]
	}
	if len(path) == 0 {
		return "", nil, false
	}
	return method, path, true
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// internMethod returns a shared string for the common methods, so a line
// costs no allocation for its method.
func internMethod(b []byte) string {
	for _, m := range methods {
		if string(b) == m {
			return m
		}
	}
	return strings.ToUpper(string(b))
}

var months = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

// parseCLFTime parses "10/Oct/2000:13:55:36 -0700" without allocating.
func parseCLFTime(b []byte) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("time %q: want 02/Jan/2006:15:04:05 -0700", shortBytes(b))
	}
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return bad()
	}
	mon, ok := months[string(b[3:6])]
	if !ok {
		return bad()
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	day, year, hh, mm, ss := num(b[0:2]), num(b[7:11]), num(b[12:14]), num(b[15:17]), num(b[18:20])
	if day < 1 || year < 0 || hh < 0 || mm < 0 || ss < 0 {
		return bad()
	}
	offset := 0
	if z := bytes.TrimSpace(b[20:]); len(z) == 5 && (z[0] == '+' || z[0] == '-') {
		h, m := num(z[1:3]), num(z[3:5])
		if h < 0 || m < 0 {
			return bad()
		}
		offset = (h*60 + m) * 60
		if z[0] == '-' {
			offset = -offset
		}
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// jsonParser reads JSON-lines records with a fixed set of field paths.
type jsonParser struct {
	paths []string
}

func newJSONParser(f Fields) *jsonParser {
	f = f.withDefaults()
	p := &jsonParser{paths: []string{f.Time, f.Method, f.Path, f.Status, f.Addr, f.Agent}}
	if f.Session != "" {
		p.paths = append(p.paths, f.Session)
	}
	return p
}

func (p *jsonParser) parse(line []byte, r *Record) error {
	*r = Record{}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return errSkip
	}
	if line[0] != '{' || !gjson.ValidBytes(line) {
		return errors.New("not a JSON object")
	}
	v := gjson.GetManyBytes(line, p.paths...)
	if !v[0].Exists() {
		return fmt.Errorf("no time field %q", p.paths[0])
	}
	t, err := parseAnyTime(v[0])
	if err != nil {
		return fmt.Errorf("field %q: %w", p.paths[0], err)
	}
	r.Time = t
	path := v[2].String()
	if path == "" {
		return fmt.Errorf("no path field %q", p.paths[2])
	}
	method := v[1].String()
	if method == "" { // the path field may be a whole request line
		m, pth, ok := splitRequest([]byte(path))
		if !ok {
			return errNoRoute
		}
		method, path = m, string(pth)
	} else {
		method = internMethod([]byte(method))
	}
	rp, ok := routePath([]byte(path))
	if !ok {
		return errNoRoute
	}
	r.Method, r.Path = method, rp
	if v[3].Exists() {
		st := int(v[3].Int())
		if st < 100 || st > 999 {
			return fmt.Errorf("field %q: %q is not an HTTP status", p.paths[3], v[3].String())
		}
		r.Status = st
	}
	r.Addr = []byte(v[4].String())
	r.Agent = []byte(v[5].String())
	if len(v) > 6 && v[6].String() != "" && v[6].String() != "-" {
		r.Session = []byte(v[6].String())
	}
	return nil
}

// parseAnyTime reads a JSON time: Unix seconds (or milliseconds), RFC 3339,
// or the combined format's time.
func parseAnyTime(v gjson.Result) (time.Time, error) {
	s := v.String()
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > 1e11 { // milliseconds
			f /= 1000
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := parseCLFTime([]byte(s)); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not Unix seconds, RFC 3339 or 02/Jan/2006:15:04:05 -0700", shorten(s))
}

func shortBytes(b []byte) string { return shorten(string(b)) }

func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
