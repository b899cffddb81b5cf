package middleware

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// The browser session (API.md §7). Its cookie carries one random id of 32
// bytes and nothing else; the server keeps, under the id's SHA-256, the
// record that makes a signed-in session of it (models.Session), read on
// every request that reads the session. Ending the record (logout, a
// password change, an account deletion, its 12 hours running out) ends
// the session for every copy of the cookie, and what the session holds
// (its consent pages) never travels in the cookie, which stays the same
// few bytes whatever the browser does.
//
// A browser that is not signed in has an id too, with no record: it binds
// the CSRF token of the login and registration forms. Every CSRF token is
// an HMAC of the session id under the server's key, so it is bound to the
// session, needs no storage, and changes when the id does: at every login.

// Names of the session cookie. Over https it carries the __Host- prefix
// (RFC 6265bis §4.1.3.2), which browsers accept only with Secure, Path=/
// and no Domain: no other host, not even a sibling subdomain, can set or
// shadow it.
const (
	SessionCookie       = "beerlocker_session"
	SecureSessionCookie = "__Host-" + SessionCookie
)

// SessionConfig is what the session middleware uses.
type SessionConfig struct {
	Store models.SessionRepository
	// Key is the key of the CSRF tokens' HMAC.
	Key []byte
	// Secure is set when the service is served over https: the cookie is
	// then Secure and named SecureSessionCookie.
	Secure bool
	Now    func() time.Time
	// Fail answers a request whose session could not be read because the
	// store failed (the HTML error page); it must abort the chain.
	Fail func(c *gin.Context, err error)
}

// session is one request's view of its browser session.
type session struct {
	cfg *SessionConfig
	id  string          // the cookie's id; "" while the browser has none
	rec *models.Session // the signed-in session; nil for nobody
}

const sessionKey = "beerlocker.session"

// Sessions reads the request's session cookie and, when it names a
// signed-in session, that session's record. A cookie that is malformed,
// or names no live session, is a browser nobody is signed in on.
func Sessions(cfg SessionConfig) gin.HandlerFunc {
	name := sessionCookieName(cfg.Secure)
	return func(c *gin.Context) {
		s := &session{cfg: &cfg}
		if ck, err := c.Request.Cookie(name); err == nil && validSessionID(ck.Value) {
			s.id = ck.Value
			rec, err := cfg.Store.Get(c.Request.Context(), hashSessionID(s.id), cfg.Now())
			switch {
			case err == nil:
				s.rec = rec
			case !errors.Is(err, models.ErrNotFound):
				cfg.Fail(c, err)
				return
			}
		}
		c.Set(sessionKey, s)
		c.Next()
	}
}

func sessionCookieName(secure bool) string {
	if secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

// HasSession reports whether the session middleware runs on this route.
func HasSession(c *gin.Context) bool { return sessionOf(c) != nil }

func sessionOf(c *gin.Context) *session {
	v, _ := c.Get(sessionKey)
	s, _ := v.(*session)
	return s
}

// SessionUserID returns the signed-in user's id, or "" when nobody is
// signed in or the session ended: its record is gone or older than
// models.SessionLifetime.
func SessionUserID(c *gin.Context, now time.Time) string {
	s := sessionOf(c)
	if s == nil || s.rec == nil || s.rec.Expired(now) {
		return ""
	}
	return s.rec.UserID
}

// SessionAuthTime returns when the signed-in user entered their password:
// a session begins at the login (the ID token's auth_time). The zero
// time when nobody is signed in.
func SessionAuthTime(c *gin.Context) time.Time {
	if s := sessionOf(c); s != nil && s.rec != nil {
		return s.rec.CreatedAt
	}
	return time.Time{}
}

// SessionHash returns the signed-in session's hash, what the consent pages
// opened in it are bound to, or "" when nobody is signed in.
func SessionHash(c *gin.Context) string {
	if s := sessionOf(c); s != nil && s.rec != nil {
		return s.rec.Hash
	}
	return ""
}

// LogIn starts a fresh session for the user under a new id (so an id
// planted or seen before the login is worth nothing after it) and ends
// the one the browser had, with everything it held, its CSRF token
// included.
func LogIn(c *gin.Context, userID string, now time.Time) error {
	s := sessionOf(c)
	if s == nil {
		return errNoSession
	}
	ctx := c.Request.Context()
	if s.rec != nil {
		if err := s.cfg.Store.Delete(ctx, s.rec.Hash); err != nil {
			return err
		}
		s.rec = nil
	}
	id := newToken()
	at := now.UTC().Truncate(time.Millisecond)
	rec := &models.Session{Hash: hashSessionID(id), UserID: userID, CreatedAt: at, ExpiresAt: at.Add(models.SessionLifetime)}
	if err := s.cfg.Store.Create(ctx, rec); err != nil {
		return err
	}
	s.id, s.rec = id, rec
	s.setCookie(c, id, models.SessionLifetime)
	return nil
}

// LogOut ends the session, for every copy of its cookie, and deletes the
// cookie.
func LogOut(c *gin.Context) error {
	s := sessionOf(c)
	if s == nil {
		return errNoSession
	}
	if s.rec != nil {
		if err := s.cfg.Store.Delete(c.Request.Context(), s.rec.Hash); err != nil {
			return err
		}
	}
	s.id, s.rec = "", nil
	s.setCookie(c, "", -1)
	return nil
}

// CSRFToken returns the session's CSRF token, giving the browser a
// session id first if it has none. Every state-changing form carries it
// in a hidden field. Call it before the response is written: it may set
// the cookie.
func CSRFToken(c *gin.Context) (string, error) {
	s := sessionOf(c)
	if s == nil {
		return "", errNoSession
	}
	if s.id == "" {
		s.id = newToken()
		s.setCookie(c, s.id, models.SessionLifetime)
	}
	return s.csrf(), nil
}

// ValidCSRF reports whether token is this session's CSRF token, compared
// in constant time. A browser without a session id accepts nothing.
func ValidCSRF(c *gin.Context, token string) bool {
	s := sessionOf(c)
	return s != nil && s.id != "" && subtle.ConstantTimeCompare([]byte(s.csrf()), []byte(token)) == 1
}

var errNoSession = errors.New("middleware: the route has no session middleware")

func (s *session) csrf() string {
	m := hmac.New(sha256.New, s.cfg.Key)
	m.Write([]byte(s.id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setCookie sets the session cookie to value for maxAge (negative: delete
// it), replacing a Set-Cookie of it this response already carries.
func (s *session) setCookie(c *gin.Context, value string, maxAge time.Duration) {
	name := sessionCookieName(s.cfg.Secure)
	ck := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: s.cfg.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		ck.MaxAge = -1
	}
	h := c.Writer.Header()
	others := slices.DeleteFunc(slices.Clone(h.Values("Set-Cookie")), func(v string) bool {
		return strings.HasPrefix(v, name+"=")
	})
	h.Del("Set-Cookie")
	for _, v := range others {
		h.Add("Set-Cookie", v)
	}
	h.Add("Set-Cookie", ck.String())
}

// sessionIDLen is the length of a session id: 32 random bytes, base64url.
const sessionIDLen = 43

func validSessionID(id string) bool {
	if len(id) != sessionIDLen {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 32
}

// hashSessionID is the form a session id is stored in: hex SHA-256, as
// tokens are. The id carries 256 bits of entropy, so a fast hash suffices.
func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("middleware: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
