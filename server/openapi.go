package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the OpenAPI 3.1 document of /api/v1 (openapi.yaml): the
// API's one description, served as JSON, validated against by the API
// tests and the source of the dashboard's types.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
})

// OpenAPI returns the OpenAPI document of /api/v1 as JSON.
func OpenAPI() ([]byte, error) { return openAPIJSON() }

// routeOpenAPI serves the document at /api/v1/openapi.json, to anyone: it
// describes the API, it holds no data.
func (s *Server) routeOpenAPI(e *echo.Echo) {
	e.GET("/api/v1/openapi.json", func(c echo.Context) error {
		doc, err := OpenAPI()
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	})
}
