package oauth

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
)

// A consent page that is open waits in the browser session as a pending
// request, under a transaction id its forms post back: a decision is
// accepted only from the session the page was shown in, and only once.
// Both the authorization endpoint and the device page park theirs this way.

// pending is a request parked in the session.
type pending interface {
	txID() string
	createdAt() time.Time
}

func (r *authRequest) txID() string         { return r.TxID }
func (r *authRequest) createdAt() time.Time { return r.Created }
func (t *deviceTx) txID() string            { return t.TxID }
func (t *deviceTx) createdAt() time.Time    { return t.Created }

var errNoPending = errors.New("oauth: no such pending request")

// park adds req to the session's requests under key, dropping expired
// ones and the oldest beyond maxPending (the cookie is small).
func park[T pending](s *Server, c *gin.Context, key string, req T) error {
	list := append(loadParked[T](s, c, key), req)
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	return storeParked(c, key, list)
}

// unpark removes and returns the request with that transaction id.
func unpark[T pending](s *Server, c *gin.Context, key, txID string) (T, error) {
	list := loadParked[T](s, c, key)
	i := slices.IndexFunc(list, func(r T) bool { return txID != "" && r.txID() == txID })
	if i < 0 {
		var zero T
		return zero, errNoPending
	}
	req := list[i]
	return req, storeParked(c, key, slices.Delete(list, i, i+1))
}

// loadParked returns the session's unexpired requests under key.
func loadParked[T pending](s *Server, c *gin.Context, key string) []T {
	var list []T
	_ = json.Unmarshal([]byte(middleware.SessionValue(c, key)), &list)
	now := s.Now()
	return slices.DeleteFunc(list, func(r T) bool { return now.Sub(r.createdAt()) > pendingTTL })
}

func storeParked[T pending](c *gin.Context, key string, list []T) error {
	if len(list) == 0 {
		return middleware.SetSessionValue(c, key, "")
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return middleware.SetSessionValue(c, key, string(b))
}
