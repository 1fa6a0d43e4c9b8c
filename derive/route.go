package derive

import (
	"bytes"
	"strings"
)

// Param kinds a route template names in place of a variable path segment.
const (
	ParamID    = "{id}"    // a decimal number
	ParamUUID  = "{uuid}"  // an RFC 4122 UUID
	ParamHash  = "{hash}"  // a long hexadecimal string (digests, object ids)
	ParamToken = "{token}" // a long opaque string of letters and digits
	ParamSlug  = "{slug}"  // a dashed phrase carrying a number or a long one
)

// Template returns path's route template: the query is dropped and every
// segment that identifies one resource (numbers, UUIDs, hashes, opaque
// tokens, slugs) is replaced by a named placeholder, so that
// "/v1/products/42?x=1" and "/v1/products/7" are both "/v1/products/{id}".
func Template(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "/"
	}
	// Fast path: nothing to replace.
	var b strings.Builder
	start := 0
	changed := false
	for start <= len(path) {
		end := strings.IndexByte(path[start:], '/')
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		seg := path[start:end]
		kind := SegmentKind(seg)
		if kind != "" && !changed {
			changed = true
			b.Grow(len(path))
			b.WriteString(path[:start])
		}
		if changed {
			if kind != "" {
				b.WriteString(kind)
			} else {
				b.WriteString(seg)
			}
			if end < len(path) {
				b.WriteByte('/')
			}
		}
		start = end + 1
	}
	if !changed {
		return path
	}
	return b.String()
}

// appendTemplate appends path's route template to dst, as Template does,
// without allocating.
func appendTemplate(dst, path []byte) []byte {
	if i := bytes.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if len(path) == 0 {
		return append(dst, '/')
	}
	for start := 0; start <= len(path); {
		end := bytes.IndexByte(path[start:], '/')
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		seg := path[start:end]
		if kind := segmentKind(seg); kind != "" {
			dst = append(dst, kind...)
		} else {
			dst = append(dst, seg...)
		}
		if end < len(path) {
			dst = append(dst, '/')
		}
		start = end + 1
	}
	return dst
}

// SegmentKind returns the placeholder that replaces one path segment, or ""
// when the segment is a fixed part of the route.
func SegmentKind(seg string) string { return segmentKind(seg) }

func segmentKind[S string | []byte](seg S) string {
	n := len(seg)
	if n == 0 {
		return ""
	}
	var digits, hex, upper, lower, dash, other int
	for i := 0; i < n; i++ {
		c := seg[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			hex++
		case c >= 'a' && c <= 'f':
			hex++
			lower++
		case c >= 'A' && c <= 'F':
			hex++
			upper++
		case c >= 'g' && c <= 'z':
			lower++
		case c >= 'G' && c <= 'Z':
			upper++
		case c == '-' || c == '_':
			dash++
		default:
			other++
		}
	}
	switch {
	case digits == n:
		return ParamID
	case n == 36 && dash == 4 && hex == 32 && seg[8] == '-' && seg[13] == '-' && seg[18] == '-' && seg[23] == '-':
		return ParamUUID
	case hex == n && n >= 16:
		return ParamHash
	case hex == n && n >= 8 && digits > 0 && digits < n:
		return ParamHash
	case other == 0 && dash == 0 && n >= 20 && digits > 0:
		return ParamToken
	case other == 0 && dash > 0 && digits > 0 && digits < n-dash && n >= 6:
		return ParamSlug // red-shoes-42, order_2024_17
	case other == 0 && dash >= 3 && n >= 32:
		return ParamSlug // a-long-article-title-with-many-words
	}
	return ""
}
