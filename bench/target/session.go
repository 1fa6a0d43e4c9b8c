package main

// session is one connection's request stream: the bytes read but not yet
// answered, and the body bytes still to drop. Both servers feed it.
type session struct {
	buf        []byte // read buffer; the unanswered bytes are buf[start:end]
	start, end int
	skip       int64 // body bytes of the last request not yet read
}

func newSession() *session {
	return &session{buf: make([]byte, 2*maxHeadBytes)}
}

// free is where the next read goes.
func (s *session) free() []byte { return s.buf[s.end:] }

// answer consumes n freshly read bytes and appends to out the answers to
// every whole request now buffered, in order. It reports how many requests
// were served and whether the connection must close after out is written.
func (s *session) answer(n int, out []byte) (_ []byte, served int64, closing bool) {
	s.end += n
	for {
		if s.skip > 0 {
			k := min(s.skip, int64(s.end-s.start))
			s.start += int(k)
			s.skip -= k
			if s.skip > 0 {
				break
			}
		}
		h, used, err := parseHead(s.buf[s.start:s.end])
		if err != nil {
			return append(out, errorResponse(err)...), served, true
		}
		if used == 0 {
			break
		}
		s.start += used
		s.skip = h.contentLength
		served++
		if h.close {
			return append(out, okCloseResponse...), served, true
		}
		out = append(out, okResponse...)
	}
	// Keep the unread part (an incomplete head) at the front.
	if s.start == s.end {
		s.start, s.end = 0, 0
	} else if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) { // a full buffer of blank lines and no head
		return append(out, errorResponse(errHeadTooLarge)...), served, true
	}
	return out, served, false
}
