package transform

// ABIVersion is the version of the transform ABI this package implements; the
// module reports it from ferry_abi_version and ferry refuses versions it does
// not speak.
const ABIVersion = 1

// FormatJSON is the format tag of JSON v1 batches: a bit of the mask
// ferry_formats returns, and the format argument of ferry_transform. Later
// formats (a columnar one) take the next bits, so that a module can offer
// several and ferry picks the best it reads.
const FormatJSON = 1 << 0

// formats is the mask this package reports: every format Instance.Transform reads.
const formats = FormatJSON
