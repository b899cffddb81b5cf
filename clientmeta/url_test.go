package clientmeta_test

import (
	"strings"
	"testing"

	"beerlocker/clientmeta"
)

func TestIsMetadataURL(t *testing.T) {
	long := "https://app.example/" + strings.Repeat("a", 255-len("https://app.example/"))
	tests := []struct {
		url                 string
		withOption, without bool
	}{
		{"https://app.example/client.json", true, true},
		{"https://app.example:8443/oauth/client", true, true},
		{"https://93.184.215.14/client.json", true, true},
		{"https://[2606:4700::1111]/client.json", true, true},
		{long, true, true},
		{long + "a", false, false},
		{"https://app.example", false, false},
		{"https://app.example/", false, false},
		{"https://app.example/client.json#frag", false, false},
		{"https://app.example/client.json#", false, false},
		{"https://user@app.example/client.json", false, false},
		{"https://user:pw@app.example/client.json", false, false},
		{"https://app.example/client.json?v=1", false, false},
		{"https://app.example/client.json?", false, false},
		{"https://app.example/a/../client.json", false, false},
		{"https://app.example/./client.json", false, false},
		{"https://app.example/%2e%2e/client.json", false, false},
		{"http://app.example/client.json", false, false},
		{"ftp://app.example/client.json", false, false},
		{"app.example/client.json", false, false},
		{"https:app.example/client.json", false, false},
		{"/client.json", false, false},
		{"https://app.example/client json", false, false},
		{"https://app_example.com/client.json", false, false},
		{"https://127.1/client.json", false, false},
		{"https://0x7f.1/client.json", false, false},
		{"https://2130706433/client.json", false, false},
		{"https://[fe80::1%25eth0]/client.json", false, false},
		{"https://app.example:0/client.json", false, false},
		{"https://app.example:/client.json", false, false},
		{"https://app.example:99999/client.json", false, false},
		// Loopback https has the form; Fetch refuses it without the option.
		{"https://127.0.0.1:8443/client.json", true, true},
		{"http://127.0.0.1:8080/client.json", true, false},
		{"http://localhost:8080/client.json", true, false},
		{"http://[::1]:8080/client.json", true, false},
		{"http://127.0.0.1/client.json", false, false},
		{"http://localhost/client.json", false, false},
		{"http://127.0.0.2:8080/client.json", false, false},
		{"http://127.0.0.1:8080/", false, false},
	}
	withOption := clientmeta.New(clientmeta.Options{AllowHTTPLoopback: true})
	without := clientmeta.New(clientmeta.Options{})
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			if got := withOption.IsMetadataURL(tc.url); got != tc.withOption {
				t.Errorf("with AllowHTTPLoopback: IsMetadataURL = %v, want %v", got, tc.withOption)
			}
			if got := without.IsMetadataURL(tc.url); got != tc.without {
				t.Errorf("without AllowHTTPLoopback: IsMetadataURL = %v, want %v", got, tc.without)
			}
		})
	}
}
