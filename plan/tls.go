package plan

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParseCAPEM reads target.ca_pem: one or more PEM "CERTIFICATE" blocks,
// the private CAs a staging target's certificate chains to. Nothing else
// is taken: a private key pasted by mistake is refused, so that it is not
// kept in a plan shared with the server's other users.
func ParseCAPEM(text string) ([]*x509.Certificate, error) {
	rest := []byte(text)
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			if strings.Contains(b.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("PEM block %d is a %s: only CA certificates belong here, never a key", n, b.Type)
			}
			return nil, fmt.Errorf("PEM block %d is a %q, want CERTIFICATE", n, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", n, err)
		}
		certs = append(certs, c)
	}
	if strings.TrimSpace(string(rest)) != "" {
		if len(certs) == 0 {
			return nil, errors.New("no PEM certificate found (want -----BEGIN CERTIFICATE----- blocks)")
		}
		return nil, fmt.Errorf("text after PEM certificate %d is not a PEM block", len(certs))
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found (want -----BEGIN CERTIFICATE----- blocks)")
	}
	return certs, nil
}
