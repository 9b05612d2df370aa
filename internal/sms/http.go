package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// HTTPConfig describes a generic HTTP SMS gateway.
type HTTPConfig struct {
	Name string
	URL  string // where to POST
	// Body is the request body template (text/template) over HTTPMessage;
	// nil: DefaultHTTPBody. The "json" function quotes a string as JSON.
	Body        *template.Template
	ContentType string // default application/json
	// AuthHeader is the header carrying AuthValue (default Authorization);
	// AuthValue comes from a file, e.g. "Bearer …"; empty: none sent.
	AuthHeader string
	AuthValue  string
	Timeout    time.Duration // per request (default 10s)
	// ReceiptSecret authenticates this gateway's receipts at
	// POST /api/v1/sms/receipts/{name}; empty: receipts refused.
	ReceiptSecret string
	Client        *http.Client // nil: a client of its own
}

// HTTPMessage is what a body template sees.
type HTTPMessage struct {
	ID   string // the message id: pass it on so receipts can name it
	To   string // 10 digits
	To91 string // with the country code, "91…"
	Text string
}

// DefaultHTTPBody is the body sent when no template is configured.
const DefaultHTTPBody = `{"id":{{json .ID}},"to":{{json .To91}},"text":{{json .Text}}}`

// templateFuncs are the functions body templates may use.
var templateFuncs = template.FuncMap{
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
	"urlquery": url.QueryEscape,
}

// ParseBodyTemplate parses a body template with the functions templates may
// use.
func ParseBodyTemplate(text string) (*template.Template, error) {
	t, err := template.New("body").Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "invalid SMS body template")
	}
	return t, nil
}

// HTTPProvider posts each message to a gateway.
type HTTPProvider struct {
	cfg HTTPConfig
}

// maxGatewayAnswer bounds what is read of a gateway's answer.
const maxGatewayAnswer = 64 << 10

// NewHTTPProvider returns a provider for cfg.
func NewHTTPProvider(cfg HTTPConfig) (*HTTPProvider, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vax.Errorf(vax.Invalid, "sms http provider %s: want an http(s) URL", cfg.Name)
	}
	if cfg.Body == nil {
		cfg.Body, err = ParseBodyTemplate(DefaultHTTPBody)
		if err != nil {
			return nil, err
		}
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	if cfg.AuthHeader == "" {
		cfg.AuthHeader = "Authorization"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &HTTPProvider{cfg: cfg}, nil
}

// Name returns the provider's name.
func (p *HTTPProvider) Name() string { return p.cfg.Name }

// ReceiptSecret returns the secret that authenticates receipts.
func (p *HTTPProvider) ReceiptSecret() string { return p.cfg.ReceiptSecret }

// Send posts m. A 2xx answer is acceptance; its JSON "id" or "message_id",
// if any, is the reference. 408, 429 and 5xx answers and network errors
// are transient; other answers refuse the message for good. Errors never
// carry the body sent or received: both may hold the number and text.
func (p *HTTPProvider) Send(ctx context.Context, m outbox.Message) (string, error) {
	var body bytes.Buffer
	if err := p.cfg.Body.Execute(&body, HTTPMessage{ID: m.ID, To: m.To, To91: "91" + m.To, Text: m.Text}); err != nil {
		return "", Permanent(fmt.Errorf("sms http provider %s: body template failed for message %s", p.cfg.Name, m.ID))
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, &body)
	if err != nil {
		return "", Permanent(fmt.Errorf("sms http provider %s: build request", p.cfg.Name))
	}
	req.Header.Set("Content-Type", p.cfg.ContentType)
	if p.cfg.AuthValue != "" {
		req.Header.Set(p.cfg.AuthHeader, p.cfg.AuthValue)
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		// *url.Error names the URL, not the body; the URL is configuration.
		return "", fmt.Errorf("sms http provider %s: %w", p.cfg.Name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxGatewayAnswer))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return gatewayRef(answer), nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", fmt.Errorf("sms http provider %s: gateway answered %d", p.cfg.Name, resp.StatusCode)
	}
	return "", Permanent(fmt.Errorf("sms http provider %s: gateway refused message %s with %d", p.cfg.Name, m.ID, resp.StatusCode))
}

// gatewayRef finds a gateway's message id in its JSON answer.
func gatewayRef(answer []byte) string {
	var v map[string]any
	if json.Unmarshal(answer, &v) != nil {
		return ""
	}
	for _, k := range []string{"id", "message_id", "messageId"} {
		switch id := v[k].(type) {
		case string:
			if len(id) <= 200 {
				return strings.TrimSpace(id)
			}
		case float64:
			return fmt.Sprintf("%.0f", id)
		}
	}
	return ""
}
