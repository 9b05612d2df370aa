package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/vax"
)

// Tokens refreshes and revokes citizen tokens (auth.Service).
type Tokens interface {
	Refresh(ctx context.Context, token string) (auth.Token, error)
	Logout(ctx context.Context, token string) error
}

// Receipts records SMS delivery receipts (sms.Dispatcher).
type Receipts interface {
	Receipts(ctx context.Context, provider, secret string, rs []sms.Receipt) error
}

// bearer returns the token of "Authorization: Bearer <token>", or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// unauthorized adds WWW-Authenticate to a 401 refusal and returns it.
func unauthorized(w http.ResponseWriter, err error) error {
	if vax.ErrorCode(err) == vax.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vaxport"`)
	}
	return err
}

// noToken is the refusal of a request without a bearer token.
var noToken = &vax.Error{Code: vax.Unauthorized, Reason: auth.ReasonInvalidToken,
	Message: "missing token: send Authorization: Bearer <token>"}

// tokenJSON is the body of POST /api/v1/auth/refresh.
type tokenJSON struct {
	Token string `json:"token"`
}

// handleRefresh exchanges a valid citizen token for a fresh one of the
// same sign-in, so a citizen is not signed out mid-booking.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	tok := bearer(r)
	if tok == "" {
		return unauthorized(w, noToken)
	}
	t, err := s.tokens.Refresh(r.Context(), tok)
	if err != nil {
		return unauthorized(w, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, tokenJSON{Token: t.Token})
}

// handleLogout revokes the sign-in of the bearer token on every node.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	tok := bearer(r)
	if tok == "" {
		return unauthorized(w, noToken)
	}
	if err := s.tokens.Logout(r.Context(), tok); err != nil {
		return unauthorized(w, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// receiptJSON is one delivery receipt as gateways post it.
type receiptJSON struct {
	ID                string `json:"id"`     // the message id vaxport sent
	Status            string `json:"status"` // delivered, failed, or an SMPP-style word
	Ref               string `json:"ref"`
	ProviderMessageID string `json:"provider_message_id"`
	Time              string `json:"time"` // RFC 3339; empty: now
}

// receiptStatus maps the statuses gateways send to delivered or failed;
// intermediate ones (accepted, en route, buffered) report nothing.
func receiptStatus(s string) (sms.ReceiptStatus, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DELIVERED", "DELIVRD", "DELIVERY_SUCCESS", "SUCCESS":
		return sms.Delivered, true
	case "FAILED", "UNDELIV", "UNDELIVERED", "UNDELIVERABLE", "REJECTD", "REJECTED", "EXPIRED", "DELETED", "DELIVERY_FAILED":
		return sms.Failed, true
	}
	return "", false
}

// maxReceipts bounds the receipts in one request.
const maxReceipts = 1000

// handleReceipts takes delivery receipts from an SMS gateway: one JSON
// object or an array, authenticated by the gateway's shared secret in
// "Authorization: Bearer …" or "X-Receipt-Secret". 204 once recorded.
func (s *Server) handleReceipts(w http.ResponseWriter, r *http.Request) error {
	secret := bearer(r)
	if secret == "" {
		secret = strings.TrimSpace(r.Header.Get("X-Receipt-Secret"))
	}
	var raw json.RawMessage
	if err := api.DecodeJSON(r, &raw); err != nil {
		return err
	}
	var in []receiptJSON
	if b := bytes.TrimSpace(raw); len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &in); err != nil {
			return vax.Errorf(vax.Invalid, "invalid receipts: want an object or an array of {id, status}")
		}
	} else {
		var one receiptJSON
		if err := json.Unmarshal(b, &one); err != nil {
			return vax.Errorf(vax.Invalid, "invalid receipt: want {id, status}")
		}
		in = []receiptJSON{one}
	}
	if len(in) > maxReceipts {
		return vax.Errorf(vax.Invalid, "too many receipts in one request: at most %d", maxReceipts)
	}
	rs := make([]sms.Receipt, 0, len(in))
	for _, rj := range in {
		st, ok := receiptStatus(rj.Status)
		if !ok {
			continue
		}
		rc := sms.Receipt{MessageID: strings.TrimSpace(rj.ID), Ref: rj.Ref, Status: st}
		if rc.Ref == "" {
			rc.Ref = rj.ProviderMessageID
		}
		if rj.Time != "" {
			at, err := time.Parse(time.RFC3339, rj.Time)
			if err != nil {
				return vax.Errorf(vax.Invalid, "invalid receipt time %q: want RFC 3339", rj.Time)
			}
			rc.At = at
		}
		rs = append(rs, rc)
	}
	if err := s.receipts.Receipts(r.Context(), r.PathValue("provider"), secret, rs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
