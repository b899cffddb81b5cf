package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
	"beerlocker/pages"
)

// The fuzz targets of this file check properties of the parsers behind
// the token and authorization endpoints. controllers/fuzz_test.go drives
// the same endpoints through the router.

// FuzzReadForm checks that readForm accepts only a POSTed form whose
// parameters each appear once, returns exactly the body's parameters (never
// the URL query's), and otherwise answers invalid_request with 400 or 413.
func FuzzReadForm(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	f.Add("POST", "application/x-www-form-urlencoded", "grant_type=password&username=a&password=b")
	f.Add("POST", "application/x-www-form-urlencoded; charset=utf-8", "a=1&a=2")
	f.Add("POST", "application/x-www-form-urlencoded", "a=%zz")
	f.Add("POST", "application/x-www-form-urlencoded", "a=1;b=2")
	f.Add("POST", "APPLICATION/X-WWW-FORM-URLENCODED", "")
	f.Add("POST", "application/json", `{"grant_type":"password"}`)
	f.Add("POST", "multipart/form-data; boundary=x", "--x--")
	f.Add("GET", "application/x-www-form-urlencoded", "a=1")
	f.Add("POST", "", "a=1")
	f.Add("POST", "application/x-www-form-urlencoded", strings.Repeat("a", pages.MaxFormBytes+1))
	f.Fuzz(func(t *testing.T, method, contentType, body string) {
		if !validMethod(method) {
			return // net/http never delivers such a request
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(method, "/token?client_secret=from-the-query", strings.NewReader(body))
		c.Request.Header.Set("Content-Type", contentType)
		form, rerr := readForm(c)
		if rerr != nil {
			err, ok := rerr.(*Error)
			if !ok || err.Code != "invalid_request" || err.Status != http.StatusBadRequest && err.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("readForm error = %+v, want invalid_request with 400 or 413", rerr)
			}
			return
		}
		mt, _, perr := mime.ParseMediaType(contentType)
		if method != http.MethodPost || perr != nil || mt != "application/x-www-form-urlencoded" {
			t.Fatalf("readForm accepted %s with Content-Type %q", method, contentType)
		}
		if len(body) > pages.MaxFormBytes {
			t.Fatalf("readForm accepted a %d-byte body", len(body))
		}
		want, perr := url.ParseQuery(body)
		if perr != nil {
			t.Fatalf("readForm accepted %q, which is not a valid form: %v", body, perr)
		}
		if len(form) != len(want) {
			t.Fatalf("readForm = %v, want %v", form, want)
		}
		for k, v := range form {
			if len(v) != 1 || !slices.Equal(v, want[k]) {
				t.Fatalf("readForm[%q] = %q, want it once as in %v", k, v, want)
			}
		}
	})
}

// validMethod reports whether m is an HTTP token, as net/http requires.
func validMethod(m string) bool {
	return m != "" && !strings.ContainsFunc(m, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}

// FuzzReadClientCredentials checks that the client is identified by one
// method only, that Basic credentials round-trip through RFC 6749 §2.3.1
// form-encoding, and that every refusal is invalid_client (401, with a
// Basic challenge when Basic was tried) or invalid_request.
func FuzzReadClientCredentials(f *testing.F) {
	f.Add("", "client_id=c1&client_secret=s", "c1", "s")
	f.Add("", "client_id=c1", "c1", "")
	f.Add("", "client_secret=s", "", "s")
	f.Add("Basic YzE6cw==", "", "c1", "s")
	f.Add("Basic YzE6cw==", "client_secret=s", "c1", "s")
	f.Add("Basic YzE6cw==", "client_secret=", "c1", "s")
	f.Add("Basic YzE6cw==", "client_id=c2", "c:1", "s:%+ &")
	f.Add("basic  YzE6cw== ", "client_id=c1", "c 1", "")
	f.Add("Bearer abc", "", "", "")
	f.Add("Basic !!!", "", "", "")
	f.Add("Basic Olg=", "", "", "")
	f.Add("Basic YyUzOnM=", "", "", "")
	f.Fuzz(func(t *testing.T, authorization, body, id, secret string) {
		form, _ := url.ParseQuery(body)
		cred, err := readClientCredentials(authorization, form)
		checkClientCredentials(t, authorization, form, cred, err)

		// What an RFC-conforming client sends for id and secret.
		header := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		cred, err = readClientCredentials(header, url.Values{})
		checkClientCredentials(t, header, url.Values{}, cred, err)
		if id != "" && (err != nil || cred.id != id || cred.secret != secret) {
			t.Fatalf("Basic %q:%q read back as %q:%q, %v", id, secret, cred.id, cred.secret, err)
		}
	})
}

func checkClientCredentials(t *testing.T, authorization string, form url.Values, cred clientCredentials, err *Error) {
	t.Helper()
	if err != nil {
		switch {
		case err.Code == "invalid_client" && err.Status == http.StatusUnauthorized && err.basic == (authorization != ""):
		case err.Code == "invalid_request" && err.Status == http.StatusBadRequest:
		default:
			t.Fatalf("readClientCredentials(%q, %v) error = %+v", authorization, form, err)
		}
		return
	}
	_, formSecret := form["client_secret"]
	switch {
	case cred.id == "":
		t.Fatalf("readClientCredentials(%q, %v) accepted an empty client id", authorization, form)
	case authorization != "" && (!cred.basic || !cred.hasSecret):
		t.Fatalf("readClientCredentials(%q, %v) = %+v: Basic not recorded", authorization, form, cred)
	case authorization != "" && formSecret:
		t.Fatalf("readClientCredentials(%q, %v) accepted Basic and client_secret together", authorization, form)
	case authorization != "" && form.Get("client_id") != "" && form.Get("client_id") != cred.id:
		t.Fatalf("readClientCredentials(%q, %v) = %q despite another client_id in the body", authorization, form, cred.id)
	case authorization == "" && (cred.basic || cred.id != form.Get("client_id") || cred.hasSecret != formSecret || cred.secret != form.Get("client_secret")):
		t.Fatalf("readClientCredentials(%q, %v) = %+v, not the body's credentials", authorization, form, cred)
	}
}

// FuzzParseAuthRequest checks that an accepted authorization request goes
// back to the redirect URI it was given, asks for known scopes in canonical
// order, carries a well-formed S256 challenge (always, for a public
// client) and a bounded state; and that a refusal names an RFC 6749
// §4.1.2.1 error code.
func FuzzParseAuthRequest(f *testing.F) {
	_, challenge := s256Pair("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	for _, q := range []string{
		"response_type=code&client_id=c1&state=xyz",
		"response_type=code&client_id=c1&scope=profile%20beers%3Aread&code_challenge=" + challenge + "&code_challenge_method=S256",
		"response_type=code&code_challenge=" + challenge + "&code_challenge_method=plain",
		"response_type=code&code_challenge=" + challenge,
		"response_type=code&code_challenge_method=S256",
		"response_type=code&code_challenge=short&code_challenge_method=S256",
		"response_type=token", "response_type=code&response_type=code", "response_type=code&scope=admin",
		"response_type=code&state=" + strings.Repeat("s", maxStateLen+1),
	} {
		f.Add(q, false, true)
		f.Add(q, true, true)
	}
	f.Add("response_type=code", false, false)
	f.Fuzz(func(t *testing.T, query string, public, codeGrant bool) {
		q, _ := url.ParseQuery(query)
		client := &models.Client{ID: "c1", Public: public, RedirectURIs: []string{"https://app.example/cb"},
			GrantTypes: []string{models.GrantRefreshToken}}
		if codeGrant {
			client.GrantTypes = append(client.GrantTypes, models.GrantAuthorizationCode)
		}
		req, err := parseAuthRequest(q, client, "https://app.example/cb")
		if err != nil {
			if !slices.Contains([]string{"invalid_request", "unsupported_response_type", "unauthorized_client", "invalid_scope"}, err.Code) {
				t.Fatalf("parseAuthRequest(%q) error code %q", query, err.Code)
			}
			return
		}
		for k, v := range q {
			if len(v) != 1 && k != "resource" {
				t.Fatalf("parseAuthRequest(%q) accepted %s %d times", query, k, len(v))
			}
		}
		scopes, ok := models.ParseScope(models.ScopeString(req.Scopes))
		switch {
		case q.Get("response_type") != "code" || !codeGrant:
			t.Fatalf("parseAuthRequest(%q) accepted response_type %q (code grant registered: %v)", query, q.Get("response_type"), codeGrant)
		case req.Redirect != "https://app.example/cb" || req.ClientID != "c1" || req.RedirectURI != q.Get("redirect_uri"):
			t.Fatalf("parseAuthRequest(%q) = %+v: not the client's redirect", query, req)
		case len(req.Scopes) == 0 || !ok || !slices.Equal(scopes, req.Scopes):
			t.Fatalf("parseAuthRequest(%q) scopes = %q, want known scopes in canonical order", query, req.Scopes)
		case len(req.State) > maxStateLen || req.State != q.Get("state"):
			t.Fatalf("parseAuthRequest(%q) state = %q", query, req.State)
		case public && req.Challenge == "":
			t.Fatalf("parseAuthRequest(%q) accepted a public client without PKCE", query)
		case req.Challenge != "" && (!validChallenge(req.Challenge) || q.Get("code_challenge_method") != "S256"):
			t.Fatalf("parseAuthRequest(%q) accepted challenge %q with method %q", query, req.Challenge, q.Get("code_challenge_method"))
		}
	})
}

// FuzzPKCE checks RFC 7636: a verifier is 43–128 unreserved characters;
// its S256 challenge is well-formed and matches it; nothing else matches;
// and only the canonical base64url of 32 bytes is a well-formed challenge.
func FuzzPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN")
	f.Add(strings.Repeat("a", 128), strings.Repeat("A", 43))
	f.Add(strings.Repeat("~", 129), strings.Repeat("_", 44))
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX/", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		wantValid := len(verifier) >= 43 && len(verifier) <= 128 &&
			!strings.ContainsFunc(verifier, func(r rune) bool { return r >= 0x80 || !unreserved(byte(r)) })
		if validVerifier(verifier) != wantValid {
			t.Fatalf("validVerifier(%q) = %v, want %v", verifier, !wantValid, wantValid)
		}
		_, own := s256Pair(verifier)
		if !validChallenge(own) || !verifierMatches(verifier, own) {
			t.Fatalf("the S256 challenge %q of %q is refused", own, verifier)
		}
		if verifierMatches(verifier, challenge) != (challenge == own) {
			t.Fatalf("verifierMatches(%q, %q) = %v", verifier, challenge, challenge != own)
		}
		if validChallenge(challenge) {
			b, err := base64.RawURLEncoding.DecodeString(challenge)
			if err != nil || len(b) != sha256.Size || base64.RawURLEncoding.EncodeToString(b) != challenge {
				t.Fatalf("validChallenge(%q) accepted what is not the base64url of a SHA-256 sum", challenge)
			}
		}
	})
}

func s256Pair(verifier string) (string, string) {
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}
