package cert

// Format names a certificate format.
type Format string

// The formats Verify recognises.
const (
	FormatSHC Format = "shc" // SMART Health Card
	FormatDCC Format = "dcc" // EU Digital COVID Certificate
)

// Result is the outcome of verifying one certificate. It is the body of
// vaxport's POST /api/v1/verify and the output of `vaxport verify`.
//
// Holder and Doses are filled exactly when the signature verified, even
// when the certificate is then refused (expired, revoked): a verifier may
// see whose certificate it is looking at, but never the content of one it
// could not authenticate.
type Result struct {
	Valid   bool    `json:"valid"`
	Format  Format  `json:"format"`           // "" when the input was not recognised
	Revoked bool    `json:"revoked"`          // the issuer revoked it
	Reason  string  `json:"reason"`           // why it is not valid; "" when valid
	Holder  *Holder `json:"holder"`           // null unless authenticated
	Doses   []Dose  `json:"doses"`            // [] unless authenticated
	Issuer  string  `json:"issuer,omitempty"` // SHC iss URL, or DCC issuing country
	KeyID   string  `json:"key_id,omitempty"` // the signing key: SHC kid; DCC kid, base64 as in DCC trust lists
}

// Holder is the person a certificate names.
type Holder struct {
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"` // YYYY, YYYY-MM or YYYY-MM-DD, as the certificate has it
}

// Dose is one vaccination a certificate records.
type Dose struct {
	Vaccine string `json:"vaccine"`           // product name, e.g. "Covishield"
	Dose    int    `json:"dose"`              // dose number: the DCC's dn; an SHC's position by date
	Of      int    `json:"of,omitempty"`      // doses in the series (DCC sd); 0 when unknown
	Date    string `json:"date"`              // YYYY-MM-DD
	Country string `json:"country,omitempty"` // country of vaccination (DCC co)
	Issuer  string `json:"issuer,omitempty"`  // certificate issuer (DCC is); SHC: the performer
}
