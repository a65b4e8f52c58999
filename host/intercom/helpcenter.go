package intercom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// HelpCenterLocales are the locales Intercom's translated_content takes
// (2.16); a knowledge base's other locales cannot be kept.
var HelpCenterLocales = []string{"ar", "bg", "bs", "ca", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hr", "hu", "id", "it",
	"ja", "ko", "lt", "lv", "mn", "nb", "nl", "pl", "pt", "ro", "ru", "sl", "sr", "sv", "tr", "vi", "pt-BR", "zh-CN", "zh-TW"}

// CollectionContent is one locale's name and description of a collection.
type CollectionContent struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// CollectionRequest is the body of POST /help_center/collections. ParentID
// nests it (Intercom's collections take the place of sections).
type CollectionRequest struct {
	Name              string                       `json:"name"`
	Description       string                       `json:"description,omitempty"`
	ParentID          string                       `json:"parent_id,omitempty"`
	TranslatedContent map[string]CollectionContent `json:"translated_content,omitempty"`
}

// Collection is a Help Center collection.
type Collection struct {
	ID          flexString `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	ParentID    flexString `json:"parent_id,omitempty"`
	CreatedAt   int64      `json:"created_at"`
}

// ArticleContent is one locale's version of an article.
type ArticleContent struct {
	Title    string `json:"title"`
	Body     string `json:"body,omitempty"`
	AuthorID int64  `json:"author_id"`
	State    string `json:"state,omitempty"`
}

// ArticleRequest is the body of POST /articles. AuthorID must be an admin;
// Intercom keeps no creation or update date of the source.
type ArticleRequest struct {
	Title             string                    `json:"title"`
	Body              string                    `json:"body,omitempty"`
	AuthorID          int64                     `json:"author_id"`
	State             string                    `json:"state,omitempty"` // published or draft
	ParentID          int64                     `json:"parent_id,omitempty"`
	ParentType        string                    `json:"parent_type,omitempty"`
	TranslatedContent map[string]ArticleContent `json:"translated_content,omitempty"`
}

// Article is a Help Center article.
type Article struct {
	ID    flexString `json:"id"`
	Title string     `json:"title"`
	Body  string     `json:"body,omitempty"`
	// TranslatedContent holds the article in each of its locales, the
	// default one included, by locale ("type" aside).
	TranslatedContent map[string]json.RawMessage `json:"translated_content,omitempty"`
	AuthorID          flexString                 `json:"author_id"`
	State             string                     `json:"state"`
	ParentID          flexString                 `json:"parent_id,omitempty"`
	CreatedAt         int64                      `json:"created_at"`
}

// CreateCollection creates a collection. Creating it twice makes two, so
// a lost answer is ErrOutcomeUnknown: look for it with ListCollections.
func (c *Client) CreateCollection(ctx context.Context, in CollectionRequest) (*Collection, error) {
	var out Collection
	if err := c.do(ctx, request{method: http.MethodPost, template: "/help_center/collections", body: in, create: true}, &out); err != nil {
		return nil, fmt.Errorf("create collection %q: %w", in.Name, err)
	}
	return &out, nil
}

// CreateArticle creates an article; like CreateCollection, a lost answer is
// ErrOutcomeUnknown (look with ListArticles).
func (c *Client) CreateArticle(ctx context.Context, in ArticleRequest) (*Article, error) {
	var out Article
	if err := c.do(ctx, request{method: http.MethodPost, template: "/articles", body: in, create: true}, &out); err != nil {
		return nil, fmt.Errorf("create article %q: %w", in.Title, err)
	}
	return &out, nil
}

// ListCollections returns one page (from 1) of the collections, most
// recently updated first, and whether more pages follow.
func (c *Client) ListCollections(ctx context.Context, page, perPage int) ([]Collection, bool, error) {
	var out struct {
		Data  []Collection `json:"data"`
		Pages pageInfo     `json:"pages"`
	}
	r := request{method: http.MethodGet, template: "/help_center/collections", query: pageQuery(page, perPage)}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, false, fmt.Errorf("list collections, page %d: %w", page, err)
	}
	return out.Data, out.Pages.TotalPages > page, nil
}

// ListArticles returns one page (from 1) of the articles, most recently
// updated first, and whether more pages follow.
func (c *Client) ListArticles(ctx context.Context, page, perPage int) ([]Article, bool, error) {
	var out struct {
		Data  []Article `json:"data"`
		Pages pageInfo  `json:"pages"`
	}
	r := request{method: http.MethodGet, template: "/articles", query: pageQuery(page, perPage)}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, false, fmt.Errorf("list articles, page %d: %w", page, err)
	}
	return out.Data, out.Pages.TotalPages > page, nil
}

// pageInfo is the pages object of a page-numbered list.
type pageInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
}

func pageQuery(page, perPage int) url.Values {
	q := url.Values{"page": {strconv.Itoa(max(page, 1))}}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	return q
}
