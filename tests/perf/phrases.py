"""Opportunity text in the languages of the benchmark dataset, written as clusters write it:
a title, a summary and a few sentences per language, with the marker words of the
language-aware query classes.

About half the opportunities are in English, the rest spread over six other languages (one
of them, Polish, without a stemmer in PostgreSQL).
"""

LANGUAGES = ["en", "de", "fr", "it", "es", "nl", "pl"]
LANGUAGE_WEIGHTS = [50, 14, 10, 8, 8, 5, 5]

# German records carry a form of PARTNERSHIP_DE in about one in five, so `q=Partnerschaft&lang=de`
# matches a few per cent of all opportunities, each through its stem.
PARTNERSHIP_DE = "Partnerschaft"

TITLES = {
    "de": ["Partnersuche: {sector} in {where}", "Kooperation gesucht im Bereich {sector}", "Ausschreibung für {sector} in {where}"],
    "fr": ["Recherche de partenaires : {sector} en {where}", "Offre de coopération en {sector}", "Appel à projets {sector}"],
    "it": ["Ricerca partner: {sector} in {where}", "Offerta di cooperazione nel settore {sector}", "Bando per progetti {sector}"],
    "es": ["Búsqueda de socios: {sector} en {where}", "Oferta de cooperación en {sector}", "Convocatoria de proyectos {sector}"],
    "nl": ["Partners gezocht: {sector} in {where}", "Samenwerking aangeboden in {sector}", "Oproep voor projecten {sector}"],
    "pl": ["Poszukiwanie partnerów: {sector} w {where}", "Oferta współpracy w dziedzinie {sector}", "Nabór projektów {sector}"],
}
SUMMARIES = {
    "de": "Ein Cluster sucht Partner, um gemeinsam neue Märkte in {where} zu erschließen.",
    "fr": "Un pôle cherche des partenaires pour développer ensemble des produits en {where}.",
    "it": "Un cluster cerca partner per sviluppare insieme nuovi mercati in {where}.",
    "es": "Un clúster busca socios para desarrollar nuevos mercados en {where}.",
    "nl": "Een cluster zoekt partners om samen nieuwe markten in {where} te ontwikkelen.",
    "pl": "Klaster szuka partnerów do wspólnego rozwoju nowych rynków w {where}.",
}
SENTENCES = {
    "de": [
        "Unsere Mitglieder sind {n} kleine und mittlere Unternehmen aus dem Bereich {sector}.",
        "Wir bieten Zugang zu Laboren, Prototypenbau und Unterstützung bei der Zertifizierung.",
        "Frühere Missionen führten zu Kooperationsvereinbarungen und neuen Aufträgen.",
        "Die Reisekosten werden teilweise erstattet.",
    ],
    "fr": [
        "Nos membres comptent {n} PME actives dans le domaine {sector}.",
        "Nous offrons l'accès à des laboratoires, à du prototypage et à un soutien à la certification.",
        "Les missions précédentes ont abouti à des accords de coopération et à des contrats.",
        "Les frais de voyage peuvent être partiellement remboursés.",
    ],
    "it": [
        "I nostri membri sono {n} piccole e medie imprese attive nel settore {sector}.",
        "Offriamo accesso a laboratori, prototipazione e supporto alla certificazione.",
        "Le missioni precedenti hanno portato ad accordi di cooperazione e a nuovi contratti.",
        "Le spese di viaggio possono essere parzialmente rimborsate.",
    ],
    "es": [
        "Nuestros miembros son {n} pymes activas en el sector {sector}.",
        "Ofrecemos acceso a laboratorios, prototipado y apoyo a la certificación.",
        "Las misiones anteriores dieron lugar a acuerdos de cooperación y contratos.",
        "Los gastos de viaje pueden reembolsarse parcialmente.",
    ],
    "nl": [
        "Onze leden zijn {n} kleine en middelgrote bedrijven in de sector {sector}.",
        "Wij bieden toegang tot laboratoria, prototyping en ondersteuning bij certificering.",
        "Eerdere missies leidden tot samenwerkingsverbanden en nieuwe contracten.",
        "De reiskosten worden gedeeltelijk vergoed.",
    ],
    "pl": [
        "Nasi członkowie to {n} małych i średnich przedsiębiorstw z sektora {sector}.",
        "Oferujemy dostęp do laboratoriów, prototypowania i wsparcia w certyfikacji.",
        "Poprzednie misje zaowocowały umowami o współpracy i nowymi kontraktami.",
        "Koszty podróży mogą zostać częściowo zwrócone.",
    ],
}
# The innovation marker in each language: a third of the records say it in their own.
INNOVATION = {
    "de": "Im Mittelpunkt stehen Innovationen mit europäischen Partnern.",
    "fr": "L'accent est mis sur l'innovation avec des partenaires européens.",
    "it": "Al centro ci sono le innovazioni con partner europei.",
    "es": "El foco está en la innovación con socios europeos.",
    "nl": "De nadruk ligt op innovatie met Europese partners.",
    "pl": "W centrum uwagi są innowacje z partnerami europejskimi.",
}
PARTNERSHIPS_DE = ["Wir suchen eine langfristige Partnerschaft.", "Bestehende Partnerschaften werden ausgebaut."]
