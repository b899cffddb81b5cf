package middleware

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/problem"
)

// RefuseCrossSiteBasic answers 403 to a state-changing request with Basic
// credentials that a browser marks as coming from another site (API.md
// §8): Sec-Fetch-Site: cross-site, Origin: null (a sandboxed frame, a data:
// URL, a redirect across origins) or an Origin other than publicURL's.
// A browser that once sent Basic credentials to this site caches them and
// adds them to every later request here, a foreign page's form POST
// included: without this, such a form could rotate a client secret or
// delete the account. It is the CSRF check of Basic auth, which has no
// token to carry; the pages have theirs.
//
// Reads (GET, HEAD, OPTIONS) change nothing and pass. So do Bearer
// requests, which a browser never adds on its own, and requests without
// either header: clients that are not browsers (curl, Postman, SDKs) send
// neither, and browsers send Origin with every cross-origin request that
// could change state. It runs before the credentials are checked, so a
// refused request costs no password hash and no rate-limit token.
func RefuseCrossSiteBasic(publicURL string) gin.HandlerFunc {
	own := origin(publicURL)
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			c.Next()
			return
		}
		scheme, _, _ := strings.Cut(c.GetHeader("Authorization"), " ")
		if !strings.EqualFold(scheme, "Basic") || !crossSite(c.Request.Header, own) {
			c.Next()
			return
		}
		problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "Cross-site request refused",
			Detail: "This request came from another site's page, with the HTTP Basic credentials your browser keeps for this one; " +
				"requests that change anything with Basic credentials are accepted only from this site or from clients that are not browsers."})
	}
}

// crossSite reports whether a browser marked the request as coming from
// another site than the one whose origin is own.
func crossSite(h http.Header, own string) bool {
	if h.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	o, ok := h["Origin"]
	if !ok {
		return false
	}
	// RFC 6454 §7: one origin, or "null" for a privacy-sensitive one.
	return len(o) != 1 || o[0] == "null" || origin(o[0]) != own
}

// origin returns the RFC 6454 serialization of u's origin: lowercase
// scheme and host, and the port only when it is not the scheme's default.
// Anything that is not an absolute http(s) URL has no origin: "".
func origin(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		return ""
	}
	scheme, host, port := strings.ToLower(p.Scheme), strings.ToLower(p.Hostname()), p.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}
