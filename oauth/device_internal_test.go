package oauth

import (
	"strings"
	"testing"

	"beerlocker/models"
)

// TestNewUserCode checks the shape of user codes and that every letter of
// the alphabet turns up (a draw biased to a few letters would not).
func TestNewUserCode(t *testing.T) {
	seen := map[rune]int{}
	codes := map[string]bool{}
	for range 2000 {
		c := newUserCode()
		if norm, ok := models.NormalizeUserCode(c); !ok || norm != c {
			t.Fatalf("newUserCode() = %q, not a normalized user code", c)
		}
		codes[c] = true
		for _, r := range c {
			seen[r]++
		}
	}
	if len(codes) < 1999 {
		t.Errorf("%d distinct codes in 2000 draws", len(codes))
	}
	for _, r := range models.UserCodeAlphabet {
		// 16,000 letters over 20: 800 each on average.
		if n := seen[r]; n < 600 || n > 1000 {
			t.Errorf("letter %c drawn %d times in 16,000, want about 800", r, n)
		}
	}
	if len(seen) != len(models.UserCodeAlphabet) || strings.ContainsAny(models.UserCodeAlphabet, "AEIOUY01") {
		t.Errorf("letters drawn: %v", seen)
	}
}
