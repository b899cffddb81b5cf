package models

import (
	"runtime"

	"golang.org/x/crypto/argon2"
)

// checkSlots and hashSlots bound how many argon2id hashes run at once.
// Each one holds its whole memory cost (19 MiB by default) until it ends,
// so without a bound the memory of the process grew with the number of
// concurrent logins and Basic requests (the garbage soak saw 260 MiB from
// eight clients). More hashes than CPUs at once would not finish sooner
// anyway: the others wait their turn, in order of arrival.
//
// The hashes that verify a password (Check: logins, Basic, the password
// grant) and those that hash a new one (Hash: registration, a password
// change) wait in separate queues, so a login never waits behind a crowd
// of registrations: 120 registrations in flight made one login take 2.7 s
// instead of 40 ms when they shared one. New hashes get half the CPUs (at
// least one), so registrations alone cannot take every core either.
var (
	checkSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	hashSlots  = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
)

// argon2IDKey is argon2.IDKey run in one of slots.
func argon2IDKey(slots chan struct{}, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}
