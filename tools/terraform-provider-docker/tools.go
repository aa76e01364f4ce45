//go:build tools

// Package tools records the main package this wrapper module builds, so that
// `go mod tidy` keeps its whole dependency graph in go.mod and go.sum.
package tools

import _ "github.com/terraform-providers/terraform-provider-docker"
