package shop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxBody bounds every request body the shop reads.
const maxBody = 1 << 20

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// decodeJSON reads one JSON object from the request body into v and turns
// the decoder's errors into messages that name the field.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("body: a JSON object is required")
	}
	err = json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("%s: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("body: expected a JSON object, got JSON %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("body: invalid JSON at byte %d: %v", syntaxErr.Offset, err)
	}
	return fmt.Errorf("body: %w", err)
}

// fieldError is a bad value of one named field.
type fieldError struct {
	Field, Msg string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }

// flexInt is an integer that arrives as a JSON number or as a numeric
// string: plan templates render every value as a string. Decoding never
// fails; get reports a bad or missing value with the field's name.
type flexInt struct {
	raw string // as sent, "" when absent or null
}

// UnmarshalJSON keeps the raw value for get.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	f.raw = string(b)
	if f.raw == "null" {
		f.raw = ""
	}
	return nil
}

// get returns the integer, or a *fieldError naming field.
func (f flexInt) get(field string) (int64, error) {
	if f.raw == "" {
		return 0, &fieldError{field, "is required"}
	}
	s := f.raw
	if s[0] == '"' {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return 0, &fieldError{field, "is not a valid JSON string"}
		}
		s = unq
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, &fieldError{field, fmt.Sprintf("%s is not an integer", f.raw)}
	}
	return n, nil
}
