package generator

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"math/rand/v2"
	"time"
)

// rng is a small, fast random source owned by one virtual user (wyrand);
// no lock, no allocation.
type rng struct{ s uint64 }

func newRNG() rng { return rng{s: rand.Uint64()} }

func (r *rng) uint64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// float64 is uniform in [0, 1).
func (r *rng) float64() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// intn is uniform in [0, n) for n > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// between is a duration uniform in [lo, hi].
func (r *rng) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.float64()*float64(hi-lo+1))
}

// traceparentLen is the length of "00-<32 hex>-<16 hex>-01".
const traceparentLen = 55

// newTraceparent fills trace with a fresh trace ID and returns the W3C
// traceparent header value carrying it with a fresh span ID, sampled.
func (r *rng) newTraceparent(trace *[16]byte) string {
	var b [traceparentLen]byte
	r.fillTraceparent(&b, trace)
	return string(b[:])
}

// fillTraceparent is newTraceparent written into b, allocating nothing:
// a user's own HTTP/1.1 connection writes b straight into the request.
func (r *rng) fillTraceparent(b *[traceparentLen]byte, trace *[16]byte) {
	var id [24]byte
	binary.LittleEndian.PutUint64(id[0:], r.uint64())
	binary.LittleEndian.PutUint64(id[8:], r.uint64()|1) // never all zero
	binary.LittleEndian.PutUint64(id[16:], r.uint64()|1)
	copy(trace[:], id[:16])

	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], id[:16])
	b[35] = '-'
	hex.Encode(b[36:52], id[16:])
	b[52], b[53], b[54] = '-', '0', '1'
}
