// Package models holds Beer Locker's domain: users, beers, OAuth clients,
// consents, authorization codes and tokens, their validation rules, the
// repository interfaces every storage backend implements, and the errors
// those repositories return.
//
// It imports no HTTP, SQL or BSON package: JSON shapes belong to controllers
// and storage shapes to the store packages, so a password hash or a token
// hash cannot be serialized by accident.
package models
