package zendesktest

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// indexHelpCenter rebuilds the help center's lookups; the caller holds mu
// for writing.
func (s *Server) indexHelpCenter() {
	hc := &s.hd.HelpCenter
	s.articleOf = make(map[int64]*Article, len(hc.Articles))
	s.articleFiles = map[int64]*ArticleAttachment{}
	for i := range hc.Articles {
		a := &hc.Articles[i]
		s.articleOf[a.ID] = a
		for j := range a.Attachments {
			s.articleFiles[a.Attachments[j].ID] = &a.Attachments[j]
		}
	}
}

// The Help Center API's shapes: the stored records plus their URLs, the
// way the Support API's are built.

type apiCategory struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
	*Category
}

type apiSection struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
	*Section
}

type apiArticle struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
	*Article
	// Translations hides Article.Translations unless they are sideloaded.
	Translations []apiTranslation `json:"translations,omitempty"`
	Attachments  *struct{}        `json:"attachments,omitempty"` // hides Article.Attachments
}

type apiTranslation struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
	*Translation
}

type apiArticleAttachment struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
	*ArticleAttachment
	ContentURL string `json:"content_url"` // hides ArticleAttachment.ContentURL
}

func (s *Server) hcURL(base, kind string, id int64) string {
	return fmt.Sprintf("%s/api/v2/help_center/%s/%s/%d.json", base, s.hd.HelpCenter.Locale, kind, id)
}

func (s *Server) hcPage(base, kind string, id int64, locale string) string {
	return fmt.Sprintf("%s/hc/%s/%s/%d", base, locale, kind, id)
}

func (s *Server) toAPITranslation(base string, t *Translation) apiTranslation {
	return apiTranslation{
		ID: t.ID, URL: fmt.Sprintf("%s/api/v2/help_center/articles/%d/translations/%d.json", base, t.SourceID, t.ID),
		HTMLURL: s.hcPage(base, "articles", t.SourceID, t.Locale), Translation: t,
	}
}

func (s *Server) serveCategories(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cats := s.hd.HelpCenter.Categories
	items := make([]item, len(cats))
	for i := range cats {
		c := &cats[i]
		items[i] = item{pos: position{int64(c.Position), c.ID}, v: apiCategory{
			ID: c.ID, URL: s.hcURL(base, "categories", c.ID), HTMLURL: s.hcPage(base, "categories", c.ID, c.Locale), Category: c,
		}}
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "categories", items)
}

func (s *Server) serveSections(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	secs := s.hd.HelpCenter.Sections
	items := make([]item, len(secs))
	for i := range secs {
		sc := &secs[i]
		items[i] = item{pos: position{int64(sc.Position), sc.ID}, v: apiSection{
			ID: sc.ID, URL: s.hcURL(base, "sections", sc.ID), HTMLURL: s.hcPage(base, "sections", sc.ID, sc.Locale), Section: sc,
		}}
	}
	slices.SortFunc(items, func(a, b item) int { return compare(a.pos, b.pos) })
	servePage(w, r, base, "sections", items)
}

// serveArticles lists the articles, by position unless sort_by says
// created_at, updated_at or title, in sort_order asc (the default) or
// desc. include=translations sideloads each article's translations into
// it.
func (s *Server) serveArticles(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	sortBy, order := cmpOrString(q.Get("sort_by"), "position"), cmpOrString(q.Get("sort_order"), "asc")
	if !slices.Contains([]string{"position", "created_at", "updated_at", "title"}, sortBy) || order != "asc" && order != "desc" {
		writeError(w, http.StatusBadRequest, "InvalidValue", "sort_by must be position, created_at, updated_at or title, sort_order asc or desc")
		return
	}
	withTranslations := slices.Contains(strings.Split(q.Get("include"), ","), "translations")
	s.mu.RLock()
	defer s.mu.RUnlock()
	arts := slices.Clone(s.hd.HelpCenter.Articles)
	key := func(a Article) int64 {
		switch sortBy {
		case "created_at":
			return a.CreatedAt.Unix()
		case "updated_at":
			return a.UpdatedAt.Unix()
		}
		return int64(a.Position)
	}
	slices.SortStableFunc(arts, func(a, b Article) int {
		c := cmp.Compare(key(a), key(b))
		if sortBy == "title" {
			c = strings.Compare(a.Title, b.Title)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if order == "desc" {
			c = -c
		}
		return c
	})
	items := make([]item, len(arts))
	for i := range arts {
		a := s.articleOf[arts[i].ID]
		// A position that grows in the order served: the sort key where it
		// is a number (so that a cursor keeps its place when articles
		// change), the rank for titles.
		pos := position{key(*a), a.ID}
		if sortBy == "title" {
			pos = position{int64(i), a.ID}
		} else if order == "desc" {
			pos = position{-pos.ts, -pos.id}
		}
		v := apiArticle{ID: a.ID, URL: s.hcURL(base, "articles", a.ID), HTMLURL: s.hcPage(base, "articles", a.ID, a.Locale), Article: a}
		if withTranslations {
			v.Translations = make([]apiTranslation, len(a.Translations))
			for j := range a.Translations {
				v.Translations[j] = s.toAPITranslation(base, &a.Translations[j])
			}
		}
		items[i] = item{pos: pos, v: v}
	}
	servePage(w, r, base, "articles", items)
}

func (s *Server) article(w http.ResponseWriter, r *http.Request) *Article {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a := s.articleOf[id]
	if err != nil || a == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return nil
	}
	return a
}

func (s *Server) serveArticleTranslations(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.article(w, r)
	if a == nil {
		return
	}
	items := make([]item, len(a.Translations))
	for i := range a.Translations {
		items[i] = item{pos: position{int64(i), a.Translations[i].ID}, v: s.toAPITranslation(base, &a.Translations[i])}
	}
	servePage(w, r, base, "translations", items)
}

// serveArticleAttachments lists an article's attachments, all at once: the
// endpoint does not page.
func (s *Server) serveArticleAttachments(w http.ResponseWriter, r *http.Request, base string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.article(w, r)
	if a == nil {
		return
	}
	out := make([]apiArticleAttachment, len(a.Attachments))
	for i := range a.Attachments {
		f := &a.Attachments[i]
		u := f.ContentURL
		if strings.HasPrefix(u, "/") {
			u = base + u
		}
		out[i] = apiArticleAttachment{
			ID: f.ID, URL: fmt.Sprintf("%s/api/v2/help_center/articles/attachments/%d.json", base, f.ID), ArticleAttachment: f, ContentURL: u,
		}
	}
	writeObject(w, http.StatusOK, field{"article_attachments", out})
}

// serveArticleAttachment sends an article attachment's bytes: made up, of
// the size and type its metadata says.
func (s *Server) serveArticleAttachment(w http.ResponseWriter, r *http.Request, _ string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.RLock()
	f := s.articleFiles[id]
	var name, contentType string
	var size int64
	if f != nil {
		name, contentType, size = f.FileName, f.ContentType, f.Size
	}
	s.mu.RUnlock()
	if err != nil || f == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	io.CopyN(w, patternReader(name), size)
}
