package main

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed plan.yaml.tmpl
var planTemplate string

// planParams are the figures of a run that headroom's plan must carry.
type planParams struct {
	Scheme   string // http or https
	Port     int
	Conns    int // virtual users
	MaxConns int // target.max_conns: the users for HTTP/1.1, fewer for HTTP/2
	Seconds  int
	Insecure bool // target.insecure_tls
}

// renderPlan is headroom's plan for one run.
func renderPlan(p planParams) (string, error) {
	t, err := template.New("plan").Option("missingkey=error").Parse(planTemplate)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writePlan renders headroom's plan into dir and returns its path.
func writePlan(dir string, p planParams) (string, error) {
	text, err := renderPlan(p)
	if err != nil {
		return "", fmt.Errorf("headroom plan: %w", err)
	}
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return "", err
	}
	return path, nil
}
