package freshdesktest

// The vocabulary the generator writes with: a small help desk's worth of
// topics, each with subjects, a customer's opening lines and follow-ups,
// agents' answers and internal notes, so that generated conversations read
// like support work. Every name, company and domain is invented; domains
// use the reserved .example top-level domain.

// topic is one kind of request a customer makes.
type topic struct {
	tag      string
	product  string // the cf_product drop-down's choice
	typ      string // the usual ticket type
	subjects []string
	opening  []string
	followup []string
	answers  []string
	notes    []string
}

var topics = []topic{
	{
		tag: "login", product: "Web app", typ: "Incident",
		subjects: []string{"Can't sign in any more", "Password reset link expired", "Account locked after two attempts", "SSO sends me back to the login page"},
		opening: []string{
			"Since this morning the sign-in page reloads every time I enter my password.",
			"The reset link in your email says it has expired, but I clicked it within a minute.",
			"I was locked out after only two attempts. Can you unlock my account?",
			"When I sign in with our company SSO I land on the login page again, in a loop.",
		},
		followup: []string{
			"I tried a private window and another browser; same thing.",
			"Our IT team says nothing on our side blocks your domain.",
			"It works on my phone but not on my laptop.",
		},
		answers: []string{
			"I've unlocked your account; you can sign in again now.",
			"Reset links are single use. I've sent a fresh one that stays valid for an hour.",
			"Your identity provider sends an expired certificate. Could your IT team renew it and try again?",
			"Could you send a screenshot of the browser console? That will help us reproduce it.",
		},
		notes: []string{
			"Checked the auth logs: repeated failures from an old saved password.",
			"Known issue with the SSO redirect, engineering ticket is linked.",
		},
	},
	{
		tag: "billing", product: "Billing", typ: "Question",
		subjects: []string{"Charged twice this month", "Invoice has the wrong address", "How do I update my card?", "Refund for unused seats"},
		opening: []string{
			"My card was charged twice for this month's subscription. Please refund one of them.",
			"Our invoice still shows our old office address. Finance needs a corrected copy.",
			"Our company card expires next week. Where do I change the payment details?",
			"We removed four seats halfway through the month. Do we get the difference back?",
		},
		followup: []string{
			"The bank shows both charges as settled.",
			"The new address is already on our company profile.",
			"I can't find a Billing page in the settings.",
		},
		answers: []string{
			"I can see the duplicate charge and have refunded it; it takes up to ten business days to show.",
			"I've corrected the address and attached the reissued invoice.",
			"The card is under Settings, then Billing; only account owners see that page.",
			"Seat changes are prorated: the credit appears on your next invoice.",
		},
		notes: []string{
			"Refund approved by finance.",
			"Customer is on an annual plan, check before refunding.",
		},
	},
	{
		tag: "export", product: "Reporting", typ: "Problem",
		subjects: []string{"CSV export is empty", "Report totals don't match", "Scheduled report never arrives", "Dashboard shows yesterday's data"},
		opening: []string{
			"Every CSV export I run has the header row and nothing else.",
			"The monthly report says 1,204 orders but our own count is 1,251.",
			"The weekly report we scheduled for Monday mornings hasn't arrived for three weeks.",
			"The dashboard still shows yesterday's numbers at noon.",
		},
		followup: []string{
			"It happens with every date range I try.",
			"We compared order by order and the missing ones are all refunds.",
			"Nothing in the spam folder either.",
		},
		answers: []string{
			"The export skipped rows with an empty region. A fix is out; could you export again?",
			"Refunded orders are left out of that report by default; tick Include refunds to see them.",
			"The schedule was attached to a deactivated user. I've moved it to your account.",
			"The dashboard refreshes every six hours; the next refresh is at 14:00 UTC.",
		},
		notes: []string{
			"Reproduced with the customer's filters. Escalating to the reporting team.",
			"Data pipeline lag confirmed by on-call.",
		},
	},
	{
		tag: "mobile", product: "Mobile app", typ: "Incident",
		subjects: []string{"App crashes on start", "Push notifications stopped", "Photos fail to upload", "App logs me out every day"},
		opening: []string{
			"Since the last update the app crashes as soon as I open it.",
			"I don't get any push notifications any more, although they're on in the settings.",
			"Uploading a photo from the app spins forever and then fails.",
			"The app signs me out every day and I have to log in again.",
		},
		followup: []string{
			"I reinstalled it and it still happens.",
			"It's an older phone but it was fine last month.",
			"Wi-Fi or mobile data makes no difference.",
		},
		answers: []string{
			"Version 4.2.1, out today, fixes that crash. Could you update and let me know?",
			"Notifications were turned off by the update on some phones. Toggling them off and on again fixes it.",
			"Uploads over 20 MB time out at the moment; smaller photos go through.",
			"Your session length is set by your admin. I've asked them to look at the setting.",
		},
		notes: []string{
			"Crash report attached by the customer matches a known bug.",
			"Asked QA to try on the same phone model.",
		},
	},
	{
		tag: "api", product: "API", typ: "Question",
		subjects: []string{"API returns 429 too often", "Webhook signature doesn't verify", "Missing field in the orders API", "How do I page through results?"},
		opening: []string{
			"Our integration gets 429 responses although we send far fewer requests than the documented limit.",
			"We can't verify the webhook signatures: the HMAC we compute never matches yours.",
			"The orders endpoint doesn't return the discount code, which the dashboard shows.",
			"What is the right way to page through more than a thousand results?",
		},
		followup: []string{
			"We use the secret from the developer settings page.",
			"Here are the request ids of three failing calls.",
			"We're on the v2 endpoints.",
		},
		answers: []string{
			"The limit is per account, not per key: your other integration shares it.",
			"The signature covers the raw body; parsing and re-serializing the JSON changes it.",
			"The discount code is in the expanded response: add expand=discounts to the request.",
			"Use the cursor in the Link header; page numbers stop at 300 pages.",
		},
		notes: []string{
			"Customer's second integration polls every second; suggested webhooks instead.",
			"Filed a docs improvement for the signature section.",
		},
	},
	{
		tag: "shipping", product: "Hardware", typ: "Question",
		subjects: []string{"Where is my order?", "Scanner arrived damaged", "Wrong item delivered", "Change the delivery address"},
		opening: []string{
			"The tracking page hasn't changed for five days. Where is my order?",
			"The barcode scanner arrived with a cracked case.",
			"We ordered two charging docks and received two scanners.",
			"Can we still change the delivery address? We moved last week.",
		},
		followup: []string{
			"The order number is in the subject line.",
			"I've attached photos of the box and the scanner.",
			"We need it before the end of the month.",
		},
		answers: []string{
			"The carrier had a delay at the depot; the parcel is out for delivery today.",
			"I'm sorry it arrived damaged. A replacement ships today with a prepaid return label.",
			"The right docks are on their way; keep the scanners until the courier collects them.",
			"I've updated the address with the carrier; it will be delivered there.",
		},
		notes: []string{
			"Replacement order created.",
			"Carrier claim opened for the damaged parcel.",
		},
	},
}

var firstNames = []string{
	"Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Keiko", "Lars",
	"Maya", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe",
}

var lastNames = []string{
	"Okafor", "Lindqvist", "Moreau", "Petrova", "Yilmaz", "Haddad", "Novak", "Sato", "Ferreira", "Becker",
	"Tanaka", "Nilsen", "Kowalski", "O'Brien", "Mendes", "Castillo", "Vasquez", "Ivanova", "Khan", "Dubois",
}

var companyWords = []string{
	"Northwind", "Bluefin", "Cobalt", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor", "Ironbark",
	"Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchard", "Pinnacle", "Quarry", "Riverbend",
}

var companySuffixes = []string{"Labs", "Logistics", "Foods", "Analytics", "Retail", "Health", "Studio", "Systems"}

var industries = []string{"Retail", "Logistics", "Healthcare", "Software", "Manufacturing", "Hospitality"}

var freeMailDomains = []string{"mail.example", "inbox.example", "post.example"}

var groupNames = []string{"Customer Support", "Billing", "Technical Escalations", "Shipping"}

// timeZones are Freshdesk's time zone names (Rails' names).
var timeZones = []string{"Eastern Time (US & Canada)", "Pacific Time (US & Canada)", "London", "Berlin", "Paris", "Tokyo", "Sydney", "Chennai"}

var languages = []string{"en", "en", "en", "de", "fr", "ja"}

var jobTitles = []string{"Office Manager", "CTO", "Accountant", "Operations Lead", "Developer", "Store Manager"}

var plans = []string{"Starter", "Growth", "Enterprise"}

var tagWords = []string{"vip", "follow-up", "bug", "feature-request", "refund", "escalated"}

var kbCategories = []struct {
	name    string
	folders []string
}{
	{"Getting Started", []string{"Setting up your account", "Inviting your team", "Mobile app"}},
	{"Billing and Plans", []string{"Invoices", "Payment methods"}},
	{"Developers", []string{"API basics", "Webhooks", "Rate limits"}},
	{"Hardware", []string{"Scanners", "Docks"}},
}

var articleTitles = []string{
	"How to %s", "Troubleshooting: %s", "Frequently asked questions about %s", "A step-by-step guide to %s",
}

var articleTopics = []string{
	"resetting your password", "exporting reports", "updating your payment card", "setting up webhooks",
	"pairing a scanner", "inviting colleagues", "paging through API results", "changing your plan",
}

var fileTypes = []struct{ ext, contentType string }{
	{"png", "image/png"}, {"jpg", "image/jpeg"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
	{"csv", "text/csv"}, {"log", "text/plain"}, {"zip", "application/zip"},
}

var fileStems = []string{"screenshot", "invoice", "export", "photo", "error", "receipt", "console", "report"}
