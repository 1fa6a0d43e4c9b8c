package shop

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Product is one catalogue entry as the API answers it.
type Product struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PriceCents int64  `json:"price_cents"`
	Stock      int64  `json:"stock"`
}

// Listing bounds.
const (
	defaultPerPage = 20
	maxPerPage     = 100
	maxPage        = 100_000
)

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case in.User == "":
		writeError(w, http.StatusBadRequest, "user: is required")
		return
	case in.Password == "":
		writeError(w, http.StatusBadRequest, "password: is required")
		return
	}
	ctx := r.Context()
	var id int64
	var hash string
	err := s.queryRow(ctx, s.db, "SELECT id, password_hash FROM users WHERE email = ?",
		[]any{in.User}, &id, &hash)
	if err == sql.ErrNoRows || (err == nil && hash != passwordHash(in.User, in.Password)) {
		writeError(w, http.StatusUnauthorized, "unknown user or wrong password")
		return
	}
	if err != nil {
		s.internalError(w, err)
		return
	}
	token := newToken()
	if _, err := s.exec(ctx, s.db, "INSERT INTO sessions (token, user_id, created_at) VALUES (?, ?, ?)",
		token, id, time.Now().UnixMilli()); err != nil {
		s.internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

func (s *Server) handleListProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err := intParam(q.Get("page"), "page", 1, 1, maxPage)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	perPage, err := intParam(q.Get("per_page"), "per_page", defaultPerPage, 1, maxPerPage)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	category := q.Get("category")
	if category != "" && !slices.Contains(categories, category) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("category: %q is not one of %s", category, strings.Join(categories, ", ")))
		return
	}
	ctx := r.Context()
	where, args := "", []any{}
	if category != "" {
		where, args = "WHERE category = ?", []any{category}
	}
	var total int64
	if err := s.queryRow(ctx, s.db, "SELECT COUNT(*) FROM products "+where, args, &total); err != nil {
		s.internalError(w, err)
		return
	}
	args = append(args, perPage, (page-1)*perPage)
	products := make([]Product, 0, perPage)
	if s.Knobs().NPlusOne {
		products, err = s.listNPlusOne(r, where, args, products)
	} else {
		err = s.queryRows(ctx, s.db,
			"SELECT p.id, p.name, p.category, p.price_cents, i.stock FROM products p JOIN inventory i ON i.product_id = p.id "+
				strings.Replace(where, "category", "p.category", 1)+" ORDER BY p.id LIMIT ? OFFSET ?", args,
			func(rows *sql.Rows) error {
				var p Product
				err := rows.Scan(&p.ID, &p.Name, &p.Category, &p.PriceCents, &p.Stock)
				products = append(products, p)
				return err
			})
	}
	if err != nil {
		s.internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page": page, "per_page": perPage, "total": total, "products": products,
	})
}

// listNPlusOne is the listing with the n_plus_one fault: the page of
// products, then one stock query per product.
func (s *Server) listNPlusOne(r *http.Request, where string, args []any, products []Product) ([]Product, error) {
	ctx := r.Context()
	err := s.queryRows(ctx, s.db,
		"SELECT id, name, category, price_cents FROM products "+where+" ORDER BY id LIMIT ? OFFSET ?", args,
		func(rows *sql.Rows) error {
			var p Product
			err := rows.Scan(&p.ID, &p.Name, &p.Category, &p.PriceCents)
			products = append(products, p)
			return err
		})
	if err != nil {
		return nil, err
	}
	for i := range products {
		if err := s.queryRow(ctx, s.db, "SELECT stock FROM inventory WHERE product_id = ?",
			[]any{products[i].ID}, &products[i].Stock); err != nil {
			return nil, err
		}
	}
	return products, nil
}

func (s *Server) handleGetProduct(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("id: %q is not a product id (a positive integer)", r.PathValue("id")))
		return
	}
	var p Product
	err = s.queryRow(r.Context(), s.db,
		"SELECT p.id, p.name, p.category, p.price_cents, i.stock FROM products p JOIN inventory i ON i.product_id = p.id WHERE p.id = ?",
		[]any{id}, &p.ID, &p.Name, &p.Category, &p.PriceCents, &p.Stock)
	switch {
	case err == sql.ErrNoRows:
		writeError(w, http.StatusNotFound, fmt.Sprintf("product %d not found", id))
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, p)
	}
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(v, name string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: %q is not an integer in %d..%d", name, v, lo, hi)
	}
	return n, nil
}

// newToken is a random 128-bit identifier in hex (session tokens, carts).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// internalError answers 500 without leaking details beyond the error text.
func (s *Server) internalError(w http.ResponseWriter, err error) {
	writeError(w, http.StatusInternalServerError, "internal error: "+err.Error())
}
