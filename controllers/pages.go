package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"beerlocker/limits"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/templates"
)

// maxFormBytes bounds a page's form body; the largest form, login, needs
// far less.
const maxFormBytes = 64 << 10

// wrongCredentials is the one message for an unknown user and a wrong
// password, so the login form does not reveal which usernames exist.
const wrongCredentials = "The username or password is wrong."

// addPageRoutes registers the browser pages (API.md §7), all inside the
// cookie session.
func addPageRoutes(r *gin.Engine, d Deps) {
	pages := r.Group("", d.Sessions)
	pages.GET("/", homePage(d))
	pages.GET("/login", loginPage(d))
	pages.POST("/login", logIn(d))
	pages.POST("/logout", logOut(d))
	pages.GET("/register", registerPage(d))
	pages.POST("/register", registerForm(d))
	pages.GET("/account", accountPage(d))
	pages.POST("/account/apps/:client_id/revoke", revokeApp(d))
	pages.GET("/demo/callback", demoCallback(d))
}

func homePage(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		base, err := d.pageBase(c, "Welcome")
		if err != nil {
			d.pageFail(c, err)
			return
		}
		d.renderPage(c, http.StatusOK, "home", templates.HomeData{Base: base})
	}
}

func loginPage(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		d.renderLogin(c, http.StatusOK, safeReturnTo(c.Query("return_to")), "", "")
	}
}

// logIn checks the form's CSRF token, then the credentials, and on success
// starts a fresh session (so a planted session id or CSRF token does not
// survive the login) and sends the browser on to return_to.
func logIn(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !d.readForm(c) || !d.checkCSRF(c) {
			return
		}
		form := c.Request.PostForm
		returnTo := safeReturnTo(form.Get("return_to"))
		username := form.Get("username")
		userID, err := d.Auth.VerifyPassword(c.Request.Context(), middleware.PasswordAttempt{
			Username: username, Password: form.Get("password"), Address: c.ClientIP(), Via: "login"})
		var limited *limits.LimitedError
		switch {
		case errors.As(err, &limited):
			c.Header("Retry-After", strconv.Itoa(limited.RetryAfter()))
			d.renderLogin(c, http.StatusTooManyRequests, returnTo, username,
				"Too many failed sign-in attempts. Please wait "+limited.InWords()+", then try again.")
			return
		case errors.Is(err, models.ErrNotFound):
			d.renderLogin(c, http.StatusUnauthorized, returnTo, username, wrongCredentials)
			return
		case err == nil:
			err = middleware.LogIn(c, userID, d.Now())
		}
		if err != nil {
			d.pageFail(c, err)
			return
		}
		// RFC 9700 §4.12: 303, so the browser does not post the password again.
		c.Redirect(http.StatusSeeOther, returnTo)
	}
}

func (d Deps) renderLogin(c *gin.Context, status int, returnTo, username, message string) {
	base, err := d.pageBase(c, "Log in")
	if err != nil {
		d.pageFail(c, err)
		return
	}
	d.renderPage(c, status, "login", templates.LoginData{Base: base, ReturnTo: returnTo, EnteredUsername: username, Error: message})
}

func logOut(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !d.readForm(c) || !d.checkCSRF(c) {
			return
		}
		if err := middleware.LogOut(c); err != nil {
			d.pageFail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	}
}

func registerPage(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		d.renderRegister(c, http.StatusOK, templates.RegisterData{ReturnTo: safeReturnTo(c.Query("return_to"))})
	}
}

// registerForm creates the account, signs the new user in and sends the
// browser on to return_to. Invalid fields and a taken name are shown on
// the form.
func registerForm(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !d.readForm(c) || !d.checkCSRF(c) {
			return
		}
		form := c.Request.PostForm
		data := templates.RegisterData{ReturnTo: safeReturnTo(form.Get("return_to")), EnteredUsername: form.Get("username")}
		u, err := d.Accounts.Register(c.Request.Context(), data.EnteredUsername, form.Get("password"))
		var ve *models.ValidationError
		switch {
		case errors.As(err, &ve):
			data.Error = "Please correct the fields below."
			for _, f := range ve.Fields {
				switch f.Field {
				case "username":
					data.UsernameError = f.Message
				case "password":
					data.PasswordError = f.Message
				}
			}
			d.renderRegister(c, http.StatusBadRequest, data)
			return
		case errors.Is(err, models.ErrConflict):
			data.Error = "That username is taken. Please choose another."
			d.renderRegister(c, http.StatusConflict, data)
			return
		case err == nil:
			err = middleware.LogIn(c, u.ID, d.Now())
		}
		if err != nil {
			d.pageFail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, data.ReturnTo)
	}
}

func (d Deps) renderRegister(c *gin.Context, status int, data templates.RegisterData) {
	base, err := d.pageBase(c, "Create an account")
	if err != nil {
		d.pageFail(c, err)
		return
	}
	data.Base = base
	d.renderPage(c, status, "register", data)
}

// pageBase is the data every page needs: its title, the session's CSRF
// token (created when the session has none; call it before writing the
// response, since it may set the session cookie) and the signed-in user's
// name. It needs the session middleware (d.Sessions) on the route.
func (d Deps) pageBase(c *gin.Context, title string) (templates.Base, error) {
	if !hasSession(c) {
		return templates.Base{}, fmt.Errorf("page %s: route lacks the session middleware", c.FullPath())
	}
	token, err := middleware.CSRFToken(c)
	if err != nil {
		return templates.Base{}, fmt.Errorf("csrf token: %w", err)
	}
	u, err := d.sessionUser(c)
	if err != nil {
		return templates.Base{}, err
	}
	base := templates.Base{Title: title, CSRFToken: token}
	if u != nil {
		base.Username = u.Username
	}
	return base, nil
}

// sessionUser returns the signed-in user, or nil when nobody is signed in
// or the account was deleted since.
func (d Deps) sessionUser(c *gin.Context) (*models.User, error) {
	uid := middleware.SessionUserID(c, d.Now())
	if uid == "" {
		return nil, nil
	}
	u, err := d.Store.Users.Get(c.Request.Context(), uid)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

func hasSession(c *gin.Context) bool {
	_, ok := c.Get(sessions.DefaultKey)
	return ok
}

// renderPage writes page with status, or logs why it could not and shows
// the error page instead. It aborts the handler chain.
func (d Deps) renderPage(c *gin.Context, status int, page string, data any) {
	c.Abort()
	err := d.Pages.Render(c.Writer, status, page, data)
	if err == nil {
		return
	}
	d.Log.Error("render page", "request_id", middleware.GetRequestID(c), "page", page, "err", err)
	if c.Writer.Written() {
		return // the client went away mid-write; nothing more to send
	}
	// A plain Base: the failure may have been in the session or the store.
	fallback := templates.ErrorData{Base: templates.Base{Title: "Something went wrong"}, Heading: "Something went wrong",
		Message: "An unexpected error occurred. Request id: " + middleware.GetRequestID(c)}
	if page == "error" || d.Pages.Render(c.Writer, http.StatusInternalServerError, "error", fallback) != nil {
		c.String(http.StatusInternalServerError, "Internal Server Error")
	}
}

// pageError answers with the HTML error page: the one writer of browser
// errors, for the pages and the authorization endpoint alike. It works on
// routes without the session middleware too, then without the signed-in
// user's name. It aborts the handler chain.
func (d Deps) pageError(c *gin.Context, status int, heading, message string) {
	base := templates.Base{Title: heading}
	if hasSession(c) {
		b, err := d.pageBase(c, heading)
		if err != nil {
			d.Log.Error("page base", "request_id", middleware.GetRequestID(c), "err", err)
		} else {
			base = b
		}
	}
	d.renderPage(c, status, "error", templates.ErrorData{Base: base, Heading: heading, Message: message})
}

// pageFail logs an unexpected error and answers with a 500 error page that
// names the request id, never the error itself.
func (d Deps) pageFail(c *gin.Context, err error) {
	if errors.Is(err, models.ErrUnavailable) {
		d.Log.Warn("page failed: database unavailable", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
		c.Header("Retry-After", strconv.Itoa(middleware.RetryAfterUnavailable))
		d.pageError(c, http.StatusServiceUnavailable, "Temporarily unavailable",
			"Beer Locker cannot reach its database right now. Please try again in a few seconds.")
		return
	}
	if errors.Is(err, context.Canceled) { // the browser went away; nobody to answer
		c.Abort()
		return
	}
	d.Log.Error("page failed", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
	d.pageError(c, http.StatusInternalServerError, "Something went wrong",
		"An unexpected error occurred. Please try again. Request id: "+middleware.GetRequestID(c))
}

// readForm parses a page's form body, at most maxFormBytes, into
// c.Request.PostForm. On failure it has answered and returns false.
func (d Deps) readForm(c *gin.Context) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	err := c.Request.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		d.pageError(c, http.StatusRequestEntityTooLarge, "Form too large", "The form you sent is larger than this site accepts.")
	} else {
		d.pageError(c, http.StatusBadRequest, "Bad request", "The form you sent could not be read.")
	}
	return false
}

// checkCSRF requires the form's csrf_token to be the session's. On a
// mismatch it answers 403 and returns false, before anything else happens.
func (d Deps) checkCSRF(c *gin.Context) bool {
	if middleware.ValidCSRF(c, c.Request.PostForm.Get("csrf_token")) {
		return true
	}
	d.pageError(c, http.StatusForbidden, "This form has expired",
		"The form was not sent from this site's current page, so nothing was done. Go back, reload the page and try again.")
	return false
}
