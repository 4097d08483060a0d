package store

import "errors"

// ErrNotFound is returned, wrapped, when the record asked for does not exist.
var ErrNotFound = errors.New("turnkit: not found")

// ErrExists is returned, wrapped, when a record with the same identity
// (ID, or key hash for API keys) is already stored.
var ErrExists = errors.New("turnkit: already exists")

// ErrLimit is returned, wrapped, when a write would exceed a limit the
// caller set.
var ErrLimit = errors.New("turnkit: limit reached")
