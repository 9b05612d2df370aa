package ratelimit

// Len is how many buckets l holds.
func (l *PerKey) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.prev)
}
