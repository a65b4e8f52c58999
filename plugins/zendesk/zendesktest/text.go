package zendesktest

// The vocabulary the generator writes with: a small help desk's worth of
// topics, each with subjects, a customer's opening lines and follow-ups, and
// agents' answers, so that generated conversations read like support work.
// Every name, company and domain is invented; domains use the reserved
// .example top-level domain.

// topic is one kind of request a customer makes.
type topic struct {
	tag      string
	product  string // the value of the Product drop-down
	ticket   string // the usual ticket type: question, incident, problem or task
	subjects []string
	opening  []string
	followup []string
	answers  []string
}

var topics = []topic{
	{
		tag: "login", product: "web_app", ticket: "incident",
		subjects: []string{"Can't log in to my account", "Password reset email never arrives", "Locked out after too many attempts", "Two-factor code is rejected"},
		opening: []string{
			"Since this morning I can't log in: the page just reloads after I enter my password.",
			"I asked for a password reset three times and no email has arrived, not even in spam.",
			"The app says my account is locked after too many attempts, but I only tried twice.",
			"My two-factor code is rejected every time, even right after I generate it.",
		},
		followup: []string{
			"I tried again in a private window and it still fails.",
			"I checked with IT and nothing is blocking your emails on our side.",
			"My phone's clock is set automatically, so it shouldn't be out of sync.",
		},
		answers: []string{
			"I've cleared the lock on your account; you should be able to sign in now.",
			"Our mail provider had a delay this morning. I've sent a fresh reset link that is valid for one hour.",
			"I've reset your two-factor enrollment. On your next sign-in you'll be asked to scan a new QR code.",
			"Could you tell me which browser and version you are using? That will help me reproduce it.",
		},
	},
	{
		tag: "billing", product: "billing", ticket: "question",
		subjects: []string{"Charged twice this month", "Invoice shows the wrong VAT number", "How do I change my payment card?", "Refund for unused seats"},
		opening: []string{
			"My card was charged twice for this month's subscription. Can you refund the duplicate?",
			"The last invoice has our old VAT number on it. Finance needs a corrected copy.",
			"Our company card expires next week. Where do I update the payment details?",
			"We removed five seats mid-cycle. Are we refunded for the unused part?",
		},
		followup: []string{
			"The bank statement shows both charges as settled, not pending.",
			"The new VAT number is on our company profile already.",
			"I don't see a Billing tab in the settings menu.",
		},
		answers: []string{
			"I can see the duplicate charge. I've refunded it; it takes 5 to 10 business days to reach your card.",
			"I've corrected the VAT number and attached the reissued invoice.",
			"You'll find the payment card under Settings, then Billing. Only account owners can see that page.",
			"Seat changes are prorated: the credit for the unused seats will appear on your next invoice.",
		},
	},
	{
		tag: "export", product: "reporting", ticket: "problem",
		subjects: []string{"CSV export is missing rows", "Report export times out", "Dates in the export are in the wrong time zone", "Scheduled report stopped arriving"},
		opening: []string{
			"When I export last quarter's report to CSV, about a third of the rows are missing.",
			"The export spinner runs for minutes and then fails with a timeout.",
			"All dates in the exported file are shifted by a few hours compared with the dashboard.",
			"Our weekly scheduled report hasn't arrived for two weeks now.",
		},
		followup: []string{
			"It happens with both the CSV and the Excel format.",
			"Smaller date ranges work, a full year doesn't.",
			"Nobody changed the schedule, as far as I know.",
		},
		answers: []string{
			"Thanks for the details. Our engineers confirmed a bug in large exports and a fix is being rolled out.",
			"Exports use the account's time zone, not the browser's. You can change it under Settings, then Account.",
			"The scheduled report was paused after the recipient's address bounced. I've re-enabled it.",
			"As a workaround, exporting one month at a time avoids the timeout until the fix ships.",
		},
	},
	{
		tag: "integration", product: "api", ticket: "question",
		subjects: []string{"Webhook deliveries failing", "API returns 429 during our nightly sync", "OAuth app can't be authorized", "Which API version should we use?"},
		opening: []string{
			"Our webhook endpoint stopped receiving events yesterday. Nothing changed on our side.",
			"Our nightly sync gets HTTP 429 responses after a few minutes and then gives up.",
			"When users try to authorize our OAuth app, they get an 'invalid redirect' error.",
			"We're starting a new integration. Which API version do you recommend?",
		},
		followup: []string{
			"Here is the request id from one of the failed calls.",
			"We do retry, but only three times.",
			"The redirect URL is exactly what's registered in the app settings.",
		},
		answers: []string{
			"Your endpoint answered with an expired TLS certificate, so deliveries were paused. Once it's renewed they'll resume.",
			"The limit is per minute. Honouring the Retry-After header and spreading the sync out will avoid the errors.",
			"The registered redirect URL has a trailing slash that the request doesn't. They must match exactly.",
			"Please use the latest stable version; older ones are supported for another year.",
		},
	},
	{
		tag: "mobile", product: "mobile_app", ticket: "incident",
		subjects: []string{"App crashes on startup", "Push notifications stopped", "Can't upload photos from the app", "App is very slow since the update"},
		opening: []string{
			"Since the last update the app crashes right after the splash screen.",
			"I no longer get push notifications, although they're enabled in the phone settings.",
			"Uploading a photo from the app fails with 'something went wrong'.",
			"Since the update, every screen takes several seconds to load.",
		},
		followup: []string{
			"Reinstalling didn't help.",
			"It works on my colleague's phone, which runs the same OS version.",
			"I attached a screen recording of the problem.",
		},
		answers: []string{
			"Thank you for the recording. This is a known issue on that OS version, fixed in the update out this week.",
			"Please sign out and back in: that re-registers the device for notifications.",
			"Photos over 20 MB are rejected. The next release will resize them automatically.",
			"Could you send the app's diagnostic log? You'll find it under Settings, then Help, then Send logs.",
		},
	},
	{
		tag: "account", product: "web_app", ticket: "task",
		subjects: []string{"Please add a new admin", "Transfer account ownership", "Delete a former employee's account", "Change our company name"},
		opening: []string{
			"Could you make my colleague an admin? The current admin has left the company.",
			"We need to transfer the account ownership to our new operations lead.",
			"Please delete the account of a former employee; they no longer need access.",
			"Our company was renamed. Can the account show the new name?",
		},
		followup: []string{
			"I'm the billing contact on the account, if that helps verify the request.",
			"Here is the signed authorization letter.",
			"Their tickets should stay visible to the rest of the team.",
		},
		answers: []string{
			"For security we need confirmation from the account owner, or a signed letter on company letterhead.",
			"Done: the ownership has been transferred and the previous owner is now a regular admin.",
			"I've deactivated the user. Their tickets and history stay visible to your team.",
			"I've updated the company name; invoices from now on will carry the new one.",
		},
	},
	{
		tag: "shipping", product: "hardware", ticket: "question",
		subjects: []string{"Where is my order?", "Device arrived damaged", "Wrong adapter in the box", "Can I change the delivery address?"},
		opening: []string{
			"I ordered two card readers ten days ago and the tracking hasn't moved since.",
			"The reader arrived with a cracked screen. The box looked fine.",
			"The box contained a US power adapter, but we're in the UK.",
			"We're moving offices next week. Can the pending order go to the new address?",
		},
		followup: []string{
			"The order number is in the subject of the confirmation email.",
			"I attached photos of the device and the packaging.",
			"Any time before Friday works for the delivery.",
		},
		answers: []string{
			"The parcel was held at customs; it has been released and should arrive within two days.",
			"I'm sorry it arrived damaged. A replacement is on its way, and a return label is attached.",
			"A UK adapter has been sent separately at no charge.",
			"I've updated the delivery address on the pending order.",
		},
	},
	{
		tag: "feature_request", product: "web_app", ticket: "question",
		subjects: []string{"Dark mode?", "Bulk edit for contacts", "Custom fields on the dashboard", "Export to Google Sheets"},
		opening: []string{
			"Is dark mode on your roadmap? Half of our team works night shifts.",
			"We'd love a way to edit many contacts at once instead of one by one.",
			"Could custom fields be shown as columns on the dashboard?",
			"A direct export to Google Sheets would save us a lot of copy-pasting.",
		},
		followup: []string{
			"Thanks, happy to join a beta if there is one.",
			"Is there a way to vote for it?",
		},
		answers: []string{
			"Thanks for the suggestion! I've passed it to our product team and added your vote.",
			"This is planned for later this year. I'll update this ticket when it's available.",
			"In the meantime, the CSV import can update many contacts in one go.",
		},
	},
}

// customer greetings and sign-offs; agents' too.
var (
	customerClosings = []string{"Thanks,", "Thank you,", "Best regards,", "Cheers,", "Many thanks,"}
	agentGreetings   = []string{"Hi %s,", "Hello %s,", "Hi %s, thanks for reaching out."}
	agentClosings    = []string{"Best,", "Kind regards,", "Have a great day,", "All the best,"}
	thanksReplies    = []string{
		"That worked, thank you so much!",
		"Perfect, all good now. Thanks for the quick help.",
		"Confirmed, it's fixed on our side.",
		"Great, thanks. You can close this.",
	}
	solvedAnswers = []string{
		"Glad to hear it! I'll mark this ticket as solved; just reply if anything else comes up.",
		"Happy to help. I'm closing this ticket now, but a reply will reopen it.",
	}
	pendingAnswers = []string{
		"Could you confirm whether this still happens after the latest update?",
		"Could you send me a screenshot of the error so I can take a closer look?",
		"Please let me know if that works for you.",
	}
	privateNotes = []string{
		"Checked the logs: the errors started after last night's deploy.",
		"Escalated to tier 2, see the linked engineering issue.",
		"Customer is on the enterprise plan, prioritising.",
		"Refund approved by finance.",
		"Asked the shipping partner for an update, waiting on their answer.",
		"Same issue as the other tickets from this week; waiting on the fix.",
		"Verified the requester's identity by phone.",
	}
	onBehalfOpenings = []string{
		"Customer called in about this, logging it on their behalf.",
		"Opening this ticket for the customer after our call today.",
		"Following up on the customer's chat: creating a ticket so we can track it.",
	}
	satisfactionComments = []string{"Quick and helpful, thanks!", "Solved on the first reply.", "Friendly and clear.", ""}
)

var (
	firstNames = []string{"Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
		"Maya", "Nikolai", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Ugo", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
		"Amara", "Bastien", "Carmen", "Dara", "Emil", "Freya", "Goran", "Hana", "Ivo", "Julia", "Kai", "Lena", "Marco", "Nora"}
	lastNames = []string{"Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "O'Brien", "Silva", "Novak", "Fischer",
		"Rossi", "Nguyen", "Schmidt", "Garcia", "Ivanova", "Dubois", "Mensah", "Larsen", "Costa", "Yilmaz", "Byrne", "Petrov",
		"Sato", "Andersen", "Martins", "Kaur", "Horvat", "Ferreira", "Jansen", "Wright"}
	companyWords = []string{"Northwind", "Bluebird", "Copperleaf", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor",
		"Ironbark", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchard", "Pinecone", "Quarry", "Riverstone",
		"Saltmarsh", "Tidewater", "Umber", "Vantage", "Willow", "Yarrow", "Zephyr"}
	companySuffixes = []string{"Logistics", "Health", "Studios", "Foods", "Labs", "Retail", "Energy", "Travel", "Works", "Partners"}
	freeMailDomains = []string{"mail.example", "inbox.example", "post.example"}
	groupNames      = []string{"Support", "Billing", "Technical", "Shipping", "Enterprise", "Onboarding"}
	timeZones       = [][2]string{{"London", "Europe/London"}, {"Berlin", "Europe/Berlin"}, {"Eastern Time (US & Canada)", "America/New_York"},
		{"Pacific Time (US & Canada)", "America/Los_Angeles"}, {"Tokyo", "Asia/Tokyo"}, {"Sydney", "Australia/Sydney"}}
	regions = []string{"emea", "amer", "apac"}
	plans   = []string{"starter", "team", "business", "enterprise"}
)

// files a customer or agent attaches, by kind.
var attachmentKinds = []struct {
	name, contentType string
	image             bool
	minSize, maxSize  int64
}{
	{"screenshot.png", "image/png", true, 40 << 10, 2 << 20},
	{"photo.jpg", "image/jpeg", true, 200 << 10, 5 << 20},
	{"invoice.pdf", "application/pdf", false, 30 << 10, 400 << 10},
	{"error.log", "text/plain", false, 1 << 10, 300 << 10},
	{"export.csv", "text/csv", false, 2 << 10, 2 << 20},
	{"report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false, 10 << 10, 1 << 20},
	{"recording.mp4", "video/mp4", false, 1 << 20, 20 << 20},
}
