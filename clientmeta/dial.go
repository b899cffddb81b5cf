package clientmeta

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// dial is the transport's DialContext. The transport hands it the URL's
// host unresolved; dial resolves the host itself, refuses it if any address
// is not allowed (a name answering both 8.8.8.8 and 10.0.0.1 is a
// rebinding attempt, not a choice), and dials the checked IP, so no later
// lookup can answer differently.
func (f *Fetcher) dial(ctx context.Context, _, hostport string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, err
	}
	// A loopback host without the option is refused here, before any
	// lookup, so not even a DNS query leaves for it.
	if isLoopbackHost(host) && !f.allowLoopback {
		return nil, &Error{Reason: reasonNonPublic}
	}
	allowed := func(a netip.Addr) bool { return f.permit(host, a) }
	addrs, err := f.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if !allowed(a) {
			return nil, &Error{Reason: reasonNonPublic, Err: &net.AddrError{Err: "refused address", Addr: a.String()}}
		}
	}
	d := net.Dialer{Control: socketCheck(allowed)}
	var lastErr error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// socketCheck is the dialer's Control hook: it sees the address the socket
// is about to connect to, whatever path led there, and refuses it unless
// allowed. dial has already checked; this is the check that cannot be
// bypassed by a change elsewhere.
func socketCheck(allowed func(netip.Addr) bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !allowed(ap.Addr()) {
			return &Error{Reason: reasonNonPublic, Err: &net.AddrError{Err: "refused address", Addr: address}}
		}
		return nil
	}
}

// lookup returns host's addresses, unmapped. localhost is answered here,
// not by DNS, which could say anything about it.
func (f *Fetcher) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	addrs, err := f.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, &Error{Reason: "the host could not be resolved", Err: err}
	}
	if len(addrs) == 0 {
		return nil, &Error{Reason: "the host could not be resolved"}
	}
	unmapped := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		unmapped[i] = a.Unmap()
	}
	return unmapped, nil
}

// permitted is the address rule: public addresses only, except that with
// Options.AllowHTTPLoopback the loopback hosts may reach loopback (and only
// loopback).
func (f *Fetcher) permitted(host string, a netip.Addr) bool {
	if f.allowLoopback && isLoopbackHost(host) {
		return a.Zone() == "" && a.Unmap().IsLoopback()
	}
	return isPublic(a)
}
