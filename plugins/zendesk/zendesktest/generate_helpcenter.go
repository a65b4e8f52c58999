package zendesktest

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
)

// The help center the generator writes: its categories and sections, and
// articles built from the topics customers ask about, some translated and
// some with files. It is generated last, so that adding it changed nothing
// a seed generated before.

// helpCenterPlan lists the categories, each with its sections and the
// topic (by tag) a section's articles are about.
var helpCenterPlan = []struct {
	name, description string
	sections          [][2]string // name, topic tag
}{
	{"Getting started", "Set up your account and sign in.", [][2]string{{"Your account", "account"}, {"Signing in", "login"}}},
	{"Billing and orders", "Payments, invoices and deliveries.", [][2]string{{"Payments and invoices", "billing"}, {"Orders and shipping", "shipping"}}},
	{"Using the product", "Reports, exports and the mobile app.", [][2]string{{"Reports and exports", "export"}, {"Mobile app", "mobile"}}},
	{"Developers", "The API, integrations and what is coming.", [][2]string{{"API and integrations", "integration"}, {"Roadmap and ideas", "feature_request"}}},
}

// translationsOf are the locales articles are translated into, each with
// the share of articles that have it and how it words a title and opens a
// body.
var translationsOf = []struct {
	locale      string
	share       float64
	title, note string
}{
	{"de", 0.4, "Hilfe: %s", "Aus dem Englischen übersetzt."},
	{"fr", 0.25, "Aide : %s", "Traduit de l'anglais."},
}

var articleTitles = []string{"%s: what to check", "Troubleshooting: %s", "What to do when: %s"}

func topicByTag(tag string) topic {
	for _, tp := range topics {
		if tp.tag == tag {
			return tp
		}
	}
	return topics[0]
}

func (g *generator) helpCenter() {
	const locale = "en-us"
	hc := HelpCenter{Locale: locale}
	opened := g.o.End.Add(-g.o.Span - 180*day)
	type place struct {
		section int64
		topic   topic
	}
	var places []place
	for i, c := range helpCenterPlan {
		created := opened.Add(time.Duration(i) * time.Hour)
		cat := Category{
			ID: g.id(created), Name: c.name, Description: c.description, Locale: locale, SourceLocale: locale,
			Position: i, CreatedAt: created, UpdatedAt: g.between(created, g.o.End.Add(-g.o.Span)),
		}
		hc.Categories = append(hc.Categories, cat)
		for j, s := range c.sections {
			sec := Section{
				ID: g.id(created), CategoryID: cat.ID, Name: s[0], Description: "Articles about " + strings.ToLower(s[0]) + ".",
				Locale: locale, SourceLocale: locale, Position: j, Sorting: "manual", ThemeTemplate: "section_page",
				CreatedAt: created, UpdatedAt: cat.UpdatedAt,
			}
			hc.Sections = append(hc.Sections, sec)
			places = append(places, place{sec.ID, topicByTag(s[1])})
		}
	}
	for i := range g.o.Articles {
		p := places[i%len(places)]
		created := g.between(opened, g.o.End.Add(-day))
		updated := g.between(created, g.o.End)
		author := pick(g.rng, g.agents)
		subject := pick(g.rng, p.topic.subjects)
		title := fmt.Sprintf(articleTitles[(i/len(places))%len(articleTitles)], subject)
		body := articleBody(pick(g.rng, p.topic.opening), pick(g.rng, p.topic.answers), pick(g.rng, p.topic.answers))
		a := Article{
			ID: g.id(created), AuthorID: author.ID, Draft: g.chance(0.08), Promoted: g.chance(0.1),
			Position: i / len(places), VoteSum: g.rng.IntN(20), SectionID: p.section, CreatedAt: created,
			UpdatedAt: updated, EditedAt: updated, Name: title, Title: title, SourceLocale: locale, Locale: locale,
			OutdatedLocales: []string{}, PermissionGroupID: g.agentRoleID, LabelNames: []string{p.topic.tag},
			ContentTagIDs: []string{}, Body: body,
		}
		a.VoteCount = a.VoteSum + g.rng.IntN(10)
		a.CommentsDisabled = a.Draft
		a.Translations = append(a.Translations, Translation{
			ID: g.id(created), SourceID: a.ID, SourceType: "Article", Locale: locale, Title: title, Body: body, Draft: a.Draft,
			CreatedAt: created, UpdatedAt: updated, CreatedByID: author.ID, UpdatedByID: author.ID,
		})
		for _, tr := range translationsOf {
			if !g.chance(tr.share) {
				continue
			}
			at := g.between(created, updated.Add(time.Second))
			a.Translations = append(a.Translations, Translation{
				ID: g.id(at), SourceID: a.ID, SourceType: "Article", Locale: tr.locale, Title: fmt.Sprintf(tr.title, subject),
				Body: "<p>" + html.EscapeString(tr.note) + "</p>" + body, Draft: a.Draft, CreatedAt: at, UpdatedAt: at,
				CreatedByID: author.ID, UpdatedByID: author.ID,
			})
		}
		if g.chance(0.3) {
			for range 1 + g.rng.IntN(2) {
				a.Attachments = append(a.Attachments, g.articleAttachment(a.ID, created))
			}
		} else {
			a.Attachments = []ArticleAttachment{}
		}
		hc.Articles = append(hc.Articles, a)
	}
	g.hd.HelpCenter = hc
}

func articleBody(symptom, answer, more string) string {
	var b strings.Builder
	b.WriteString("<h2>The problem</h2><p>")
	b.WriteString(html.EscapeString(symptom))
	b.WriteString("</p><h2>What to do</h2><p>")
	b.WriteString(html.EscapeString(answer))
	b.WriteString("</p>")
	if more != answer {
		b.WriteString("<p>")
		b.WriteString(html.EscapeString(more))
		b.WriteString("</p>")
	}
	return b.String()
}

func (g *generator) articleAttachment(articleID int64, at time.Time) ArticleAttachment {
	inline := g.chance(0.6)
	name, contentType, size := "guide.pdf", "application/pdf", 50<<10+g.rng.Int64N(500<<10)
	if inline {
		name, contentType, size = "screenshot.png", "image/png", 40<<10+g.rng.Int64N(1<<20)
	}
	id := g.id(at)
	path := fmt.Sprintf("/hc/article_attachments/%d/%s", id, url.PathEscape(name))
	return ArticleAttachment{
		ID: id, ArticleID: articleID, DisplayFileName: name, FileName: name, ContentURL: path, RelativePath: path,
		ContentType: contentType, Size: size, Inline: inline, CreatedAt: at, UpdatedAt: at,
	}
}
