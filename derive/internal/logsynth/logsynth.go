// Package logsynth writes synthetic access logs of a shop-like service for
// benchmarks and tests: sessions arriving over a day-shaped rate, each a
// client following one of a few journeys with think times between its
// requests, written in time order.
package logsynth

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// journeys are the session paths; %d is a product or order id, %x a cart.
var journeys = [][]string{
	{"GET /v1/products?page=%d", "GET /v1/products/%d", "GET /v1/products/%d"},
	{"GET /v1/products/%d", "POST /v1/cart/items", "POST /v1/cart/%x/coupons"},
	{"POST /v1/login", "POST /v1/cart/items", "POST /v1/checkout", "GET /v1/orders/%d"},
	{"GET /v1/search?q=shoes&page=%d"},
}

// weights of the journeys, out of 12.
var weights = []int{6, 3, 1, 2}

type session struct {
	next   time.Time
	client int
	j      int
	step   int
}

type queue []*session

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(*session)) }
func (q *queue) Pop() any          { old := *q; s := old[len(old)-1]; *q = old[:len(old)-1]; return s }
func (q queue) peek() *session     { return q[0] }
func (q *queue) fix()              { heap.Fix(q, 0) }

// Write writes n combined-format lines to w, starting at start, at about
// rate requests per second on average (a daily sine between 0.3× and 1.7×).
func Write(w io.Writer, n int, start time.Time, rate float64, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func() int {
		x := r.IntN(12)
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return 0
	}
	const perSession = (6*3 + 3*3 + 1*4 + 2*1) / 12.0
	const thinkMean = 4 * time.Second
	q := &queue{}
	arrival, client := start, 0
	line := make([]byte, 0, 256)
	for k := 0; k < n; {
		// the next session arrives before the next request is due: start it
		if q.Len() == 0 || arrival.Before(q.peek().next) {
			client++
			heap.Push(q, &session{next: arrival, client: client % 1_000_000, j: pick()})
			day := arrival.Sub(start).Hours() / 24 * 2 * math.Pi
			sessRate := rate * (1 + 0.7*math.Sin(day)) / perSession
			arrival = arrival.Add(time.Duration(r.ExpFloat64() / sessRate * float64(time.Second)))
			continue
		}
		s := q.peek()
		now := s.next
		req := journeys[s.j][s.step]
		switch {
		case s.j == 1 && s.step == 2:
			req = fmt.Sprintf(req, r.Uint64()|1<<63)
		case req[len(req)-1] == 'd':
			req = fmt.Sprintf(req, 1+r.IntN(10000))
		}
		status := 200
		if r.IntN(100) == 0 {
			status = 500
		}
		c := s.client
		line = append(line[:0], "10."...)
		line = strconv.AppendInt(line, int64(c>>16&255), 10)
		line = append(line, '.')
		line = strconv.AppendInt(line, int64(c>>8&255), 10)
		line = append(line, '.')
		line = strconv.AppendInt(line, int64(c&255), 10)
		line = append(line, " - - ["...)
		line = now.AppendFormat(line, "02/Jan/2006:15:04:05 -0700")
		line = append(line, "] \""...)
		line = append(line, req...)
		line = append(line, " HTTP/1.1\" "...)
		line = strconv.AppendInt(line, int64(status), 10)
		line = append(line, " 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n"...)
		if _, err := bw.Write(line); err != nil {
			return err
		}
		k++
		s.step++
		if s.step == len(journeys[s.j]) {
			heap.Pop(q)
			continue
		}
		s.next = now.Add(time.Duration(r.ExpFloat64() * float64(thinkMean)))
		q.fix()
	}
	return bw.Flush()
}
