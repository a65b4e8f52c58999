package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// The knowledge base: categories and sections become nested collections
// (Intercom has no sections: a collection's parent_id nests it), parents
// first; articles go into their section's collection with their other
// locales as translated_content and their author mapped to an admin.
// Intercom keeps no date of the source's (it sets its own), and takes a
// fixed list of locales: both are reported.

// KnowledgeBase says what the load did with the knowledge base beyond the
// ledger.
type KnowledgeBase struct {
	// LocalesLeftOut lists translations Intercom has no locale for, as
	// "article id: locale".
	LocalesLeftOut []string
	// DatesNotKept counts the collections and articles created, which carry
	// the load's date: Intercom does not let their dates be set.
	DatesNotKept int
}

// intercomLocale maps a help desk's locale ("en-us", "pt-br") to the one
// Intercom's translated_content takes ("en", "pt-BR"), if any.
func intercomLocale(l string) (string, bool) {
	l = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(l, "_", "-")))
	for _, il := range intercom.HelpCenterLocales {
		if strings.EqualFold(il, l) {
			return il, true
		}
	}
	if lang, _, ok := strings.Cut(l, "-"); ok {
		if lang == "no" {
			lang = "nb"
		}
		if slices.Contains(intercom.HelpCenterLocales, lang) {
			return lang, true
		}
	}
	return "", false
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// plainText is HTML as text, for a collection's description.
func plainText(s string) string {
	return strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(s, " ")))
}

func (l *Loader) knowledgeBase(ctx context.Context) (KnowledgeBase, error) {
	var kb KnowledgeBase
	var cats []*schema.KBCategory
	err := l.ws.Records(ctx, stage.Select{Stream: schema.KBCategories, Table: l.table(schema.KBCategories), Order: "id"}, func(r schema.Record) error {
		cats = append(cats, r.(*schema.KBCategory))
		return nil
	})
	if err != nil {
		return kb, err
	}
	collections, err := l.ws.IDMap(ctx, stage.EntityCollections)
	if err != nil {
		return kb, err
	}
	intents, err := l.ws.Intents(ctx, stage.EntityCollections)
	if err != nil {
		return kb, err
	}
	taken := map[string]bool{}
	for _, id := range collections {
		taken[id] = true
	}
	// Parents first: each pass loads the categories whose parent is in.
	pending := slices.Clone(cats)
	for len(pending) > 0 {
		var next []*schema.KBCategory
		for _, c := range pending {
			if _, ok := collections[c.ID]; ok {
				continue
			}
			parent := ""
			if c.ParentID != "" {
				var ok bool
				if parent, ok = collections[c.ParentID]; !ok {
					next = append(next, c)
					continue
				}
			}
			req := intercom.CollectionRequest{Name: c.Title, Description: plainText(c.BodyHTML), ParentID: parent}
			id, err := l.createOnce(ctx, stage.EntityCollections, c.ID, intents[c.ID], func(ctx context.Context) (string, error) {
				col, err := l.ic.CreateCollection(ctx, req)
				if err != nil {
					return "", err
				}
				return string(col.ID), nil
			}, func(ctx context.Context) (string, bool, error) {
				return l.findCollection(ctx, req, taken)
			})
			if err != nil {
				if ferr := l.record(ctx, stage.EntityCollections, c.ID, stage.Failed, "", err); ferr != nil {
					return kb, ferr
				}
				continue
			}
			collections[c.ID], taken[id] = id, true
			kb.DatesNotKept++
		}
		if len(next) == len(pending) {
			// What is left waits for a parent that failed or is not staged.
			for _, c := range next {
				err := fmt.Errorf("its parent %s was not migrated", c.ParentID)
				if ferr := l.record(ctx, stage.EntityCollections, c.ID, stage.Failed, "", err); ferr != nil {
					return kb, ferr
				}
			}
			break
		}
		pending = next
	}

	articles, err := l.ws.Intents(ctx, stage.EntityArticles)
	if err != nil {
		return kb, err
	}
	existing, err := l.ws.IDMap(ctx, stage.EntityArticles)
	if err != nil {
		return kb, err
	}
	var mu sync.Mutex
	takenArticles := map[string]bool{}
	for _, id := range existing {
		takenArticles[id] = true
	}
	sel := stage.Select{Stream: schema.KBArticles, Table: l.table(schema.KBArticles), Where: notMigrated(stage.EntityArticles, ""), Order: "id"}
	err = l.each(ctx, sel, func(ctx context.Context, r schema.Record) error {
		a := r.(*schema.KBArticle)
		req, leftOut, err := l.articleRequest(a, collections)
		mu.Lock()
		kb.LocalesLeftOut = append(kb.LocalesLeftOut, leftOut...)
		mu.Unlock()
		if err != nil {
			return l.record(ctx, stage.EntityArticles, a.ID, stage.Failed, "", err)
		}
		id, err := l.createOnce(ctx, stage.EntityArticles, a.ID, articles[a.ID], func(ctx context.Context) (string, error) {
			art, err := l.ic.CreateArticle(ctx, req)
			if err != nil {
				return "", err
			}
			return string(art.ID), nil
		}, func(ctx context.Context) (string, bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return l.findArticle(ctx, req, takenArticles)
		})
		if err != nil {
			return l.record(ctx, stage.EntityArticles, a.ID, stage.Failed, "", err)
		}
		mu.Lock()
		takenArticles[id] = true
		kb.DatesNotKept++
		mu.Unlock()
		return nil
	})
	slices.Sort(kb.LocalesLeftOut)
	return kb, err
}

// articleRequest is the create of article a: its own locale's content on
// top, the others as translated_content, its author mapped to an admin.
func (l *Loader) articleRequest(a *schema.KBArticle, collections map[string]string) (intercom.ArticleRequest, []string, error) {
	var req intercom.ArticleRequest
	admin := l.defaultAdmin
	if id, ok := l.agentAdmin[a.AuthorID]; ok {
		admin = id
	}
	author, err := strconv.ParseInt(admin, 10, 64)
	if err != nil {
		return req, nil, fmt.Errorf("its author's admin id %q is not a number, which Intercom's articles need", admin)
	}
	state := "published"
	var raw struct {
		Draft bool `json:"draft"`
	}
	if json.Unmarshal(a.Raw, &raw) == nil && raw.Draft {
		state = "draft"
	}
	req = intercom.ArticleRequest{Title: a.Title, Body: a.BodyHTML, AuthorID: author, State: state}
	if a.ParentID != "" {
		parent, ok := collections[a.ParentID]
		if !ok {
			return req, nil, fmt.Errorf("its section %s was not migrated (see collections)", a.ParentID)
		}
		if req.ParentID, err = strconv.ParseInt(parent, 10, 64); err != nil {
			return req, nil, fmt.Errorf("collection id %q is not a number", parent)
		}
		req.ParentType = "collection"
	}
	own, _ := intercomLocale(a.Locale)
	var leftOut []string
	if len(a.Translations) > 0 {
		var tr map[string]struct{ Title, Body string }
		if err := json.Unmarshal(a.Translations, &tr); err != nil {
			return req, nil, fmt.Errorf("its translations are not a JSON object: %w", err)
		}
		locales := make([]string, 0, len(tr))
		for loc := range tr {
			locales = append(locales, loc)
		}
		slices.Sort(locales)
		for _, loc := range locales {
			il, ok := intercomLocale(loc)
			switch {
			case strings.EqualFold(loc, a.Locale):
				continue // the article's own: on top
			case !ok, il == own, req.TranslatedContent[il].Title != "":
				leftOut = append(leftOut, a.ID+": "+loc)
				continue
			}
			t := tr[loc]
			if req.TranslatedContent == nil {
				req.TranslatedContent = map[string]intercom.ArticleContent{}
			}
			req.TranslatedContent[il] = intercom.ArticleContent{Title: t.Title, Body: t.Body, AuthorID: author, State: state}
		}
	}
	return req, leftOut, nil
}

// createOnce creates an object of the knowledge base once: a create an
// earlier run lost the answer to (intents) is looked for first, and one
// whose answer is lost now is looked for before it is sent again.
func (l *Loader) createOnce(ctx context.Context, entity, sourceID string, earlier []stage.Intent,
	create func(context.Context) (string, error), find func(context.Context) (string, bool, error)) (string, error) {
	settle := func(id string) (string, error) {
		return id, l.settle(ctx, stage.Settlement{
			Outcomes: []stage.Outcome{{Entity: entity, SourceID: sourceID, Outcome: stage.Migrated, IntercomID: id}},
			Clear:    []stage.RecordKey{{Entity: entity, SourceID: sourceID}},
		})
	}
	if len(earlier) > 0 {
		id, found, err := find(ctx)
		if err != nil {
			return "", err
		}
		if found {
			return settle(id)
		}
	} else if err := l.ws.Intend(ctx, stage.Intent{Entity: entity, SourceID: sourceID, RunID: l.opts.RunID}); err != nil {
		return "", err
	}
	for try := 0; ; try++ {
		id, err := create(ctx)
		if err == nil {
			return settle(id)
		}
		if !errors.Is(err, intercom.ErrOutcomeUnknown) || try >= maxResends {
			return "", err
		}
		id, found, ferr := find(ctx)
		if ferr != nil {
			return "", ferr
		}
		if found {
			return settle(id)
		}
	}
}

// findCollection looks for the collection a lost create made: same name
// and parent, not another record's.
func (l *Loader) findCollection(ctx context.Context, req intercom.CollectionRequest, taken map[string]bool) (string, bool, error) {
	for c, err := range listed(ctx, l.ic.ListCollections, 100) {
		if err != nil {
			return "", false, fmt.Errorf("look for the collection of a lost create: %w", err)
		}
		if c.Name == req.Name && string(c.ParentID) == req.ParentID && !taken[string(c.ID)] {
			return string(c.ID), true, nil
		}
	}
	return "", false, nil
}

// findArticle looks for the article a lost create made: same title and
// parent, not another record's.
func (l *Loader) findArticle(ctx context.Context, req intercom.ArticleRequest, taken map[string]bool) (string, bool, error) {
	parent := ""
	if req.ParentID != 0 {
		parent = strconv.FormatInt(req.ParentID, 10)
	}
	for a, err := range listed(ctx, l.ic.ListArticles, 100) {
		if err != nil {
			return "", false, fmt.Errorf("look for the article of a lost create: %w", err)
		}
		if a.Title == req.Title && string(a.ParentID) == parent && !taken[string(a.ID)] {
			return string(a.ID), true, nil
		}
	}
	return "", false, nil
}

// listed yields each item of a paged Intercom list (pages numbered from
// 1, perPage a page), fetching the next page only when the loop gets to
// it; a failed page is yielded as the error, and ends the list.
func listed[T any](ctx context.Context, list func(ctx context.Context, page, perPage int) ([]T, bool, error), perPage int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page := 1; ; page++ {
			items, more, err := list(ctx, page, perPage)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}
