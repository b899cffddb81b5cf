package sqlite

import (
	"context"
	"time"

	"beerlocker/models"
)

// revocations implements models.RevocationRepository.
type revocations struct{ db *db }

var _ models.RevocationRepository = (*revocations)(nil)

// Add is one upsert, so two instances revoking the same key at once both
// succeed and the later revocation wins.
func (r *revocations) Add(ctx context.Context, rev *models.Revocation) error {
	const q = `INSERT INTO revocations (kind, key, at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET at = max(at, excluded.at), expires_at = max(expires_at, excluded.expires_at)`
	_, err := r.db.exec(ctx, q, string(rev.Kind), rev.Key, rev.At.UnixMicro(), rev.ExpiresAt.UnixMicro())
	return translate("add revocation", err)
}

func (r *revocations) ListSince(ctx context.Context, since, now time.Time) ([]*models.Revocation, error) {
	const q = `SELECT kind, key, at, expires_at FROM revocations
		WHERE at >= ? AND expires_at > ? ORDER BY at`
	rows, err := r.db.query(ctx, q, since.UnixMicro(), now.UnixMicro())
	if err != nil {
		return nil, translate("list revocations", err)
	}
	defer rows.Close()
	var out []*models.Revocation
	for rows.Next() {
		var rev models.Revocation
		var kind string
		var at, expires int64
		if err := rows.Scan(&kind, &rev.Key, &at, &expires); err != nil {
			return nil, translate("list revocations", err)
		}
		rev.Kind, rev.At, rev.ExpiresAt = models.RevocationKind(kind), time.UnixMicro(at).UTC(), time.UnixMicro(expires).UTC()
		out = append(out, &rev)
	}
	return out, translate("list revocations", rows.Err())
}

func (r *revocations) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := r.db.exec(ctx, `DELETE FROM revocations WHERE expires_at < ?`, now.UnixMicro())
	if err != nil {
		return 0, translate("delete expired revocations", err)
	}
	n, err := res.RowsAffected()
	return n, translate("delete expired revocations", err)
}
