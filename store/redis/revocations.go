package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Evicter is a bearer-token cache that revocations empty: cache.Tokens.
type Evicter interface {
	EvictHash(hash string)
	EvictFamily(family string)
	EvictUser(userID string)
	EvictClient(clientID, userID string)
	EvictAll()
}

// Rereader is an Evicter that also holds what it must read again from the
// database when it hears of revocations (app.Caches: the revocations of
// sealed access tokens, which no event carries). Listen calls Reread once
// per message, after its events and before acknowledging it, and once
// when it (re)subscribes.
type Rereader interface {
	Reread()
}

// Revocation events, one per line of a message.
func evictHash(hash string) string     { return "h " + hash }
func evictFamily(family string) string { return "f " + family }
func evictUser(userID string) string   { return "u " + userID }
func evictClient(clientID, userID string) string {
	return strings.TrimSpace("c " + clientID + " " + userID)
}

// revocations tells every instance's bearer cache about revocations, on
// the channel P+"revocations", and waits until each has dropped them.
//
// A message is "<instance> <id>" and then one event per line. Each
// listening instance (Listen) applies the events to its cache and then
// publishes <id> on the sender's acknowledgement channel. The sender
// waits for as many acknowledgements as PUBLISH said there are listeners,
// at most ackWait. So when a revocation returns, every instance that is
// connected has dropped the token: the next request anywhere is refused.
// An instance that is not connected has emptied its cache when it lost
// the connection and empties it again when it reconnects (see Listen);
// one that is connected but does not answer in time keeps the token at
// most the cache's TTL, and the sender logs it.
type revocations struct {
	s        *Store
	channel  string
	instance string
	ackWait  time.Duration

	started   atomic.Bool // Listen was called
	listening atomic.Bool // and is subscribed now
	mu        sync.Mutex
	waiting   map[string]chan struct{}
}

// maxInstances is how many acknowledgements of one revocation are
// counted at most; a deployment with more instances waits AckWait.
const maxInstances = 1024

func newRevocations(s *Store, ackWait time.Duration) *revocations {
	if ackWait <= 0 {
		ackWait = 250 * time.Millisecond
	}
	return &revocations{s: s, channel: s.prefix + "revocations", instance: randomID(),
		ackWait: ackWait, waiting: make(map[string]chan struct{})}
}

func (r *revocations) ackChannel(instance string) string {
	return r.channel + ":ack:" + instance
}

// publish sends events and waits for the listeners' acknowledgements.
// The revocation itself is already done; an error means Redis did not
// take the message, so other instances' caches expire it by their TTL.
func (r *revocations) publish(ctx context.Context, events ...string) error {
	if len(events) == 0 {
		return nil
	}
	id := randomID()
	// Only a subscribed listener hears acknowledgements: one that is
	// starting or resubscribing is given ackWait to get there first.
	for deadline := time.Now().Add(r.ackWait); r.started.Load() && !r.listening.Load() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(5 * time.Millisecond)
	}
	var acks chan struct{}
	if r.listening.Load() {
		acks = make(chan struct{}, maxInstances) // acks may come before PUBLISH returns
		r.mu.Lock()
		r.waiting[id] = acks
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			delete(r.waiting, id)
			r.mu.Unlock()
		}()
	}
	msg := r.instance + " " + id + "\n" + strings.Join(events, "\n")
	n, err := r.s.client.Publish(ctx, r.channel, msg).Result()
	if err != nil {
		return translate("publish revocation", err)
	}
	if acks == nil {
		return nil
	}
	timer := time.NewTimer(r.ackWait)
	defer timer.Stop()
	for got := int64(0); got < n; got++ {
		select {
		case <-acks:
		case <-timer.C:
			r.s.log.Warn("revocation not acknowledged by every instance; their caches drop it within TOKEN_CACHE_TTL",
				slog.Int64("listeners", n), slog.Int64("acknowledged", got))
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// Listen applies every instance's revocations to cache until ctx ends. It
// empties the cache whenever it (re)subscribes and whenever it loses the
// connection, because revocations published in between are not
// redelivered; while disconnected the cache holds only what was looked up
// since, and Redis being unreachable then refuses those lookups anyway.
func (s *Store) Listen(ctx context.Context, cache Evicter) {
	r := s.revoked
	r.started.Store(true)
	defer r.started.Store(false)
	const (
		heartbeat = 5 * time.Second
		backoff   = 200 * time.Millisecond
	)
	for ctx.Err() == nil {
		ps := s.client.Subscribe(ctx, r.channel, r.ackChannel(r.instance))
		// A blocked read does not see ctx; closing the connection ends it.
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		lastHeard := time.Now()
		for ctx.Err() == nil {
			msg, err := ps.ReceiveTimeout(ctx, heartbeat)
			if err != nil {
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() && time.Since(lastHeard) < 3*heartbeat {
					_ = ps.Ping(ctx) // a dead connection shows as silence: ask
					continue
				}
				break
			}
			lastHeard = time.Now()
			switch m := msg.(type) {
			case *goredis.Subscription:
				if m.Kind == "subscribe" && m.Channel == r.channel {
					cache.EvictAll()
					reread(cache)
					r.listening.Store(true)
				}
			case *goredis.Message:
				r.receive(ctx, m, cache)
			}
		}
		stop()
		_ = ps.Close()
		if r.listening.Swap(false) && ctx.Err() == nil {
			cache.EvictAll()
			s.log.Warn("lost the revocation channel; bearer cache emptied, reconnecting")
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// Listening reports whether Listen is subscribed to the revocation channel.
func (s *Store) Listening() bool { return s.revoked.listening.Load() }

func (r *revocations) receive(ctx context.Context, m *goredis.Message, cache Evicter) {
	if m.Channel != r.channel { // an acknowledgement of ours
		r.mu.Lock()
		acks := r.waiting[m.Payload]
		r.mu.Unlock()
		if acks != nil {
			select {
			case acks <- struct{}{}:
			default:
			}
		}
		return
	}
	head, body, _ := strings.Cut(m.Payload, "\n")
	sender, id, ok := strings.Cut(head, " ")
	if !ok {
		return
	}
	for _, ev := range strings.Split(body, "\n") {
		kind, arg, _ := strings.Cut(ev, " ")
		switch kind {
		case "h":
			cache.EvictHash(arg)
		case "f":
			cache.EvictFamily(arg)
		case "u":
			cache.EvictUser(arg)
		case "c":
			client, user, _ := strings.Cut(arg, " ")
			cache.EvictClient(client, user)
		default:
			cache.EvictAll() // an event this version does not know: be safe
		}
	}
	reread(cache)
	if err := r.s.client.Publish(ctx, r.ackChannel(sender), id).Err(); err != nil && ctx.Err() == nil {
		r.s.log.Warn("could not acknowledge a revocation", slog.String("error", err.Error()))
	}
}

func reread(cache Evicter) {
	if rr, ok := cache.(Rereader); ok {
		rr.Reread()
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
