package plan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCAPEM is a freshly made self-signed CA certificate, PEM-encoded.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "staging CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// withCAPEM is soakBase with target.ca_pem set to text, as a block scalar.
func withCAPEM(text string) string {
	var b strings.Builder
	b.WriteString("version: 1\ntarget:\n  base_url: https://127.0.0.1:1\n  ca_pem: |\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString(soakBase[strings.Index(soakBase, "load:"):])
	return b.String()
}

func TestCAPEMTakesCertificates(t *testing.T) {
	one, two := testCAPEM(t), testCAPEM(t)
	p, err := Parse("tls.yaml", []byte(withCAPEM(one+two)))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCAPEM(p.Target.CAPEM)
	if err != nil || len(certs) != 2 || certs[0].Subject.CommonName != "staging CA" {
		t.Fatalf("target.ca_pem gave %d certificates, %v", len(certs), err)
	}
}

func TestCAPEMErrorsNameTheFieldAndLine(t *testing.T) {
	ca := testCAPEM(t)
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"
	broken := strings.Replace(ca, "MII", "MIX", 1)
	for _, tc := range []struct{ name, text, want string }{
		{"not PEM", "hello\n", "tls.yaml:4: target.ca_pem: no PEM certificate found"},
		{"a key", ca + key, "tls.yaml:4: target.ca_pem: PEM block 2 is a EC PRIVATE KEY: only CA certificates belong here, never a key"},
		{"not DER", broken, "tls.yaml:4: target.ca_pem: PEM block 1: x509:"},
		{"trailing text", ca + "and more\n", "tls.yaml:4: target.ca_pem: text after PEM certificate 1 is not a PEM block"},
	} {
		_, err := Parse("tls.yaml", []byte(withCAPEM(tc.text)))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v\nwant it to start %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "MHcCAQEEIA") {
			t.Errorf("%s: the error repeats the key: %v", tc.name, err)
		}
	}
}
