package models

import (
	"runtime"

	"golang.org/x/crypto/argon2"
)

// hashSlots bounds how many argon2id hashes run at once. Each one holds
// its whole memory cost (19 MiB by default) until it ends, so without a
// bound the memory of the process grew with the number of concurrent
// logins and Basic requests (the garbage soak saw 260 MiB from eight
// clients). More hashes than CPUs at once would not finish sooner anyway:
// the others wait their turn.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// argon2IDKey is argon2.IDKey run in one of hashSlots.
func argon2IDKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}
