package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		if n, err := s.CountTokens(ctx); err != nil || n != 0 {
			t.Fatalf("CountTokens on a new store = %d, %v", n, err)
		}
		plain, tok, err := s.CreateToken(ctx, "ci", Operator)
		must(t, err)
		if !strings.HasPrefix(plain, "hr_") {
			t.Fatalf("token %q lacks the hr_ prefix", plain)
		}
		if b, err := base64.RawURLEncoding.DecodeString(plain[3:]); err != nil || len(b) != 32 {
			t.Fatalf("token %q is not 32 bytes of base64url: %v", plain, err)
		}
		if tok.ID == 0 || tok.Name != "ci" || tok.Role != Operator || tok.LastUsed != nil {
			t.Fatalf("CreateToken = %+v", tok)
		}
		plain2, _, err := s.CreateToken(ctx, "admin", Admin)
		must(t, err)
		if plain2 == plain {
			t.Fatal("two tokens are equal")
		}
		if _, _, err := s.CreateToken(ctx, "x", Role("root")); err == nil {
			t.Fatal("CreateToken with an unknown role succeeded")
		}

		useAt := c.Peek()
		got, err := s.Authenticate(ctx, plain)
		must(t, err)
		if got.ID != tok.ID || got.Role != Operator || got.LastUsed == nil || !got.LastUsed.Equal(useAt) {
			t.Fatalf("Authenticate = %+v, want token %d last used %v", got, tok.ID, useAt)
		}
		_, err = s.Authenticate(ctx, plain+"x")
		wantErr(t, err, ErrNotFound, "Authenticate with a wrong token")
		_, err = s.Authenticate(ctx, "")
		wantErr(t, err, ErrNotFound, "Authenticate with no token")

		// Only the SHA-256 is stored: no column of any token row holds the plaintext.
		var rows []struct {
			Name string `db:"name"`
			Role string `db:"role"`
			Hash string `db:"hash"`
		}
		must(t, s.db.SelectContext(ctx, &rows, "SELECT name, role, hash FROM tokens ORDER BY id"))
		sum := sha256.Sum256([]byte(plain))
		if len(rows) != 2 || rows[0].Hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("stored rows %+v; want the first hash to be SHA-256 of the token", rows)
		}
		for _, r := range rows {
			for _, v := range []string{r.Name, r.Role, r.Hash} {
				if strings.Contains(v, plain[3:]) || strings.Contains(v, plain2[3:]) {
					t.Fatalf("a token row holds a plaintext: %+v", r)
				}
			}
		}
		if s.Driver() == "sqlite" {
			// Nor do the database's files (main file and write-ahead log).
			files, _ := filepath.Glob(dsn + "*")
			for _, f := range files {
				b, err := os.ReadFile(f)
				must(t, err)
				if bytes.Contains(b, []byte(plain[3:])) || bytes.Contains(b, []byte(plain2[3:])) {
					t.Fatalf("%s holds a token's plaintext", f)
				}
			}
		}

		list, err := s.ListTokens(ctx)
		must(t, err)
		if len(list) != 2 || list[0].Name != "ci" || list[1].Role != Admin {
			t.Fatalf("ListTokens = %+v", list)
		}
		must(t, s.RevokeToken(ctx, tok.ID))
		_, err = s.Authenticate(ctx, plain)
		wantErr(t, err, ErrNotFound, "Authenticate with a revoked token")
		wantErr(t, s.RevokeToken(ctx, tok.ID), ErrNotFound, "RevokeToken twice")
		if n, _ := s.CountTokens(ctx); n != 1 {
			t.Fatalf("CountTokens after a revoke = %d, want 1", n)
		}
		if list, _ := s.ListTokens(ctx); len(list) != 1 || list[0].Name != "admin" {
			t.Fatalf("ListTokens after a revoke = %+v", list)
		}
	})
}

func TestAuthenticateWritesLastUsedOncePerMinute(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		plain, _, err := s.CreateToken(ctx, "ci", Viewer)
		must(t, err)
		first, err := s.Authenticate(ctx, plain)
		must(t, err)
		second, err := s.Authenticate(ctx, plain)
		must(t, err)
		if !second.LastUsed.Equal(*first.LastUsed) {
			t.Fatalf("a second use within a minute moved LastUsed from %v to %v", first.LastUsed, second.LastUsed)
		}
		c.mu.Lock()
		c.t = c.t.Add(2 * time.Minute)
		c.mu.Unlock()
		third, err := s.Authenticate(ctx, plain)
		must(t, err)
		if !third.LastUsed.After(*first.LastUsed) {
			t.Fatalf("a use two minutes later left LastUsed at %v", third.LastUsed)
		}
	})
}
