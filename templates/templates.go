// Package templates holds the server-rendered HTML pages (login, register,
// account, the OAuth consent dialog, errors), embedded in the binary and
// parsed once at start-up.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed *.html
var files embed.FS

// Base is the data every page gets.
type Base struct {
	Title     string
	CSRFToken string // for every state-changing form, including logout
	Username  string // the signed-in user, "" when signed out
}

// Scope is one requested scope, described in plain words.
type Scope struct {
	Name        string
	Description string
}

// ConsentData is the consent dialog: app, owner and scopes, and the
// transaction its two forms (Allow, Deny) post back to Action.
type ConsentData struct {
	Base
	Action      string // POST target: /api/oauth2/authorize or /device
	ClientName  string
	OwnerName   string
	RedirectURI string // where the browser goes next, shown so users can check it
	Scopes      []Scope
	TxID        string
	// UserCode is set on the device flow's consent page: the code the
	// user entered, XXXX-XXXX, to compare with the device's (RFC 8628
	// §3.3.1). There is no RedirectURI then.
	UserCode string
	// SelfRegistered is set for an app that registered itself (API.md
	// §10): no account vouches for it, and the page says so, with
	// RedirectHost, the host it sends users to, as the one thing known.
	SelfRegistered bool
	RedirectHost   string
	// DocumentHost is the host of the app's client metadata document, for
	// an app whose client_id is that document's URL.
	DocumentHost string
}

// HomeData is the front page.
type HomeData struct {
	Base
}

// LoginData is the login form. EnteredUsername is what was typed, kept
// after a failed attempt; Base.Username stays the signed-in user.
type LoginData struct {
	Base
	ReturnTo        string // a local path, already checked
	EnteredUsername string
	Error           string
	Notice          string // why the user is asked to sign in, when asked again
}

// RegisterData is the registration form, with a message per invalid field.
type RegisterData struct {
	Base
	ReturnTo        string // a local path, already checked
	EnteredUsername string
	Error           string // about the whole form, such as a taken username
	UsernameError   string
	PasswordError   string
}

// AccountData is the account page: the apps the user has allowed.
type AccountData struct {
	Base
	Apps []App
	// Tokens are the user's personal access tokens (API.md §11), and
	// TokenScopes the scopes the form to make one offers.
	Tokens      []PersonalToken
	TokenScopes []Scope
	// NewToken is the token just made, shown this once; TokenProblem
	// says why one was not made, and TokenName keeps what was typed.
	NewToken     *NewPersonalToken
	TokenProblem string
	TokenName    string
	// TokensUnavailable: the store of the tokens (Redis, with REDIS_URL)
	// does not answer; the rest of the page does not need it.
	TokensUnavailable bool
}

// PersonalToken is one personal access token on the account page.
type PersonalToken struct {
	ID        string
	Name      string
	Scopes    []Scope
	CreatedAt time.Time
	ExpiresAt time.Time
	LastUsed  time.Time // to the hour; zero for never
}

// NewPersonalToken is a token just made, with its value.
type NewPersonalToken struct {
	Name      string
	Value     string
	ExpiresAt time.Time
}

// App is one connected app on the account page.
type App struct {
	ClientID string
	Name     string
	Scopes   []Scope
	Since    time.Time // when the user first allowed it
	// Until is the end the user chose for its access (API.md §11); zero
	// for until revoked.
	Until time.Time
	// LastUsed is when it last used its access, to the hour; zero for
	// never.
	LastUsed time.Time
	// SelfRegistered marks an app that registered itself; Host is where
	// it sends the user, and Connections how many registrations of it
	// the user approved (an agent registers anew for each authorization;
	// they are one app to the user, revoked together).
	SelfRegistered bool
	Host           string
	Connections    int
}

// LogoutData is the page where the signed-in user confirms that an app's
// logout request (RP-Initiated Logout) should sign them out. Its form
// posts back to Action the request's fields, checked again on the post.
type LogoutData struct {
	Base
	Action                string
	ClientName            string // "" when the request named no app
	ClientID              string
	PostLogoutRedirectURI string // where the browser goes next; "" for the signed-out page
	State                 string
}

// SignedOutData is the page after a logout that named nowhere to go.
type SignedOutData struct {
	Base
}

// ErrorData is the error page.
type ErrorData struct {
	Base
	Heading string
	Message string
	// NotFollowed is a redirect URI the user was not sent to, shown as
	// text (never a link) so they can see where the app wanted them to go.
	NotFollowed string
}

// Set is every page, each parsed with the layout.
type Set struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	// hour is a time to the hour, as last-used times are kept.
	"hour": func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:00 UTC") },
	// minute is a grant's end, which a "1 hour" choice puts mid-hour.
	"minute": func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
}

// Parse parses layout.html together with each other page.
func Parse() (*Set, error) {
	names, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, err
	}
	s := &Set{pages: make(map[string]*template.Template)}
	for _, name := range names {
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		s.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return s, nil
}

// Names lists the pages.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.pages))
	for n := range s.pages {
		out = append(out, n)
	}
	return out
}

// Render executes page into a buffer first, so a template error never sends
// half a page, then writes it with status.
func (s *Set) Render(w http.ResponseWriter, status int, page string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("templates: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("templates: render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// DemoData is the demo app's callback page: what the authorization server
// sent back, and the command that exchanges the code.
type DemoData struct {
	Base
	Code  string
	State string
	// Error is a known error code, or "unknown"; ErrorText is the fixed
	// text for a known one. Nothing of the query's own words is shown.
	Error       string
	ErrorText   string
	TokenURL    string
	RedirectURI string
	ClientID    string
}
