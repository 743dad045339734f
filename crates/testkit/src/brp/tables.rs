//! Landelijke tabellen (Tabel 33 from `sluis-brp`, plausible subsets of the others) and
//! fictional word lists for the BRP generator.

use std::sync::OnceLock;

/// The municipality code of the Registratie Niet-Ingezetenen (RNI).
pub(crate) const RNI_GEMEENTE: (&str, &str) = ("1999", "Registratie Niet Ingezetenen (RNI)");

/// A current municipality of Tabel 33.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gemeente {
    pub(crate) code: &'static str,
    pub(crate) naam: &'static str,
}

/// The municipalities the generator draws from, in code order: every current row of Tabel 33
/// as `sluis-brp` holds it ([`sluis_brp::gemeenten::current_municipalities`]) except `0000`
/// (Onbekend). It includes `1999` (RNI); any change to this list changes every data set
/// generated from a seed.
pub(crate) fn gemeenten() -> &'static [Gemeente] {
    static TABLE: OnceLock<Vec<Gemeente>> = OnceLock::new();
    TABLE.get_or_init(|| {
        sluis_brp::gemeenten::current_municipalities()
            .iter()
            .filter(|(code, _)| *code != "0000")
            .map(|&(code, naam)| Gemeente { code, naam })
            .collect()
    })
}

/// The current municipality with this code (Tabel 33), or the RNI.
pub(crate) fn gemeente(code: &str) -> Option<Gemeente> {
    if code == RNI_GEMEENTE.0 {
        return Some(Gemeente {
            code: RNI_GEMEENTE.0,
            naam: RNI_GEMEENTE.1,
        });
    }
    let table = gemeenten();
    table
        .binary_search_by(|g| g.code.cmp(code))
        .ok()
        .and_then(|i| table.get(i))
        .copied()
}

/// Tabel 34 (landen): the Netherlands.
pub(crate) const NEDERLAND: (&str, &str) = ("6030", "Nederland");

/// A foreign country with a few plausible places and addresses, and the nationality (Tabel 32)
/// most of its natives have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buitenland {
    pub(crate) land: (&'static str, &'static str),
    pub(crate) nationaliteit: (&'static str, &'static str),
    pub(crate) plaatsen: &'static [&'static str],
    pub(crate) straten: &'static [&'static str],
}

/// The first entry of [`BUITENLAND`], for fallbacks.
pub(crate) const BELGIE: Buitenland = Buitenland {
    land: ("5010", "België"),
    nationaliteit: ("0052", "Belgische"),
    plaatsen: &["Antwerpen", "Gent", "Hasselt", "Brussel"],
    straten: &["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat"],
};

/// Countries (Tabel 34) with nationality (Tabel 32), places and streets.
pub(crate) const BUITENLAND: &[Buitenland] = &[
    BELGIE,
    Buitenland {
        land: ("5002", "Frankrijk"),
        nationaliteit: ("0057", "Franse"),
        plaatsen: &["Toulouse", "Lille", "Avignon", "Narbonne"],
        straten: &["Rue de la Paix", "Rue Victor Hugo", "Avenue Jean Jaurès"],
    },
    Buitenland {
        land: ("6039", "Verenigd Koninkrijk"),
        nationaliteit: ("0060", "Britse"),
        plaatsen: &["Londen", "Wolverhampton", "Leeds"],
        straten: &["High Street", "Station Road", "Church Lane"],
    },
    Buitenland {
        land: ("6037", "Spanje"),
        nationaliteit: ("0077", "Spaanse"),
        plaatsen: &["Madrid", "Valencia", "Alicante"],
        straten: &["Calle Mayor", "Calle del Sol", "Avenida del Mar"],
    },
    Buitenland {
        land: ("7028", "Polen"),
        nationaliteit: ("0072", "Poolse"),
        plaatsen: &["Łódź", "Włocławek", "Poznań"],
        straten: &["ulica Długa", "ulica Polna", "ulica Lipowa"],
    },
    Buitenland {
        land: ("6043", "Turkije"),
        nationaliteit: ("0339", "Turkse"),
        plaatsen: &["Ankara", "Adana", "Izmir"],
        straten: &["Atatürk Caddesi", "Cumhuriyet Caddesi"],
    },
    Buitenland {
        land: ("5007", "Suriname"),
        nationaliteit: ("0263", "Surinaamse"),
        plaatsen: &["Paramaribo", "Nieuw Nickerie", "Moengo"],
        straten: &["Keizerstraat", "Gravenstraat", "Zwartenhovenbrugstraat"],
    },
];

/// Tabel 32 (nationaliteiten): the Dutch one.
pub(crate) const NEDERLANDSE: (&str, &str) = ("0001", "Nederlandse");

/// Reden opnemen nationaliteit (Tabel 37), a plausible subset.
pub(crate) const REDEN_NL_GEBOORTE: (&str, &str) = (
    "017",
    "Rijkswet op het Nederlanderschap 1985, art. 3, lid 1",
);
pub(crate) const REDEN_NL_NATURALISATIE: (&str, &str) = (
    "014",
    "Rijkswet op het Nederlanderschap 1985, art. 7 naturalisatie",
);
pub(crate) const REDEN_VREEMD: (&str, &str) = ("301", "Vaststelling bezit vreemde nationaliteit");
pub(crate) const REDEN_STAATLOOS: (&str, &str) = ("311", "Vaststelling staatloosheid");

/// Verblijfstitels (Tabel 56), a plausible subset.
pub(crate) const VERBLIJFSTITELS: &[(&str, &str)] = &[
    ("21", "Vw 2000 art. 20, onbepaalde tijd, regulier"),
    ("27", "Vw 2000 art. 14, bepaalde tijd, regulier"),
    ("37", "Vw 2000 art. 8, onder e, gemeenschapsonderdaan"),
];

/// RNI-deelnemers (Tabel 40), a plausible subset, with the treaty a sister organisation used.
pub(crate) const RNI_DEELNEMERS: &[(&str, &str, Option<&str>)] = &[
    ("0101", "Belastingdienst", None),
    (
        "0201",
        "Sociale Verzekeringsbank (inzake AOW, Anw en AKW)",
        Some("Artikel 45 EU-Werkingsverdrag"),
    ),
    ("0401", "UWV", None),
];

// ---------------------------------------------------------------------------------------------
// Fictional names (any resemblance to real people is coincidental). Diacritics on purpose: the
// API finds "Celik" for "Çelik".

/// (voorvoegsel, geslachtsnaam); the voorvoegsel is empty when there is none.
pub(crate) const GESLACHTSNAMEN: &[(&str, &str)] = &[
    ("de", "Vries"),
    ("", "Jansen"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Smits"),
    ("de", "Graaf"),
    ("van der", "Linden"),
    ("", "Kok"),
    ("", "Jacobs"),
    ("de", "Haan"),
    ("", "Vermeulen"),
    ("van den", "Heuvel"),
    ("van der", "Veen"),
    ("van den", "Broek"),
    ("de", "Bruijn"),
    ("van der", "Heijden"),
    ("", "Schouten"),
    ("", "Willems"),
    ("", "Hoekstra"),
    ("", "Koster"),
    ("", "Verhoeven"),
    ("", "Prins"),
    ("van", "Beek"),
    ("ter", "Horst"),
    ("in 't", "Veld"),
    ("van 't", "Hof"),
    ("'t", "Hart"),
    ("", "Postma"),
    ("", "Kuipers"),
    ("", "Wouters"),
    ("", "Yılmaz"),
    ("", "Çelik"),
    ("", "Şahin"),
    ("", "Öztürk"),
    ("", "El Amrani"),
    ("", "Bouzid"),
    ("", "Ramdin"),
    ("", "Sewdien"),
    ("", "Nguyen"),
    ("", "Kowalski"),
    ("", "Müller"),
    ("", "Dubois"),
    ("", "García"),
    ("", "Boukhari"),
    ("", "Pinas"),
];

pub(crate) const VOORNAMEN_M: &[&str] = &[
    "Jan", "Pieter", "Kees", "Willem", "Hendrik", "Johannes", "Cornelis", "Daan", "Sem", "Lucas",
    "Levi", "Finn", "Milan", "Noah", "Liam", "Thijs", "Bram", "Ruben", "Mohammed", "Ahmed",
    "Youssef", "Emre", "Mehmet", "René", "Joël", "Gijs", "Teun", "Ravi", "Piotr", "Jesse",
];
pub(crate) const VOORNAMEN_V: &[&str] = &[
    "Maria",
    "Anna",
    "Johanna",
    "Cornelia",
    "Emma",
    "Julia",
    "Sophie",
    "Tess",
    "Zoë",
    "Noor",
    "Lotte",
    "Fleur",
    "Sanne",
    "Femke",
    "Fatima",
    "Yasmina",
    "Elif",
    "Ayşe",
    "Chloë",
    "Hélène",
    "Saskia",
    "Ingrid",
    "Mirjam",
    "Ilse",
    "Priya",
    "Agnieszka",
    "Lisa",
    "Eva",
    "Mila",
    "Iris",
];
/// Gender-neutral first names, for persons with geslacht "O".
pub(crate) const VOORNAMEN_O: &[&str] = &["Sam", "Robin", "Kim", "Noa", "Alex", "Charlie"];

/// Street name parts (fictional combinations).
pub(crate) const STRAAT_STAMMEN: &[&str] = &[
    "Linden",
    "Eiken",
    "Beuken",
    "Kastanje",
    "Meeuwen",
    "Reiger",
    "Zwanen",
    "Tulpen",
    "Rozen",
    "Irissen",
    "Molen",
    "Sluis",
    "Dijk",
    "Haven",
    "Vondel",
    "Rembrandt",
    "Spinoza",
    "Erasmus",
    "Huygens",
    "Wilgen",
    "Berken",
    "Vlinder",
    "Zeil",
    "Anker",
    "Schelde",
    "Merwede",
    "Lek",
    "Kempen",
    "Veluwe",
    "Zuiderzee",
];
pub(crate) const STRAAT_SUFFIXEN: &[&str] = &[
    "straat", "laan", "weg", "gracht", "kade", "plein", "hof", "singel", "dreef", "pad",
];
/// Long official names (BAG) with the short form (at most 24 characters) of korteStraatnaam.
pub(crate) const LANGE_STRATEN: &[(&str, &str)] = &[
    ("Burgemeester van Tienhovenlaan", "Burg v Tienhovenln"),
    (
        "Professor Doctor Jan Tinbergenstraat",
        "Prof Dr J Tinbergenstr",
    ),
    ("Koningin Wilhelminaboulevard", "Kon Wilhelminabvd"),
    ("Eerste Constantijn Huygensstraat", "1e C Huygensstr"),
];

/// Descriptions of a verblijfplaats of type Locatie (woonboot, woonwagen).
pub(crate) const LOCATIEBESCHRIJVINGEN: &[&str] = &[
    "Woonboot bij de Amstelkade",
    "Woonwagen naast het tankstation",
    "Ligplaats tegenover de sluis",
];
