package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/pages"
)

// maxStateLen bounds the state parameter, which is kept with the pending
// request while the consent page is open.
const maxStateLen = 512

// maxIDTokenHintLen bounds id_token_hint: this server's ID tokens are a
// few hundred bytes, and checking one costs a signature verification.
const maxIDTokenHintLen = 8192

// authRequest is a validated authorization request (RFC 6749 §4.1.1,
// OpenID Connect Core §3.1.2.1).
type authRequest struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`  // as sent; "" when omitted
	Redirect    string   `json:"rr"` // where to send the browser
	Scopes      []string `json:"s"`
	State       string   `json:"st,omitempty"`
	Challenge   string   `json:"pc,omitempty"`
	Nonce       string   `json:"n,omitempty"` // OpenID Connect: echoed in the ID token
	// Audience is the resources asked for (RFC 8707), the REST API when
	// none was.
	Audience models.Audience `json:"a,omitempty"`
	// The rest is needed only while the request is answered, not parked.
	prompt      prompt
	maxAge      int64  // seconds; -1 when not sent
	loginHint   string // pre-fills the login form
	idTokenHint string // as sent; hintSubject once verified
	hintSubject string
}

// prompt is the parsed prompt parameter (OpenID Connect Core §3.1.2.1): a
// space-separated list. Unknown values, such as select_account with its
// one account per session, are ignored.
type prompt struct{ none, login, consent bool }

// parsePrompt parses prompt. OpenID Connect Core §3.1.2.1: none with any
// other value is an error.
func parsePrompt(v string) (prompt, *Error) {
	var p prompt
	others := false
	for _, f := range strings.Fields(v) {
		switch f {
		case "none":
			p.none = true
		case "login":
			p.login = true
			others = true
		case "consent":
			p.consent = true
			others = true
		default:
			others = true
		}
	}
	if p.none && others {
		return prompt{}, errInvalidRequest("prompt=none may not be combined with other values.")
	}
	return p, nil
}

// parseMaxAge parses max_age, the most seconds since the user last
// entered a password that the app accepts; -1 when it is not sent.
func parseMaxAge(v string) (int64, *Error) {
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || v[0] == '+' {
		return 0, errInvalidRequest("max_age must be a whole number of seconds, 0 or more.")
	}
	return n, nil
}

// Authorize handles GET and POST /api/oauth2/authorize (API.md §6 steps
// 1–5, §9): a POST carries the same parameters as a form.
func (s *Server) Authorize() gin.HandlerFunc {
	return func(c *gin.Context) {
		q, ok := s.authorizeParams(c)
		if !ok {
			return
		}
		client, redirect, ok := s.registeredRedirect(c, q)
		if !ok {
			return
		}
		ctx := c.Request.Context()
		userID := middleware.SessionUserID(c, s.Now())
		req, oerr := parseAuthRequest(q, client, redirect)
		if oerr == nil {
			req.Audience, oerr = s.grantAudience(q[resourceParam])
		}
		if oerr == nil {
			var err error
			if req.hintSubject, oerr, err = s.hintedSubject(ctx, req.idTokenHint, client); err != nil {
				s.Pages.Fail(c, err)
				return
			}
		}
		if oerr != nil {
			s.refuseRequest(c, userID, client, redirect, q.Get("state"), oerr)
			return
		}
		if userID == "" {
			if req.prompt.none {
				s.redirectError(c, http.StatusFound, redirect, req.State, &Error{Code: "login_required", Description: "The user is not signed in."})
				return
			}
			s.sendToLogin(c, q, req, "")
			return
		}
		if why := s.signInAgain(q, req, userID, middleware.SessionAuthTime(c)); why != "" {
			if req.prompt.none {
				s.redirectError(c, http.StatusFound, redirect, req.State, &Error{Code: "login_required", Description: "The user must enter their password again."})
				return
			}
			s.sendToLogin(c, q, req, why)
			return
		}
		if !req.prompt.consent && mayRemember(client, redirect) {
			consent, err := s.Store.Consents.Get(ctx, userID, client.ID)
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				s.Pages.Fail(c, err)
				return
			}
			// A limited grant's consent is remembered only until its end
			// (API.md §11), and a grant it answers ends with it.
			if err == nil && consent.Live(s.now()) && models.HasScopes(consent.Scopes, req.Scopes) {
				s.approve(c, http.StatusFound, userID, req, consent.ExpiresAt)
				return
			}
		}
		if req.prompt.none {
			s.redirectError(c, http.StatusFound, redirect, req.State, &Error{Code: "consent_required", Description: "The user has not approved this app for these scopes."})
			return
		}
		s.showConsent(c, q, userID, client, req)
	}
}

// authorizeParams returns the request's parameters: the query of a GET,
// the form of a POST (OpenID Connect Core §3.1.2.1).
func (s *Server) authorizeParams(c *gin.Context) (url.Values, bool) {
	if c.Request.Method != http.MethodPost {
		return c.Request.URL.Query(), true
	}
	if !s.Pages.ReadForm(c) {
		return nil, false
	}
	return c.Request.PostForm, true
}

// mayRemember reports whether a remembered consent may answer a request
// without the user (step 4). RFC 8252 §8.6: any app on a device can claim
// a private-use URI scheme, so for a public client redirecting to one the
// server cannot tell the app from an impersonator using its client_id,
// and RFC 6749 §10.2 then asks for the user's interaction every time. An
// https redirect URI is the domain's, and a loopback one (the only http a
// client may register) stays on the device the user is using.
func mayRemember(client *models.Client, redirect string) bool {
	if !client.Public {
		return true
	}
	u, err := url.Parse(redirect)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http")
}

// registeredRedirect applies step 1: the client must exist and the
// redirect URI must be one it registered (Client.AcceptsRedirectURI).
// Otherwise the user sees an error page and is never redirected.
func (s *Server) registeredRedirect(c *gin.Context, q url.Values) (*models.Client, string, bool) {
	if len(q["client_id"]) != 1 || len(q["redirect_uri"]) > 1 {
		s.Pages.Error(c, http.StatusBadRequest, "This app sent a malformed request", "The request must name exactly one client_id and at most one redirect_uri.")
		return nil, "", false
	}
	client, err := s.lookupClient(c.Request.Context(), q.Get("client_id"), c.ClientIP())
	var docErr *clientDocumentError
	if errors.Is(err, models.ErrNotFound) {
		s.Pages.Error(c, http.StatusBadRequest, "Unknown app", "No app with this client_id is registered here, so there is nowhere safe to send you back to.")
		return nil, "", false
	}
	if errors.As(err, &docErr) {
		s.Pages.Error(c, http.StatusBadRequest, "This app's details could not be read",
			"The app names itself by the address of its metadata document, and that document cannot be used: "+docErr.reason+
				". So there is nowhere safe to send you back to.")
		return nil, "", false
	}
	if err != nil {
		s.Pages.Fail(c, err)
		return nil, "", false
	}
	redirect := q.Get("redirect_uri")
	switch {
	case redirect == "" && len(client.RedirectURIs) == 1:
		redirect = client.RedirectURIs[0]
	case redirect == "":
		s.Pages.Error(c, http.StatusBadRequest, "This app sent a malformed request", "redirect_uri is required because the app registered more than one.")
		return nil, "", false
	case !client.AcceptsRedirectURI(redirect):
		s.Pages.Error(c, http.StatusBadRequest, "This app sent an unregistered redirect address", "The redirect_uri is not one the app registered, so you are not sent there.")
		return nil, "", false
	}
	return client, redirect, true
}

// refuseRequest answers an error in the request (step 2). RFC 9700
// §4.11.2: the server must not redirect to an untrusted URI, and a
// registered one is not trusted by that alone, since anyone can register
// an app; otherwise the endpoint is an open redirector. The error goes to
// the redirect URI only when the signed-in user owns the client or has
// approved it before; anyone else sees the error page.
func (s *Server) refuseRequest(c *gin.Context, userID string, client *models.Client, redirect, state string, e *Error) {
	trusted := userID != "" && client.OwnerID == userID
	if userID != "" && !trusted {
		_, err := s.Store.Consents.Get(c.Request.Context(), userID, client.ID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			s.Pages.Fail(c, err)
			return
		}
		trusted = err == nil
	}
	if !trusted {
		s.Pages.RefuseAuthorization(c, e.Code, e.Description, redirect)
		return
	}
	s.redirectError(c, http.StatusFound, redirect, state, e)
}

// parseAuthRequest checks the rest of the request (step 2).
func parseAuthRequest(q url.Values, client *models.Client, redirect string) (*authRequest, *Error) {
	for k, v := range q {
		if len(v) > 1 && !repeatable(k) {
			return nil, errInvalidRequest("The parameter " + quoteParam(k) + " appears more than once.")
		}
	}
	// OpenID Connect Core §6: request objects are optional; these errors
	// say they are not supported.
	if q.Has("request") {
		return nil, &Error{Code: "request_not_supported", Description: "Request objects (the request parameter) are not supported."}
	}
	if q.Has("request_uri") {
		return nil, &Error{Code: "request_uri_not_supported", Description: "The request_uri parameter is not supported."}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return nil, &Error{Code: "unsupported_response_type", Description: "Only response_type=code is supported."}
	}
	if !client.AllowsGrant(models.GrantAuthorizationCode) {
		return nil, errUnauthorizedClient("This client did not register the authorization_code grant.")
	}
	state := q.Get("state")
	if len(state) > maxStateLen {
		return nil, errInvalidRequest("state must be at most 512 characters.")
	}
	nonce := q.Get("nonce")
	if len(nonce) > maxStateLen {
		return nil, errInvalidRequest("nonce must be at most 512 characters.")
	}
	scopes, oerr := resolveScope(q.Get("scope"), models.AllScopes())
	if oerr != nil {
		return nil, oerr
	}
	pr, oerr := parsePrompt(q.Get("prompt"))
	if oerr != nil {
		return nil, oerr
	}
	maxAge, oerr := parseMaxAge(q.Get("max_age"))
	if oerr != nil {
		return nil, oerr
	}
	if len(q.Get("login_hint")) > maxStateLen {
		return nil, errInvalidRequest("login_hint must be at most 512 characters.")
	}
	if len(q.Get("id_token_hint")) > maxIDTokenHintLen {
		return nil, errInvalidRequest("id_token_hint is too long to be an ID token of this server.")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return nil, errInvalidRequest("code_challenge_method was sent without code_challenge.")
	case challenge == "" && client.Public:
		return nil, errInvalidRequest("PKCE is required for public clients: send code_challenge with code_challenge_method=S256.")
	case challenge != "" && method != "S256":
		// RFC 7636 §4.3 defaults to plain; RFC 9700 §2.1.1 says do not allow it.
		return nil, errInvalidRequest("code_challenge_method must be S256; plain is not accepted.")
	case challenge != "" && !validChallenge(challenge):
		return nil, errInvalidRequest("code_challenge must be the 43-character base64url SHA-256 of the code_verifier.")
	}
	return &authRequest{
		ClientID: client.ID, RedirectURI: q.Get("redirect_uri"), Redirect: redirect,
		Scopes: scopes, State: state, Challenge: challenge, Nonce: nonce,
		prompt: pr, maxAge: maxAge, loginHint: q.Get("login_hint"), idTokenHint: q.Get("id_token_hint"),
	}, nil
}

// showConsent parks the request, pending in this session under a fresh
// transaction id, and shows the consent page (step 5).
func (s *Server) showConsent(c *gin.Context, q url.Values, userID string, client *models.Client, req *authRequest) {
	if _, err := s.Store.Users.Get(c.Request.Context(), userID); errors.Is(err, models.ErrNotFound) {
		s.sendToLogin(c, q, req, "") // the account was deleted in another tab
		return
	} else if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	txID, err := s.park(c, pendingAuthorize, req)
	if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	s.Pages.ShowConsent(c, pages.Consent{Action: AuthorizeDecisionPath, Client: client, Scopes: req.Scopes,
		TxID: txID, RedirectURI: req.Redirect})
}

// Decide handles POST /api/oauth2/authorize/decision: the user's Allow or
// Deny.
// The transaction id must be pending in this very session, and not yet
// decided, and the CSRF token must match, or nothing is issued.
func (s *Server) Decide() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.Pages.ReadForm(c) {
			return
		}
		userID := middleware.SessionUserID(c, s.Now())
		if userID == "" || !middleware.ValidCSRF(c, c.Request.PostForm.Get("csrf_token")) {
			s.Pages.Error(c, http.StatusForbidden, "This request could not be verified", "Your session ended or the form did not come from this site. Go back to the app and start again.")
			return
		}
		decision := c.Request.PostForm.Get("decision")
		if decision != "allow" && decision != "deny" {
			s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form must say allow or deny.")
			return
		}
		req := &authRequest{}
		if err := s.take(c, pendingAuthorize, c.Request.PostForm.Get("tx"), req); errors.Is(err, errNoPending) {
			s.Pages.Error(c, http.StatusForbidden, "This request has expired", "The approval request is unknown, expired or already answered. Go back to the app and start again.")
			return
		} else if err != nil {
			s.Pages.Fail(c, err)
			return
		}
		if !s.stillRegistered(c, req) {
			return
		}
		granted, ok := tickedScopes(c.Request.PostForm, req.Scopes)
		if !ok {
			s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form ticked a scope the app did not ask for.")
			return
		}
		until, ok := chosenEnd(c.Request.PostForm, s.now())
		if !ok {
			s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form chose a lifetime the page does not offer.")
			return
		}
		if len(granted) == 0 {
			decision = "deny" // API.md §11: nothing ticked is a Deny
		}
		switch decision {
		case "allow":
			if _, err := s.Store.Consents.Grant(c.Request.Context(), userID, req.ClientID, granted, until, s.now()); err != nil {
				s.Pages.Fail(c, err)
				return
			}
			req.Scopes = granted
			// RFC 9700 §4.12: 303, so the browser does not re-post the form.
			s.approve(c, http.StatusSeeOther, userID, req, until)
		case "deny":
			s.redirectError(c, http.StatusSeeOther, req.Redirect, req.State, &Error{Code: "access_denied", Description: "The user denied the request."})
		}
	}
}

// stillRegistered checks, when the user decides, that the client still
// exists and still registers the redirect URI the consent page showed
// (API.md §6): its owner may have removed it since, and then neither a
// code nor an error goes there. Otherwise it shows the error page and
// returns false.
func (s *Server) stillRegistered(c *gin.Context, req *authRequest) bool {
	client, err := s.lookupClient(c.Request.Context(), req.ClientID, c.ClientIP())
	var docErr *clientDocumentError
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.Pages.Error(c, http.StatusBadRequest, "This app no longer exists", "The app was deleted while you were deciding.")
		return false
	case errors.As(err, &docErr):
		s.Pages.Error(c, http.StatusBadRequest, "This app's details could not be read", "While you were deciding, "+docErr.Error()+".")
		return false
	case err != nil:
		s.Pages.Fail(c, err)
		return false
	case !client.AcceptsRedirectURI(req.Redirect):
		s.Pages.Error(c, http.StatusBadRequest, "This app no longer uses this redirect address",
			"The app's owner removed the address you would have been sent back to while you were deciding, so you are not sent there. Go back to the app and start again.")
		return false
	}
	return true
}

// approve issues a code for a grant that ends at until (zero: until
// revoked) and sends the browser back to the app with it.
func (s *Server) approve(c *gin.Context, status int, userID string, req *authRequest, until time.Time) {
	value, hash := newSecret(prefixCode)
	now := s.now()
	code := &models.Code{
		Hash: hash, ClientID: req.ClientID, UserID: userID,
		RedirectURI: req.Redirect, RedirectURIOmitted: req.RedirectURI == "",
		Scopes: req.Scopes, CodeChallenge: req.Challenge, CreatedAt: now, ExpiresAt: now.Add(CodeTTL),
		Nonce: req.Nonce, AuthTime: middleware.SessionAuthTime(c), Audience: req.Audience, GrantEndsAt: until,
	}
	if err := s.Store.Codes.Create(c.Request.Context(), code); err != nil {
		s.Pages.Fail(c, err)
		return
	}
	s.redirectTo(c, status, req.Redirect, url.Values{"code": {value}, "state": {req.State}})
}

// redirectError sends an authorization error to the app (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(c *gin.Context, status int, redirect, state string, e *Error) {
	s.redirectTo(c, status, redirect, url.Values{"error": {e.Code}, "error_description": {e.Description}, "state": {state}})
}

// redirectTo adds params to the redirect URI's query, keeping the query it
// already has, plus iss (RFC 9207) so the app can tell which server answered.
// A POSTed request is answered with 303 (RFC 9700 §4.12), so the browser
// does not post the form again.
func (s *Server) redirectTo(c *gin.Context, status int, redirect string, params url.Values) {
	if c.Request.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	u, err := url.Parse(redirect)
	if err != nil { // registered URIs were validated; cannot happen
		s.Pages.Fail(c, err)
		return
	}
	q := u.Query()
	for k, v := range params {
		if v[0] != "" {
			q.Set(k, v[0])
		}
	}
	q.Set("iss", s.Issuer)
	u.RawQuery = q.Encode()
	c.Header("Cache-Control", "no-store")
	c.Redirect(status, u.String())
}
