package clientmeta

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// minTTL and maxTTL bound how long a document is cached, whatever its
	// Cache-Control says: not less, so a client_id presented in a loop
	// cannot make us fetch in a loop; not more, so a client's changes
	// (a new redirect URI, a removed one) take effect within a day.
	minTTL = 5 * time.Minute
	maxTTL = 24 * time.Hour
	// failureTTL is how long a failure is remembered: long enough that
	// retrying a bad URL costs one fetch a minute, short enough that a
	// developer who fixed the document does not wait long.
	failureTTL = time.Minute
	// maxEntries bounds the cache's memory: at most 10000 documents of
	// 5 KiB is 50 MB. Past it the oldest entry goes.
	maxEntries = 10000
)

// cache holds the outcome of fetches by URL, oldest first, and the fetches
// under way, so that concurrent callers of one URL share one request.
type cache struct {
	mu       sync.Mutex
	max      int
	entries  map[string]*list.Element // of *entry
	order    *list.List               // of *entry, oldest at the front
	inflight map[string]*flight
}

// entry is the outcome of one fetch: a document or an error.
type entry struct {
	url     string
	doc     *Document
	err     *Error
	expires time.Time
}

// flight is a fetch that callers wait for; entry is set before done is
// closed.
type flight struct {
	done  chan struct{}
	entry *entry
}

func newCache(max int) *cache {
	return &cache{
		max:      max,
		entries:  make(map[string]*list.Element),
		order:    list.New(),
		inflight: make(map[string]*flight),
	}
}

// join returns what the caller of url should wait for: a finished flight
// if a fresh entry is cached, else the fetch under way, else a new one that
// runs fetch and caches its outcome for the time it says (failures for
// failureTTL).
func (c *cache) join(url string, now func() time.Time, fetch func() (*Document, time.Duration, *Error)) *flight {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[url]; ok {
		e := el.Value.(*entry)
		if now().Before(e.expires) {
			fl := &flight{done: make(chan struct{}), entry: e}
			close(fl.done)
			return fl
		}
		c.order.Remove(el)
		delete(c.entries, url)
	}
	if fl, ok := c.inflight[url]; ok {
		return fl
	}
	fl := &flight{done: make(chan struct{})}
	c.inflight[url] = fl
	go func() {
		doc, ttl, err := fetch()
		if err != nil {
			ttl = failureTTL
		}
		e := &entry{url: url, doc: doc, err: err}
		c.mu.Lock()
		e.expires = now().Add(ttl)
		c.store(e)
		delete(c.inflight, url)
		fl.entry = e
		c.mu.Unlock()
		close(fl.done)
	}()
	return fl
}

// store adds e, evicting the oldest entry when the cache is full. Callers
// hold c.mu.
func (c *cache) store(e *entry) {
	if el, ok := c.entries[e.url]; ok {
		c.order.Remove(el)
		delete(c.entries, e.url)
	}
	for c.order.Len() >= c.max {
		oldest := c.order.Front()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*entry).url)
	}
	c.entries[e.url] = c.order.PushBack(e)
}

// cacheTTL is how long a document may be cached by its Cache-Control
// header, clamped to [minTTL, maxTTL]. no-store and no-cache forbid reuse
// without asking again (RFC 9111 §5.2.2.4, §5.2.2.5); asking again every
// time is what minTTL exists to prevent, so they get minTTL, as does a
// missing or invalid max-age.
func cacheTTL(h http.Header) time.Duration {
	ttl := time.Duration(-1)
	for _, line := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return minTTL
			case "max-age":
				// RFC 9111 §4.2.1: a repeated max-age is invalid.
				if ttl >= 0 {
					return minTTL
				}
				if ttl = deltaSeconds(value); ttl < 0 {
					return minTTL
				}
			}
		}
	}
	return min(max(ttl, minTTL), maxTTL)
}

// deltaSeconds parses RFC 9111 §1.2.2 delta-seconds, accepting the quoted
// form too (§5.2), or returns -1. Values too large to parse are past maxTTL
// anyway.
func deltaSeconds(value string) time.Duration {
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	if value == "" || strings.Trim(value, "0123456789") != "" {
		return -1
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n > int64(maxTTL/time.Second) {
		return maxTTL
	}
	return time.Duration(n) * time.Second
}
