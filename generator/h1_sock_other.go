//go:build !unix

package generator

// rawRead is empty: this system reads the connection as usual.
type rawRead struct{}

// useRaw does nothing: this system reads the connection as usual.
func (s *h1Sock) useRaw() { s.rawRead = rawRead{} }

// sendAndRead sends the held request, then reads its answer into p.
func (s *h1Sock) sendAndRead(p []byte) (int, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	return s.tc.Read(p)
}
