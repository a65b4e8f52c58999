// Package phone turns the phone numbers help desks hold, written every way
// people write them, into E.164 (+ and 8 to 15 digits), the form Intercom
// stores and dials, or says why it cannot.
package phone

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNoCountry marks a national number (no + or 00 prefix) when no default
// country calling code was given.
var ErrNoCountry = errors.New("no country calling code (write it as +CC…, or set options.phone_country)")

// extension matches an extension at the end: "x12", "ext. 12", "#12".
var extension = regexp.MustCompile(`(?i)\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*$`)

// E164 returns raw as +<digits>. country is the calling code ("1", "44")
// of numbers written without one; a national number's trunk 0 is dropped
// (but not Italy's, which is part of the number), as is the 1 a North
// American number may be written with. An extension is dropped: E.164 has
// none.
func E164(raw, country string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("empty")
	}
	s = extension.ReplaceAllString(s, "")
	intl := false
	switch {
	case strings.HasPrefix(s, "+"):
		intl, s = true, s[1:]
	case strings.HasPrefix(s, "00"):
		intl, s = true, s[2:]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" -.()/\u00a0\u2010\u2011\u2012\u2013", r):
		default:
			return "", fmt.Errorf("%q is not a phone number (it has %q)", raw, r)
		}
	}
	digits := b.String()
	if !intl {
		if country == "" {
			return "", fmt.Errorf("%q: %w", raw, ErrNoCountry)
		}
		if err := CheckCountry(country); err != nil {
			return "", err
		}
		switch {
		case country == "1" && len(digits) == 11 && digits[0] == '1':
			digits = digits[1:]
		case country != "39" && strings.HasPrefix(digits, "0"):
			digits = digits[1:]
		}
		digits = country + digits
	}
	if len(digits) < 8 || len(digits) > 15 {
		return "", fmt.Errorf("%q has %d digits with its country code; E.164 numbers have 8 to 15", raw, len(digits))
	}
	if digits[0] == '0' {
		return "", fmt.Errorf("%q: a country calling code does not start with 0", raw)
	}
	return "+" + digits, nil
}

// CheckCountry checks a country calling code: 1 to 3 digits, not starting
// with 0.
func CheckCountry(cc string) error {
	if len(cc) < 1 || len(cc) > 3 || cc[0] == '0' || strings.Trim(cc, "0123456789") != "" {
		return fmt.Errorf("country calling code %q: want 1 to 3 digits, such as 1 or 44", cc)
	}
	return nil
}
