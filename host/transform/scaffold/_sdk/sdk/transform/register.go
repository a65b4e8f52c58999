package transform

import (
	"errors"
	"fmt"
)

// Handler transforms one record of the stream ctx.Stream() and says what
// becomes of it. It is called once per record, in batch order, on one
// goroutine.
type Handler func(ctx *Context, r *Record) Result

// Setup builds a transform's Handler from its config, once per module
// instance, before any batch: decode and check the config here, so that a
// bad config stops ferry at startup and records are not all failed one by
// one. A Setup may also declare the columns the transform reads and writes
// ([Context.Declare]), when they depend on the config.
type Setup func(ctx *Context) (Handler, error)

// registration is what Register, RegisterSetup and RegisterColumns stored.
type registration struct {
	setup   Setup
	columns declarations
}

// registered is the transform registered by package main's init. A wasm
// module's exports are plain functions the host calls, so what init
// registered can only reach them through a package variable; it is set in
// init and only read after.
var registered registration

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
	if registered.setup != nil {
		panic("transform: Register or RegisterSetup called twice")
	}
	registered.setup = s
}

// RegisterColumns declares, from an init function of package main, the
// columns the transform reads and writes of stream, as [Context.Declare]
// does from a Setup:
//
//	func init() {
//		transform.Register(tagSubject)
//		transform.RegisterColumns("tickets", []string{"subject"}, []string{"subject"})
//	}
//
// It panics on a stream declared twice or on a column name that is empty.
func RegisterColumns(stream string, read, write []string) {
	if registered.columns == nil {
		registered.columns = declarations{}
	}
	if _, ok := registered.columns[stream]; ok {
		panic(fmt.Sprintf("transform: RegisterColumns(%q) called twice", stream))
	}
	if err := registered.columns.declare(stream, read, write); err != nil {
		panic("transform: RegisterColumns: " + err.Error())
	}
}

// errNotRegistered is what configuring a module that registered nothing reports.
var errNotRegistered = errors.New("no transform registered: call transform.Register or transform.RegisterSetup in an init function of package main")
