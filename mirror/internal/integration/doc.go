// Package integration holds the end-to-end tests: bundle examples/hello-go
// from the project's offline module cache with offline-bundle's code, serve
// it with offline-mirror's, and build through it with a real go command and
// an empty module cache. It has no code of its own.
package integration
