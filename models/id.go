package models

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// idAlphabet is Crockford's base32 in lower case: it sorts in the same order
// as the bytes it encodes, so ids compare by creation time as strings.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// IDLen is the length of every id NewID returns.
const IDLen = 26

var idState struct {
	sync.Mutex
	lastMS int64
	last   [16]byte
}

// NewID returns a 26-character id that sorts after every id this process
// made before (a ULID: 48 bits of Unix milliseconds, then 80 random bits,
// incremented instead of redrawn within one millisecond so order holds).
func NewID(now time.Time) string {
	ms := now.UnixMilli()
	idState.Lock()
	var b [16]byte
	if ms <= idState.lastMS {
		b = idState.last
		increment(b[6:])
	} else {
		idState.lastMS = ms
		binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
		if _, err := rand.Read(b[6:]); err != nil {
			panic("models: crypto/rand failed: " + err.Error())
		}
	}
	idState.last = b
	idState.Unlock()
	return encodeID(b)
}

// increment adds one to a big-endian number in place.
func increment(b []byte) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return
		}
	}
}

func encodeID(b [16]byte) string {
	// 128 bits in 26 base32 digits: the first digit carries the top 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [IDLen]byte
	for i := IDLen - 1; i >= 0; i-- {
		out[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s has the shape of an id NewID made. Stores use
// it to answer ErrNotFound for malformed ids without a query.
func ValidID(s string) bool {
	if len(s) != IDLen || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') || c == 'i' || c == 'l' || c == 'o' || c == 'u' {
			return false
		}
	}
	return true
}
