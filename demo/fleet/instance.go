package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/headroom-sre/headroom/demo/shop"
)

// shopInstance is an in-process demo shop on a loopback port.
type shopInstance struct {
	url  string
	srv  *shop.Server
	done chan error
	once sync.Once
	err  error
}

func (s *shopInstance) URL() string { return s.url }

// Stop shuts the shop down; later calls return the first one's error.
func (s *shopInstance) Stop(ctx context.Context) error {
	s.once.Do(func() {
		s.err = s.srv.Shutdown(ctx)
		if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			s.err = errors.Join(s.err, serr)
		}
	})
	return s.err
}

// launchShop starts an in-process shop with the fleet's shop config.
func (f *Fleet) launchShop(ctx context.Context, i int) (Instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := f.cfg.Shop
	cfg.Addr = ln.Addr().String()
	cfg.Instance = fmt.Sprintf("shop-%d", i)
	srv, err := shop.New(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	inst := &shopInstance{url: "http://" + cfg.Addr, srv: srv, done: make(chan error, 1)}
	go func() { inst.done <- srv.Serve(ln) }()
	return inst, nil
}
