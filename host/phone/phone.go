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
	if countryOf(digits) == "" {
		return "", fmt.Errorf("%q: no country has the calling code it starts with (+%s or +%s)", raw, digits[:2], digits[:3])
	}
	return "+" + digits, nil
}

// CheckCountry checks a country calling code: 1 to 3 digits, one that a
// country (or an international service) has.
func CheckCountry(cc string) error {
	if len(cc) < 1 || len(cc) > 3 || cc[0] == '0' || strings.Trim(cc, "0123456789") != "" {
		return fmt.Errorf("country calling code %q: want 1 to 3 digits, such as 1 or 44", cc)
	}
	if countryOf(cc) != cc {
		return fmt.Errorf("country calling code %q: no country has it (want one such as 1 or 44)", cc)
	}
	return nil
}

// countryOf returns the calling code that digits (an international number)
// start with, or "" when they start with none that is assigned. Calling
// codes are a prefix code: no code starts another.
func countryOf(digits string) string {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if assigned[digits[:n]] {
			return digits[:n]
		}
	}
	return ""
}

// assigned are the country calling codes the ITU has given out (E.164's
// list, with the international services: freephone, satellite, networks),
// the spare ones left out: +999 or +28 is no country's.
var assigned = func() map[string]bool {
	m := map[string]bool{}
	for _, cc := range strings.Fields(`
		1 7
		20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
		60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
		211 212 213 216 218 220 221 222 223 224 225 226 227 228 229
		230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249
		250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269
		290 291 297 298 299
		350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 379
		380 381 382 383 385 386 387 389 420 421 423
		500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599
		670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692
		800 808 850 852 853 855 856 870 880 881 882 883 886 888
		960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979
		992 993 994 995 996 998`) {
		m[cc] = true
	}
	return m
}()
