package cowin

import (
	"bytes"
	"compress/gzip"
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vaxport/vaxport/internal/vax"
)

// route names a cached endpoint. Public and protected variants share
// entries: their answers differ only by the vaccine filter, which is part
// of the key.
type route uint8

const (
	findByPin route = iota + 1
	findByDistrict
	calendarByPin
	calendarByDistrict
	calendarByCenter
	statesRoute
	districtsRoute
)

// cacheKey identifies one encoded answer. id is the district, PIN code,
// centre or state; lang the Accept-Language preference that applies (only
// for answers with _l names).
type cacheKey struct {
	route   route
	id      int64
	date    vax.Date
	vaccine string
	lang    string
}

// flight names a build of key at version for singleflight.
func (k cacheKey) flight(version uint64) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendUint(b, uint64(k.route), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, k.id, 10)
	b = append(b, '/')
	b = append(b, k.date.String()...)
	b = append(b, '/')
	b = append(b, k.vaccine...)
	b = append(b, '/')
	b = append(b, k.lang...)
	b = append(b, '@')
	b = strconv.AppendUint(b, version, 10)
	return string(b)
}

// gzipMin is the smallest body worth compressing: below it the gzip
// header and a second cache copy cost more than they save.
const gzipMin = 1024

// entry is one encoded answer, tagged with the index version it shows.
// body never changes; the gzipped copy is made on the first request that
// accepts gzip.
type entry struct {
	version uint64
	body    []byte
	length  []string // Content-Length of body, ready for the header map

	gzOnce   sync.Once
	gz       []byte
	gzLength []string

	// owner and key are set (before anyone else sees the entry) when it
	// goes into the cache, so that the gzipped copy is counted against
	// the cache's bound while it is still cached.
	owner *cache
	key   cacheKey
	size  int64 // bytes counted against the bound; guarded by the shard lock
}

func newEntry(version uint64, body []byte) *entry {
	return &entry{version: version, body: body, length: []string{strconv.Itoa(len(body))}}
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: cannot fail
	return w
}}

// gzipped returns the gzipped body and its length header, or nil when the
// body is too small to be worth it.
func (e *entry) gzipped() ([]byte, []string) {
	if len(e.body) < gzipMin {
		return nil, nil
	}
	e.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(e.body)/4 + 64)
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		// Writes to a bytes.Buffer cannot fail.
		_, _ = zw.Write(e.body)
		_ = zw.Close()
		gzipWriters.Put(zw)
		e.gz = bytes.Clone(buf.Bytes())
		e.gzLength = []string{strconv.Itoa(len(e.gz))}
		if e.owner != nil {
			e.owner.account(e, int64(len(e.gz)))
		}
	})
	return e.gz, e.gzLength
}

// Headers shared by every response; never modified (each slice has
// len == cap, so an append elsewhere copies).
var (
	hdrJSON     = []string{"application/json"}
	hdrNosniff  = []string{"nosniff"}
	hdrGzip     = []string{"gzip"}
	hdrVaryEnc  = []string{"Accept-Encoding"}
	hdrVaryLang = []string{"Accept-Encoding, Accept-Language"}
)

// write sends e: gzipped when the client accepts it and the body is large
// enough. byLanguage says the answer depends on Accept-Language.
func (e *entry) write(w http.ResponseWriter, r *http.Request, byLanguage bool) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["X-Content-Type-Options"] = hdrNosniff
	if byLanguage {
		h["Vary"] = hdrVaryLang
	} else {
		h["Vary"] = hdrVaryEnc
	}
	body, length := e.body, e.length
	if len(body) >= gzipMin && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, length = e.gzipped()
		h["Content-Encoding"] = hdrGzip
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone; nothing to report
}

const cacheShards = 64

// cache holds encoded answers up to a bound in bytes, sharded so that
// concurrent readers rarely share a lock. Past the bound, entries of the
// inserting shard are evicted at random (Go's map order): cheap, and an
// evicted answer is rebuilt in milliseconds.
type cache struct {
	max    int64
	bytes  atomic.Int64
	seed   maphash.Seed
	shards [cacheShards]shard
}

type shard struct {
	mu sync.RWMutex
	m  map[cacheKey]*entry
}

func newCache(max int64) *cache {
	c := &cache{max: max, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = map[cacheKey]*entry{}
	}
	return c
}

func (c *cache) shard(k cacheKey) *shard {
	return &c.shards[maphash.Comparable(c.seed, k)%cacheShards]
}

func (c *cache) get(k cacheKey) *entry {
	sh := c.shard(k)
	sh.mu.RLock()
	e := sh.m[k]
	sh.mu.RUnlock()
	return e
}

// put stores e under k unless a newer version is there already, and
// returns the entry to serve.
func (c *cache) put(k cacheKey, e *entry) *entry {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[k]
	if old != nil && old.version >= e.version {
		return old
	}
	if old != nil {
		c.bytes.Add(-old.size)
	}
	e.owner, e.key = c, k
	e.size = int64(len(e.body)) + entryOverhead
	sh.m[k] = e
	c.bytes.Add(e.size)
	for victim := range sh.m {
		if c.bytes.Load() <= c.max {
			break
		}
		if victim == k {
			continue
		}
		v := sh.m[victim]
		delete(sh.m, victim)
		c.bytes.Add(-v.size)
	}
	return e
}

// entryOverhead approximates an entry's memory beyond its body.
const entryOverhead = 256

// account adds n bytes (a gzipped copy) to e's size if e is still cached.
func (c *cache) account(e *entry, n int64) {
	sh := c.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[e.key] == e {
		e.size += n
		c.bytes.Add(n)
	}
}
