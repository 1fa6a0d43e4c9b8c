package shop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CartItem is one line of a cart.
type CartItem struct {
	ProductID  int64 `json:"product_id"`
	Quantity   int64 `json:"quantity"`
	PriceCents int64 `json:"price_cents"`
}

// couponPercent maps the known coupon codes to their discount.
var couponPercent = map[string]int64{"SAVE10": 10}

const maxQuantity = 100

type addItemRequest struct {
	ProductID flexInt `json:"product_id"`
	Quantity  flexInt `json:"quantity"`
	CartID    string  `json:"cart_id"`
}

// errUnauthorized is a missing or unknown bearer token.
var errUnauthorized = errors.New("unauthorized")

// userFromToken resolves the request's bearer token to a user id; 0 (and
// no error) when the request has no Authorization header.
func (s *Server) userFromToken(r *http.Request) (int64, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return 0, nil
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return 0, fmt.Errorf("%w: Authorization: expected \"Bearer <token>\"", errUnauthorized)
	}
	var user int64
	err := s.queryRow(r.Context(), s.db, "SELECT user_id FROM sessions WHERE token = ?", []any{token}, &user)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("%w: unknown or expired token", errUnauthorized)
	}
	return user, err
}

// writeAuthError answers 401 for a bad token and 500 for a failed lookup.
func (s *Server) writeAuthError(w http.ResponseWriter, err error) {
	if errors.Is(err, errUnauthorized) {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	s.internalError(w, err)
}

func (s *Server) handleAddToCart(w http.ResponseWriter, r *http.Request) {
	var in addItemRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	productID, err := in.ProductID.get("product_id")
	if err == nil && productID < 1 {
		err = &fieldError{"product_id", "must be a positive integer"}
	}
	quantity := int64(1)
	if err == nil && in.Quantity.raw != "" {
		quantity, err = in.Quantity.get("quantity")
		if err == nil && (quantity < 1 || quantity > maxQuantity) {
			err = &fieldError{"quantity", fmt.Sprintf("%d is outside 1..%d", quantity, maxQuantity)}
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	user, err := s.userFromToken(r)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	ctx := r.Context()
	var exists int64
	err = s.queryRow(ctx, s.db, "SELECT id FROM products WHERE id = ?", []any{productID}, &exists)
	if err == sql.ErrNoRows {
		writeError(w, http.StatusNotFound, fmt.Sprintf("product_id: product %d not found", productID))
		return
	}
	if err != nil {
		s.internalError(w, err)
		return
	}
	cartID, code, err := s.addItem(ctx, in.CartID, user, productID, quantity)
	if err != nil {
		if code == 0 {
			s.internalError(w, err)
		} else {
			writeError(w, code, err.Error())
		}
		return
	}
	items, err := s.cartItems(ctx, s.db, cartID)
	if err != nil {
		s.internalError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"cart_id": cartID, "items": items})
}

// addItem adds quantity of a product to the cart (a new one when cartID is
// ""), in one transaction. A non-zero code is the client error's status.
func (s *Server) addItem(ctx context.Context, cartID string, user, productID, quantity int64) (string, int, error) {
	ctx, tx, err := s.beginTx(ctx, "add to cart")
	if err != nil {
		return "", 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	if cartID == "" {
		cartID = newToken()
		var owner any
		if user != 0 {
			owner = user
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO carts (id, user_id, coupon, status, created_at) VALUES (?, ?, NULL, 'open', ?)",
			cartID, owner, time.Now().UnixMilli()); err != nil {
			return "", 0, err
		}
	} else if code, err := s.checkOpenCart(ctx, tx, cartID); err != nil {
		return "", code, err
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO cart_items (cart_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity`,
		cartID, productID, quantity); err != nil {
		return "", 0, err
	}
	return cartID, 0, tx.Commit()
}

// checkOpenCart answers 404 for an unknown cart and 409 for one already
// checked out.
func (s *Server) checkOpenCart(ctx context.Context, q dbtx, cartID string) (int, error) {
	var status string
	err := s.queryRow(ctx, q, "SELECT status FROM carts WHERE id = ?", []any{cartID}, &status)
	switch {
	case err == sql.ErrNoRows:
		return http.StatusNotFound, fmt.Errorf("cart_id: cart %q not found", cartID)
	case err != nil:
		return 0, err
	case status != "open":
		return http.StatusConflict, fmt.Errorf("cart_id: cart %q is already checked out", cartID)
	}
	return 0, nil
}

func (s *Server) cartItems(ctx context.Context, q dbtx, cartID string) ([]CartItem, error) {
	items := []CartItem{}
	err := s.queryRows(ctx, q, `SELECT ci.product_id, ci.quantity, p.price_cents
		FROM cart_items ci JOIN products p ON p.id = ci.product_id WHERE ci.cart_id = ? ORDER BY ci.product_id`,
		[]any{cartID}, func(rows *sql.Rows) error {
			var it CartItem
			err := rows.Scan(&it.ProductID, &it.Quantity, &it.PriceCents)
			items = append(items, it)
			return err
		})
	return items, err
}

type couponRequest struct {
	Code string `json:"code"`
}

func (s *Server) handleApplyCoupon(w http.ResponseWriter, r *http.Request) {
	cartID := r.PathValue("id")
	var in couponRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	code := strings.ToUpper(strings.TrimSpace(in.Code))
	if code == "" {
		writeError(w, http.StatusBadRequest, "code: is required")
		return
	}
	percent, ok := couponPercent[code]
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("code: %q is not a valid coupon", in.Code))
		return
	}
	ctx := r.Context()
	if status, err := s.checkOpenCart(ctx, s.db, cartID); err != nil {
		if status == 0 {
			s.internalError(w, err)
		} else {
			writeError(w, status, err.Error())
		}
		return
	}
	res, err := s.exec(ctx, s.db, "UPDATE carts SET coupon = ? WHERE id = ? AND status = 'open'", code, cartID)
	if err != nil {
		s.internalError(w, err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		writeError(w, http.StatusConflict, fmt.Sprintf("cart_id: cart %q is already checked out", cartID))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cart_id": cartID, "coupon": code, "discount_percent": percent})
}
