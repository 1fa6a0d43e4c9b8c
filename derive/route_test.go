package derive

import "testing"

func TestTemplateCollapsesIdentifiers(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/v1/products/42", "/v1/products/{id}"},
		{"/v1/products/42?page=2", "/v1/products/{id}"},
		{"/v1/products", "/v1/products"},
		{"/v1/products?page=3", "/v1/products"},
		{"/", "/"},
		{"", "/"},
		{"/v1/cart/5f0c2a3e-9b7d-4c1e-8a6f-0123456789ab/coupons", "/v1/cart/{uuid}/coupons"},
		{"/v1/cart/9f86d081884c7d659a2feaa0c55ad015/coupons", "/v1/cart/{hash}/coupons"},
		{"/git/commit/3e1f0a9b", "/git/commit/{hash}"},
		{"/blog/red-shoes-2024", "/blog/{slug}"},
		{"/blog/add-to-cart", "/blog/add-to-cart"},
		{"/files/aGVsbG8gd29ybGQgdGhpcyBpczE", "/files/{token}"},
		{"/v1/users/7/orders/19", "/v1/users/{id}/orders/{id}"},
		{"/api/v2/health", "/api/v2/health"},
		{"/static/app.js", "/static/app.js"},
		{"/a//b/", "/a//b/"},
		{"/v1/products/12/", "/v1/products/{id}/"},
		{"/decade/deadbeef", "/decade/deadbeef"}, // all letters: a word, not a hash
	}
	for _, c := range cases {
		if got := Template(c.in); got != c.want {
			t.Errorf("Template(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/v1/products/42", "/a/b-c-1", "?", "/x?y#z", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Template(s)
		if b := string(appendTemplate(nil, []byte(s))); b != got {
			t.Fatalf("appendTemplate(%q) = %q, Template %q", s, b, got)
		}
		if Template(got) != got {
			t.Fatalf("Template is not idempotent on %q: %q then %q", s, got, Template(got))
		}
	})
}
