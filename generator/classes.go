package generator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// class is an error class; classNone marks a success.
type class uint8

// The error classes a failed request or iteration is counted under, and
// cancelled for a request the run itself cut off.
const (
	classNone class = iota
	classTimeout
	classConnectRefused
	classReset
	classStatus4xx
	classStatus5xx
	classCheckFailed
	classRedirectBlocked
	classDataExhausted
	classTLS
	classOther
	// classCancelled marks a request the run cut off (abort or cancel); it
	// is no error and counts in neither requests nor errors.
	classCancelled
	numClasses
)

var classNames = [numClasses]string{
	classNone:            "",
	classTimeout:         "timeout",
	classConnectRefused:  "connect_refused",
	classReset:           "reset",
	classStatus4xx:       "status_4xx",
	classStatus5xx:       "status_5xx",
	classCheckFailed:     "check_failed",
	classRedirectBlocked: "redirect_blocked",
	classDataExhausted:   "data_exhausted",
	classTLS:             "tls",
	classOther:           "other",
	classCancelled:       "cancelled",
}

// String is the class's name as it appears in windows and summaries.
func (c class) String() string { return classNames[c] }

// errRedirectBlocked marks a redirect to a host the plan does not allow.
var errRedirectBlocked = errors.New("redirect to a host the plan does not allow")

// classifyError maps a transport error to its class. timedOut says the
// request's own timeout fired (which surfaces as a cancellation).
func classifyError(err error, timedOut bool) class {
	switch {
	case timedOut || errors.Is(err, context.DeadlineExceeded):
		return classTimeout
	case errors.Is(err, errRedirectBlocked):
		return classRedirectBlocked
	case errors.Is(err, syscall.ECONNREFUSED):
		return classConnectRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return classReset
	case isTLSError(err):
		return classTLS
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return classTimeout
	}
	return classOther
}

// classifyStatus maps an unexpected status to its class.
func classifyStatus(status int) class {
	switch {
	case status >= 500:
		return classStatus5xx
	case status >= 400:
		return classStatus4xx
	}
	return classCheckFailed
}

// classCounts turns per-class counters into the map of a window or summary,
// leaving out classes that did not occur.
func classCounts(c *[numClasses]int64) map[string]int64 {
	var m map[string]int64
	for i := class(1); i < numClasses; i++ {
		if c[i] == 0 {
			continue
		}
		if m == nil {
			m = make(map[string]int64)
		}
		m[i.String()] += c[i]
	}
	return m
}

// isTLSError says err is the TLS handshake's: a certificate the client
// does not trust or that names another host, an alert from the server, or
// a peer that does not speak TLS.
func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		record    tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &alert) || errors.As(err, &record)
}
