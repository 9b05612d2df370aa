package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// FileProvider appends each message to a file as one JSON object per line
// and reports it delivered at once. It is for development, demos and tests,
// which read OTPs from the file: it holds them in clear, so never point it
// at a file others can read (it creates the file 0600).
type FileProvider struct {
	name  string
	path  string
	clock vax.Clock

	mu      sync.Mutex
	f       *os.File
	receipt func(Receipt)
}

// FileLine is one line of a FileProvider's file.
type FileLine struct {
	Time time.Time `json:"time"`
	To   string    `json:"to"` // the 10-digit number
	Text string    `json:"text"`
	ID   string    `json:"id"` // the message id, the same for duplicates
}

// NewFileProvider opens (creating, 0600) the file at path for appending.
func NewFileProvider(name, path string, clock vax.Clock) (*FileProvider, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, fmt.Sprintf("sms file provider: cannot open %s", path))
	}
	if clock == nil {
		clock = vax.SystemClock{}
	}
	return &FileProvider{name: name, path: path, clock: clock, f: f}, nil
}

// Name returns the provider's name.
func (p *FileProvider) Name() string { return p.name }

// Path returns the file's path.
func (p *FileProvider) Path() string { return p.path }

// SetReceiptHandler sets where delivery receipts go.
func (p *FileProvider) SetReceiptHandler(fn func(Receipt)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.receipt = fn
}

// Send appends m as one line, written whole in one write so lines never
// interleave, and reports it delivered.
func (p *FileProvider) Send(ctx context.Context, m outbox.Message) (string, error) {
	now := p.clock.Now().UTC()
	line, err := json.Marshal(FileLine{Time: now, To: m.To, Text: m.Text, ID: m.ID})
	if err != nil {
		return "", Permanent(fmt.Errorf("encode message %s: %w", m.ID, err))
	}
	line = append(line, '\n')
	p.mu.Lock()
	if p.f == nil {
		p.mu.Unlock()
		return "", fmt.Errorf("sms file provider %s: closed", p.name)
	}
	_, err = p.f.Write(line)
	receipt := p.receipt
	p.mu.Unlock()
	if err != nil {
		// The path only: the error never carries the line.
		return "", fmt.Errorf("sms file provider: write to %s failed", p.path)
	}
	if receipt != nil {
		receipt(Receipt{Provider: p.name, MessageID: m.ID, Status: Delivered, At: now})
	}
	return "", nil
}

// Close closes the file.
func (p *FileProvider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return nil
	}
	err := p.f.Close()
	p.f = nil
	return err
}
