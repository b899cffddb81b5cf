package templates

// DeviceData is the /device page, where a signed-in user enters the code
// a device shows (RFC 8628 §3.3).
type DeviceData struct {
	Base
	UserCode string // what was typed, or the code from verification_uri_complete
	Error    string
}

// DeviceDoneData is the page after the user decided on a device's request.
type DeviceDoneData struct {
	Base
	Approved   bool
	ClientName string
}
