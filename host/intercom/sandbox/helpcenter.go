package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The Help Center: collections (nested by parent_id, in place of sections)
// and articles, with translated_content per locale. Dates are Intercom's
// own: a migration cannot keep the source's.

// Collection is a Help Center collection.
type Collection struct {
	ID, Name, Description, ParentID string
	// Translated holds the other locales' name and description.
	Translated           map[string]map[string]string
	CreatedAt, UpdatedAt int64
}

// Article is a Help Center article.
type Article struct {
	ID, Title, Body, State string
	AuthorID               string
	ParentID, ParentType   string
	// Translated holds the other locales' title, body, author_id, state.
	Translated           map[string]map[string]any
	CreatedAt, UpdatedAt int64
}

// helpCenterLocales are the locales translated_content takes.
var helpCenterLocales = []string{"ar", "bg", "bs", "ca", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hr", "hu", "id", "it",
	"ja", "ko", "lt", "lv", "mn", "nb", "nl", "pl", "pt", "ro", "ru", "sl", "sr", "sv", "tr", "vi", "pt-BR", "zh-CN", "zh-TW"}

// translatedContent decodes a translated_content object, refusing locales
// Intercom does not have.
func translatedContent(raw json.RawMessage) (map[string]map[string]any, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, errInvalid("translated_content must be an object keyed by locale")
	}
	out := map[string]map[string]any{}
	for locale, v := range in {
		if locale == "type" {
			continue
		}
		if !slices.Contains(helpCenterLocales, locale) {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "translated_content." + locale,
				message: fmt.Sprintf("%q is not a supported locale", locale)}
		}
		var c map[string]any
		dec := json.NewDecoder(strings.NewReader(string(v)))
		dec.UseNumber()
		if err := dec.Decode(&c); err != nil {
			return nil, errInvalid("translated_content." + locale + " must be an object")
		}
		out[locale] = c
	}
	return out, nil
}

func (s *Server) createCollection(r *http.Request) (any, *apiError) {
	var in struct {
		Name              string          `json:"name"`
		Description       string          `json:"description"`
		ParentID          *flexString     `json:"parent_id"`
		TranslatedContent json.RawMessage `json:"translated_content"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, errMissing("Name is a required parameter.")
	}
	tr, aerr := translatedContent(in.TranslatedContent)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := in.ParentID.value()
	if _, ok := s.st.collections[parent]; parent != "" && !ok {
		return nil, &apiError{status: http.StatusNotFound, code: "not_found", message: "Parent collection not found"}
	}
	now := s.now().Unix()
	c := &Collection{ID: s.st.numericID(), Name: in.Name, Description: in.Description, ParentID: parent, CreatedAt: now, UpdatedAt: now}
	for locale, v := range tr {
		if c.Translated == nil {
			c.Translated = map[string]map[string]string{}
		}
		c.Translated[locale] = map[string]string{"name": text(v["name"]), "description": text(v["description"])}
	}
	s.st.collections[c.ID] = c
	s.st.collectionOrder = append(s.st.collectionOrder, c.ID)
	return renderCollection(c), nil
}

func renderCollection(c *Collection) map[string]any {
	var parent any
	if c.ParentID != "" {
		parent = c.ParentID
	}
	return map[string]any{"type": "collection", "id": c.ID, "name": c.Name, "description": c.Description,
		"parent_id": parent, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "default_locale": "en"}
}

func (s *Server) createArticle(r *http.Request) (any, *apiError) {
	var in struct {
		Title             string          `json:"title"`
		Body              *string         `json:"body"`
		BodyMarkdown      *string         `json:"body_markdown"`
		AuthorID          *json.Number    `json:"author_id"`
		State             string          `json:"state"`
		ParentID          *json.Number    `json:"parent_id"`
		ParentType        string          `json:"parent_type"`
		TranslatedContent json.RawMessage `json:"translated_content"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	switch {
	case strings.TrimSpace(in.Title) == "":
		return nil, errMissing("title is a required parameter")
	case in.AuthorID == nil:
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_not_found",
			message: "author_id must be in the main body or default locale translated_content object"}
	case in.Body != nil && in.BodyMarkdown != nil:
		return nil, errInvalid("body and body_markdown cannot both be given")
	case in.State != "" && in.State != "published" && in.State != "draft":
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "state", message: "state must be published or draft"}
	}
	tr, aerr := translatedContent(in.TranslatedContent)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	authors := []string{in.AuthorID.String()}
	for locale, v := range tr {
		if v["author_id"] == nil || text(v["title"]) == "" {
			return nil, errInvalid("translated_content." + locale + " needs a title and an author_id")
		}
		authors = append(authors, text(v["author_id"]))
	}
	for _, a := range authors {
		if _, ok := s.st.admin(a); !ok {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "author_id",
				message: fmt.Sprintf("author_id %s is not a teammate of this workspace", a)}
		}
	}
	parent := ""
	if in.ParentID != nil {
		parent = in.ParentID.String()
		if _, ok := s.st.collections[parent]; !ok {
			return nil, &apiError{status: http.StatusNotFound, code: "not_found", message: "Parent collection not found"}
		}
	}
	now := s.now().Unix()
	a := &Article{ID: s.st.numericID(), Title: in.Title, AuthorID: in.AuthorID.String(), State: cmp.Or(in.State, "draft"),
		ParentID: parent, ParentType: in.ParentType, Translated: tr, CreatedAt: now, UpdatedAt: now}
	if in.Body != nil {
		a.Body = *in.Body
	}
	s.st.articles[a.ID] = a
	s.st.articleOrder = append(s.st.articleOrder, a.ID)
	return renderArticle(a), nil
}

func renderArticle(a *Article) map[string]any {
	author, _ := strconv.ParseInt(a.AuthorID, 10, 64)
	var parent any
	if a.ParentID != "" {
		parent, _ = strconv.ParseInt(a.ParentID, 10, 64)
	}
	// translated_content holds every locale, the default one included.
	tr := map[string]any{"type": "article_translated_content",
		"en": map[string]any{"type": "article_content", "title": a.Title, "body": a.Body, "author_id": author, "state": a.State,
			"created_at": a.CreatedAt, "updated_at": a.UpdatedAt}}
	for _, l := range slices.Sorted(maps.Keys(a.Translated)) {
		v := a.Translated[l]
		id, _ := strconv.ParseInt(text(v["author_id"]), 10, 64)
		tr[l] = map[string]any{"type": "article_content", "title": text(v["title"]), "body": text(v["body"]), "author_id": id,
			"state": cmp.Or(text(v["state"]), a.State), "created_at": a.CreatedAt, "updated_at": a.UpdatedAt}
	}
	return map[string]any{"type": "article", "id": a.ID, "title": a.Title, "body": a.Body, "author_id": author,
		"state": a.State, "parent_id": parent, "parent_type": a.ParentType, "created_at": a.CreatedAt, "updated_at": a.UpdatedAt,
		"default_locale": "en", "translated_content": tr}
}

// pageList is a page-numbered list of the items ids names, newest first.
func pageList(r *http.Request, ids []string, render func(string) map[string]any) (any, *apiError) {
	q := r.URL.Query()
	perPage, aerr := perPageParam(q, 25, 250)
	if aerr != nil {
		return nil, aerr
	}
	page, aerr := pageParam(q)
	if aerr != nil {
		return nil, aerr
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	start := min(len(newest), (page-1)*perPage)
	end := min(len(newest), start+perPage)
	data := make([]map[string]any, 0, end-start)
	for _, id := range newest[start:end] {
		data = append(data, render(id))
	}
	return map[string]any{"type": "list", "data": data, "total_count": len(ids),
		"pages": map[string]any{"type": "pages", "page": page, "per_page": perPage, "total_pages": max(1, (len(ids)+perPage-1)/perPage)}}, nil
}

func (s *Server) listCollections(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return pageList(r, s.st.collectionOrder, func(id string) map[string]any { return renderCollection(s.st.collections[id]) })
}

func (s *Server) listArticles(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return pageList(r, s.st.articleOrder, func(id string) map[string]any { return renderArticle(s.st.articles[id]) })
}
