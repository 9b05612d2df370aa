package captcha

import "context"

// IssueWithAnswer is Issue that also returns the answer, which the black-box
// tests need and the package never hands out.
func IssueWithAnswer(s *Service, ctx context.Context, accountID string) (answer string, svg []byte, err error) {
	return s.issue(ctx, accountID)
}

// Alphabet is what answers are made of.
const Alphabet = alphabet
