"""A labelled corpus of person names, organisations and postal addresses, for measuring a
name detector's precision and recall: seeded and deterministic, every labelled span exact.

Shapes: support e-mails (with signature blocks and multi-line addresses), CRM notes, chat
messages (some names written in lower case), JSON records, meeting notes, and negative texts
with no name at all but plenty of capitalised words that are not names: products, months,
weekdays, programming terms, headings, and places without a street (``our Berlin office``,
``Oxford Street``). Positive shapes mix such words in too.

Names: first and last names of many origins (English, Spanish, Portuguese, French, German,
Dutch, Italian, Polish, Russian, Greek, Turkish, Arabic, Persian, Indian, Chinese, Japanese,
Korean, Vietnamese, Nigerian, Kenyan, Ghanaian, Nordic), written ``First Last``,
``First M. Last``, ``Last, First``, ``F. Last``, or a first name alone; titles (``Dr.``) stay
outside the label. Organisations: invented companies with legal forms of several countries,
well-known companies and public bodies. Addresses: US, UK, German and French formats, on
one line or several, with units, and about one in ten in a harder form (no house number,
a named building first, a spelled-out number).

Example::

    samples = corpus(720, seed=13)
    s = samples[0]
    [(e.kind, s.text[e.start : e.end]) for e in s.entities]
    scores = score(samples, lambda text: [(f.kind, f.start, f.end) for f in detector.find(text)])
    scores["person"].precision, scores["person"].recall

Matching (:func:`score`): a found span and a labelled span match when they have the same kind
and share at least one character (``Dr. Ana Silva`` for ``Ana Silva`` counts; names a
detector cuts differently from the label are still caught, which is what a perimeter needs).
Precision is the share of found spans that match a labelled one, recall the share of labelled
spans matched by a found one; with ``exact=True`` the boundaries must be equal instead.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KINDS = ("person", "organization", "address")
SHAPES = ("support_email", "crm_note", "chat", "json_record", "meeting_notes", "negative")


@dataclass(frozen=True, slots=True)
class Entity:
    """One labelled span: ``text[start:end]`` is a ``kind``."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sample:
    """One text and every name, organisation and address in it."""

    shape: str
    text: str
    entities: tuple[Entity, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- names -------------------------------------------------------------------------------

_NAMES: dict[str, tuple[str, str]] = {
    "english": (
        "Oliver Amelia Harry Isla George Sophie Jack Emily Thomas Grace William Chloe James "
        "Megan Daniel Hannah Samuel Lucy Joshua Ella Michael Jennifer David Ashley Christopher "
        "Brittany Matthew Kimberly Ryan Heather Tyler Courtney Brandon Lauren",
        "Smith Johnson Williams Brown Taylor Davies Evans Wilson Thomas Roberts Walker Wright "
        "Robinson Thompson Hughes Edwards Green Hall Wood Harris Clarke Jackson Turner Hill "
        "Moore Cooper Ward Morris King Watson Bennett Fletcher Harrington Whitfield O'Brien "
        "McAllister MacKenzie",
    ),
    "spanish": (
        "Lucía Sofía Martina Valeria Alejandro Pablo Javier Diego Carmen Isabel Mateo Sergio "
        "Marta Raúl Ximena Andrés Camila Santiago Paula Gonzalo",
        "García Martínez López Sánchez Pérez Gómez Fernández Rodríguez Díaz Moreno Álvarez "
        "Romero Navarro Torres Ruiz Herrera Castillo Ortega Vargas Morales",
    ),
    "portuguese": (
        "João Ana Beatriz Gonçalo Inês Tiago Mariana Rafael Larissa Thiago Letícia Rodrigo",
        "Silva Santos Oliveira Souza Pereira Costa Carvalho Almeida Ferreira Ribeiro Rocha "
        "Barbosa Cardoso Nascimento",
    ),
    "french": (
        "Camille Léa Manon Chloé Louis Hugo Jules Gabriel Mathilde Élodie Antoine Théo "
        "Margaux Baptiste Clémence Yann Aurélien Solène",
        "Martin Bernard Dubois Durand Lefebvre Moreau Laurent Girard Rousseau Fournier "
        "Mercier Chevalier Lambert Bonnet Faure Gauthier Leclerc Marchand",
    ),
    "german": (
        "Lukas Leonie Jonas Lena Maximilian Anna Felix Johanna Tobias Katharina Jürgen Sabine "
        "Wolfgang Ursula Florian Annika Matthias Birgit",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
        "Richter Wolf Schröder Neumann Schwarz Zimmermann Krüger Hartmann Vogel",
    ),
    "dutch": (
        "Daan Sanne Lotte Bram Femke Joost Maartje Pieter Anouk Sem",
        "de Vries Jansen van den Berg Bakker Visser Smit Meijer de Boer Mulder van Dijk Bos "
        "Vos Peters Hendriks",
    ),
    "italian": (
        "Giulia Francesca Alessandro Lorenzo Matteo Chiara Federica Davide Simone Elisa "
        "Giorgio Valentina",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Conti "
        "De Luca Mancini",
    ),
    "polish": (
        "Zofia Jakub Kacper Wiktoria Agnieszka Piotr Małgorzata Tomasz Katarzyna Krzysztof",
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowska Zieliński Szymańska "
        "Woźniak",
    ),
    "russian": (
        "Dmitri Olga Sergei Natalia Alexei Tatiana Ivan Ekaterina Mikhail Svetlana",
        "Ivanov Smirnova Kuznetsov Popova Sokolov Lebedeva Kozlov Novikova Morozov Volkova",
    ),
    "greek": (
        "Georgios Eleni Konstantinos Maria Dimitris Sofia Nikos Katerina",
        "Papadopoulos Papadaki Georgiou Nikolaidis Karagiannis Oikonomou Vlachos",
    ),
    "turkish": (
        "Mehmet Ayşe Mustafa Fatma Emre Zeynep Burak Elif Can Selin",
        "Yılmaz Kaya Demir Şahin Çelik Yıldız Aydın Öztürk Arslan Doğan",
    ),
    "arabic": (
        "Omar Fatima Ahmed Layla Youssef Amira Khalid Nour Hassan Mariam Karim Salma",
        "Haddad Mansour Khalil Nasser Saleh Farouk Hamdan Rahman Aziz Qureshi Al-Sayed",
    ),
    "persian": (
        "Reza Shirin Arash Leila Dariush Parisa Kaveh Neda",
        "Hosseini Ahmadi Karimi Moradi Rahimi Tehrani Jafari Sadeghi",
    ),
    "indian": (
        "Aarav Priya Rohan Ananya Vikram Kavya Arjun Deepika Rahul Sneha Sanjay Lakshmi "
        "Aditya Meera Karthik Nandini",
        "Sharma Patel Gupta Reddy Iyer Nair Menon Singh Kapoor Chatterjee Banerjee "
        "Raghunathan Krishnan Desai Mehta Joshi",
    ),
    "chinese": (
        "Wei Fang Jing Lei Xiaoming Yan Hao Mei Jun Ling Zhiwei Xin",
        "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Lin",
    ),
    "japanese": (
        "Haruto Yui Sota Aoi Takeshi Yuki Kenji Sakura Hiroshi Emi Ren Naoko",
        "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada",
    ),
    "korean": (
        "Min-jun Seo-yeon Ji-ho Ha-eun Do-yun Ji-woo Hyun-woo Soo-ah",
        "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim",
    ),
    "vietnamese": (
        "Minh Linh Anh Thao Duc Huong Quang Trang",
        "Nguyen Tran Le Pham Hoang Vu Dang Bui",
    ),
    "nigerian": (
        "Chinedu Ngozi Oluwaseun Adaeze Emeka Funmilayo Tunde Chiamaka Babajide Yetunde",
        "Okafor Adeyemi Okonkwo Balogun Eze Nwosu Adebayo Okoro Oyelaran Chukwu",
    ),
    "kenyan": (
        "Wanjiru Kamau Achieng Otieno Njeri Kiprono Akinyi Mwangi",
        "Odhiambo Kariuki Wambui Mutua Kiplagat Onyango Njoroge Chebet",
    ),
    "ghanaian": (
        "Kwame Ama Kofi Akosua Yaw Abena Kwabena Efua",
        "Mensah Asante Owusu Boateng Osei Appiah Acheampong Darko",
    ),
    "nordic": (
        "Lars Ingrid Erik Astrid Magnus Freja Sven Sigrid Henrik Liv",
        "Andersson Johansson Nilsson Hansen Johansen Larsen Lindqvist Virtanen Korhonen Bergström",
    ),
}
_MULTIWORD_LAST = ("de Vries", "van den Berg", "de Boer", "van Dijk", "De Luca")


def _surnames(text: str) -> list[str]:
    names = text
    for multi in _MULTIWORD_LAST:
        names = names.replace(multi, multi.replace(" ", "_"))
    return [n.replace("_", " ") for n in names.split()]


_CULTURES = [(firsts.split(), _surnames(lasts)) for firsts, lasts in _NAMES.values()]
_TITLES = ("Dr.", "Mr.", "Ms.", "Mrs.", "Prof.", "Dr", "Mr", "Ms")

# --- organisations ---------------------------------------------------------------------------

_ORG_STEMS = _words(
    "Kestrel Harbourview Nordwind Bluefin Silverline Ironbridge Larkspur Redwood Northgate "
    "Meridian Alder Copperleaf Stonebrook Brightwater Falcon Eastwind Oakridge Sunmark "
    "Crestline Whitmore Tidewater Greystone Halcyon Pinecrest Rivermark Sakura Lumen Vantor "
    "Quillon Ostara Belmont Corvid Marlowe Wexford Tannery Fjordline Saltmarsh Kingsbury"
)
_ORG_NOUNS = _words(
    "Analytics Logistics Dental Foods Capital Insurance Robotics Textiles Pharma Consulting "
    "Engineering Freight Media Energy Software Legal Hospitality Biotech Motors Architects "
    "Partners Systems Solutions Holdings Trading Labs Ventures Supply Technologies"
)
_LEGAL = {
    "us": ("Inc.", "LLC", "Corp.", "Corporation", "Inc", "Co."),
    "uk": ("Ltd", "Ltd.", "plc", "Limited", "LLP"),
    "de": ("GmbH", "AG", "GmbH & Co. KG", "KG"),
    "fr": ("SA", "SAS", "SARL"),
    "other": ("B.V.", "S.p.A.", "Pty Ltd", "AB", "Oy"),
}
_GERMAN_ORG_NOUNS = ("Logistik", "Maschinenbau", "Versicherung", "Bau", "Technik", "Handel")
_FRENCH_ORG = ("Banque", "Cabinet", "Laboratoires", "Groupe", "Transports", "Éditions")
_KNOWN_ORGS = (
    "Siemens", "Unilever", "Deutsche Bahn", "Air France", "Toyota", "Infosys", "Samsung",
    "Vodafone", "Nestlé", "BNP Paribas", "Banco Santander", "Tata Consultancy Services",
    "Accenture", "Shopify", "Deloitte", "Allianz", "Carrefour", "Heineken", "Maersk",
    "Rolls-Royce", "Volkswagen", "Barclays", "Goldman Sachs", "Pfizer", "IKEA", "HSBC",
    "the World Bank", "the Red Cross", "Oxfam", "the European Commission",
    "the University of Leeds", "Stanford University", "Charité Berlin", "Sorbonne University",
    "Lufthansa", "Renault", "Zalando", "Spotify", "Rakuten", "Wipro",
)  # fmt: skip

# --- addresses -------------------------------------------------------------------------------

_US_STREETS = _words(
    "Maple Oak Cedar Elm Pine Washington Lincoln Sunset Hillcrest Lakeview Park Jefferson "
    "Madison Highland Riverside Franklin Chestnut Willow Spring Magnolia"
)
_US_SUFFIXES = (
    "Street", "St.", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Drive", "Dr",
    "Lane", "Court", "Way", "Place", "Parkway",
)  # fmt: skip
_US_CITIES = (
    ("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Portland", "OR", "972"),
    ("Columbus", "OH", "432"), ("Denver", "CO", "802"), ("Raleigh", "NC", "276"),
    ("San Diego", "CA", "921"), ("Brooklyn", "NY", "112"), ("Madison", "WI", "537"),
    ("Boise", "ID", "837"), ("Tampa", "FL", "336"), ("Ann Arbor", "MI", "481"),
    ("St. Louis", "MO", "631"), ("Salt Lake City", "UT", "841"), ("Seattle", "WA", "981"),
)  # fmt: skip
_UK_STREETS = _words(
    "Kingsley Victoria Church Station Mill Albert Queens Manor Grove Chapel Princes Abbey "
    "Windsor Elm Orchard Heath"
)
_UK_SUFFIXES = ("Road", "Street", "Lane", "Avenue", "Close", "Crescent", "Gardens", "Terrace")
_UK_CITIES = (
    ("London", ("NW1", "SE15", "E8", "N7", "SW11", "W2")), ("Leeds", ("LS6", "LS2", "LS11")),
    ("Manchester", ("M4", "M20", "M14")), ("Bristol", ("BS1", "BS6", "BS8")),
    ("Edinburgh", ("EH3", "EH9")), ("Cardiff", ("CF10", "CF24")), ("York", ("YO1", "YO31")),
    ("Glasgow", ("G12", "G41")), ("Norwich", ("NR2", "NR3")), ("Brighton", ("BN1", "BN2")),
)  # fmt: skip
_DE_STREETS = (
    "Lindenstraße", "Hauptstraße", "Schillerstraße", "Goethestraße", "Bahnhofstraße",
    "Gartenweg", "Birkenweg", "Lindenallee", "Kastanienallee", "Marktplatz", "Kirchgasse",
    "Karl-Marx-Allee", "Berliner Straße", "Münchner Str.", "Hauptstr.", "Kurfürstendamm",
    "Rosenweg", "Am Markt", "Im Winkel", "An der Alster",
)  # fmt: skip
_DE_CITIES = (
    ("10", "Berlin"), ("20", "Hamburg"), ("80", "München"), ("50", "Köln"),
    ("60", "Frankfurt am Main"), ("70", "Stuttgart"), ("04", "Leipzig"), ("01", "Dresden"),
    ("90", "Nürnberg"), ("28", "Bremen"), ("79", "Freiburg"), ("69", "Heidelberg"),
)  # fmt: skip
_FR_STREETS = (
    "rue des Lilas", "rue de la Paix", "avenue Victor Hugo", "boulevard Saint-Michel",
    "rue du Faubourg Saint-Antoine", "place de la République", "allée des Tilleuls",
    "chemin des Vignes", "impasse du Moulin", "quai de la Tournelle", "rue Jean Jaurès",
    "avenue de la Gare", "cours Mirabeau", "rue de l'Église", "boulevard Haussmann",
)  # fmt: skip
_FR_CITIES = (
    ("75", "Paris"), ("69", "Lyon"), ("13", "Marseille"), ("31", "Toulouse"), ("33", "Bordeaux"),
    ("59", "Lille"), ("44", "Nantes"), ("67", "Strasbourg"), ("06", "Nice"), ("35", "Rennes"),
)  # fmt: skip

# --- words that are capitalised but no names ---------------------------------------------------

_PRODUCTS = (
    "iPhone 15", "Galaxy S24", "ThinkPad X1", "PlayStation 5", "Model Y", "Pixel 8",
    "Kindle Paperwhite", "AirPods Pro", "Surface Laptop", "Premium Plan", "Pro Max",
    "Starter Kit", "Enterprise Edition", "Cloud Backup", "Smart Thermostat", "Gold tier",
)  # fmt: skip
_TECH = (
    "Python", "Kubernetes", "PostgreSQL", "React", "TypeScript", "Docker", "Terraform",
    "GraphQL", "Redis", "Kafka", "Rust", "Django", "the REST API", "JSON", "OAuth", "Linux",
    "Pandas", "NumPy", "WebSocket", "CI pipeline", "Helm chart", "Nginx",
)  # fmt: skip
_MONTHS = _words(
    "January February March April May June July August September October November December"
)
_WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_PLACES = (
    "Berlin", "Paris", "Tokyo", "Lagos", "Toronto", "Mumbai", "São Paulo", "Leeds", "Lyon",
    "the Bay Area", "Scandinavia", "the Midwest", "Bavaria", "Oxford Street", "Brooklyn",
    "Nairobi", "Seoul", "Madrid", "Amsterdam", "Singapore",
)  # fmt: skip
_HEADINGS = (
    "Executive Summary", "Action Items", "Quarterly Review", "Release Notes",
    "Known Issues", "Next Steps", "Root Cause", "Open Questions", "Status Update",
)  # fmt: skip
_ROLES = (
    "Head of Procurement", "Customer Success Manager", "CTO", "Account Executive",
    "Operations Lead", "Finance Director", "Support Engineer", "Office Manager",
)  # fmt: skip


class _Maker:
    """Draws values; each labelled value is ``(text, [(kind, start, end), …])``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(items)

    # people
    def _first_last(self) -> tuple[str, str]:
        firsts, lasts = self.rng.choice(_CULTURES)
        return self.rng.choice(firsts), self.rng.choice(lasts)

    def person(self) -> str:
        first, last = self._first_last()
        form = self.rng.random()
        if form < 0.12:
            return f"{first} {self.rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        if form < 0.2:
            return f"{first[0]}. {last}"
        if form < 0.24:  # double-barrelled
            return f"{first} {last}-{self.last()}"
        if form < 0.27:  # two given names
            return f"{first} {self.first()} {last}"
        return f"{first} {last}"

    def person_reversed(self) -> str:
        first, last = self._first_last()
        return f"{last}, {first}"

    def first(self) -> str:
        return self._first_last()[0]

    def last(self) -> str:
        return self._first_last()[1]

    # organisations
    def org(self) -> str:
        form = self.rng.random()
        stem, noun = self.pick(_ORG_STEMS), self.pick(_ORG_NOUNS)
        if form < 0.3:
            return self.pick(_KNOWN_ORGS)
        if form < 0.45:
            return f"{stem} {self.pick(_GERMAN_ORG_NOUNS)} {self.pick(_LEGAL['de'])}"
        if form < 0.55:
            return f"{self.pick(_FRENCH_ORG)} {self.last()} {self.pick(_LEGAL['fr'])}"
        if form < 0.65:
            return f"{stem} {noun}"
        if form < 0.72:
            return f"{self.last()} & {self.last()} {self.pick(_LEGAL['uk'])}"
        region = self.rng.choice(["us", "uk", "other"])
        return f"{stem} {noun} {self.pick(_LEGAL[region])}"

    # addresses: (street line, rest lines)
    def _us(self) -> tuple[str, str]:
        rng = self.rng
        street = f"{rng.randint(1, 9899)} {self.pick(_US_STREETS)} {self.pick(_US_SUFFIXES)}"
        if rng.random() < 0.2:
            name = f"{rng.choice(['N', 'S', 'E', 'W'])} {self.pick(_US_STREETS)}"
            street = f"{rng.randint(100, 999)} {name} {self.pick(_US_SUFFIXES)}"
        if rng.random() < 0.3:
            unit = rng.choice(["Apt ", "Suite ", "Unit ", "#"])
            street += f", {unit}{rng.randint(1, 40)}{rng.choice(['', 'B'])}"
        city, state, zip3 = rng.choice(_US_CITIES)
        return street, f"{city}, {state} {zip3}{rng.randint(1, 99):02d}"

    def _uk(self) -> tuple[str, str]:
        rng = self.rng
        street = f"{rng.randint(1, 240)} {self.pick(_UK_STREETS)} {self.pick(_UK_SUFFIXES)}"
        if rng.random() < 0.25:
            street = f"Flat {rng.randint(1, 12)}, {street}"
        city, districts = rng.choice(_UK_CITIES)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        inward = f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        return street, f"{city} {rng.choice(districts)} {inward}"

    def _de(self) -> tuple[str, str]:
        rng = self.rng
        number = f"{rng.randint(1, 180)}{rng.choice(['', '', '', 'a', 'b'])}"
        prefix, city = rng.choice(_DE_CITIES)
        return f"{self.pick(_DE_STREETS)} {number}", f"{prefix}{rng.randint(100, 999)} {city}"

    def _fr(self) -> tuple[str, str]:
        rng = self.rng
        number = f"{rng.randint(1, 140)}{rng.choice(['', '', '', ' bis', ' ter'])}"
        dept, city = rng.choice(_FR_CITIES)
        return f"{number} {self.pick(_FR_STREETS)}", f"{dept}{rng.randint(0, 20):03d} {city}"

    def _hard(self) -> tuple[str, str]:
        """Forms a street-line recogniser may miss: no house number, a named building first,
        a number in words."""
        rng = self.rng
        form = rng.randrange(4)
        if form == 0:
            city, districts = rng.choice(_UK_CITIES)
            return f"Rose Cottage, {self.pick(_UK_STREETS)} Lane", f"{city} {districts[0]} 4QT"
        if form == 1:
            return f"One {self.pick(_US_STREETS)} Plaza", "Denver, CO 80202"
        if form == 2:
            dept, city = rng.choice(_FR_CITIES)
            return f"Résidence Les Pins, bât. B, {rng.randint(2, 60)} {self.pick(_FR_STREETS)}", (
                f"{dept}100 {city}"
            )
        return f"{self.pick(_US_STREETS)} Street {rng.randint(10, 99)}", "Springfield, IL 62701"

    def address_parts(self) -> tuple[str, str]:
        roll = self.rng.random()
        if roll < 0.1:
            return self._hard()
        return self.rng.choice([self._us, self._uk, self._de, self._fr])()

    def address(self) -> str:
        street, rest = self.address_parts()
        return street if self.rng.random() < 0.15 else f"{street}, {rest}"

    def address_block(self) -> str:
        street, rest = self.address_parts()
        return f"{street}\n{rest}"


def _lower_first(maker: _Maker) -> str:
    return maker.first().lower()


#: Placeholder → (label or None, maker).
_FILL: dict[str, tuple[str | None, Callable[[_Maker], str]]] = {
    "person": ("person", _Maker.person),
    "person_rev": ("person", _Maker.person_reversed),
    "first": ("person", _Maker.first),
    "last": ("person", _Maker.last),
    "lower_first": ("person", _lower_first),
    "org": ("organization", _Maker.org),
    "address": ("address", _Maker.address),
    "address_block": ("address", _Maker.address_block),
    "title": (None, lambda m: m.pick(_TITLES)),
    "product": (None, lambda m: m.pick(_PRODUCTS)),
    "tech": (None, lambda m: m.pick(_TECH)),
    "month": (None, lambda m: m.pick(_MONTHS)),
    "weekday": (None, lambda m: m.pick(_WEEKDAYS)),
    "place": (None, lambda m: m.pick(_PLACES)),
    "heading": (None, lambda m: m.pick(_HEADINGS)),
    "role": (None, lambda m: m.pick(_ROLES)),
    "n": (None, lambda m: str(m.rng.randint(2, 480))),
    "ticket": (None, lambda m: f"#{m.rng.randint(10000, 99999)}"),
    "amount": (None, lambda m: f"{m.rng.randint(2, 900) * 10:,}.{m.rng.randint(0, 99):02d}"),
    "date": (None, lambda m: f"2025-{m.rng.randint(1, 12):02d}-{m.rng.randint(1, 28):02d}"),
}

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "support_email": (
        "Hello,\n\nI ordered the {product} on {weekday} but it never arrived. It should have "
        "gone to {address}. Order {ticket}.\n\nThanks,\n{person}",
        "Dear support team,\n\nplease update the billing address of {org} to:\n\n"
        "{address_block}\n\nThe invoice for {month} still shows the old one.\n\nKind regards,\n"
        "{person}\n{role}, {org}",
        "Hi {first},\n\nfollowing up on ticket {ticket}: the {tech} export fails for our "
        "account since {month}. My colleague {person} can share the logs.\n\nBest,\n{person}",
        "To whom it may concern,\n\nI am writing on behalf of {title} {person} regarding the "
        "refund of {amount} EUR. Please send the cheque to {address}.\n\nSincerely,\n{person}",
        "Hi,\nwe moved offices. New address: {address}. Please tell {first} in accounts and "
        "update the contract with {org}.\nCheers, {first}",
    ),
    "crm_note": (
        "Call with {person} ({role}, {org}) on {weekday}: interested in the {product} for "
        "{n} seats. Follow up in {month}.",
        "Lead: {person_rev} | Company: {org} | Source: webinar on {tech} | Next: demo {date}",
        "{org} renewal: {person} wants a discount; {first} from our side will call back. "
        "Ship samples to {address}.",
        "Met {title} {last} of {org} at the {place} conference. Decision maker is {person}.",
        "Account {org} moved HQ to {address}. Contact person: {person}.",
        "Note {date}: {person} complained about the {product}; escalated to {person}. "
        "Customer since {month}.",
    ),
    "chat": (
        "hey, can you ask {first} if the {product} shipped yet?",
        "@{first} the {tech} build is red again, can you look before {weekday}?",
        "{first}: lunch at 12? {first} and {first} are coming too",
        "pls send the package to {address} not the old one",
        "talked to {lower_first} from {org} earlier, they want the quote by {weekday}",
        "is {person} still at {org}? need an intro",
        "ok so {lower_first} says the meeting moved to {weekday}",
        "fyi {person} joined the {place} team today 🎉",
    ),
    "json_record": (
        '{{"customer": "{person}", "company": "{org}", "shipping_address": "{address}", '
        '"plan": "{product}", "created": "{date}"}}',
        '{{"id": {n}, "name": "{person}", "email_opt_in": true, "employer": "{org}", '
        '"tags": ["{tech}", "{month}"]}}',
        '[{{"contact": "{person}", "role": "{role}"}}, {{"contact": "{person}", '
        '"role": "{role}"}}]',
        '{{"vendor": "{org}", "billing": {{"address": "{address}", "attn": "{person}"}}, '
        '"amount": "{amount}"}}',
    ),
    "meeting_notes": (
        "Meeting notes - {weekday} {date}\nAttendees: {person}, {person}, {person} ({org})\n"
        "Agenda: {tech} migration, {month} budget\nAction items:\n- {first} to send the "
        "{product} contract to {org}\n- {person} to book the venue at {address}",
        "{heading}\n{person} presented the {tech} roadmap. {org} asked for a pilot in "
        "{place}. {first} will draft the proposal by {weekday}.",
        "Standup {date}: {first} fixed the {tech} bug; {first} is blocked on {org}'s API "
        "keys; {person} is out until {weekday}.",
        "Board meeting, {month}\nPresent: {title} {person} (chair), {person}, {person}\n"
        "Minutes taken by {person}. {org} to be invited next quarter.",
    ),
    "negative": (
        "Can you explain how {tech} handles connection pooling compared to {tech}? We "
        "upgraded on {weekday} and latency doubled.",
        "{heading}\nThe {product} launch slipped from {month} to {month}. Inventory in "
        "{place} covers {n} units.",
        "Write a haiku about {month} rain in {place}.",
        "Our {place} office closes early on {weekday}; the {place} team covers support.",
        "Compare the {product} with the {product} for battery life and price under {amount}.",
        "Why does my {tech} container exit with code 137 after {n} seconds?",
        "Translate into French: The meeting is on {weekday}, {month} {n}. Bring the {product}.",
        "{heading}: migrate {tech} to {tech} before {month}; {n} services left. See "
        "ticket {ticket}.",
        "Summarise: shipments to {place} rose {n}% in {month} while {place} fell.",
        "Flights from {place} to {place} on {weekday} are cheaper than on {weekday}.",
        "Room {n}, Building C: the {product} demo starts at 10:30 on {weekday}.",
        "Refactor this {tech} function so it returns a Dict[str, int] and handles None.",
    ),
}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def _fill(template: str, maker: _Maker) -> tuple[str, tuple[Entity, ...]]:
    parts: list[str] = []
    entities: list[Entity] = []
    length = 0
    cursor = 0
    for m in _PLACEHOLDER.finditer(template):
        literal = template[cursor : m.start()]
        parts.append(literal)
        length += len(literal)
        cursor = m.end()
        if m.group(1) is None:
            parts.append(m.group()[0])
            length += 1
            continue
        label, make = _FILL[m.group(1)]
        value = make(maker)
        if label is not None:
            article = 4 if value.startswith("the ") else 0  # "the World Bank": not labelled
            entities.append(Entity(label, length + article, length + len(value)))
        parts.append(value)
        length += len(value)
    parts.append(template[cursor:])
    return "".join(parts), tuple(entities)


def corpus(n: int = 720, seed: int = 13) -> list[Sample]:
    """``n`` samples, the shapes in turn (a sixth of them negative), the same for the same
    ``seed``."""
    rng = random.Random(seed)
    maker = _Maker(rng)
    samples = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        text, entities = _fill(rng.choice(_TEMPLATES[shape]), maker)
        samples.append(Sample(shape, text, entities))
    return samples


@dataclass(frozen=True, slots=True)
class Score:
    """Span-level counts and rates for one kind."""

    found: int
    found_right: int
    labelled: int
    labelled_found: int

    @property
    def precision(self) -> float:
        return self.found_right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.labelled_found / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


Span = tuple[str, int, int]
"""``(kind, start, end)`` as a detector found it."""


def score(
    samples: Iterable[Sample],
    find: Callable[[str], Iterable[Span]],
    *,
    kinds: tuple[str, ...] = KINDS,
    exact: bool = False,
) -> dict[str, Score]:
    """Precision and recall per kind of ``find`` over ``samples`` (see the module docstring)."""

    def match(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a == b if exact else a[0] < b[1] and b[0] < a[1]

    counts = {kind: [0, 0, 0, 0] for kind in kinds}
    for sample in samples:
        found = [(k, s, e) for k, s, e in find(sample.text) if k in counts]
        for kind, tally in counts.items():
            mine = [(s, e) for k, s, e in found if k == kind]
            gold = [(e.start, e.end) for e in sample.entities if e.kind == kind]
            tally[0] += len(mine)
            tally[1] += sum(any(match(m, g) for g in gold) for m in mine)
            tally[2] += len(gold)
            tally[3] += sum(any(match(m, g) for m in mine) for g in gold)
    return {kind: Score(*tally) for kind, tally in counts.items()}
