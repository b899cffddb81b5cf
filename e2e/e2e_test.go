// Package e2e holds the system tests: they run the whole service, in
// process through app.Run (e2etest.StartInProcess) or as the real binary
// built from the repository root (binary_test.go), against the embedded
// database, MongoDB (FerretDB) or Redis, and drive it over HTTP, from a
// headless Chromium or with raw TCP.
package e2e
