// Package openapicheck checks requests against Intercom's OpenAPI
// description (kin-openapi's openapi3filter), for the tests that prove
// every request ferry sends is one the API documents: the client's own, and
// the end-to-end runs of the real binaries against the sandbox.
package openapicheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvVar names the description to check against; CI sets it to
// ../shared/intercom/openapi.yaml.
const EnvVar = "FERRY_INTERCOM_SPEC"

// Name says what checks, for test logs.
const Name = "kin-openapi (openapi3filter.ValidateRequest)"

// Checker checks requests against one description.
type Checker struct {
	router  routers.Router
	checked atomic.Int64
}

// Load reads a description. doc.Validate is not called: the 2.16
// description has example values that do not match their schemas, which
// says nothing about requests.
func Load(file string) (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	if err := amend(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", file, err)
	}
	return &Checker{router: router}, nil
}

// amend corrects the description where it contradicts itself and the
// documentation, so that the check does not refuse what Intercom takes:
//
//   - custom_attributes: the schema allows string, integer, datetime or a
//     list of custom objects as values, but its own example holds a boolean
//     (paid_subscriber: true) and a decimal (monthly_spend: 155.5), and
//     conversation attributes of type boolean and decimal exist
//     (create_conversation_attribute_request). Booleans and numbers are
//     added.
func amend(doc *openapi3.T) error {
	ref, ok := doc.Components.Schemas["custom_attributes"]
	if !ok || ref.Value == nil || ref.Value.AdditionalProperties.Schema == nil || ref.Value.AdditionalProperties.Schema.Value == nil {
		return fmt.Errorf("no custom_attributes schema to amend")
	}
	v := ref.Value.AdditionalProperties.Schema.Value
	v.AnyOf = append(v.AnyOf,
		openapi3.NewSchemaRef("", openapi3.NewBoolSchema()),
		openapi3.NewSchemaRef("", openapi3.NewFloat64Schema()))
	return nil
}

// FromEnv loads the description EnvVar names, once per process; nil (and
// no error) when it names none.
var FromEnv = sync.OnceValues(func() (*Checker, error) {
	if f := os.Getenv(EnvVar); f != "" {
		return Load(f)
	}
	return nil, nil
})

// Checked counts the requests checked so far.
func (c *Checker) Checked() int64 { return c.checked.Load() }

// Check checks one request whose body is body (r.Body is not read).
func (c *Checker) Check(r *http.Request, body []byte) error {
	c.checked.Add(1)
	ctx := context.Background()
	req := r.Clone(ctx)
	// The description's servers are Intercom's hosts; route a loopback
	// request as if it went to the US one.
	req.URL.Scheme, req.URL.Host, req.Host = "https", "api.intercom.io", "api.intercom.io"
	req.RequestURI = ""
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(req)
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

// Handler checks every request before next serves it, and reports each
// violation to violation.
func (c *Checker) Handler(next http.Handler, violation func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := c.Check(r, body); err != nil {
			violation(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
