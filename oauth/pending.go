package oauth

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
)

// A consent page that is open waits on the server as a pending request
// (models.PendingConsent), under a transaction id its forms post back and
// bound to the browser session it was shown in. A decision is accepted
// only from that session, and only once (API.md §6 step 5): taking the
// request is one atomic step in the store, so a second decision, from a
// second tab or with an old copy of the cookie, finds it taken. Nothing
// of the request travels in the cookie, so its size does not depend on
// what an app registered or sent. The authorization endpoint and the
// device page both park theirs this way, each under its own kind.

// pendingTTL bounds how long a consent page stays answerable.
const pendingTTL = 10 * time.Minute

// Kinds of pending request: a flow takes only its own.
const (
	pendingAuthorize = "authorize"
	pendingDevice    = "device"
)

// errNoPending is a decision on no request pending in this session: an
// unknown, expired, foreign or already decided transaction.
var errNoPending = errors.New("oauth: no such pending request")

// park keeps req as a pending request of kind in the signed-in session
// and returns its fresh transaction id.
func (s *Server) park(c *gin.Context, kind string, req any) (string, error) {
	session := middleware.SessionHash(c)
	if session == "" {
		return "", errors.New("oauth: park: nobody is signed in")
	}
	b, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	txID, txHash := newSecret("")
	now := s.now()
	p := &models.PendingConsent{TxHash: txHash, SessionHash: session, Kind: kind, Request: string(b),
		CreatedAt: now, ExpiresAt: now.Add(pendingTTL)}
	if err := s.Store.Sessions.Park(c.Request.Context(), p); err != nil {
		return "", err
	}
	return txID, nil
}

// take decides the request of kind pending in this session under txID,
// and decodes it into req. Anything but a request that was pending here
// and is now taken, by this call, is errNoPending, or the store's error.
func (s *Server) take(c *gin.Context, kind, txID string, req any) error {
	session := middleware.SessionHash(c)
	if session == "" || txID == "" || len(txID) > 100 {
		return errNoPending
	}
	p, err := s.Store.Sessions.Take(c.Request.Context(), session, HashSecret(txID), kind, s.now())
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict) {
		return errNoPending
	}
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(p.Request), req)
}
