// Package clientmeta fetches OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document): a client_id that is an
// https URL names a JSON document describing the client, which the
// authorization server downloads instead of looking up a registration.
//
// Anyone on the internet chooses these URLs, and we fetch them from inside
// our network, so every fetch is fenced in:
//
//   - Server-side request forgery: the host is resolved first and refused
//     if any of its addresses is not public (loopback, private, link-local
//     with the cloud metadata service at 169.254.169.254, CGNAT, multicast,
//     documentation ranges, and the IPv4-mapped forms of all of these).
//     Redirects are not followed, since they could lead anywhere.
//   - DNS rebinding: only the checked address is dialed, so the HTTP
//     transport never asks DNS a second time and cannot get a second answer
//     pointing at 127.0.0.1; the dialer's Control hook checks the socket's
//     address once more. TLS still verifies the certificate against the
//     URL's host name.
//   - Amplification and slow servers: a fetch gives up after 5 s or 5 KiB;
//     documents are cached for 5 min to 24 h and failures for a minute, and
//     concurrent requests for one URL share one fetch, so a client_id
//     presented in a loop costs one outbound request, not one per attempt.
//
// Options.AllowHTTPLoopback lets development and tests use documents served
// on 127.0.0.1, [::1] or localhost, over http or https. Without it those
// hosts are refused before any connection is made.
package clientmeta
