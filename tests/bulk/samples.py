"""Records of every bulk resource in their create shape, with the awkward values files hold:
separators and quotes inside text, line breaks (LF and CRLF), accents, EU country aliases."""

CLUSTERS = [
    {
        "slug": "opticsvalley", "name": "Optics Valley", "acronym": "OV", "country": "FR",
        "region": {"code": "FR10", "name": "Île-de-France", "nuts_version": "2021"},
        "city": "Paris", "website": "https://www.opticsvalley.org", "email": "contact@opticsvalley.org",
        "description": 'Photonics; optics, and "electronics"\nSecond line, with a comma\r\nthird line',
        "sectors": ["photonics", "electronics"], "member_count": 300, "sme_count": 200, "label": "gold",
        "founded_year": 1991, "target_markets": [{"country": "US", "priority": 1}, {"country": "CA"}],
    },
    {"slug": "si-cluster", "name": "Corallia SI-Cluster", "country": "EL", "region": {"code": "EL30", "nuts_version": "2016"},
     "sectors": ["space"], "target_markets": [{"country": "UK", "priority": 2}]},
    {"slug": "litek", "name": "LITEK", "country": "DE", "label": "silver"},
]

PARTNERSHIPS = [
    {
        "slug": "photonics4all", "acronym": "P4A", "name": "Photonics for all", "programme": "escp-4i", "generation": 2,
        "strand": "strand-1", "period_start": "2030-01-01", "period_end": "2031-12-31",
        "objectives": "Go to the US together, with a joint offer: 'optics' and more.",
        "activities": ["Missions; matchmaking", "Back\\slash: and colon", "Plain"],
        "website": "https://p4a.example.org/path?x=1", "sectors": ["photonics"],
        "target_markets": [{"country": "US", "priority": 1}],
        "members": [{"cluster": "opticsvalley", "role": "coordinator"}, {"cluster": "litek", "role": "partner"}],
    },
    {"slug": "space-bridge", "acronym": "SB", "name": "Space Bridge", "programme": "other", "strand": "free: text",
     "members": [{"cluster": "si-cluster", "role": "coordinator"}]},
]

TARGET_MARKETS = [
    {
        "country": "US", "customer_segments": "Hospitals, labs", "market_size": "Large;\nvery large",
        "growth": None, "profitability": "Good", "trends": None, "key_success_factors": "Local partner",
        "support_organisations": [
            {"name": "SelectUSA: investment", "kind": "trade-promotion", "url": "https://www.selectusa.gov/welcome"},
            {"name": "AmCham; EU", "kind": "chamber-of-commerce", "url": None},
        ],
    },
    {"country": "UK", "trends": "Brexit"},
]

MISSIONS = [
    {
        "external_id": "m-boston-2030", "title": "Photonics mission to Boston", "kind": "business-mission",
        "direction": "outbound", "destination_country": "US", "destination_city": "Boston",
        "starts_on": "2030-06-10", "ends_on": "2030-06-12", "start_time": "09:00:00", "end_time": "17:30:00",
        "timezone": "America/New_York", "applications_open_on": "2030-03-01", "application_deadline": "2030-04-30",
        "sectors": ["photonics", "electronics"],
        "organisers": {"clusters": ["opticsvalley", "litek"], "partnerships": ["photonics4all"],
                       "external": "EU Gateway | Business Avenues"},
        "capacity": 12, "cost_reimbursement_percent": 62.5, "url": "https://example.org/boston",
        "description": "Meet, match; sign.", "cancelled": False,
        "outcomes": {"participating_smes": 10, "bilateral_meetings": 80, "business_contracts": None, "agreements_signed": 2},
    },
    {"external_id": "m-athens", "title": "Inbound visit", "kind": "inbound-mission", "direction": "inbound",
     "destination_country": "EL", "starts_on": "2030-09-01", "organisers": {"partnerships": ["space-bridge"]},
     "cancelled": True},
]

AGREEMENTS = [
    {
        "external_id": "a-boston-mou", "title": "MoU with Boston photonics", "kind": "mou", "status": "signed",
        "signed_on": "2030-06-11", "valid_until": "2033-06-10", "clusters": ["opticsvalley", "litek"],
        "partnership": "photonics4all",
        "counterparts": [{"name": "Photonics: Boston; MA", "country": "US", "kind": "cluster"},
                         {"name": "MassTech", "country": "US", "kind": "agency"}],
        "sectors": ["photonics"], "description": "Signed at the mission.", "document_url": "https://example.org/mou.pdf",
        "mission": "m-boston-2030",
    },
    {"external_id": "a-draft", "title": "Draft letter", "kind": "letter-of-intent", "status": "draft"},
]

OPPORTUNITIES = [
    {
        "external_id": "o-lasers", "kind": "partner-search", "title": "Partners for medical lasers; US market",
        "summary": "We look for \"integrators\": hospitals, labs.", "description": "Line one\nline two, cooperación",
        "countries": ["US", "CA"], "sectors": ["photonics"], "posted_by": {"cluster": "opticsvalley"},
        "deadline": "2030-05-31", "url": "https://example.org/lasers?a=1", "contact": "Ana: +33 1 23",
        "withdrawn": False,
    },
    {"external_id": "o-call", "kind": "call", "title": "Open call", "posted_by": {"partnership": "photonics4all"},
     "withdrawn": True},
    {"external_id": "o-eccp", "kind": "event", "title": "Matchmaking in Taipei", "countries": ["TW"],
     "posted_by": {"organisation": {"name": "ECCP: platform", "url": "https://eccp.example.org/x:y"}}},
]

# In the order a database must be filled: references point to earlier resources.
ALL = {
    "clusters": CLUSTERS, "partnerships": PARTNERSHIPS, "target-markets": TARGET_MARKETS,
    "missions": MISSIONS, "agreements": AGREEMENTS, "opportunities": OPPORTUNITIES,
}
