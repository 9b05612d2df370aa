package cowin

import (
	"context"
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
)

// The optional captcha, Co-WIN's getRecaptcha: off unless configured. POST
// /api/v2/auth/getRecaptcha draws a picture for the signed-in account, and
// schedule then carries its answer in "captcha"; a wrong, missing or
// expired answer is 400 APPOIN0044 (internal/captcha). The rules, and the
// answer, stay in internal/captcha: this file only carries the picture.

// Captcha draws captcha challenges and checks their answers
// (captcha.Service).
type Captcha interface {
	// Issue draws a new challenge for the account, replacing its previous
	// one, and returns the picture (an SVG document).
	Issue(ctx context.Context, accountID string) ([]byte, error)
	// Check accepts the answer to the account's challenge, using the
	// challenge up; a refusal is Invalid with Reason APPOIN0044.
	Check(ctx context.Context, accountID, answer string) error
}

type recaptchaResponse struct {
	Captcha string `json:"captcha"` // the SVG document
}

// GetRecaptcha returns the handler of POST /api/v2/auth/getRecaptcha for
// Booking.account: {"captcha":"<svg…>"}, a new picture per call.
func GetRecaptcha(c Captcha) func(w http.ResponseWriter, r *http.Request, accountID string) error {
	return func(w http.ResponseWriter, r *http.Request, account string) error {
		// The body (Co-WIN's clients send {}) carries nothing, so it is not
		// read: a client that sends none is served too.
		svg, err := c.Issue(r.Context(), account)
		if err != nil {
			return err
		}
		// A picture is for one look: no cache may keep it or serve it again.
		w.Header().Set("Cache-Control", "no-store")
		return api.WriteJSON(w, http.StatusOK, recaptchaResponse{Captcha: string(svg)})
	}
}
