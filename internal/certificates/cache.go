package certificates

import (
	"container/list"
	"sync"
)

// lru is a least-recently-used cache bounded by a total cost (entries,
// bytes). It is safe for concurrent use.
type lru[V any] struct {
	mu      sync.Mutex
	max     int
	used    int
	order   *list.List // front: most recent
	entries map[string]*list.Element
	cost    func(V) int
}

type lruEntry[V any] struct {
	key  string
	val  V
	cost int
}

func newLRU[V any](max int, cost func(V) int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), entries: map[string]*list.Element{}, cost: cost}
}

func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

// put stores val under key, evicting the least recently used entries until
// the total cost fits. A value costlier than the whole cache is not kept.
func (c *lru[V]) put(key string, val V) {
	cost := c.cost(val)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.used -= e.Value.(*lruEntry[V]).cost
		c.order.Remove(e)
		delete(c.entries, key)
	}
	if cost > c.max {
		return
	}
	for c.used+cost > c.max {
		last := c.order.Back()
		old := last.Value.(*lruEntry[V])
		c.order.Remove(last)
		delete(c.entries, old.key)
		c.used -= old.cost
	}
	c.entries[key] = c.order.PushFront(&lruEntry[V]{key: key, val: val, cost: cost})
	c.used += cost
}
