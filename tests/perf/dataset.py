"""A large, skewed, realistic-looking dataset for the search benchmark.

Countries and sectors follow Zipf-like weights (a few markets and sectors dominate, a long
tail follows), as they do on real cluster platforms. Text is assembled from domain phrases.
Two marker words make the text-query classes measurable: INNOVATION appears in about a third
of the opportunities (a non-selective query), RARE_WORD in about one in two thousand (a
selective one). Half the opportunities are written in six languages other than English
(tests/perf/phrases.py), each with its language recorded as a bulk load would give it.

Rows go in with COPY; the opportunities' secondary indexes are dropped during the load and
built afterwards, as one would for any initial load of this size.
"""

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from service.kit.countries import country_name
from tests.perf import phrases

INNOVATION = "innovation"
RARE_WORD = "holography"
SECTORS = [s["code"] for s in json.loads((Path(__file__).parents[2] / "service" / "migrations" / "data" / "0001_sectors.json").read_text())]
HOME = ["DE", "FR", "ES", "IT", "NL", "BE", "PL", "AT", "SE", "DK", "FI", "PT", "CZ", "GR", "IE", "HU", "RO", "BG", "SK",
        "SI", "LT", "LV", "EE", "HR", "LU", "CY", "MT", "GB", "NO", "CH", "IS", "TR", "RS", "UA"]
MARKETS = ["US", "CN", "CA", "BR", "JP", "IN", "SG", "MX", "KR", "AE", "ZA", "AU", "TW", "CO", "CL", "MA", "TR", "VN", "ID",
           "MY", "TH", "AR", "PE", "EG", "IL", "SA", "NG", "KE", "NZ", "PH", "QA", "UA", "GH", "TN", "DZ", "PK", "BD", "KZ"]
KINDS = ["partner-search", "cooperation-request", "cooperation-offer", "call", "event"]
KIND_WEIGHTS = [30, 25, 15, 20, 10]

VERBS = {
    "partner-search": ["Looking for", "Seeking", "Partner search:", "Wanted:"],
    "cooperation-request": ["Request for cooperation on", "Cooperation wanted on", "Cooperación en"],
    "cooperation-offer": ["Offer of", "Available:", "Coopération proposée :"],
    "call": ["Call for proposals:", "Open call:", "Call for expressions of interest:"],
    "event": ["Matchmaking event on", "Business mission on", "B2B meetings on"],
}
OBJECTS = ["distributors", "research partners", "pilot customers", "technology partners", "cluster partners",
           "joint ventures", "testing facilities", "investors", "suppliers", "integrators"]
GOALS = ["enter the market", "co-develop products", "scale up production", "share a booth at a trade fair",
         "run joint demonstrations", "apply for joint funding", "open a representation office", "train engineers"]
SENTENCES = [
    "Our members include {n} SMEs active in {sector} and related value chains.",
    "The partnership targets buyers in {country} and neighbouring markets.",
    "We offer access to laboratories, prototyping services and certification support.",
    "Applications are assessed on technical fit, market readiness and commitment.",
    "The activity is co-funded and travel costs may be partly reimbursed.",
    "Interested clusters should describe their members' competences in {sector}.",
    "Previous missions resulted in cooperation agreements and business contracts.",
    "Local chambers of commerce and trade agencies support the programme.",
    "Participants meet importers, distributors and public buyers in bilateral meetings.",
    "Técnicos y empresas de {country} colaboran con clústeres europeos.",
]


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (rank ** s) for rank in range(1, n + 1)]


class Generator:
    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        self.sector_weights = zipf_weights(len(SECTORS), 0.9)
        self.market_weights = zipf_weights(len(MARKETS), 1.0)
        self.home_weights = zipf_weights(len(HOME), 0.8)

    def pick(self, values, weights, k):
        chosen = self.random.choices(values, weights, k=k + 2)
        return list(dict.fromkeys(chosen))[:k]

    def sectors(self, low=1, high=3):
        return self.pick(SECTORS, self.sector_weights, self.random.randint(low, high))

    def markets(self, low=1, high=3):
        return self.pick(MARKETS, self.market_weights, self.random.randint(low, high))

    def description(self, sector: str, country: str) -> str:
        parts = [
            self.random.choice(SENTENCES).format(n=self.random.randint(20, 400), sector=sector, country=country)
            for _ in range(self.random.randint(3, 6))
        ]
        if self.random.random() < 1 / 3:
            parts.insert(self.random.randint(0, len(parts)), f"The focus is {INNOVATION} with European partners.")
        if self.random.random() < 0.0005:
            parts.append(f"Competences in {RARE_WORD} are especially welcome.")
        return " ".join(parts)

    def opportunity_text(self, kind: str, sector: str, where: str) -> tuple[str, str, str, str]:
        """Title, summary, description and the language they are written in."""
        rng = self.random
        language = rng.choices(phrases.LANGUAGES, phrases.LANGUAGE_WEIGHTS)[0]
        if language != "en":
            return (*self.foreign(language, sector, where), language)
        return (
            f"{rng.choice(VERBS[kind])} {sector} {rng.choice(OBJECTS)} in {where}",
            f"A cluster seeks {rng.choice(OBJECTS)} to {rng.choice(GOALS)} in {where}.",
            self.description(sector, where), language,
        )

    def foreign(self, language: str, sector: str, where: str) -> tuple[str, str, str]:
        """Title, summary and description in another language than English."""
        rng = self.random
        title = rng.choice(phrases.TITLES[language]).format(sector=sector, where=where)
        parts = [s.format(n=rng.randint(20, 400), sector=sector) for s in rng.sample(phrases.SENTENCES[language], 3)]
        if rng.random() < 1 / 3:
            parts.insert(rng.randint(0, len(parts)), phrases.INNOVATION[language])
        if language == "de" and rng.random() < 0.2:
            parts.append(rng.choice(phrases.PARTNERSHIPS_DE))
        if rng.random() < 0.0005:
            parts.append(f"{RARE_WORD.capitalize()}.")
        return title, phrases.SUMMARIES[language].format(where=where), " ".join(parts)


def _when(rng: random.Random, today: date) -> date | None:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.65:
        return today + timedelta(days=rng.randint(0, 730))
    return today - timedelta(days=rng.randint(1, 1000))


async def _copy(connection: asyncpg.Connection, table: str, columns: list[str], rows) -> None:
    await connection.copy_records_to_table(table, records=rows, columns=columns)


async def _rebuild_indexes(connection: asyncpg.Connection, table: str, load):
    """Drop the secondary indexes of table, run load, and build them again."""
    definitions = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname NOT LIKE 'pk_%' "
        "AND indexname NOT LIKE 'uq_%'", table,
    )
    for row in definitions:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    await load()
    await connection.execute("SET maintenance_work_mem = '1GB'")
    for row in definitions:
        await connection.execute(row["indexdef"])


async def generate(connection: asyncpg.Connection, *, clusters: int, partnerships: int, opportunities: int,
                   missions: int, today: date, progress=print) -> None:
    g = Generator()
    rng = g.random
    now = datetime.now(UTC)
    cluster_ids = [uuid.uuid4() for _ in range(clusters)]
    progress(f"clusters: {clusters}")
    cluster_rows = []
    for i, cid in enumerate(cluster_ids):
        home = g.pick(HOME, g.home_weights, 1)[0]
        sectors = g.sectors(1, 4)
        cluster_rows.append((
            cid, f"bench-cluster-{i}", f"{sector_name(sectors[0])} Cluster {i}", f"BC{i}", home, sectors,
            json.dumps([{"country": c, "priority": None} for c in g.markets(0, 6)]),
            g.description(sectors[0], country_name(home)), rng.randint(10, 500), now, now,
        ))
    await _copy(connection, "clusters", ["id", "slug", "name", "acronym", "country", "sectors", "target_markets",
                                         "description", "member_count", "created_at", "updated_at"], cluster_rows)

    progress(f"partnerships: {partnerships}")
    partnership_ids = [uuid.uuid4() for _ in range(partnerships)]
    partnership_rows, member_rows = [], []
    for i, pid in enumerate(partnership_ids):
        partnership_rows.append((
            pid, f"bench-partnership-{i}", f"BP{i}", f"Bench partnership {i}", "escp-4i", 2, "strand-1", g.sectors(2, 4),
            json.dumps([{"country": c, "priority": None} for c in g.markets(2, 5)]), now, now,
        ))
        for role, cid in zip(["coordinator"] + ["partner"] * 7, rng.sample(cluster_ids, rng.randint(3, 8)), strict=False):
            member_rows.append((pid, cid, role, now))
    await _copy(connection, "partnerships", ["id", "slug", "acronym", "name", "programme", "generation", "strand",
                                             "sectors", "target_markets", "created_at", "updated_at"], partnership_rows)
    await _copy(connection, "partnership_members", ["partnership_id", "cluster_id", "role", "joined_at"], member_rows)

    progress(f"missions: {missions}")
    mission_rows = []
    for i in range(missions):
        starts = today + timedelta(days=rng.randint(-500, 700))
        deadline = starts - timedelta(days=rng.randint(10, 60)) if rng.random() < 0.8 else None
        opens = (deadline or starts) - timedelta(days=rng.randint(20, 90)) if rng.random() < 0.7 else None
        sector = g.sectors(1, 3)
        country = g.markets(1, 1)[0]
        mission_rows.append((
            uuid.uuid4(), f"{sector_name(sector[0])} mission to {country_name(country)} {i}", "business-mission",
            "outbound", country, starts, starts + timedelta(days=rng.randint(0, 5)), opens, deadline, sector,
            "EU Gateway | Business Avenues", g.description(sector[0], country_name(country)), False, now, now,
        ))
    await _copy(connection, "missions", ["id", "title", "kind", "direction", "destination_country", "starts_on", "ends_on",
                                         "applications_open_on", "application_deadline", "sectors", "external_organiser",
                                         "description", "cancelled", "created_at", "updated_at"], mission_rows)

    columns = ["id", "kind", "title", "summary", "description", "language", "countries", "sectors", "posted_by_cluster_id",
               "posted_by_partnership_id", "poster_name", "deadline", "withdrawn", "created_at", "updated_at"]

    def opportunity_rows():
        for _ in range(opportunities):
            kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
            sectors = g.sectors(1, 3)
            countries = g.markets(1, 3)
            where = country_name(countries[0])
            roll = rng.random()
            cluster = rng.choice(cluster_ids) if roll < 0.6 else None
            partnership = rng.choice(partnership_ids) if 0.6 <= roll < 0.75 else None
            organisation = "European Cluster Collaboration Platform" if roll >= 0.75 else None
            created = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
            yield (
                uuid.uuid4(), kind, *g.opportunity_text(kind, sector_name(sectors[0]), where), countries, sectors,
                cluster, partnership, organisation,
                _when(rng, today), rng.random() < 0.03, created, created,
            )

    async def load():
        batch, done = [], 0
        for row in opportunity_rows():
            batch.append(row)
            if len(batch) == 50_000:
                await _copy(connection, "opportunities", columns, batch)
                done += len(batch)
                batch = []
                progress(f"opportunities: {done:,}")
        if batch:
            await _copy(connection, "opportunities", columns, batch)

    await _rebuild_indexes(connection, "opportunities", load)
    progress("analyzing")
    await connection.execute("VACUUM ANALYZE")


def sector_name(code: str) -> str:
    return code.replace("-", " ")
