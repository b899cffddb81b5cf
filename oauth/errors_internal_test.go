package oauth

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"beerlocker/httperr"
)

// TestErrorOfCanceled: a request whose client went away (while it waited
// for its turn at the rate limits, say) is not a server error: it keeps the
// table's status, for the access log, and is never a 500.
func TestErrorOfCanceled(t *testing.T) {
	e := errorOf(httperr.Of(fmt.Errorf("limits: waiting: %w", context.Canceled)))
	if e.Status == http.StatusInternalServerError || e.Code == "server_error" {
		t.Errorf("errorOf(canceled) = %d %s, want the table's 499, not a server error", e.Status, e.Code)
	}
}
