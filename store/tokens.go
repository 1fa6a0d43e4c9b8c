package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Role is what a token may do; each role may do what the ones below it may.
type Role string

// Roles, from least to most.
const (
	Viewer   Role = "viewer"   // read
	Operator Role = "operator" // start and cancel load
	Admin    Role = "admin"    // tokens, schedules, settings

	// Agent is apart from the ladder: a load agent's token, which may
	// call the agent protocol and nothing else (and no other role may).
	AgentRole Role = "agent"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == Viewer || r == Operator || r == Admin || r == AgentRole }

// Token is an API token as stored: its plaintext is never kept.
type Token struct {
	ID       int64
	Name     string
	Role     Role
	Created  time.Time
	LastUsed *time.Time
}

type tokenRow struct {
	ID       int64      `db:"id"`
	Name     string     `db:"name"`
	Role     string     `db:"role"`
	Created  time.Time  `db:"created"`
	LastUsed *time.Time `db:"last_used"`
}

func (r tokenRow) token() Token {
	return Token{ID: r.ID, Name: r.Name, Role: Role(r.Role), Created: utc(r.Created), LastUsed: utcp(r.LastUsed)}
}

// tokenPrefix marks Headroom tokens so they are recognisable in a leaked file.
const tokenPrefix = "hr_"

// lastUsedEvery is how stale LastUsed may get before Authenticate writes it
// again: a read-mostly API does not turn every request into a write.
const lastUsedEvery = time.Minute

func hashToken(plaintext string) string {
	h := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(h[:])
}

// CreateToken makes a new token with role and returns its plaintext ("hr_" and
// 32 random bytes, base64url), shown once; only its SHA-256 is stored.
func (s *Store) CreateToken(ctx context.Context, name string, role Role) (string, Token, error) {
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("store: token %q: unknown role %q (viewer, operator, admin, agent)", name, role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, fmt.Errorf("store: token %q: %w", name, err)
	}
	plaintext := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t := Token{Name: name, Role: role, Created: s.ts()}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t.ID, tx.Rebind("INSERT INTO tokens (name, role, hash, created) VALUES (?, ?, ?, ?) RETURNING id"),
			name, string(role), hashToken(plaintext), t.Created)
		return dbErr(err, "store: create token %q", name)
	})
	if err != nil {
		return "", Token{}, err
	}
	return plaintext, t, nil
}

// Authenticate returns the live token whose plaintext this is; ErrNotFound
// for an unknown or revoked one.
func (s *Store) Authenticate(ctx context.Context, plaintext string) (Token, error) {
	var r tokenRow
	err := s.db.GetContext(ctx, &r, s.q("SELECT id, name, role, created, last_used FROM tokens WHERE hash = ? AND revoked IS NULL"), hashToken(plaintext))
	if err != nil {
		return Token{}, notFound(err, "store: token")
	}
	t := r.token()
	now := s.ts()
	if t.LastUsed == nil || now.Sub(*t.LastUsed) >= lastUsedEvery {
		err := s.write(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE tokens SET last_used = ? WHERE id = ?"), now, t.ID)
			return dbErr(err, "store: token %d last used", t.ID)
		})
		if err != nil {
			return Token{}, err
		}
		t.LastUsed = &now
	}
	return t, nil
}

// ListTokens returns the live tokens by id.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	var rows []tokenRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT id, name, role, created, last_used FROM tokens WHERE revoked IS NULL ORDER BY id"); err != nil {
		return nil, dbErr(err, "store: list tokens")
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// RevokeToken revokes token id: it authenticates no more. An unknown or
// already revoked token answers ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL"), s.ts(), id))("store: revoke token %d", id)
	})
}

// HadTokens reports whether the store ever held a token, revoked or not:
// only a store that never had one gets a first admin token by itself.
func (s *Store) HadTokens(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM tokens"); err != nil {
		return false, dbErr(err, "store: count tokens")
	}
	return n > 0, nil
}

// CountTokens returns how many live tokens there are (0 on a new store).
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM tokens WHERE revoked IS NULL"); err != nil {
		return 0, dbErr(err, "store: count tokens")
	}
	return n, nil
}
