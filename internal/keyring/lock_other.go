//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package keyring

// lockDir is a no-op where flock is unavailable: there, write the keyring
// (init, rotate) from one process at a time.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, nil
}
