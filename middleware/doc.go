// Package middleware holds the Gin middleware every request passes through
// (request ids, access logs, panic recovery, security headers) and the
// authentication of API routes: HTTP Basic with a bounded cache of verified
// credentials, Bearer tokens, and per-route scope checks.
package middleware
