// Package middleware holds the Gin middleware every request passes through
// (request ids, access logs, panic recovery, security headers), the
// browser session with its CSRF token, and the Gin adapter of API
// authentication (Basic or Bearer, and the route's scope). What a
// credential is worth is decided elsewhere: passwords by package accounts,
// tokens by package oauth, limits by package limits.
package middleware
