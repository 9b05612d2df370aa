//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package keyring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vaxport/vaxport/internal/vax"
)

// lockDir takes an exclusive flock on dir/.lock, so that two nodes (or two
// commands) writing the keyring at once cannot drop each other's keys. The
// lock goes with the process if it dies.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot lock keyring %s", dir))
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot lock keyring %s", dir))
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
