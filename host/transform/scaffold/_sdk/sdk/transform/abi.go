package transform

// ABIVersion is the version of the transform ABI this package implements; the
// module reports it from ferry_abi_version and ferry refuses versions it does
// not speak.
const ABIVersion = 1

// The batch formats: bits of the mask ferry_formats returns, and the format
// argument of ferry_transform. A module may read several; ferry picks, per
// stream, the one the module's column declarations call for (see
// [Context.Declare]).
const (
	// FormatJSON is JSON v1: whole records as JSON objects.
	FormatJSON = 1 << 0
	// FormatColumnar is the columnar format (package columnar): just the
	// columns a transform declared, in Arrow's layout.
	FormatColumnar = 1 << 1
)

// formats is the mask this package reports: every format Instance.Transform reads.
const formats = FormatJSON | FormatColumnar
