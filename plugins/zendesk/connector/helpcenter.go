package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// kbCategoriesStream reads the Help Center's categories and sections, whole
// each time: a knowledge base has tens of them.
type kbCategoriesStream struct {
	c *client
}

// Info describes the stream: read whole, without a cursor.
func (s *kbCategoriesStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.KBCategories}
}

// Read reads the categories, then the sections; the cursor is ignored.
func (s *kbCategoriesStream) Read(ctx context.Context, _ []byte, out *source.Emitter) error {
	c := s.c.withLogger(out.Logger())
	var done int64
	for _, l := range []struct {
		path, key string
		mapper    func(json.RawMessage) (*schema.KBCategory, error)
	}{
		{"/api/v2/help_center/categories.json", "categories", mapCategory},
		{"/api/v2/help_center/sections.json", "sections", mapSection},
	} {
		err := c.list(ctx, l.path, l.key, maxListPage, func(records []json.RawMessage) error {
			for _, raw := range records {
				r, err := l.mapper(raw)
				if err != nil {
					if err := out.RecordError(ctx, schema.KBCategories, recordID(raw), err.Error()); err != nil {
						return err
					}
					continue
				}
				if err := out.Emit(ctx, r); err != nil {
					return err
				}
			}
			done += int64(len(records))
			return out.Progress(done, 0)
		})
		if err != nil {
			return fmt.Errorf("read help center %s: %w", l.key, err)
		}
	}
	return nil
}

// kbArticlesStream reads the Help Center's articles with their
// translations and attachments (metadata only), incrementally: it lists
// the articles newest first and stops at the first one the last read
// already had, so that a later read brings only what changed.
type kbArticlesStream struct {
	c       *client
	workers int
}

// Info describes the articles stream, which brings their attachments.
func (s *kbArticlesStream) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.KBArticles, CursorField: "updated_at", Emits: []string{schema.Attachments}}
}

// errSeenBefore ends the listing of articles at the first one an earlier
// read brought.
var errSeenBefore = errors.New("reached the articles read before")

// Read lists the articles updated since cursor, newest first, each page
// with its articles' translations and attachments. The listing is not in
// ascending order, so the cursor commits once, at the end.
func (s *kbArticlesStream) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	u, err := source.NewUpdatedAt(cursor, time.Now(), lag)
	if err != nil {
		return fmt.Errorf("resume cursor %q is not one this connector wrote: %w", cursor, err)
	}
	c := s.c.withLogger(out.Logger())
	// Sideloading the translations saves a call an article; where the
	// server leaves them out, they are fetched one article at a time.
	q := url.Values{"sort_by": {"updated_at"}, "sort_order": {"desc"}, "include": {"translations"}}
	var done int64
	err = c.listQuery(ctx, "/api/v2/help_center/articles.json", "articles", maxListPage, q, func(records []json.RawMessage) error {
		var page []json.RawMessage
		var stop error
		for _, raw := range records {
			var a struct {
				ID        int64     `json:"id"`
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := json.Unmarshal(raw, &a); err != nil || a.ID == 0 {
				if err := out.RecordError(ctx, schema.KBArticles, recordID(raw), "an article without an id or an update time"); err != nil {
					return err
				}
				continue
			}
			if a.UpdatedAt.Before(u.Since()) {
				stop = errSeenBefore
				break
			}
			if u.Keep(id(a.ID), a.UpdatedAt) {
				page = append(page, raw)
			}
		}
		if err := s.emitArticles(ctx, c, out, page); err != nil {
			return err
		}
		done += int64(len(page))
		if err := out.Progress(done, 0); err != nil {
			return err
		}
		return stop
	})
	if err != nil && !errors.Is(err, errSeenBefore) {
		return fmt.Errorf("read help center articles: %w", err)
	}
	return out.Checkpoint(ctx, u.Cursor())
}

// articleDetails are what an article's own endpoints hold.
type articleDetails struct {
	translations, attachments []json.RawMessage
	// gone is set when the article went away after it was listed.
	gone error
}

// emitArticles fetches the articles' details, several at once, and emits
// each article with its attachments, in the articles' order.
func (s *kbArticlesStream) emitArticles(ctx context.Context, c *client, out *source.Emitter, articles []json.RawMessage) error {
	details := make([]articleDetails, len(articles))
	err := parallel(ctx, s.workers, len(articles), func(ctx context.Context, i int) error {
		d, err := fetchArticleDetails(ctx, c, articles[i])
		switch status := statusOf(err); {
		case err == nil:
			details[i] = d
		case status == http.StatusNotFound || status == http.StatusForbidden:
			details[i].gone = err
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
articles:
	for i, raw := range articles {
		aid := recordID(raw)
		if err := details[i].gone; err != nil {
			if err := out.RecordError(ctx, schema.KBArticles, aid, err.Error()); err != nil {
				return err
			}
			continue
		}
		a, err := mapArticle(raw, details[i].translations)
		if err != nil {
			if err := out.RecordError(ctx, schema.KBArticles, aid, err.Error()); err != nil {
				return err
			}
			continue
		}
		atts := make([]*schema.Attachment, 0, len(details[i].attachments))
		for j, ar := range details[i].attachments {
			att, err := mapArticleAttachment(a.ID, j, ar)
			if err != nil {
				// An article is not staged without its files: its record
				// error says why.
				if err := out.RecordError(ctx, schema.KBArticles, a.ID, err.Error()); err != nil {
					return err
				}
				continue articles
			}
			atts = append(atts, att)
		}
		if err := out.Emit(ctx, a); err != nil {
			return err
		}
		for _, att := range atts {
			if err := out.Emit(ctx, att); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetchArticleDetails reads an article's translations (unless the listing
// sideloaded them) and attachments.
func fetchArticleDetails(ctx context.Context, c *client, raw json.RawMessage) (articleDetails, error) {
	var d articleDetails
	var a struct {
		ID           int64             `json:"id"`
		Translations []json.RawMessage `json:"translations"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return d, fmt.Errorf("decode article: %w", err)
	}
	base := fmt.Sprintf("/api/v2/help_center/articles/%d/", a.ID)
	d.translations = a.Translations
	if d.translations == nil {
		err := c.list(ctx, base+"translations.json", "translations", maxListPage, func(records []json.RawMessage) error {
			d.translations = append(d.translations, records...)
			return nil
		})
		if err != nil {
			return d, fmt.Errorf("translations of article %d: %w", a.ID, err)
		}
	}
	// The attachments endpoint does not page: one answer holds them all.
	body, err := c.get(ctx, base+"attachments.json", nil)
	if err != nil {
		return d, fmt.Errorf("attachments of article %d: %w", a.ID, err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return d, fmt.Errorf("attachments of article %d: %w", a.ID, err)
	}
	if d.attachments, err = decodeRecords(env, "article_attachments"); err != nil {
		return d, fmt.Errorf("attachments of article %d: %w", a.ID, err)
	}
	return d, nil
}
