package shop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Address is a shipping address.
type Address struct {
	Street  string `json:"street"`
	City    string `json:"city"`
	Zip     string `json:"zip"`
	Country string `json:"country"`
}

// Order is a placed order as GET /v1/orders/{id} answers it.
type Order struct {
	ID              int64      `json:"id"`
	Status          string     `json:"status"`
	TotalCents      int64      `json:"total_cents"`
	PaymentMethodID string     `json:"payment_method_id"`
	ShippingAddress Address    `json:"shipping_address"`
	CreatedAt       time.Time  `json:"created_at"`
	Items           []CartItem `json:"items"`
}

type checkoutRequest struct {
	CartID          string   `json:"cart_id"`
	PaymentMethodID string   `json:"payment_method_id"`
	ShippingAddress *Address `json:"shipping_address"`
}

// Checkout rules.
const (
	declinedPaymentMethod = "pm-test-declined" // the payment provider declines it
	velocityWindow        = 24 * time.Hour     // recent orders looked up at checkout
	velocityLimit         = 10_000             // orders per user per window before 429
)

// recentOrdersQuery is checkout's lookup of the user's recent orders; it
// needs idx_orders_user_created (the missing_index knob drops it).
// latestOrdersQuery reads the user's newest orders (PostgreSQL only).
const latestOrdersQuery = "SELECT id, total_cents, created_at FROM orders WHERE user_id = ? ORDER BY created_at DESC LIMIT 5"

const recentOrdersQuery = "SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders WHERE user_id = ? AND created_at >= ?"

func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user, err := s.userFromToken(r)
	if err == nil && user == 0 {
		err = fmt.Errorf("%w: Authorization: a bearer token is required", errUnauthorized)
	}
	if err != nil {
		s.checkoutResult("invalid")
		s.writeAuthError(w, err)
		return
	}
	var in checkoutRequest
	if err := s.validateCheckout(r, &in); err != nil {
		s.checkoutResult("invalid")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	total, code, err := s.priceCart(ctx, in.CartID, user)
	if err == nil {
		code, err = s.pay(ctx, in.PaymentMethodID, total)
	}
	var orderID int64
	if err == nil {
		orderID, code, err = s.placeOrder(ctx, in, user, total)
	}
	switch {
	case err != nil && code == 0:
		s.checkoutResult("error")
		s.internalError(w, err)
	case err != nil:
		s.checkoutResult(map[int]string{http.StatusPaymentRequired: "declined", http.StatusConflict: "conflict"}[code])
		writeError(w, code, err.Error())
	default:
		s.checkoutResult("ok")
		writeJSON(w, http.StatusOK, map[string]int64{"order_id": orderID, "total_cents": total})
	}
}

func (s *Server) checkoutResult(result string) {
	if result == "" {
		result = "invalid"
	}
	s.metrics.checkouts.WithLabelValues(result).Inc()
}

// validateCheckout decodes and checks the body inside a "validate" span.
func (s *Server) validateCheckout(r *http.Request, in *checkoutRequest) error {
	_, span := s.tracing.tracer.Start(r.Context(), "validate")
	defer span.End()
	if err := decodeJSON(r, in); err != nil {
		return err
	}
	switch {
	case in.CartID == "":
		return errors.New("cart_id: is required")
	case in.PaymentMethodID == "":
		return errors.New("payment_method_id: is required")
	case !strings.HasPrefix(in.PaymentMethodID, "pm-") || len(in.PaymentMethodID) > 64:
		return fmt.Errorf("payment_method_id: %q is not a payment method id (pm-...)", in.PaymentMethodID)
	case in.ShippingAddress == nil:
		return errors.New("shipping_address: is required")
	}
	a := in.ShippingAddress
	for _, f := range []struct{ name, value string }{
		{"street", a.Street}, {"city", a.City}, {"zip", a.Zip}, {"country", a.Country},
	} {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("shipping_address.%s: is required", f.name)
		}
	}
	if len(a.Country) != 2 {
		return fmt.Errorf("shipping_address.country: %q is not a two-letter country code", a.Country)
	}
	return nil
}

// priceCart checks the cart is the user's, open and not empty, looks up the
// user's recent orders (the velocity check), and returns the total after
// any coupon.
func (s *Server) priceCart(ctx context.Context, cartID string, user int64) (int64, int, error) {
	var status string
	var owner sql.NullInt64
	var coupon sql.NullString
	err := s.queryRow(ctx, s.db, "SELECT status, user_id, coupon FROM carts WHERE id = ?",
		[]any{cartID}, &status, &owner, &coupon)
	switch {
	case err == sql.ErrNoRows:
		return 0, http.StatusNotFound, fmt.Errorf("cart_id: cart %q not found", cartID)
	case err != nil:
		return 0, 0, err
	case owner.Valid && owner.Int64 != user:
		return 0, http.StatusForbidden, fmt.Errorf("cart_id: cart %q belongs to another user", cartID)
	case status != "open":
		return 0, http.StatusConflict, fmt.Errorf("cart_id: cart %q is already checked out", cartID)
	}
	items, err := s.cartItems(ctx, s.db, cartID)
	if err != nil {
		return 0, 0, err
	}
	if len(items) == 0 {
		return 0, http.StatusUnprocessableEntity, fmt.Errorf("cart_id: cart %q is empty", cartID)
	}
	var recent, recentCents int64
	since := time.Now().Add(-velocityWindow).UnixMilli()
	if err := s.queryRow(ctx, s.db, recentOrdersQuery, []any{user, since}, &recent, &recentCents); err != nil {
		return 0, 0, err
	}
	if s.pg {
		// The user's latest orders, newest first: on PostgreSQL this is the
		// lookup idx_orders_user_created (user_id, created_at DESC) serves.
		var latest int
		if err := s.queryRows(ctx, s.db, latestOrdersQuery, []any{user}, func(*sql.Rows) error { latest++; return nil }); err != nil {
			return 0, 0, err
		}
	}
	if recent >= velocityLimit {
		return 0, http.StatusTooManyRequests, fmt.Errorf("too many orders: %d in the last %s", recent, velocityWindow)
	}
	var total int64
	for _, it := range items {
		total += it.PriceCents * it.Quantity
	}
	if coupon.Valid {
		total -= total * couponPercent[coupon.String] / 100
	}
	return total, 0, nil
}

// pay calls the (simulated) payment provider: a "payment" span that takes
// the downstream_latency knob's time.
func (s *Server) pay(ctx context.Context, method string, amount int64) (int, error) {
	ctx, span := s.tracing.tracer.Start(ctx, "payment",
		trace.WithAttributes(attribute.String("peer.service", "payment-provider"), attribute.Int64("payment.amount_cents", amount)))
	defer span.End()
	if d := s.Knobs().DownstreamLatency; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, fmt.Errorf("payment provider: %w", ctx.Err())
		}
	}
	if method == declinedPaymentMethod {
		return http.StatusPaymentRequired, fmt.Errorf("payment_method_id: %q was declined", method)
	}
	return 0, nil
}

// hotRowHold is how long a checkout holds the hot row's lock on PostgreSQL
// (the hot_row knob) before the rest of its transaction.
const hotRowHold = 25 * time.Millisecond

// placeOrder writes the order in one transaction: closes the cart (409 if
// another checkout got there first), inserts the order and its items,
// takes the stock.
func (s *Server) placeOrder(ctx context.Context, in checkoutRequest, user, total int64) (int64, int, error) {
	addr, err := json.Marshal(in.ShippingAddress)
	if err != nil {
		return 0, 0, err
	}
	ctx, tx, err := s.beginTx(ctx, "place order")
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	if s.Knobs().HotRow {
		// Every checkout takes this one row's lock until it commits. On
		// PostgreSQL the update then holds it for hotRowHold more (RETURNING
		// runs after the row is locked), as a transaction doing real work
		// after its counter update would: long enough that 40 checkouts a
		// second queue on the row (and on a pool of one connection).
		hot := "UPDATE counters SET value = value + 1 WHERE name = 'orders'"
		if s.pg {
			hot += fmt.Sprintf(" RETURNING pg_sleep(%g)", hotRowHold.Seconds())
		}
		if _, err := s.exec(ctx, tx, hot); err != nil {
			return 0, 0, err
		}
	}
	res, err := s.exec(ctx, tx, "UPDATE carts SET status = 'ordered' WHERE id = ? AND status = 'open'", in.CartID)
	if err != nil {
		return 0, 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, http.StatusConflict, fmt.Errorf("cart_id: cart %q is already checked out", in.CartID)
	}
	orderID, err := s.insertOrder(ctx, tx, user, in.CartID, total, in.PaymentMethodID, string(addr))
	if err != nil {
		return 0, 0, err
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO order_items (order_id, product_id, quantity, price_cents)
		SELECT ?, ci.product_id, ci.quantity, p.price_cents FROM cart_items ci JOIN products p ON p.id = ci.product_id
		WHERE ci.cart_id = ?`, orderID, in.CartID); err != nil {
		return 0, 0, err
	}
	if _, err := s.exec(ctx, tx, `UPDATE inventory SET stock = stock - (SELECT quantity FROM cart_items
		WHERE cart_id = ? AND product_id = inventory.product_id)
		WHERE product_id IN (SELECT product_id FROM cart_items WHERE cart_id = ?)`, in.CartID, in.CartID); err != nil {
		return 0, 0, err
	}
	return orderID, 0, tx.Commit()
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("id: %q is not an order id (a positive integer)", r.PathValue("id")))
		return
	}
	user, err := s.userFromToken(r)
	if err == nil && user == 0 {
		err = fmt.Errorf("%w: Authorization: a bearer token is required", errUnauthorized)
	}
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	ctx := r.Context()
	var o Order
	var owner, created int64
	var addr string
	err = s.queryRow(ctx, s.db, `SELECT id, user_id, status, total_cents, payment_method_id, shipping_address, created_at
		FROM orders WHERE id = ?`, []any{id}, &o.ID, &owner, &o.Status, &o.TotalCents, &o.PaymentMethodID, &addr, &created)
	if err == sql.ErrNoRows || (err == nil && owner != user) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("order %d not found", id))
		return
	}
	if err != nil {
		s.internalError(w, err)
		return
	}
	_ = json.Unmarshal([]byte(addr), &o.ShippingAddress) // seeded orders have "{}"
	o.CreatedAt = time.UnixMilli(created).UTC()
	o.Items = []CartItem{}
	err = s.queryRows(ctx, s.db, "SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ? ORDER BY product_id",
		[]any{id}, func(rows *sql.Rows) error {
			var it CartItem
			err := rows.Scan(&it.ProductID, &it.Quantity, &it.PriceCents)
			o.Items = append(o.Items, it)
			return err
		})
	if err != nil {
		s.internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// insertOrder inserts the order row and returns its id (RETURNING on
// PostgreSQL, whose driver has no LastInsertId).
func (s *Server) insertOrder(ctx context.Context, tx dbtx, user int64, cartID string, total int64, pm, addr string) (int64, error) {
	const insert = `INSERT INTO orders (user_id, cart_id, total_cents, payment_method_id, shipping_address, status, created_at)
		VALUES (?, ?, ?, ?, ?, 'paid', ?)`
	args := []any{user, cartID, total, pm, addr, time.Now().UnixMilli()}
	if s.pg {
		var id int64
		err := s.queryRow(ctx, tx, insert+" RETURNING id", args, &id)
		return id, err
	}
	res, err := s.exec(ctx, tx, insert, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
