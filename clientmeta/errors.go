package clientmeta

// Error says why a client metadata document could not be used.
//
// Reason is written for the app's developer and may be shown to them. Err,
// the cause, is for logs only and is left out of Error(): it can name the
// internal addresses a host resolved to, which someone probing our network
// through client_ids should not learn.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return "client metadata: " + e.Reason }

func (e *Error) Unwrap() error { return e.Err }

// Reasons given by more than one check.
const (
	reasonNonPublic = "the host resolves to a non-public address"
	reasonRedirect  = "the document redirects"
	reasonClientID  = "the document's client_id is not its URL"
)
