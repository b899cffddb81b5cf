package clientmeta

import "net/netip"

// globalUnicast6 is where IANA allocates public IPv6 addresses; everything
// outside it (::1, fc00::/7 with fd00:ec2::254, fe80::/10, ff00::/8, 100::/64,
// …) is special-purpose.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are an
// IPv4 address that a NAT64 gateway will reach for us, so that address is
// the one to judge.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// nonPublic lists the ranges of the IANA special-purpose address registries
// (RFC 6890 and successors) that a URL anyone can choose must not reach.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", incl. 0.0.0.0
	netip.MustParsePrefix("10.0.0.0/8"),      // private, RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT), RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, incl. cloud metadata 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),   // private, RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation, TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated (RFC 7526)
	netip.MustParsePrefix("192.168.0.0/16"),  // private, RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation, TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation, TEST-NET-3
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. broadcast 255.255.255.255

	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments: Teredo, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4, deprecated (RFC 7526); embeds any IPv4 address
	netip.MustParsePrefix("3fff::/20"),     // documentation, RFC 9637
}

// isPublic reports whether a is a globally reachable unicast address, the
// only kind a client metadata fetch may connect to. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they reach.
func isPublic(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if a.Is6() {
		if nat64.Contains(a) {
			b := a.As16()
			return isPublic(netip.AddrFrom4([4]byte(b[12:])))
		}
		if !globalUnicast6.Contains(a) {
			return false
		}
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
