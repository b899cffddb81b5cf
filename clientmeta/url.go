package clientmeta

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxURLLength bounds a client_id URL. The draft leaves the limit to the
// server; 255 bytes is plenty for a URL and fits every column and log line
// a client_id ends up in.
const maxURLLength = 255

// IsMetadataURL reports whether clientID has the form of a metadata
// document URL this fetcher would fetch (no network access). A loopback
// https URL has that form even without Options.AllowHTTPLoopback; Fetch
// then refuses it without connecting.
func (f *Fetcher) IsMetadataURL(clientID string) bool {
	_, err := f.parseURL(clientID)
	return err == nil
}

// parseURL checks the draft's rules for a client identifier URL: https,
// with a host and a path other than "/", no fragment, no userinfo, and no
// "." or ".." path segments. The draft says it SHOULD NOT have a query; we
// refuse one, so that one client has one spelling.
func (f *Fetcher) parseURL(clientID string) (*url.URL, *Error) {
	if len(clientID) > maxURLLength {
		return nil, urlError("is longer than 255 bytes")
	}
	for i := 0; i < len(clientID); i++ {
		if c := clientID[i]; c <= ' ' || c >= 0x7f {
			return nil, urlError("has a space, control or non-ASCII character")
		}
	}
	// Checked on the raw string: url.Parse drops an empty "#" or "?".
	if strings.Contains(clientID, "#") {
		return nil, urlError("has a fragment")
	}
	if strings.Contains(clientID, "?") {
		return nil, urlError("has a query")
	}
	u, err := url.Parse(clientID)
	if err != nil {
		return nil, &Error{Reason: "the client_id is not a URL", Err: err}
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, urlError("has no host")
	}
	if u.User != nil {
		return nil, urlError("has userinfo")
	}
	if !validHost(u.Host) {
		return nil, urlError("has an invalid host")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, urlError("has an invalid port")
		}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.allowLoopback && isLoopbackHost(u.Hostname()):
		// A development server has no fixed port; requiring one keeps
		// http://localhost/ from meaning whatever happens to run on :80.
		if u.Port() == "" {
			return nil, urlError("needs a port, as a loopback http URL")
		}
	default:
		return nil, urlError("is not an https URL")
	}
	if u.Path == "" || u.Path == "/" {
		return nil, urlError("has no path")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, urlError("has a . or .. path segment")
		}
	}
	return u, nil
}

func urlError(what string) *Error {
	return &Error{Reason: "the client_id " + what}
}

// isLoopbackHost reports whether host (without brackets or port) is one of
// the loopback hosts Options.AllowHTTPLoopback opens. Other 127/8 addresses
// and names are not: they are judged like any other host.
func isLoopbackHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// validHost accepts an IPv4 literal, a bracketed IPv6 literal without a
// zone, or a DNS name of letters, digits and hyphens. Anything else
// (percent-escapes, underscores, "127.1") would be parsed differently by
// the resolver than by us.
func validHost(hostport string) bool {
	host := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host = hostport[:i]
	}
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		return err == nil && a.Is6() && a.Zone() == ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// A name whose last label is a number is an IPv4 address in another
	// spelling (URL standard), such as 127.1, 2130706433 or 0x7f.0x1.
	return !isNumber(labels[len(labels)-1])
}

func isNumber(label string) bool {
	if hex, ok := strings.CutPrefix(strings.ToLower(label), "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}
