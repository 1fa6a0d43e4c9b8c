package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// routeUI serves the dashboard's files at / and its index.html for every
// other path outside the API, so client-side routes load the app.
func (s *Server) routeUI(e *echo.Echo) {
	files := http.FileServer(http.FS(s.cfg.UI))
	serve := func(c echo.Context) error {
		p := strings.TrimPrefix(path.Clean("/"+c.Request().URL.Path), "/")
		if p == "api" || strings.HasPrefix(p, "api/") {
			return echo.ErrNotFound
		}
		if p == "" {
			p = "index.html"
		}
		if st, err := fs.Stat(s.cfg.UI, p); err != nil || st.IsDir() {
			if !errors.Is(err, fs.ErrNotExist) && err != nil {
				return err
			}
			// A client-side route: the app decides what it shows.
			index, err := fs.ReadFile(s.cfg.UI, "index.html")
			if err != nil {
				return echo.ErrNotFound
			}
			return c.HTMLBlob(http.StatusOK, index)
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
	e.GET("/", serve)
	e.GET("/*", serve)
}
