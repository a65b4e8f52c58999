package columnar

import "encoding/json"

// Declaration is a module's answer to ferry_columns for one stream
// (docs/transform-abi.md): what the module reads and writes of it.
type Declaration struct {
	// Skip: the module answered 0, it does not handle the stream.
	Skip bool
	// Whole: it reads whole records, in the JSON format.
	Whole bool
	// Read and Write are the columns it declared, for the columnar format.
	Read, Write []string
	// Refusal is the reason of an {"error": "..."} answer, nil otherwise.
	Refusal *string
}

// ParseDeclaration reads a ferry_columns answer; a nil answer is a skip.
// Its error is the JSON decoder's, for the caller to say whose answer it
// was.
func ParseDeclaration(answer []byte) (Declaration, error) {
	if answer == nil {
		return Declaration{Skip: true}, nil
	}
	var a struct {
		Whole bool     `json:"whole"`
		Read  []string `json:"read"`
		Write []string `json:"write"`
		Error *string  `json:"error"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return Declaration{}, err
	}
	return Declaration{Whole: a.Whole, Read: a.Read, Write: a.Write, Refusal: a.Error}, nil
}
