package intercom

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The requests the client sends are checked with kin-openapi against
// Intercom's own description of the API.

const specCheckerName = "kin-openapi (openapi3filter.ValidateRequest)"

type kinSpec struct {
	router routers.Router
}

func loadSpecValidator(file string) (specValidator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	// doc.Validate is not called: the 2.16 description has example values
	// that do not match their schemas, which says nothing about requests.
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", file, err)
	}
	return &kinSpec{router: router}, nil
}

func (k *kinSpec) validate(r *http.Request, body []byte) error {
	ctx := context.Background()
	req := r.Clone(ctx)
	// The spec's servers are Intercom's hosts; route our loopback request
	// as if it went to the US one.
	req.URL.Scheme, req.URL.Host, req.Host = "https", "api.intercom.io", "api.intercom.io"
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return fmt.Errorf("%s %s (%s): %w", r.Method, route.Path, route.Operation.OperationID, err)
	}
	return nil
}
