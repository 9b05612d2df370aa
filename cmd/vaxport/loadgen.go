package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

const loadgenUsage = `Usage:
  vaxport loadgen static --from URL [--gzip] [--addr ADDR]
  vaxport loadgen static --body-file FILE [--status N] [--addr ADDR]
      serve, from a bare net/http handler, the exact body (and Content-Type) that
      URL returns — gzipped as URL gzips it with --gzip: the baseline a benchmark
      compares vaxport's handlers with. Prints the listen URL, runs until
      interrupted. With --body-file, serve that file (application/json) with status N
      to any method: the baseline for answers to POSTs.

Load itself comes from wrk (apt-get install wrk); see scripts/bench-search.sh and
docs/PERFORMANCE.md.
`

func cmdLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "static" {
		fmt.Fprint(stderr, loadgenUsage)
		return errUsage
	}
	fs := newFlagSet("vaxport loadgen static", getenv)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "URL whose response body to serve")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	gzipped := fs.Bool("gzip", false, "fetch and serve the gzipped body (Content-Encoding: gzip)")
	bodyFile := fs.String("body-file", "", "serve this file's bytes instead of fetching --from")
	status := fs.Int("status", http.StatusOK, "status to answer with (with --body-file)")
	if err := fs.parse(args[1:]); err != nil {
		return errUsage
	}
	if (*from == "") == (*bodyFile == "") {
		fmt.Fprint(stderr, "vaxport loadgen static: give --from or --body-file\n")
		return errUsage
	}
	var (
		body  []byte
		ctype = "application/json"
		err   error
	)
	if *bodyFile != "" {
		body, err = os.ReadFile(*bodyFile)
	} else {
		body, ctype, err = fetch(ctx, *from, *gzipped)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			if *gzipped {
				w.Header().Set("Content-Encoding", "gzip")
			}
			w.WriteHeader(*status)
			w.Write(body)
		}),
	}
	fmt.Fprintf(stdout, "http://%s/ serves %d bytes\n", ln.Addr(), len(body))
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fetch returns url's body and Content-Type; with gzipped, the body as the
// server gzips it (which it must).
func fetch(ctx context.Context, url string, gzipped bool) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, "", err
	}
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client then leaves it compressed
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if gzipped && resp.Header.Get("Content-Encoding") != "gzip" {
		return nil, "", fmt.Errorf("GET %s: asked for gzip, got Content-Encoding %q", url, resp.Header.Get("Content-Encoding"))
	}
	return body, resp.Header.Get("Content-Type"), nil
}
