package cowin

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/vax"
)

// The Co-WIN sign-in surface: OTP generation and confirmation in Co-WIN's
// three pairs (public, protected, web portal), and the bearer-token check
// of the protected endpoints. The rules are internal/auth's; this file
// only decodes, calls and encodes. It never logs a number, an OTP or a
// token.

// Citizens is the sign-in service (auth.Service).
type Citizens interface {
	GenerateOTP(ctx context.Context, req auth.OTPRequest) (string, error)
	ConfirmOTP(ctx context.Context, txnID, otpSHA256 string) (auth.Confirmation, error)
	Authenticate(token string) (auth.Principal, error)
}

// SignInConfig configures the sign-in surface.
type SignInConfig struct {
	// Citizens runs sign-in; required.
	Citizens Citizens
	// TrustedProxies are the load balancers and proxies in front of the
	// nodes: for a request from one of them the client's address is taken
	// from X-Forwarded-For (the right-most address not itself trusted).
	// Empty: the connection's address, always. The per-IP OTP limit keys
	// on the result, so behind a proxy this must be set.
	TrustedProxies []netip.Prefix
}

// SignIn serves the Co-WIN sign-in endpoints and checks bearer tokens.
type SignIn struct {
	citizens Citizens
	trusted  []netip.Prefix
}

// NewSignIn returns the sign-in surface for cfg. It panics without
// Citizens: that is a wiring bug.
func NewSignIn(cfg SignInConfig) *SignIn {
	if cfg.Citizens == nil {
		panic("cowin: SignInConfig.Citizens is required")
	}
	return &SignIn{citizens: cfg.Citizens, trusted: cfg.TrustedProxies}
}

// Authenticate is the Config.Authenticate hook: the request must carry
// "Authorization: Bearer <citizen token>" with a valid, unrevoked token;
// otherwise it is refused with 401. It returns the token's principal.
func (s *SignIn) Authenticate(r *http.Request) (auth.Principal, error) {
	tok := bearerToken(r)
	if tok == "" {
		return auth.Principal{}, &vax.Error{Code: vax.Unauthorized, Reason: auth.ReasonInvalidToken,
			Message: "missing token: send Authorization: Bearer <token>"}
	}
	return s.citizens.Authenticate(tok)
}

// bearerToken returns the token of "Authorization: Bearer <token>", or "".
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// mobileString is a mobile number as clients send it: a JSON string, or a
// number from clients that treat it as one.
type mobileString string

func (m *mobileString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return &vax.Error{Code: vax.Invalid, Reason: auth.ReasonInvalidMobile, Message: `field "mobile": want a 10-digit mobile number`}
		}
		*m = mobileString(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &vax.Error{Code: vax.Invalid, Reason: auth.ReasonInvalidMobile, Message: `field "mobile": want a 10-digit mobile number`}
	}
	*m = mobileString(s)
	return nil
}

// generateOTPRequest is the body of every generate call; the portal's
// opaque "secret" is accepted and not used.
type generateOTPRequest struct {
	Mobile mobileString `json:"mobile"`
	Secret string       `json:"secret"`
}

type txnResponse struct {
	TxnID string `json:"txnId"`
}

type confirmOTPRequest struct {
	OTP   string `json:"otp"`
	TxnID string `json:"txnId"`
}

type tokenResponse struct {
	Token string `json:"token"`
}

type accountTokenResponse struct {
	Token        string `json:"token"`
	IsNewAccount string `json:"isNewAccount"` // "Y" or "N"
}

// refusal adds Retry-After to a rate-limited refusal.
func refusal(err error) error {
	if after, ok := auth.RetryAfter(err); ok {
		return api.WithRetryAfter(err, after)
	}
	return err
}

func (s *SignIn) handleGenerateOTP(w http.ResponseWriter, r *http.Request) error {
	var req generateOTPRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	txn, err := s.citizens.GenerateOTP(r.Context(), auth.OTPRequest{Mobile: string(req.Mobile), ClientIP: s.ClientKey(r)})
	if err != nil {
		return refusal(err)
	}
	return api.WriteJSON(w, http.StatusOK, txnResponse{TxnID: txn})
}

// confirm decodes a confirmation and runs it.
func (s *SignIn) confirm(r *http.Request) (auth.Confirmation, error) {
	var req confirmOTPRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return auth.Confirmation{}, err
	}
	c, err := s.citizens.ConfirmOTP(r.Context(), strings.TrimSpace(req.TxnID), req.OTP)
	return c, refusal(err)
}

// handleConfirmOTP answers the public and portal confirmations: {token}.
func (s *SignIn) handleConfirmOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.confirm(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, tokenResponse{Token: c.Token.Token})
}

// handleConfirmAccountOTP answers the protected confirmation: {token,
// isNewAccount}.
func (s *SignIn) handleConfirmAccountOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.confirm(r)
	if err != nil {
		return err
	}
	isNew := "N"
	if c.NewAccount {
		isNew = "Y"
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, accountTokenResponse{Token: c.Token.Token, IsNewAccount: isNew})
}

// ClientKey is what the per-IP limit counts by: the client's address, an
// IPv6 one by its /64 (one subscriber's network).
func (s *SignIn) ClientKey(r *http.Request) string {
	a := s.clientAddr(r)
	if !a.IsValid() {
		return ""
	}
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// clientAddr is the connection's address, or, from a trusted proxy, the
// right-most X-Forwarded-For address that is not itself a trusted proxy.
func (s *SignIn) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !s.isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing before it
		}
		a = a.Unmap()
		if !s.isTrusted(a) {
			return a
		}
		addr = a
	}
	return addr
}

func (s *SignIn) isTrusted(a netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
