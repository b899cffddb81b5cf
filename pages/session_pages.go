package pages

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/httperr"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/templates"
)

// wrongCredentials is the one message for an unknown user and a wrong
// password, so the login form does not reveal which usernames exist.
const wrongCredentials = "The username or password is wrong."

// PasswordVerifier checks a user's own username and password;
// *accounts.Verifier is the one.
type PasswordVerifier interface {
	VerifyPassword(ctx context.Context, at accounts.PasswordAttempt) (string, error)
}

// Registrar creates accounts; *accounts.Service is the one.
type Registrar interface {
	Register(ctx context.Context, r accounts.Registration) (*models.User, error)
}

// Home is GET /.
func (r *Renderer) Home() gin.HandlerFunc {
	return func(c *gin.Context) {
		r.page(c, http.StatusOK, "home", "Welcome", func(b templates.Base) any { return templates.HomeData{Base: b} })
	}
}

// LoginPage is GET /login: the form, pre-filled with the link's username
// and saying why it asks when the link gives a reason (Login).
func (r *Renderer) LoginPage() gin.HandlerFunc {
	return func(c *gin.Context) {
		l := loginFromQuery(c.Request.URL.Query())
		r.page(c, http.StatusOK, "login", "Log in", func(b templates.Base) any {
			username := l.Username
			if username == "" && l.Reason != "" {
				username = b.Username // asked again: most often the same account
			}
			return templates.LoginData{Base: b, ReturnTo: l.ReturnTo, EnteredUsername: username, Notice: reasonWords[l.Reason]}
		})
	}
}

// LogIn is POST /login: it checks the form's CSRF token, then the
// credentials, and on success starts a fresh session (so a planted session
// id or CSRF token does not survive the login) and sends the browser on
// to return_to.
func (r *Renderer) LogIn(passwords PasswordVerifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		form := c.Request.PostForm
		returnTo := SafeReturnTo(form.Get("return_to"))
		username := form.Get("username")
		before, err := r.users.GetByUsername(c.Request.Context(), username)
		if err == nil || errors.Is(err, models.ErrNotFound) {
			var userID string
			userID, err = passwords.VerifyPassword(c.Request.Context(), accounts.PasswordAttempt{
				Username: username, Password: form.Get("password"), Address: c.ClientIP(), Via: "login"})
			if err == nil {
				err = r.startSession(c, userID, before)
			}
		}
		if errors.Is(err, models.ErrNotFound) {
			r.loginForm(c, http.StatusUnauthorized, returnTo, username, wrongCredentials)
			return
		}
		if err != nil {
			r.formFail(c, err, func(status int, message string) { r.loginForm(c, status, returnTo, username, message) })
			return
		}
		// RFC 9700 §4.12: 303, so the browser does not post the password again.
		c.Redirect(http.StatusSeeOther, returnTo)
	}
}

// startSession signs the browser in as userID, whose password was just
// verified, unless that password is no longer the user's: a password
// change ends every session (API.md §7), and a login that checked the old
// password an instant before the change must not start one that outlives
// it. before is the user as read before the check; the session stands
// only if the user, read again once it exists, has the same password
// hash. Either the change's ending of sessions comes after the session
// was created, and ends it, or the second read comes after the change,
// and sees it. Otherwise it ends the session and returns
// models.ErrNotFound, a wrong password.
func (r *Renderer) startSession(c *gin.Context, userID string, before *models.User) error {
	if err := middleware.LogIn(c, userID, r.now()); err != nil {
		return err
	}
	after, err := r.users.Get(c.Request.Context(), userID)
	if err == nil && before != nil && before.ID == userID && after.PasswordHash == before.PasswordHash {
		return nil
	}
	if err := middleware.LogOut(c); err != nil {
		return err
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	return models.ErrNotFound
}

func (r *Renderer) loginForm(c *gin.Context, status int, returnTo, username, message string) {
	r.page(c, status, "login", "Log in", func(b templates.Base) any {
		return templates.LoginData{Base: b, ReturnTo: returnTo, EnteredUsername: username, Error: message}
	})
}

// formFail answers an error of a form's submission: a lockout is shown on
// the form itself (redraw), with the table's status, Retry-After and words;
// anything else is Fail's error page.
func (r *Renderer) formFail(c *gin.Context, err error, redraw func(status int, message string)) {
	if a := httperr.Of(err); a.Kind == httperr.Limited {
		a.SetRetryAfter(c.Writer.Header())
		redraw(a.Status, a.Message)
		return
	}
	r.Fail(c, err)
}

// LogOut is POST /logout.
func (r *Renderer) LogOut() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		if err := middleware.LogOut(c); err != nil {
			r.Fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	}
}

// RegisterPage is GET /register.
func (r *Renderer) RegisterPage() gin.HandlerFunc {
	return func(c *gin.Context) {
		r.registerForm(c, http.StatusOK, templates.RegisterData{ReturnTo: SafeReturnTo(c.Query("return_to"))})
	}
}

// Register is POST /register: it creates the account, signs the new user
// in and sends the browser on to return_to. Invalid fields, a taken name
// and a spent registration limit (with Retry-After) are shown on the form.
func (r *Renderer) Register(users Registrar) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		form := c.Request.PostForm
		data := templates.RegisterData{ReturnTo: SafeReturnTo(form.Get("return_to")), EnteredUsername: form.Get("username")}
		u, err := users.Register(c.Request.Context(), accounts.Registration{
			Username: data.EnteredUsername, Password: form.Get("password"), Address: c.ClientIP()})
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
			r.registerForm(c, http.StatusBadRequest, data)
			return
		case errors.Is(err, models.ErrConflict):
			data.Error = "That username is taken. Please choose another."
			r.registerForm(c, http.StatusConflict, data)
			return
		case err == nil:
			err = middleware.LogIn(c, u.ID, r.now())
		}
		if err != nil {
			r.formFail(c, err, func(status int, message string) {
				data.Error = message
				r.registerForm(c, status, data)
			})
			return
		}
		c.Redirect(http.StatusSeeOther, data.ReturnTo)
	}
}

func (r *Renderer) registerForm(c *gin.Context, status int, data templates.RegisterData) {
	r.page(c, status, "register", "Create an account", func(b templates.Base) any {
		data.Base = b
		return data
	})
}

// SignedOutPath is the page a logout ends on when the app named nowhere
// to go (RP-Initiated Logout).
const SignedOutPath = "/signed-out"

// SignedOut is GET /signed-out.
func (r *Renderer) SignedOut() gin.HandlerFunc {
	return func(c *gin.Context) {
		r.page(c, http.StatusOK, "signed_out", "Signed out", func(b templates.Base) any { return templates.SignedOutData{Base: b} })
	}
}

// LogoutRequest is an app's logout request, checked, for the page where
// the user confirms it.
type LogoutRequest struct {
	Action                string // where the confirmation posts
	Client                *models.Client
	PostLogoutRedirectURI string
	State                 string
}

// ConfirmLogout draws the page asking the signed-in user to confirm an
// app's logout request.
func (r *Renderer) ConfirmLogout(c *gin.Context, l LogoutRequest) {
	r.page(c, http.StatusOK, "logout", "Log out?", func(b templates.Base) any {
		d := templates.LogoutData{Base: b, Action: l.Action, PostLogoutRedirectURI: l.PostLogoutRedirectURI, State: l.State}
		if l.Client != nil {
			d.ClientName, d.ClientID = l.Client.Name, l.Client.ID
		}
		return d
	})
}
