package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// New returns an empty record of a canonical stream.
func New(stream string) (Record, error) {
	switch stream {
	case Users:
		return &User{}, nil
	case Organizations:
		return &Organization{}, nil
	case Groups:
		return &Group{}, nil
	case TicketFields:
		return &TicketField{}, nil
	case Tickets:
		return &Ticket{}, nil
	case Comments:
		return &Comment{}, nil
	case Attachments:
		return &Attachment{}, nil
	case TicketEvents:
		return &TicketEvent{}, nil
	case KBCategories:
		return &KBCategory{}, nil
	case KBArticles:
		return &KBArticle{}, nil
	}
	return nil, fmt.Errorf("unknown stream %q", stream)
}

// DecodeJSON decodes a record of stream from its canonical JSON form. A
// record without an id is refused: every canonical row has one.
func DecodeJSON(stream string, data []byte) (Record, error) {
	r, err := New(stream)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode %s record: %w", stream, err)
	}
	if r.SourceID() == "" {
		return nil, fmt.Errorf("decode %s record: no id", stream)
	}
	dropJSONNulls(reflect.ValueOf(r).Elem())
	return r, nil
}

// dropJSONNulls turns JSON columns that decoded as a literal null into
// absent ones, so that a record reads the same whether a column was left
// out or written as null.
func dropJSONNulls(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct && v.Type().Field(i).Anonymous:
			dropJSONNulls(f)
		case f.Type() == reflect.TypeFor[json.RawMessage]() && string(f.Bytes()) == "null":
			f.SetBytes(nil)
		}
	}
}
