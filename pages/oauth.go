package pages

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
	"beerlocker/templates"
)

// Consent is what the OAuth code decided to ask: the consent page of the
// authorization flow and of the device flow alike.
type Consent struct {
	Action string // where the Allow and Deny forms post
	Client *models.Client
	Scopes []string
	TxID   string // the parked request the decision answers
	// RedirectURI is where the browser goes after the decision in the
	// authorization flow, shown so users can check it.
	RedirectURI string
	// UserCode is set in the device flow: the code the user entered,
	// XXXX-XXXX, to compare with the device's (RFC 8628 §3.3.1).
	UserCode string
}

// ShowConsent draws the consent page: the app, who registered it, each
// scope in plain words, and Allow and Deny.
func (r *Renderer) ShowConsent(c *gin.Context, v Consent) {
	owner := "a deleted account"
	if v.Client.SelfRegistered() {
		owner = ""
	} else if u, err := r.users.Get(c.Request.Context(), v.Client.OwnerID); err == nil {
		owner = u.Username
	}
	redirect := v.RedirectURI
	if redirect == "" && len(v.Client.RedirectURIs) > 0 {
		redirect = v.Client.RedirectURIs[0] // the device flow: where the app's own pages are
	}
	r.page(c, http.StatusOK, "consent", "Allow "+v.Client.Name+"?", func(b templates.Base) any {
		return templates.ConsentData{Base: b, Action: v.Action, ClientName: v.Client.Name, OwnerName: owner,
			RedirectURI: v.RedirectURI, Scopes: describeScopes(v.Scopes), TxID: v.TxID, UserCode: v.UserCode,
			SelfRegistered: v.Client.SelfRegistered(), RedirectHost: hostOf(redirect), DocumentHost: documentHost(v.Client)}
	})
}

// documentHost is the host of the metadata document an app's client_id
// names (API.md §10), or "" for an app registered here.
func documentHost(c *models.Client) string {
	if !strings.HasPrefix(c.ID, "https://") && !strings.HasPrefix(c.ID, "http://") {
		return ""
	}
	return hostOf(c.ID)
}

// hostOf is the host of a redirect URI as a user should read it: the
// host name (and port) of an http(s) URI, the scheme of a private-use one
// (RFC 8252 §7.1: an app on the user's device).
func hostOf(uri string) string {
	u, err := url.Parse(uri)
	switch {
	case err != nil:
		return ""
	case u.Host != "":
		return u.Host
	default:
		return u.Scheme + ":"
	}
}

// describeScopes turns scopes into the page's entries, in plain words.
func describeScopes(scopes []string) []templates.Scope {
	out := make([]templates.Scope, len(scopes))
	for i, sc := range scopes {
		out[i] = templates.Scope{Name: sc, Description: models.ScopeDescription(sc)}
	}
	return out
}

// DeviceForm draws the page where the user enters a device's code, with
// what was typed (or came in the link) and, after a wrong one, why it was
// refused.
func (r *Renderer) DeviceForm(c *gin.Context, status int, userCode string, message string) {
	r.page(c, status, "device", "Connect a device", func(b templates.Base) any {
		return templates.DeviceData{Base: b, UserCode: userCode, Error: message}
	})
}

// DeviceDone tells the user to go back to the device after a decision.
func (r *Renderer) DeviceDone(c *gin.Context, approved bool, clientName string) {
	r.page(c, http.StatusOK, "device_done", "Return to your device", func(b templates.Base) any {
		return templates.DeviceDoneData{Base: b, Approved: approved, ClientName: clientName}
	})
}

// RedirectToLogin sends the browser to log in and then come back to back:
// 302 for a page asked for, 303 for a form posted.
func RedirectToLogin(c *gin.Context, back string) { RedirectToLoginWith(c, Login{ReturnTo: back}) }

// RedirectToLoginWith sends the browser to the login page l describes.
func RedirectToLoginWith(c *gin.Context, l Login) {
	status := http.StatusFound
	if c.Request.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	c.Abort()
	c.Redirect(status, l.URL())
}
