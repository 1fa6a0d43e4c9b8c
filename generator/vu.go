package generator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tidwall/gjson"
)

// vu is one virtual user: it runs iterations one after the other and owns
// everything it touches on the hot path (random source, buffers, prepared
// requests), so a request takes no lock but its shard's.
type vu struct {
	id     int
	e      *engine
	r      rng
	sh     *shard
	vars   map[string]string
	data   map[string]any // template data: .data, .vars, .env
	states []stepState    // per step of all journeys
	ctl    *reqCtl
	gen    int // bumped when ctl is replaced
	think  *time.Timer
	o      outcome
	rt     http.RoundTripper // the user's own connection (h1Client), or the run's transport
	h1     *h1Client         // rt when it is the user's own HTTP/1.1 connection
	tp     [traceparentLen]byte

	scratch, buf, resp bytes.Buffer
}

// stepState is a user's prepared request for one step, reused across its
// iterations once the previous response body is closed.
type stepState struct {
	req *http.Request
	gen int
	hv  [][]string // values of the templated headers
	tp  []string   // the traceparent value (not with an own HTTP/1.1 connection: v.tp)
	h1  *h1Prepared
}

// newVU makes virtual user id, or returns ok=false when no data row is left
// for it.
func (e *engine) newVU(id int) (v *vu, ok bool) {
	row, ok := e.dataFor(id)
	if !ok {
		return nil, false
	}
	v = &vu{id: id, e: e, r: newRNG(), sh: e.shards[id%len(e.shards)], vars: map[string]string{}}
	v.data = map[string]any{"data": row, "vars": v.vars, "env": e.env}
	v.states = make([]stepState, e.steps)
	v.ctl = newReqCtl(e.reqCtx, e.start)
	v.think = time.NewTimer(time.Hour)
	v.think.Stop()
	switch {
	case e.h2 != nil:
		v.rt = e.h2.user(id)
	case e.ownH1:
		v.h1 = newH1Client(e, e.ownScheme, e.ownHost)
		v.h1.tp = &v.tp
		v.rt = v.h1
	default:
		v.rt = e.transport
	}
	return v, true
}

// release frees the user's timers and context.
func (v *vu) release() {
	v.ctl.release()
	v.think.Stop()
}

// iterate runs one iteration of a journey picked by weight. due is when the
// iteration was scheduled (open model): its first request is measured from
// then. A zero due measures every request from when it is sent.
func (v *vu) iterate(due time.Time) {
	v.sh.iterations.Add(1)
	v.sh.busy.Add(1)
	defer v.sh.busy.Add(-1)
	j := v.e.pick(&v.r)
	clear(v.vars)
	from := due
	for _, st := range j.steps {
		if v.e.stopped() {
			return
		}
		if st.chance < 1 && v.r.float64() >= st.chance {
			continue
		}
		if st.method != "" {
			if !v.send(st, from) {
				return
			}
			from = time.Time{}
		}
		if st.think.Max > 0 {
			if !v.pause(v.r.between(st.think.Min, st.think.Max)) {
				return
			}
			from = time.Time{}
		}
	}
}

// pause waits d, or returns false when the load stops first.
func (v *vu) pause(d time.Duration) bool {
	v.think.Reset(d)
	select {
	case <-v.think.C:
		return true
	case <-v.e.loadCtx.Done():
		v.think.Stop()
		return false
	}
}

// send performs one step's request, measured from from (now when zero),
// records it, and reports whether the step succeeded.
func (v *vu) send(st *step, from time.Time) bool {
	e := v.e
	o := &v.o
	req, body, err := v.request(st)
	now := time.Since(e.start)
	if from.IsZero() {
		from = e.start.Add(now) // time.Now in one clock reading, not two
	}
	*o = outcome{at: from.UnixNano()}
	if err != nil {
		o.us, o.class = -1, classOther
		e.warn("build:"+st.name, fmt.Sprintf("step %q: %v", st.name, err))
		v.sh.record(st.nameID, o)
		return false
	}
	if ss := &v.states[st.idx]; v.h1 != nil {
		v.r.fillTraceparent(&v.tp, &o.trace)
		v.h1.now, v.h1.prep = now, ss.h1
	} else {
		ss.tp[0] = v.r.newTraceparent(&o.trace)
	}

	ctl := v.ctl
	ctl.begin(now, st.timeout)
	v.sh.inFlight.Add(1)
	resp, err := e.roundTrip(v.rt, req, body)
	if err == nil {
		o.status = resp.StatusCode
		o.bytes, err = v.readBody(resp, st.needBody)
	}
	took := time.Since(from)
	v.sh.inFlight.Add(-1)
	timedOut := ctl.end()
	if timedOut { // its context is spent
		v.ctl = newReqCtl(e.reqCtx, e.start)
		v.gen++
	}
	if err != nil {
		if !timedOut && e.reqCtx.Err() != nil {
			v.cutOff(st) // the run was stopped; not the service's doing
			return false
		}
		o.class = classifyError(err, timedOut)
		if o.class == classTLS {
			e.warn("tls", fmt.Sprintf("TLS to the target failed: %v (trust a private CA with target.ca_pem, or skip checks with target.insecure_tls)", err))
		}
	} else {
		o.class = v.check(st, o.status)
	}
	o.us = took.Microseconds()
	v.sh.record(st.nameID, o)
	return o.class == classNone
}

// request returns the user's prepared request for st with this request's
// URL, templated headers and body filled in.
func (v *vu) request(st *step) (*http.Request, []byte, error) {
	ss := &v.states[st.idx]
	if ss.req == nil || ss.gen != v.gen {
		v.prepare(st, ss)
	}
	req := ss.req
	if st.fixedURL == nil {
		u, err := v.renderURL(st)
		if err != nil {
			return nil, nil, err
		}
		req.URL = u
	}
	for i, h := range st.dynamic {
		v.scratch.Reset()
		if err := h.val.render(&v.scratch, v.data); err != nil {
			return nil, nil, fmt.Errorf("header %s: %w", h.key, err)
		}
		ss.hv[i][0] = v.scratch.String()
	}
	if st.kind == bodyNone {
		return req, nil, nil
	}
	body := st.fixed
	if !st.hasFixed {
		var err error
		if body, err = v.renderBody(st); err != nil {
			return nil, nil, fmt.Errorf("body: %w", err)
		}
	}
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	} else {
		req.Body = newBodyReader(body)
	}
	return req, body, nil
}

// prepare builds the user's request for st on its current context.
func (v *vu) prepare(st *step, ss *stepState) {
	if ss.req == nil {
		h := make(http.Header, len(st.static)+len(st.dynamic)+1)
		req := &http.Request{Method: st.method, URL: st.fixedURL, Header: h,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		for _, x := range st.static {
			if x.key == "Host" {
				req.Host = x.val.lit
				continue
			}
			h[x.key] = []string{x.val.lit}
		}
		ss.hv = make([][]string, len(st.dynamic))
		for i, x := range st.dynamic {
			ss.hv[i] = []string{""}
			h[x.key] = ss.hv[i]
		}
		if v.h1 == nil {
			ss.tp = []string{""}
			h["Traceparent"] = ss.tp
		} else if st.fixedURL != nil {
			dyn := make([]string, len(st.dynamic))
			for i, x := range st.dynamic {
				dyn[i] = x.key
			}
			ss.h1 = prepareH1(req, dyn)
		}
		ss.req = req
	}
	ss.req = ss.req.WithContext(v.ctl.ctx)
	ss.gen = v.gen
	if ss.h1 != nil {
		ss.h1.req = ss.req
	}
}

// renderURL renders a templated path and query into a URL on an allowed host.
func (v *vu) renderURL(st *step) (*url.URL, error) {
	v.buf.Reset()
	if st.absolute {
		if err := st.path.render(&v.buf, v.data); err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
	} else {
		v.scratch.Reset()
		if err := st.path.render(&v.scratch, v.data); err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
		v.buf.WriteString(v.e.base)
		joinPath(&v.buf, v.scratch.String())
	}
	if err := appendQuery(&v.buf, &v.scratch, st, v.data); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	u, err := parseURL(v.buf.String())
	if err != nil {
		return nil, err
	}
	if !v.e.plan.Allowed(u.Hostname()) {
		return nil, fmt.Errorf("host %q is not allowed by the plan", u.Hostname())
	}
	return u, nil
}

// renderBody renders a templated body into fresh bytes (the transport may
// still read them after the response arrives).
func (v *vu) renderBody(st *step) ([]byte, error) {
	v.buf.Reset()
	var err error
	switch st.kind {
	case bodyRaw:
		err = st.raw.render(&v.buf, v.data)
	case bodyJSON:
		err = st.json.render(&v.buf, &v.scratch, v.data)
	case bodyForm:
		err = renderPairs(&v.buf, &v.scratch, st.form, v.data)
	}
	return bytes.Clone(v.buf.Bytes()), err
}

// readBody reads the response body to the end (so the connection is kept
// alive), keeping it in v.resp when keep is set, and closes it.
func (v *vu) readBody(resp *http.Response, keep bool) (n int64, err error) {
	if keep {
		v.resp.Reset()
		n, err = v.resp.ReadFrom(resp.Body)
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return n, err
}

// check applies the step's expectations and extractions to a response.
func (v *vu) check(st *step, status int) class {
	if len(st.status) > 0 {
		if !slices.Contains(st.status, status) {
			return classifyStatus(status)
		}
	} else if status >= 400 {
		return classifyStatus(status)
	}
	if !st.needBody {
		return classNone
	}
	body := v.resp.Bytes()
	for _, c := range st.jsonWant {
		r := gjson.GetBytes(body, c.path)
		if !r.Exists() || (!c.exists && r.String() != c.want) {
			return classCheckFailed
		}
	}
	if st.contains != nil && !bytes.Contains(body, st.contains) {
		return classCheckFailed
	}
	for _, x := range st.extract {
		r := gjson.GetBytes(body, x.Path)
		if !r.Exists() {
			return classCheckFailed
		}
		v.vars[x.Var] = r.String()
	}
	return classNone
}
