package intercom

import (
	"net/http"

	"github.com/ferryhq/ferry/host/intercom/openapicheck"
)

// The requests the client sends are checked with kin-openapi against
// Intercom's own description of the API (see openapicheck).

const specCheckerName = openapicheck.Name

type kinSpec struct{ c *openapicheck.Checker }

func loadSpecValidator(file string) (specValidator, error) {
	c, err := openapicheck.Load(file)
	if err != nil {
		return nil, err
	}
	return kinSpec{c}, nil
}

func (k kinSpec) validate(r *http.Request, body []byte) error { return k.c.Check(r, body) }
