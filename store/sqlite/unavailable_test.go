package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"beerlocker/models"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory and
// unmounts it when the test ends. It needs root (CAP_SYS_ADMIN); without
// it the test is skipped, saying so. A tmpfs is the honest way to get a
// read-only or full filesystem: as root, permission bits stop no write.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestOpenReadOnly checks that a data directory that cannot be written
// makes Open fail at once with ErrUnavailable and a one-line reason,
// rather than opening a read-only database that fails at the first write.
func TestOpenReadOnly(t *testing.T) {
	t.Run("read-only filesystem", func(t *testing.T) {
		dir := mountTmpfs(t, 8<<20)
		s, err := Open(context.Background(), dir)
		if err != nil {
			t.Fatalf("Open on a writable tmpfs: %v", err)
		}
		u := &models.User{ID: models.NewID(time.Now()), Username: "kept", PasswordHash: "h", CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.Users.Create(context.Background(), u); err != nil {
			t.Fatalf("Users.Create: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// Remounting read-only needs no file open for writing: the store is closed.
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
		checkOpenFails(t, dir, "read-only file system")
	})
	t.Run("permissions", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, where permission bits do not stop writes; the read-only filesystem case covers it")
		}
		dir := t.TempDir()
		mustOpen(t, dir)
		if err := os.Chmod(filepath.Join(dir, FileName), 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		checkOpenFails(t, dir, "permission denied")
	})
	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), file)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("Open(a file) error = %v, want one line saying it is not a directory", err)
		}
	})
}

func checkOpenFails(t *testing.T, dir, reason string) {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded, want an error", dir)
	}
	msg := err.Error()
	t.Logf("Open error: %s", msg)
	if !errors.Is(err, models.ErrUnavailable) || strings.Contains(msg, "\n") ||
		!strings.Contains(msg, "not writable") || !strings.Contains(msg, reason) {
		t.Errorf("Open error = %q, want ErrUnavailable in one line saying the directory is not writable (%s)", msg, reason)
	}
}

// TestDiskFull fills the filesystem under a running store: writes then
// fail with ErrUnavailable (the reason, SQLITE_FULL, kept in the error),
// never a panic; every write that succeeded is there, none that failed
// is; reads go on; and once space is freed, writes succeed again without
// reopening the store.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 4<<20)
	s := mustOpen(t, dir)
	ctx := context.Background()
	owner := &models.User{ID: models.NewID(time.Now()), Username: "filler", PasswordHash: "h", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.Users.Create(ctx, owner); err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
	// Leave about 64 KiB free: a few dozen WAL frames.
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, free-64<<10), 0o600); err != nil {
		t.Fatalf("fill the tmpfs: %v", err)
	}

	type result struct {
		beer *models.Beer
		err  error
	}
	var (
		mu      sync.Mutex
		results []result
	)
	// Concurrent writers, so that group commits fail as a whole too.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				b := &models.Beer{ID: models.NewID(time.Now()), OwnerID: owner.ID, Name: fmt.Sprintf("beer-%d-%d", g, i),
					Type: strings.Repeat("x", 200), Quantity: i + 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				err := s.Beers.Create(ctx, b)
				mu.Lock()
				results = append(results, result{b, err})
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	var ok, full int
	for _, r := range results {
		got, err := s.Beers.Get(ctx, owner.ID, r.beer.ID)
		switch {
		case r.err == nil:
			ok++
			if err != nil || got.Name != r.beer.Name || got.Quantity != r.beer.Quantity {
				t.Errorf("beer %s was created but reads back as %+v, %v", r.beer.Name, got, err)
			}
		case errors.Is(r.err, models.ErrUnavailable):
			full++
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("beer %s failed (%v) but reads back as %+v, %v; want ErrNotFound", r.beer.Name, r.err, got, err)
			}
		default:
			t.Errorf("Beers.Create(%s) error = %v, want nil or ErrUnavailable", r.beer.Name, r.err)
		}
	}
	t.Logf("disk full: %d writes succeeded, %d failed with ErrUnavailable", ok, full)
	if full == 0 {
		t.Fatalf("no write failed on a full filesystem; the test did not fill it")
	}
	for _, r := range results {
		if r.err != nil {
			t.Logf("first failure: %v", r.err)
			if !strings.Contains(r.err.Error(), "full") {
				t.Errorf("error %q does not say the disk is full", r.err)
			}
			break
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping on a full disk: %v", err)
	}

	// Free the space: the same store writes again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	b := &models.Beer{ID: models.NewID(time.Now()), OwnerID: owner.ID, Name: "after", Quantity: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.Beers.Create(ctx, b); err != nil {
		t.Fatalf("Beers.Create after freeing space: %v", err)
	}
	var check string
	if err := s.DB.(*db).w.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v; want ok", check, err)
	}
}
