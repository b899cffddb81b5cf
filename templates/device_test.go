package templates_test

import (
	"strings"
	"testing"

	"beerlocker/templates"
)

// TestDeviceConsent checks the consent page of the device flow: it shows
// the code to compare with the device's, and no redirect address.
func TestDeviceConsent(t *testing.T) {
	data := templates.ConsentData{Base: signedIn, Action: "/device", ClientName: "Beer CLI", OwnerName: "dev",
		Scopes: scopes, TxID: "tx-789", UserCode: "BCDF-GHJK"}
	body := render(t, parse(t), "consent", data).Body.String()
	for _, want := range []string{`action="/device"`, `<strong class="user-code">BCDF-GHJK</strong>`, "go back to your device", `value="tx-789"`} {
		if !strings.Contains(body, want) {
			t.Errorf("device consent page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "you will be sent to") {
		t.Error("device consent page names a redirect")
	}
}

func TestDeviceDoneDenied(t *testing.T) {
	body := render(t, parse(t), "device_done", templates.DeviceDoneData{Base: signedIn, ClientName: "Beer CLI"}).Body.String()
	if !strings.Contains(body, "Request denied") || strings.Contains(body, "Device connected") {
		t.Errorf("denied page:\n%s", body)
	}
}
