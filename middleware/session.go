package middleware

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "beerlocker_session"

// SessionLifetime bounds a browser login. The limit is enforced from the
// login time stored inside the signed cookie, not only by the cookie's
// Max-Age, which a client could ignore.
const SessionLifetime = 12 * time.Hour

// Session keys.
const (
	sessUserID  = "uid"
	sessAuthAt  = "auth_at"
	sessCSRF    = "csrf"
	sessionName = SessionCookie
)

// Sessions stores the browser session in a cookie, signed (HMAC-SHA256)
// and encrypted (AES-256) with keys derived from the server secret, so
// the service keeps no session state and any instance can read it.
// The cookie is HttpOnly, SameSite=Lax, and Secure when served over HTTPS.
func Sessions(hashKey, blockKey []byte, secure bool) gin.HandlerFunc {
	store := cookie.NewStore(hashKey, blockKey)
	store.Options(sessions.Options{
		Path:     "/",
		MaxAge:   int(SessionLifetime / time.Second),
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return sessions.Sessions(sessionName, store)
}

// SessionUserID returns the signed-in user's id, or "" when nobody is
// signed in or the login is older than SessionLifetime.
func SessionUserID(c *gin.Context, now time.Time) string {
	s := sessions.Default(c)
	uid, _ := s.Get(sessUserID).(string)
	at, _ := s.Get(sessAuthAt).(int64)
	if uid == "" || now.Sub(time.Unix(at, 0)) > SessionLifetime {
		return ""
	}
	return uid
}

// LogIn starts a fresh session for the user: everything the old session
// held, its CSRF token included, is dropped.
func LogIn(c *gin.Context, userID string, now time.Time) error {
	s := sessions.Default(c)
	s.Clear()
	s.Set(sessUserID, userID)
	s.Set(sessAuthAt, now.Unix())
	s.Set(sessCSRF, newToken())
	return s.Save()
}

// LogOut ends the session and deletes the cookie.
func LogOut(c *gin.Context) error {
	s := sessions.Default(c)
	s.Clear()
	s.Options(sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return s.Save()
}

// CSRFToken returns the session's CSRF token, creating it if needed.
// Every state-changing form carries it in a hidden field.
func CSRFToken(c *gin.Context) (string, error) {
	s := sessions.Default(c)
	if t, ok := s.Get(sessCSRF).(string); ok && t != "" {
		return t, nil
	}
	t := newToken()
	s.Set(sessCSRF, t)
	return t, s.Save()
}

// ValidCSRF reports whether token is this session's CSRF token, compared
// in constant time. A session without a token accepts nothing.
func ValidCSRF(c *gin.Context, token string) bool {
	want, _ := sessions.Default(c).Get(sessCSRF).(string)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

// SessionValue returns a string kept in the session, or "".
func SessionValue(c *gin.Context, key string) string {
	v, _ := sessions.Default(c).Get(key).(string)
	return v
}

// SetSessionValue keeps a string in the session ("" deletes it) and saves.
func SetSessionValue(c *gin.Context, key, value string) error {
	s := sessions.Default(c)
	if value == "" {
		s.Delete(key)
	} else {
		s.Set(key, value)
	}
	return s.Save()
}

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("middleware: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
