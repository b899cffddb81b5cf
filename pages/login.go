package pages

import (
	"net/url"

	"beerlocker/models"
)

// Login is a link to the login page: where it returns to, the username it
// pre-fills and why it asks, the one place a /login link is made.
type Login struct {
	ReturnTo string // a local path; anything else becomes defaultReturnTo
	Username string // pre-filled, such as an app's login_hint
	Reason   LoginReason
}

// LoginReason says why the login page asks for the password of a user who
// may already be signed in. The page shows its own words for each: the
// link carries only the name, so nobody can make the page say anything
// else.
type LoginReason string

// The reasons an app may have for asking the user to sign in again
// (OpenID Connect Core §3.1.2.1).
const (
	ReasonPromptLogin  LoginReason = "prompt"  // prompt=login
	ReasonMaxAge       LoginReason = "max_age" // the sign-in is older than max_age
	ReasonOtherAccount LoginReason = "account" // signed in as another user than the id_token_hint's
)

var reasonWords = map[LoginReason]string{
	ReasonPromptLogin:  "The app you came from asks you to enter your password again.",
	ReasonMaxAge:       "The app you came from asks for a recent sign-in, so please enter your password again.",
	ReasonOtherAccount: "The app you came from expects a different account than the one signed in here. Sign in with the account you use there.",
}

// URL is the login page's address.
func (l Login) URL() string {
	q := url.Values{"return_to": {l.ReturnTo}}
	if l.Username != "" {
		q.Set("username", l.Username)
	}
	if l.Reason != "" {
		q.Set("reason", string(l.Reason))
	}
	return "/login?" + q.Encode()
}

// loginFromQuery reads the login page's link. A username that could not be
// one (models.ValidUsername) and an unknown reason are dropped.
func loginFromQuery(q url.Values) Login {
	l := Login{ReturnTo: SafeReturnTo(q.Get("return_to"))}
	if u := q.Get("username"); models.ValidUsername(u) {
		l.Username = u
	}
	if r := LoginReason(q.Get("reason")); reasonWords[r] != "" {
		l.Reason = r
	}
	return l
}
