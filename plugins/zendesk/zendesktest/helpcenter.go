package zendesktest

import "time"

// HelpCenter is a help desk's knowledge base (Zendesk Guide): categories
// hold sections, sections hold articles.
type HelpCenter struct {
	// Locale is the help center's default locale, the one articles are
	// written in first.
	Locale     string     `json:"locale"`
	Categories []Category `json:"categories"`
	Sections   []Section  `json:"sections"`
	Articles   []Article  `json:"articles"`
}

// Category is a top-level group of a help center's sections.
type Category struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Locale       string    `json:"locale"`
	SourceLocale string    `json:"source_locale"`
	Outdated     bool      `json:"outdated"`
	Position     int       `json:"position"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Section groups articles within a category (or, when ParentSectionID is
// set, within another section).
type Section struct {
	ID              int64     `json:"id"`
	CategoryID      int64     `json:"category_id"`
	ParentSectionID *int64    `json:"parent_section_id"`
	Name            string    `json:"name"`
	Description     string    `json:"description"`
	Locale          string    `json:"locale"`
	SourceLocale    string    `json:"source_locale"`
	Outdated        bool      `json:"outdated"`
	Position        int       `json:"position"`
	Sorting         string    `json:"sorting"`
	ThemeTemplate   string    `json:"theme_template"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Article is a help center article, in its source locale; Translations
// hold every locale it is written in, the source one included.
type Article struct {
	ID                int64     `json:"id"`
	AuthorID          int64     `json:"author_id"`
	CommentsDisabled  bool      `json:"comments_disabled"`
	Draft             bool      `json:"draft"`
	Promoted          bool      `json:"promoted"`
	Position          int       `json:"position"`
	VoteSum           int       `json:"vote_sum"`
	VoteCount         int       `json:"vote_count"`
	SectionID         int64     `json:"section_id"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	EditedAt          time.Time `json:"edited_at"`
	Name              string    `json:"name"`
	Title             string    `json:"title"`
	SourceLocale      string    `json:"source_locale"`
	Locale            string    `json:"locale"`
	Outdated          bool      `json:"outdated"`
	OutdatedLocales   []string  `json:"outdated_locales"`
	PermissionGroupID int64     `json:"permission_group_id"`
	UserSegmentID     *int64    `json:"user_segment_id"`
	LabelNames        []string  `json:"label_names"`
	ContentTagIDs     []string  `json:"content_tag_ids"`
	Body              string    `json:"body"`
	// Translations and Attachments are served from endpoints of their
	// own, never inside the article (unless translations are sideloaded).
	Translations []Translation       `json:"translations"`
	Attachments  []ArticleAttachment `json:"attachments"`
}

// Translation is an article's title and body in one locale.
type Translation struct {
	ID          int64     `json:"id"`
	SourceID    int64     `json:"source_id"`
	SourceType  string    `json:"source_type"`
	Locale      string    `json:"locale"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	Outdated    bool      `json:"outdated"`
	Draft       bool      `json:"draft"`
	Hidden      bool      `json:"hidden"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	CreatedByID int64     `json:"created_by_id"`
	UpdatedByID int64     `json:"updated_by_id"`
}

// ArticleAttachment is a file attached to an article: an image shown in
// its body (Inline) or a file offered for download.
type ArticleAttachment struct {
	ID              int64  `json:"id"`
	ArticleID       int64  `json:"article_id"`
	DisplayFileName string `json:"display_file_name"`
	FileName        string `json:"file_name"`
	// ContentURL is relative (/hc/article_attachments/...) for a file on
	// the help desk's own host: the Server makes it absolute.
	ContentURL   string    `json:"content_url"`
	RelativePath string    `json:"relative_path"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	Inline       bool      `json:"inline"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Article returns the article with id, or nil.
func (hd *HelpDesk) Article(id int64) *Article {
	for i := range hd.HelpCenter.Articles {
		if hd.HelpCenter.Articles[i].ID == id {
			return &hd.HelpCenter.Articles[i]
		}
	}
	return nil
}

// ArticleAttachmentCount is the number of attachments of all articles.
func (hd *HelpDesk) ArticleAttachmentCount() int {
	n := 0
	for i := range hd.HelpCenter.Articles {
		n += len(hd.HelpCenter.Articles[i].Attachments)
	}
	return n
}
