package shop

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestJourneyLoginCartCouponCheckoutOrder(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 7)

	code, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": "42", "quantity": 2}, auth)
	if code != http.StatusCreated {
		t.Fatalf("add to cart: %d %v", code, cart)
	}
	cartID, _ := cart["cart_id"].(string)
	if cartID == "" {
		t.Fatalf("add to cart: no cart_id in %v", cart)
	}
	code, cart = ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 43, "cart_id": cartID}, auth)
	if code != http.StatusCreated || len(cart["items"].([]any)) != 2 {
		t.Fatalf("second item: %d %v", code, cart)
	}
	var want float64
	for _, it := range cart["items"].([]any) {
		m := it.(map[string]any)
		want += m["price_cents"].(float64) * m["quantity"].(float64)
	}
	want -= float64(int64(want) * 10 / 100)

	if code, out := ts.call(t, "POST", "/v1/cart/"+cartID+"/coupons", map[string]string{"code": "SAVE10"}, nil); code != http.StatusOK {
		t.Fatalf("coupon: %d %v", code, out)
	}
	code, order := ts.call(t, "POST", "/v1/checkout", validCheckout(cartID), auth)
	if code != http.StatusOK {
		t.Fatalf("checkout: %d %v", code, order)
	}
	if order["total_cents"].(float64) != want {
		t.Errorf("total_cents = %v, want %v (two items, 10%% off)", order["total_cents"], want)
	}
	id := fmt.Sprint(int64(order["order_id"].(float64)))
	code, got := ts.call(t, "GET", "/v1/orders/"+id, nil, auth)
	if code != http.StatusOK || got["total_cents"] != order["total_cents"] || len(got["items"].([]any)) != 2 {
		t.Fatalf("get order: %d %v", code, got)
	}
	if got["shipping_address"].(map[string]any)["city"] != "Testville" {
		t.Errorf("order address = %v", got["shipping_address"])
	}

	// The same cart cannot be checked out twice, and another user cannot see the order.
	if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(cartID), auth); code != http.StatusConflict {
		t.Errorf("second checkout: %d %v, want 409", code, out)
	}
	if code, _ := ts.call(t, "GET", "/v1/orders/"+id, nil, ts.login(t, 8)); code != http.StatusNotFound {
		t.Errorf("other user's order: %d, want 404", code)
	}
}

func TestProducts(t *testing.T) {
	ts := newTestShop(t, Config{})
	code, out := ts.call(t, "GET", "/v1/products?page=2&per_page=5&category=books", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d %v", code, out)
	}
	products := out["products"].([]any)
	if len(products) != 5 || out["total"].(float64) != 200 {
		t.Fatalf("list: %d products, total %v; want 5 of 200 books", len(products), out["total"])
	}
	for _, p := range products {
		if c := p.(map[string]any)["category"]; c != "books" {
			t.Errorf("category filter let %v through", c)
		}
	}
	code, p := ts.call(t, "GET", "/v1/products/1999", nil, nil)
	if code != http.StatusOK || p["id"].(float64) != 1999 || p["stock"].(float64) <= 0 || p["name"] == "" {
		t.Fatalf("detail: %d %v", code, p)
	}
	if code, out := ts.call(t, "GET", "/healthz", nil, nil); code != http.StatusOK || out["status"] != "ok" {
		t.Errorf("healthz: %d %v", code, out)
	}
}

// TestBadInput checks every endpoint answers bad input with a 4xx and an
// error naming the field.
func TestBadInput(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 1)
	_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 1}, auth)
	cartID := cart["cart_id"].(string)
	noAddr := validCheckout(cartID)
	delete(noAddr, "shipping_address")
	badZip := validCheckout(cartID)
	badZip["shipping_address"] = map[string]any{"street": "x", "city": "y", "zip": 12345, "country": "US"}
	_, empty := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 1}, nil)
	emptyCart := empty["cart_id"].(string)
	ts.call(t, "POST", "/v1/checkout", validCheckout(emptyCart), auth) // anonymous cart, checked out once
	bearer := map[string]string{"Authorization": "Bearer nope"}

	cases := []struct {
		name, method, path string
		body               any
		header             map[string]string
		code               int
		mention            string
	}{
		{"login no body", "POST", "/v1/login", "", nil, 400, "body"},
		{"login bad json", "POST", "/v1/login", "{", nil, 400, "invalid JSON"},
		{"login no user", "POST", "/v1/login", map[string]string{"password": "x"}, nil, 400, "user"},
		{"login user not a string", "POST", "/v1/login", `{"user": 5, "password": "x"}`, nil, 400, "user"},
		{"login wrong password", "POST", "/v1/login", map[string]string{"user": seedUserEmail(1), "password": "x"}, nil, 401, "password"},
		{"page not a number", "GET", "/v1/products?page=x", nil, nil, 400, "page"},
		{"per_page too big", "GET", "/v1/products?per_page=1000", nil, nil, 400, "per_page"},
		{"unknown category", "GET", "/v1/products?category=cars", nil, nil, 400, "category"},
		{"product id not a number", "GET", "/v1/products/abc", nil, nil, 400, "id"},
		{"product not found", "GET", "/v1/products/999999", nil, nil, 404, "999999"},
		{"cart no product", "POST", "/v1/cart/items", map[string]any{"quantity": 1}, nil, 400, "product_id"},
		{"cart product not numeric", "POST", "/v1/cart/items", map[string]any{"product_id": "ten"}, nil, 400, "product_id"},
		{"cart product unknown", "POST", "/v1/cart/items", map[string]any{"product_id": 999999}, nil, 404, "product_id"},
		{"cart quantity zero", "POST", "/v1/cart/items", map[string]any{"product_id": 1, "quantity": 0}, nil, 400, "quantity"},
		{"cart unknown cart", "POST", "/v1/cart/items", map[string]any{"product_id": 1, "cart_id": "nope"}, nil, 404, "cart_id"},
		{"cart bad token", "POST", "/v1/cart/items", map[string]any{"product_id": 1}, bearer, 401, "token"},
		{"coupon unknown code", "POST", "/v1/cart/" + cartID + "/coupons", map[string]string{"code": "FREE"}, nil, 422, "code"},
		{"coupon no code", "POST", "/v1/cart/" + cartID + "/coupons", map[string]string{}, nil, 400, "code"},
		{"coupon unknown cart", "POST", "/v1/cart/nope/coupons", map[string]string{"code": "SAVE10"}, nil, 404, "cart_id"},
		{"checkout no token", "POST", "/v1/checkout", validCheckout(cartID), nil, 401, "Authorization"},
		{"checkout bad token", "POST", "/v1/checkout", validCheckout(cartID), bearer, 401, "token"},
		{"checkout no cart", "POST", "/v1/checkout", map[string]any{"payment_method_id": "pm-x"}, auth, 400, "cart_id"},
		{"checkout bad payment method", "POST", "/v1/checkout", map[string]any{"cart_id": cartID, "payment_method_id": "visa"}, auth, 400, "payment_method_id"},
		{"checkout no address", "POST", "/v1/checkout", noAddr, auth, 400, "shipping_address"},
		{"checkout zip not a string", "POST", "/v1/checkout", badZip, auth, 400, "shipping_address.zip"},
		{"checkout unknown cart", "POST", "/v1/checkout", validCheckout("nope"), auth, 404, "cart_id"},
		{"checkout declined", "POST", "/v1/checkout", map[string]any{"cart_id": cartID, "payment_method_id": declinedPaymentMethod,
			"shipping_address": validCheckout("")["shipping_address"]}, auth, 402, "declined"},
		{"checkout closed cart", "POST", "/v1/checkout", validCheckout(emptyCart), auth, 409, "cart_id"},
		{"order id not a number", "GET", "/v1/orders/x", nil, auth, 400, "id"},
		{"order no token", "GET", "/v1/orders/1", nil, nil, 401, "Authorization"},
		{"order not found", "GET", "/v1/orders/99999999", nil, auth, 404, "99999999"},
		{"unknown path", "GET", "/v2/nothing", nil, nil, 404, "/v2/nothing"},
		{"knobs bad pool", "POST", "/admin/knobs", map[string]any{"pool": 0}, nil, 400, "pool"},
		{"knobs bad duration", "POST", "/admin/knobs", map[string]any{"cpu_burn": "fast"}, nil, 400, "cpu_burn"},
		{"knobs wrong type", "POST", "/admin/knobs", map[string]any{"capacity": "two"}, nil, 400, "capacity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := ts.call(t, c.method, c.path, c.body, c.header)
			msg, _ := out["error"].(string)
			if code != c.code || !strings.Contains(msg, c.mention) {
				t.Errorf("%s %s = %d %q; want %d mentioning %q", c.method, c.path, code, msg, c.code, c.mention)
			}
		})
	}
}

func TestAdminKnobsRoundTrip(t *testing.T) {
	ts := newTestShop(t, Config{})
	code, out := ts.call(t, "POST", "/admin/knobs", map[string]any{"cpu_burn": "250us", "n_plus_one": true, "capacity": 3}, nil)
	if code != http.StatusOK || out["cpu_burn"] != "250µs" || out["n_plus_one"] != true || out["capacity"].(float64) != 3 || out["pool"].(float64) != 10 {
		t.Fatalf("POST /admin/knobs = %d %v", code, out)
	}
	k := ts.Knobs()
	if k.CPUBurn.Microseconds() != 250 || !k.NPlusOne || k.Capacity != 3 || k.Pool != 10 {
		t.Errorf("Knobs() = %+v after POST", k)
	}
	if _, got := ts.call(t, "GET", "/admin/knobs", nil, nil); got["capacity"].(float64) != 3 {
		t.Errorf("GET /admin/knobs = %v", got)
	}
}
