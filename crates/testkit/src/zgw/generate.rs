//! The deterministic data generator: catalogi, documents and zaken from a seed.
//!
//! Every zaak has a zaaktype, a vertrouwelijkheidaanduiding spread over all eight values, one
//! to three rollen (a behandelaar medewerker `mdw-001`..`mdw-050`, mostly an initiator
//! natuurlijk persoon with a fictional BSN passing the 11-proef), statussen, and some have
//! zaakobjecten (`pand`, `natuurlijk_persoon`), zaakinformatieobjecten and a zaakeigenschap;
//! about a quarter are closed (resultaat plus eindstatus).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::config::ZgwFixtureConfig;
use super::model::{
    Catalogus, Day, Document, Eigenschap, Informatieobjecttype, Moment, ObjectId, Party, Resultaat,
    Resultaattype, Rol, Roltype, Status, Statustype, Uuid, Va, Zaak, Zaakeigenschap, Zaakobject,
    Zaaktype, Zio, shared,
};
use super::store::Store;
use crate::rng::SplitMix64;

/// The RSIN used as bronorganisatie and verantwoordelijke organisatie (fictional, 11-proef).
pub const RSIN: &str = "002220647";

/// Number of medewerkers in the pool (`mdw-001` ..).
pub const MEDEWERKERS: usize = 50;

const ZAAKTYPE_NAMEN: &[&str] = &[
    "Aanvraag parkeervergunning",
    "Melding openbare ruimte",
    "Bezwaarschrift",
    "Omgevingsvergunning",
    "Subsidieaanvraag",
    "Klacht",
    "Evenementenvergunning",
    "Verhuizing",
    "Bijzondere bijstand",
    "Kapvergunning",
];

const IOT_NAMEN: &[&str] = &[
    "Aanvraag",
    "Besluit",
    "Correspondentie",
    "Bijlage",
    "Rapport",
    "Foto",
    "Advies",
    "Notitie",
];

const ACHTERNAMEN: &[&str] = &[
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer",
];

/// Generates the whole data set.
pub(crate) fn generate(config: &ZgwFixtureConfig) -> Store {
    let mut store = Store {
        rng: Some(SplitMix64::for_stream(config.seed, "zgw-runtime")),
        shared_content: content(config.download_bytes),
        ..Store::default()
    };
    // Sized up front: growing 100,000-row tables by doubling costs more memory than the rows.
    let n = config.zaken;
    store.zaken = super::store::Table::with_capacity(n);
    store.rollen = super::store::Table::with_capacity(n * 21 / 10 + 16);
    store.statussen = super::store::Table::with_capacity(n * 23 / 10 + 16);
    store.resultaten = super::store::Table::with_capacity(n / 4 + 16);
    store.zaakobjecten = super::store::Table::with_capacity(n * 45 / 100 + 16);
    store.zios = super::store::Table::with_capacity(n / 5 + 16);
    store.oios = super::store::Table::with_capacity(n / 5 + 16);
    store.zaakeigenschappen = super::store::Table::with_capacity(n / 5 + 16);
    catalogi(&mut store, config);
    documents(&mut store, config);
    zaken(&mut store, config);
    store.shrink();
    store
}

/// `%PDF-1.4` followed by deterministic text lines up to `len` bytes.
fn content(len: usize) -> Bytes {
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"%PDF-1.4\n");
    let mut n: u64 = 0;
    while out.len() < len {
        let line = format!("% sluis testkit document content, regel {n:010}\n");
        out.extend_from_slice(line.as_bytes());
        n += 1;
    }
    out.truncate(len);
    Bytes::from(out)
}

fn catalogi(store: &mut Store, config: &ZgwFixtureConfig) {
    let mut rng = SplitMix64::for_stream(config.seed, "zgw-catalogi");
    let catalogus = store.catalogussen.insert(Catalogus {
        uuid: Uuid::random(&mut rng),
        domein: "SLUIS".to_owned(),
        rsin: RSIN.to_owned(),
    });
    let defaults = [
        Va::Openbaar,
        Va::Intern,
        Va::Zaakvertrouwelijk,
        Va::Vertrouwelijk,
    ];
    let iot_count = config.informatieobjecttypen.max(1);
    let mut iots = Vec::with_capacity(iot_count);
    for i in 0..iot_count {
        let name = IOT_NAMEN
            .get(i % IOT_NAMEN.len())
            .copied()
            .unwrap_or("Document");
        iots.push(
            store.iots.insert(Informatieobjecttype {
                uuid: Uuid::random(&mut rng),
                catalogus,
                omschrijving: format!("{name} {}", i + 1),
                va: defaults
                    .get(i % defaults.len())
                    .copied()
                    .unwrap_or(Va::Openbaar),
            }),
        );
    }
    let zaaktypen = if config.zaken > 0 {
        config.zaaktypen.max(1)
    } else {
        config.zaaktypen
    };
    for i in 0..zaaktypen {
        let name = ZAAKTYPE_NAMEN
            .get(i % ZAAKTYPE_NAMEN.len())
            .copied()
            .unwrap_or("Zaak");
        let zt_iots: Vec<u32> = [i, i + 1]
            .iter()
            .filter_map(|k| iots.get(k % iots.len()).copied())
            .collect();
        let va = Va::ALL
            .get(i % Va::ALL.len())
            .copied()
            .unwrap_or(Va::Openbaar);
        add_standard_zaaktype(
            store,
            &mut rng,
            catalogus,
            format!("ZT-{:04}", i + 1),
            format!("{name} {}", i + 1),
            va,
            zt_iots,
        );
    }
}

/// A zaaktype with three statustypen (the last one final), the roltypen behandelaar,
/// initiator and belanghebbende, one resultaattype and one eigenschap.
pub(crate) fn add_standard_zaaktype(
    store: &mut Store,
    rng: &mut SplitMix64,
    catalogus: u32,
    identificatie: String,
    omschrijving: String,
    va: Va,
    informatieobjecttypen: Vec<u32>,
) -> u32 {
    let zt = store.add_zaaktype(Zaaktype {
        uuid: Uuid::random(rng),
        catalogus,
        identificatie,
        omschrijving,
        va,
        concept: false,
        statustypen: Vec::new(),
        roltypen: Vec::new(),
        resultaattypen: Vec::new(),
        eigenschappen: Vec::new(),
        informatieobjecttypen,
    });
    for (n, name) in ["Ontvangen", "In behandeling", "Afgehandeld"]
        .iter()
        .enumerate()
    {
        store.add_statustype(Statustype {
            uuid: Uuid::random(rng),
            zaaktype: zt,
            volgnummer: u32::try_from(n + 1).unwrap_or(1),
            omschrijving: (*name).to_owned(),
        });
    }
    for (name, generiek) in [
        ("Behandelaar", "behandelaar"),
        ("Aanvrager", "initiator"),
        ("Belanghebbende", "belanghebbende"),
    ] {
        store.add_roltype(Roltype {
            uuid: Uuid::random(rng),
            zaaktype: zt,
            omschrijving: name.to_owned(),
            omschrijving_generiek: generiek.to_owned(),
        });
    }
    let blijvend = rng.chance(20);
    store.add_resultaattype(Resultaattype {
        uuid: Uuid::random(rng),
        zaaktype: zt,
        omschrijving: "Afgehandeld".to_owned(),
        archiefnominatie: if blijvend {
            "blijvend_bewaren"
        } else {
            "vernietigen"
        },
        archiefactietermijn_jaren: if blijvend { 20 } else { 10 },
    });
    store.add_eigenschap(Eigenschap {
        uuid: Uuid::random(rng),
        zaaktype: zt,
        naam: "kenmerk".to_owned(),
    });
    zt
}

fn documents(store: &mut Store, config: &ZgwFixtureConfig) {
    let mut rng = SplitMix64::for_stream(config.seed, "zgw-documenten");
    let iots = u64::try_from(store.iots.len()).unwrap_or(0);
    for i in 0..config.documents {
        let day = random_day(&mut rng);
        let iot = u32::try_from(rng.below(iots)).unwrap_or(0);
        let va = Va::ALL
            .get(usize::try_from(rng.below(8)).unwrap_or(0))
            .copied()
            .unwrap_or(Va::Openbaar);
        store.documents.insert(Document {
            uuid: Uuid::random(&mut rng),
            identificatie: format!("DOCUMENT-{}", i + 1),
            bronorganisatie: RSIN.to_owned(),
            creatiedatum: day,
            titel: format!("Document {}", i + 1),
            va,
            auteur: "Gemeente Sluis".to_owned(),
            status: "definitief".to_owned(),
            formaat: "application/pdf".to_owned(),
            taal: "dut".to_owned(),
            bestandsnaam: format!("document-{}.pdf", i + 1),
            informatieobjecttype: iot,
            versie: 1,
            beginregistratie: Moment(i64::from(day.0) * 86_400 + 10 * 3600),
            lock: String::new(),
            is_gereed_voor_publicatie: rng.chance(30),
            content: None,
            extra: None,
        });
    }
    store.document_seq = u64::try_from(config.documents).unwrap_or(0);
}

fn random_day(rng: &mut SplitMix64) -> Day {
    let lo = Day::ymd(2019, 1, 1).0;
    let hi = Day::ymd(2025, 6, 30).0;
    let span = u64::try_from(hi - lo).unwrap_or(1);
    Day(lo + i32::try_from(rng.below(span)).unwrap_or(0))
}

fn zaken(store: &mut Store, config: &ZgwFixtureConfig) {
    let mut rng = SplitMix64::for_stream(config.seed, "zgw-zaken");
    let mut used = std::collections::HashSet::new();
    // Shared strings: a generated rol or zaakobject allocates nothing of its own.
    let bsns: Vec<Arc<str>> = (0..(config.zaken / 4).clamp(16, 20_000))
        .map(|_| Arc::from(crate::data::bsn(&mut rng, &mut used)))
        .collect();
    let names: Vec<Arc<str>> = ACHTERNAMEN.iter().map(|n| Arc::from(*n)).collect();
    let mdws: Vec<Arc<str>> = (1..=MEDEWERKERS)
        .map(|i| Arc::from(format!("mdw-{i:03}")))
        .collect();
    let words: Vec<Arc<str>> = ["pand", "natuurlijk_persoon", "Betreft", "Betrokkene"]
        .iter()
        .map(|w| Arc::from(*w))
        .collect();
    let word = |i: usize| words.get(i).cloned().unwrap_or_else(|| shared(""));
    let zaaktypen = u64::try_from(store.zaaktypen.len()).unwrap_or(0);
    let documents = u64::try_from(store.documents.len()).unwrap_or(0);
    if zaaktypen == 0 {
        return;
    }
    for i in 0..config.zaken {
        let zt = u32::try_from(rng.below(zaaktypen)).unwrap_or(0);
        let va = Va::ALL
            .get(usize::try_from(rng.below(8)).unwrap_or(0))
            .copied()
            .unwrap_or(Va::Openbaar);
        let start = random_day(&mut rng);
        let name = store
            .zaaktypen
            .get(zt)
            .map(|z| z.omschrijving.clone())
            .unwrap_or_default();
        let geometrie = rng.chance(50).then(|| {
            let lon = 4.85 + rng.below(10_000) as f64 / 100_000.0;
            let lat = 52.33 + rng.below(7_000) as f64 / 100_000.0;
            (lon, lat)
        });
        let (year, _, _) = crate::rng::civil_from_days(i64::from(start.0));
        let zaak = store.add_zaak(Zaak {
            identificatie: format!("ZAAK-{year}-{:010}", i + 1),
            bronorganisatie: shared(RSIN),
            omschrijving: format!("{name} #{}", i + 1),
            verantwoordelijke_organisatie: shared(RSIN),
            einddatum_gepland: Some(Day(start.0 + 56)),
            geometrie,
            ..Zaak::new(Uuid::random(&mut rng), zt, va, start)
        });
        let Some(zaaktype) = store.zaaktypen.get(zt) else {
            continue;
        };
        let roltypen = zaaktype.roltypen.clone();
        let statustypen = zaaktype.statustypen.clone();
        let resultaattype = zaaktype.resultaattypen.first().copied();
        let eigenschap = zaaktype.eigenschappen.first().copied();
        let registered = Moment(i64::from(start.0) * 86_400 + 9 * 3600);

        // Rollen: a behandelaar always, mostly an initiator, sometimes a belanghebbende.
        let mdw = pick(&mut rng, &mdws);
        let achternaam = pick(&mut rng, &names);
        rol(
            store,
            &mut rng,
            zaak,
            roltypen.first().copied(),
            registered,
            Party::Medewerker {
                identificatie: mdw,
                achternaam,
            },
        );
        let initiator_bsn = rng.pick(&bsns).cloned();
        if rng.chance(75)
            && let Some(b) = &initiator_bsn
        {
            let geslachtsnaam = pick(&mut rng, &names);
            rol(
                store,
                &mut rng,
                zaak,
                roltypen.get(1).copied(),
                registered,
                Party::Persoon {
                    bsn: b.clone(),
                    geslachtsnaam,
                },
            );
        }
        if rng.chance(30)
            && let Some(b) = rng.pick(&bsns).cloned()
        {
            let geslachtsnaam = pick(&mut rng, &names);
            rol(
                store,
                &mut rng,
                zaak,
                roltypen.get(2).copied(),
                registered,
                Party::Persoon {
                    bsn: b,
                    geslachtsnaam,
                },
            );
        }

        // Zaakobjecten.
        if rng.chance(30) {
            let pand = format!("0363100012{:06}", rng.below(1_000_000));
            let uuid = Uuid::random(&mut rng);
            store.add_zaakobject(Zaakobject {
                uuid,
                zaak,
                object: format!("https://bag.basisregistraties.overheid.nl/api/v1/panden/{pand}"),
                object_type: word(0),
                relatieomschrijving: word(2),
                identificatie: ObjectId::Pand(pand.into()),
                extra: None,
            });
        }
        if rng.chance(15)
            && let Some(b) = rng.pick(&bsns).cloned()
        {
            let uuid = Uuid::random(&mut rng);
            store.add_zaakobject(Zaakobject {
                uuid,
                zaak,
                object: String::new(),
                object_type: word(1),
                relatieomschrijving: word(3),
                identificatie: ObjectId::Persoon(b),
                extra: None,
            });
        }

        // A document, sometimes.
        if documents > 0 && rng.chance(20) {
            let doc = u32::try_from(rng.below(documents)).unwrap_or(0);
            let titel = store
                .documents
                .get(doc)
                .map(|d| d.titel.clone())
                .unwrap_or_default();
            let uuid = Uuid::random(&mut rng);
            store.add_zio(Zio {
                uuid,
                zaak,
                document: Some(doc),
                informatieobject_url: String::new(),
                titel,
                beschrijving: String::new(),
                registratiedatum: registered,
                oio: None,
            });
        }
        if rng.chance(20)
            && let Some(e) = eigenschap
        {
            let uuid = Uuid::random(&mut rng);
            let waarde = format!("K-{}", rng.below(100_000));
            store.add_zaakeigenschap(Zaakeigenschap {
                uuid,
                zaak,
                eigenschap: e,
                waarde,
            });
        }

        // Statussen; a quarter of the zaken are closed.
        let closed = rng.chance(25);
        let steps = if closed {
            statustypen.len()
        } else {
            usize::try_from(rng.range(1, 2))
                .unwrap_or(1)
                .min(statustypen.len())
        };
        if closed && let Some(rt) = resultaattype {
            let uuid = Uuid::random(&mut rng);
            store.add_resultaat(Resultaat {
                uuid,
                zaak,
                resultaattype: rt,
                toelichting: String::new(),
            });
        }
        for (k, st) in statustypen.iter().take(steps).enumerate() {
            let uuid = Uuid::random(&mut rng);
            let k = i64::try_from(k).unwrap_or(0);
            let _ = store.add_status(Status {
                uuid,
                zaak,
                statustype: *st,
                datum_status_gezet: Moment(registered.0 + k * 7 * 86_400),
                statustoelichting: String::new(),
                extra: None,
            });
        }
    }
    store.zaak_seq = u64::try_from(config.zaken).unwrap_or(0);
}

fn pick(rng: &mut SplitMix64, items: &[Arc<str>]) -> Arc<str> {
    rng.pick(items).cloned().unwrap_or_else(|| shared(""))
}

fn rol(
    store: &mut Store,
    rng: &mut SplitMix64,
    zaak: u32,
    roltype: Option<u32>,
    registered: Moment,
    betrokkene: Party,
) {
    let Some(roltype) = roltype else {
        return;
    };
    let uuid = Uuid::random(rng);
    store.add_rol(Rol {
        uuid,
        zaak,
        roltype,
        betrokkene_url: String::new(),
        betrokkene,
        roltoelichting: String::new(),
        registratiedatum: registered,
        extra: None,
    });
}

/// `objectIdentificatie` / `betrokkeneIdentificatie` of a natuurlijk persoon.
pub(crate) fn natuurlijk_persoon_identificatie(bsn: &str, geslachtsnaam: &str) -> Value {
    json!({
        "inpBsn": bsn,
        "anpIdentificatie": "",
        "inpA_nummer": "",
        "geslachtsnaam": geslachtsnaam,
        "voorvoegselGeslachtsnaam": "",
        "voorletters": "",
        "voornamen": "",
        "geslachtsaanduiding": "",
        "geboortedatum": "",
        "verblijfsadres": null,
        "subVerblijfBuitenland": null,
    })
}
