// Package pages is the browser's side of Beer Locker: every HTML page is
// drawn here, from the templates parsed once at start-up. It serves the
// pages of API.md §7 (home, login, logout, register, account, the demo
// app's callback) and draws, for the OAuth flows, the consent page (one
// template and one code path for the authorization and device flows), the
// device pages and the HTML error page. The OAuth code decides what to
// show or where to redirect and hands this package a view; the failures
// of every page are answered from the httperr table.
package pages

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/templates"
)

// MaxFormBytes bounds a page's form body; the largest form, login, needs
// far less.
const MaxFormBytes = 64 << 10

// Renderer draws the pages. It is safe for concurrent use.
type Renderer struct {
	set   *templates.Set
	users models.UserRepository
	log   *slog.Logger
	now   func() time.Time
}

// NewRenderer parses the templates and returns a Renderer that names the
// signed-in user from users, logs to log and reads the time from now.
func NewRenderer(users models.UserRepository, log *slog.Logger, now func() time.Time) (*Renderer, error) {
	set, err := templates.Parse()
	if err != nil {
		return nil, err
	}
	return &Renderer{set: set, users: users, log: log, now: now}, nil
}

// LoginURL is the login page that returns to path afterwards.
func LoginURL(path string) string { return Login{ReturnTo: path}.URL() }

// base is the data every page needs: its title, the session's CSRF token
// (created when the session has none; call it before writing the
// response, since it may set the session cookie) and the signed-in user's
// name. Without the session middleware on the route it is a plain Base.
func (r *Renderer) base(c *gin.Context, title string) (templates.Base, error) {
	if !hasSession(c) {
		return templates.Base{Title: title}, nil
	}
	token, err := middleware.CSRFToken(c)
	if err != nil {
		return templates.Base{}, fmt.Errorf("csrf token: %w", err)
	}
	u, err := r.SessionUser(c)
	if err != nil {
		return templates.Base{}, err
	}
	b := templates.Base{Title: title, CSRFToken: token}
	if u != nil {
		b.Username = u.Username
	}
	return b, nil
}

// SessionUser returns the signed-in user, or nil when nobody is signed in
// or the account was deleted since.
func (r *Renderer) SessionUser(c *gin.Context) (*models.User, error) {
	if !hasSession(c) {
		return nil, nil
	}
	uid := middleware.SessionUserID(c, r.now())
	if uid == "" {
		return nil, nil
	}
	u, err := r.users.Get(c.Request.Context(), uid)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

func hasSession(c *gin.Context) bool { return middleware.HasSession(c) }

// page renders one page with its Base filled in. data is called with the
// Base and returns the page's data.
func (r *Renderer) page(c *gin.Context, status int, name, title string, data func(templates.Base) any) {
	b, err := r.base(c, title)
	if err != nil {
		r.Fail(c, err)
		return
	}
	r.render(c, status, name, data(b))
}

// render writes page with status, or logs why it could not and shows
// the error page instead. It aborts the handler chain.
func (r *Renderer) render(c *gin.Context, status int, page string, data any) {
	c.Abort()
	err := r.set.Render(c.Writer, status, page, data)
	if err == nil {
		return
	}
	r.log.Error("render page", "request_id", middleware.GetRequestID(c), "page", page, "err", err)
	if c.Writer.Written() {
		return // the client went away mid-write; nothing more to send
	}
	// A plain Base: the failure may have been in the session or the store.
	fallback := templates.ErrorData{Base: templates.Base{Title: "Something went wrong"}, Heading: "Something went wrong",
		Message: "An unexpected error occurred. Request id: " + middleware.GetRequestID(c)}
	if page == "error" || r.set.Render(c.Writer, http.StatusInternalServerError, "error", fallback) != nil {
		c.String(http.StatusInternalServerError, "Internal Server Error")
	}
}

// Error answers with the HTML error page: the one writer of browser
// errors, for the pages and the OAuth flows alike. It works on routes
// without the session middleware too, then without the signed-in user's
// name. It aborts the handler chain.
func (r *Renderer) Error(c *gin.Context, status int, heading, message string) {
	b := templates.Base{Title: heading}
	if hasSession(c) {
		if full, err := r.base(c, heading); err != nil {
			r.log.Error("page base", "request_id", middleware.GetRequestID(c), "err", err)
		} else {
			b = full
		}
	}
	r.render(c, status, "error", templates.ErrorData{Base: b, Heading: heading, Message: message})
}

// RefuseAuthorization answers an authorization request whose error may not
// be redirected (RFC 9700 §4.11.2): the error page, 400, naming the error
// and showing the redirect URI as text, never followed.
func (r *Renderer) RefuseAuthorization(c *gin.Context, code, description, redirectURI string) {
	heading := "This app sent a request that cannot be answered"
	b := templates.Base{Title: heading}
	if full, err := r.base(c, heading); err != nil {
		r.log.Error("page base", "request_id", middleware.GetRequestID(c), "err", err)
	} else {
		b = full
	}
	r.render(c, http.StatusBadRequest, "error", templates.ErrorData{Base: b, Heading: heading,
		Message: "The request was refused with the error " + code + ": " + description, NotFollowed: redirectURI})
}

// Fail answers err with the error page, as the httperr table says: 503
// with Retry-After while the database is away, 429 with Retry-After for a
// lockout, 413 for a form too large, and a 500 that names the request id,
// never the error itself, for anything unexpected.
func (r *Renderer) Fail(c *gin.Context, err error) {
	a := httperr.Of(err)
	a.LogCause(c.Request.Context(), r.log, middleware.GetRequestID(c), c.FullPath(), err)
	switch a.Kind {
	case httperr.Canceled: // the browser went away; nobody to answer
		c.AbortWithStatus(a.Status)
		return
	case httperr.Internal:
		a.Title, a.Message = "Something went wrong", "An unexpected error occurred. Please try again. Request id: "+middleware.GetRequestID(c)
	}
	a.SetRetryAfter(c.Writer.Header())
	r.Error(c, a.Status, a.Title, a.Message)
}

// ReadForm parses a page's form body, at most MaxFormBytes, into
// c.Request.PostForm. On failure it has answered (413 for a body too
// large, 400 for one it cannot read) and returns false.
func (r *Renderer) ReadForm(c *gin.Context) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxFormBytes)
	err := c.Request.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		r.Fail(c, err)
	} else {
		r.Error(c, http.StatusBadRequest, "Bad request", "The form you sent could not be read.")
	}
	return false
}

// CheckCSRF requires the form's csrf_token to be the session's. On a
// mismatch it answers 403 and returns false, before anything else happens.
func (r *Renderer) CheckCSRF(c *gin.Context) bool {
	if middleware.ValidCSRF(c, c.Request.PostForm.Get("csrf_token")) {
		return true
	}
	r.Error(c, http.StatusForbidden, "This form has expired",
		"The form was not sent from this site's current page, so nothing was done. Go back, reload the page and try again.")
	return false
}

// SignedInUser returns the signed-in user. Without one (or when the
// account was deleted since) it sends the browser to log in and come back
// to back, and returns nil; on a failure it has answered and returns nil.
func (r *Renderer) SignedInUser(c *gin.Context, back string) *models.User {
	u, err := r.SessionUser(c)
	if err != nil {
		r.Fail(c, err)
		return nil
	}
	if u == nil {
		RedirectToLogin(c, back)
	}
	return u
}
