package transform

import "errors"

// Handler transforms one record of the stream ctx.Stream() and says what
// becomes of it. It is called once per record, in batch order, on one
// goroutine.
type Handler func(ctx *Context, r *Record) Result

// Setup builds a transform's Handler from its config, once per module
// instance, before any batch: decode and check the config here, so that a
// bad config stops ferry at startup and records are not all failed one by one.
type Setup func(ctx *Context) (Handler, error)

// registered is what Register stored. A wasm module's exports are plain
// functions the host calls, so what init registered can only reach them
// through a package variable; it is set once, in init, and only read after.
var registered Setup

// Register registers the transform's handler; call it from an init function
// of package main. It panics when called twice or with nil, as both are
// programming errors found the first time the module runs.
func Register(h Handler) {
	if h == nil {
		panic("transform: Register with a nil Handler")
	}
	RegisterSetup(func(*Context) (Handler, error) { return h, nil })
}

// RegisterSetup registers a transform that builds its handler from its config
// (see [Setup]); call it from an init function of package main, instead of
// [Register]. It panics when called twice or with nil.
func RegisterSetup(s Setup) {
	if s == nil {
		panic("transform: RegisterSetup with a nil Setup")
	}
	if registered != nil {
		panic("transform: Register or RegisterSetup called twice")
	}
	registered = s
}

// errNotRegistered is what configuring a module that registered nothing reports.
var errNotRegistered = errors.New("no transform registered: call transform.Register or transform.RegisterSetup in an init function of package main")
