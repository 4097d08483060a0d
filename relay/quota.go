package relay

import "sync"

// quotas counts live allocations per username, per app and in total, and
// answers pion's quota question at each Allocate.
//
// Counts move when allocations are created and deleted, so allocations that
// race through Allocate at the same instant on different listeners can
// overshoot a cap by the number in flight; a UDP listener handles requests
// one at a time, so on one listener the caps are exact.
type quotas struct {
	perUser, perApp, total int

	mu     sync.Mutex // guards the following fields
	users  map[string]int
	apps   map[string]int
	active int
}

func newQuotas(perUser, perApp, total int) *quotas {
	return &quotas{perUser: perUser, perApp: perApp, total: total,
		users: make(map[string]int), apps: make(map[string]int)}
}

// allow reports whether one more allocation fits. perUser overrides the
// per-username cap when it is not zero (see Identity.MaxAllocations); a
// negative perUser means no per-username cap.
func (q *quotas) allow(username, app string, perUser int) bool {
	if perUser == 0 {
		perUser = q.perUser
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active < q.total && (perUser < 0 || q.users[username] < perUser) && q.apps[app] < q.perApp
}

func (q *quotas) add(username, app string, delta int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.active += delta
	bump(q.users, username, delta)
	bump(q.apps, app, delta)
}

func (q *quotas) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active
}

func bump(m map[string]int, k string, d int) {
	if m[k] += d; m[k] <= 0 {
		delete(m, k)
	}
}
