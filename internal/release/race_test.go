//go:build race

package release_test

// raceEnabled: the race detector slows the embedded SQLite about 20-fold,
// so the long tests do fewer runs under it.
const raceEnabled = true
