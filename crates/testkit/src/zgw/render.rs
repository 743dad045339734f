//! JSON bodies in the shapes of the Zaken 1.7, Documenten 1.7, Catalogi 1.3 and Autorisaties
//! 1.1 APIs, field order as Open Zaak's serializers write them. Every URL is built from the
//! request's base (`http://` + `Host`), as Django builds absolute URLs.

use serde_json::{Map, Value, json};

use super::model::{Applicatie, Day, Extra, ObjectId, Party, Uuid, Zaak};
use super::store::Store;
use super::urls::{self, Kind};

/// The per-request rendering context.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// `http://host:port`, no trailing slash.
    pub(crate) base: String,
}

impl Ctx {
    pub(crate) fn url(&self, kind: Kind, uuid: Uuid) -> String {
        urls::url(&self.base, kind, uuid)
    }
}

fn day(d: Option<Day>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

fn with_extra(mut m: Map<String, Value>, extra: &Extra) -> Value {
    if let Some(extra) = extra {
        for (k, v) in extra.iter() {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Store {
    fn slot_url(&self, ctx: &Ctx, kind: Kind, slot: u32) -> Option<String> {
        let uuid = match kind {
            Kind::Zaak => self.zaken.get(slot)?.uuid,
            Kind::Status => self.statussen.get(slot)?.uuid,
            Kind::Rol => self.rollen.get(slot)?.uuid,
            Kind::Resultaat => self.resultaten.get(slot)?.uuid,
            Kind::Zaakobject => self.zaakobjecten.get(slot)?.uuid,
            Kind::Zio => self.zios.get(slot)?.uuid,
            Kind::Klantcontact => self.klantcontacten.get(slot)?.uuid,
            Kind::Zaakeigenschap => {
                let e = self.zaakeigenschappen.get(slot)?;
                let zaak = self.zaken.get(e.zaak)?.uuid;
                return Some(urls::zaakeigenschap_url(&ctx.base, zaak, e.uuid));
            }
            Kind::Catalogus => self.catalogussen.get(slot)?.uuid,
            Kind::Zaaktype => self.zaaktypen.get(slot)?.uuid,
            Kind::Statustype => self.statustypen.get(slot)?.uuid,
            Kind::Roltype => self.roltypen.get(slot)?.uuid,
            Kind::Resultaattype => self.resultaattypen.get(slot)?.uuid,
            Kind::Eigenschap => self.eigenschappen.get(slot)?.uuid,
            Kind::Iot => self.iots.get(slot)?.uuid,
            Kind::Document => self.documents.get(slot)?.uuid,
            Kind::Gebruiksrecht => self.gebruiksrechten.get(slot)?.uuid,
            Kind::Oio => self.oios.get(slot)?.uuid,
            Kind::Applicatie => self.applicaties.get(slot)?.uuid,
        };
        Some(ctx.url(kind, uuid))
    }

    /// The URL of the object in `slot`, or "" when gone.
    pub(crate) fn url_of(&self, ctx: &Ctx, kind: Kind, slot: u32) -> String {
        self.slot_url(ctx, kind, slot).unwrap_or_default()
    }

    fn urls(&self, ctx: &Ctx, kind: Kind, slots: &[u32]) -> Value {
        Value::Array(
            slots
                .iter()
                .filter_map(|s| self.slot_url(ctx, kind, *s))
                .map(Value::String)
                .collect(),
        )
    }

    /// Renders any object by kind and slot.
    pub(crate) fn render(&self, ctx: &Ctx, kind: Kind, slot: u32) -> Option<Value> {
        match kind {
            Kind::Zaak => self.render_zaak(ctx, slot),
            Kind::Status => self.render_status(ctx, slot),
            Kind::Rol => self.render_rol(ctx, slot),
            Kind::Resultaat => self.render_resultaat(ctx, slot),
            Kind::Zaakobject => self.render_zaakobject(ctx, slot),
            Kind::Zio => self.render_zio(ctx, slot),
            Kind::Klantcontact => self.render_klantcontact(ctx, slot),
            Kind::Zaakeigenschap => self.render_zaakeigenschap(ctx, slot),
            Kind::Catalogus => self.render_catalogus(ctx, slot),
            Kind::Zaaktype => self.render_zaaktype(ctx, slot),
            Kind::Statustype => self.render_statustype(ctx, slot),
            Kind::Roltype => self.render_roltype(ctx, slot),
            Kind::Resultaattype => self.render_resultaattype(ctx, slot),
            Kind::Eigenschap => self.render_eigenschap(ctx, slot),
            Kind::Iot => self.render_iot(ctx, slot),
            Kind::Document => self.render_document(ctx, slot),
            Kind::Gebruiksrecht => self.render_gebruiksrecht(ctx, slot),
            Kind::Oio => self.render_oio(ctx, slot),
            Kind::Applicatie => self
                .applicaties
                .get(slot)
                .map(|a| render_applicatie(ctx, a)),
        }
    }

    /// The live slots of `kind`, oldest first.
    pub(crate) fn slots(&self, kind: Kind) -> Vec<u32> {
        fn ids<T: super::store::Keyed>(t: &super::store::Table<T>) -> Vec<u32> {
            t.iter().map(|(s, _)| s).collect()
        }
        match kind {
            Kind::Zaak => ids(&self.zaken),
            Kind::Status => ids(&self.statussen),
            Kind::Rol => ids(&self.rollen),
            Kind::Resultaat => ids(&self.resultaten),
            Kind::Zaakobject => ids(&self.zaakobjecten),
            Kind::Zio => ids(&self.zios),
            Kind::Klantcontact => ids(&self.klantcontacten),
            Kind::Zaakeigenschap => ids(&self.zaakeigenschappen),
            Kind::Catalogus => ids(&self.catalogussen),
            Kind::Zaaktype => ids(&self.zaaktypen),
            Kind::Statustype => ids(&self.statustypen),
            Kind::Roltype => ids(&self.roltypen),
            Kind::Resultaattype => ids(&self.resultaattypen),
            Kind::Eigenschap => ids(&self.eigenschappen),
            Kind::Iot => ids(&self.iots),
            Kind::Document => ids(&self.documents),
            Kind::Gebruiksrecht => ids(&self.gebruiksrechten),
            Kind::Oio => ids(&self.oios),
            Kind::Applicatie => ids(&self.applicaties),
        }
    }

    /// The slot of the object of `kind` with `uuid`.
    pub(crate) fn slot_of(&self, kind: Kind, uuid: Uuid) -> Option<u32> {
        match kind {
            Kind::Zaak => self.zaken.slot(uuid),
            Kind::Status => self.statussen.slot(uuid),
            Kind::Rol => self.rollen.slot(uuid),
            Kind::Resultaat => self.resultaten.slot(uuid),
            Kind::Zaakobject => self.zaakobjecten.slot(uuid),
            Kind::Zio => self.zios.slot(uuid),
            Kind::Klantcontact => self.klantcontacten.slot(uuid),
            Kind::Zaakeigenschap => self.zaakeigenschappen.slot(uuid),
            Kind::Catalogus => self.catalogussen.slot(uuid),
            Kind::Zaaktype => self.zaaktypen.slot(uuid),
            Kind::Statustype => self.statustypen.slot(uuid),
            Kind::Roltype => self.roltypen.slot(uuid),
            Kind::Resultaattype => self.resultaattypen.slot(uuid),
            Kind::Eigenschap => self.eigenschappen.slot(uuid),
            Kind::Iot => self.iots.slot(uuid),
            Kind::Document => self.documents.slot(uuid),
            Kind::Gebruiksrecht => self.gebruiksrechten.slot(uuid),
            Kind::Oio => self.oios.slot(uuid),
            Kind::Applicatie => self.applicaties.slot(uuid),
        }
    }

    pub(crate) fn render_zaak(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let z = self.zaken.get(slot)?;
        Some(self.zaak_json(ctx, slot, z))
    }

    fn zaak_json(&self, ctx: &Ctx, slot: u32, z: &Zaak) -> Value {
        let geometrie = z.geometrie.map_or(
            Value::Null,
            |(lon, lat)| json!({"type": "Point", "coordinates": [lon, lat]}),
        );
        let m = obj(json!({
            "url": self.url_of(ctx, Kind::Zaak, slot),
            "uuid": z.uuid.to_string(),
            "identificatie": z.identificatie,
            "bronorganisatie": &*z.bronorganisatie,
            "omschrijving": z.omschrijving,
            "toelichting": z.toelichting,
            "zaaktype": self.url_of(ctx, Kind::Zaaktype, z.zaaktype),
            "registratiedatum": z.registratiedatum.to_string(),
            "verantwoordelijkeOrganisatie": &*z.verantwoordelijke_organisatie,
            "startdatum": z.startdatum.to_string(),
            "einddatum": day(z.einddatum),
            "einddatumGepland": day(z.einddatum_gepland),
            "uiterlijkeEinddatumAfdoening": day(z.uiterlijke_einddatum_afdoening),
            "publicatiedatum": day(z.publicatiedatum),
            "communicatiekanaal": "",
            "productenOfDiensten": [],
            "vertrouwelijkheidaanduiding": z.va.as_str(),
            "betalingsindicatie": "",
            "betalingsindicatieWeergave": "",
            "laatsteBetaaldatum": null,
            "zaakgeometrie": geometrie,
            "verlenging": {"reden": "", "duur": null},
            "opschorting": {"indicatie": false, "reden": ""},
            "selectielijstklasse": "",
            "hoofdzaak": null,
            "deelzaken": [],
            "relevanteAndereZaken": [],
            "eigenschappen": self.urls(ctx, Kind::Zaakeigenschap, &z.eigenschappen),
            "rollen": self.urls(ctx, Kind::Rol, &z.rollen),
            "status": self
                .current_status(z)
                .and_then(|s| self.slot_url(ctx, Kind::Status, s)),
            "zaakinformatieobjecten": self.urls(ctx, Kind::Zio, &z.zios),
            "zaakobjecten": self.urls(ctx, Kind::Zaakobject, &z.zaakobjecten),
            "kenmerken": [],
            "archiefnominatie": z.archiefnominatie,
            "archiefstatus": &*z.archiefstatus,
            "archiefactiedatum": day(z.archiefactiedatum),
            "resultaat": z.resultaat.and_then(|r| self.slot_url(ctx, Kind::Resultaat, r)),
            "opdrachtgevendeOrganisatie": "",
            "processobjectaard": "",
            "startdatumBewaartermijn": null,
            "processobject": {
                "datumkenmerk": "",
                "identificatie": "",
                "objecttype": "",
                "registratie": "",
            },
        }));
        with_extra(m, &z.extra)
    }

    pub(crate) fn render_status(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let s = self.statussen.get(slot)?;
        let laatst = self.zaken.get(s.zaak).and_then(|z| self.current_status(z)) == Some(slot);
        let m = obj(json!({
            "url": self.url_of(ctx, Kind::Status, slot),
            "uuid": s.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, s.zaak),
            "statustype": self.url_of(ctx, Kind::Statustype, s.statustype),
            "datumStatusGezet": s.datum_status_gezet.to_string(),
            "statustoelichting": s.statustoelichting,
            "indicatieLaatstGezetteStatus": laatst,
            "gezetdoor": "",
            "zaakinformatieobjecten": [],
        }));
        Some(with_extra(m, &s.extra))
    }

    pub(crate) fn render_rol(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let r = self.rollen.get(slot)?;
        let rt = self.roltypen.get(r.roltype);
        let identificatie = match &r.betrokkene {
            Party::Medewerker {
                identificatie,
                achternaam,
            } => json!({
                "identificatie": &**identificatie,
                "achternaam": &**achternaam,
                "voorletters": "",
                "voorvoegselAchternaam": "",
            }),
            Party::Persoon { bsn, geslachtsnaam } => {
                super::generate::natuurlijk_persoon_identificatie(bsn, geslachtsnaam)
            }
            Party::Other(o) => o.1.clone(),
        };
        let m = obj(json!({
            "url": self.url_of(ctx, Kind::Rol, slot),
            "uuid": r.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, r.zaak),
            "betrokkene": r.betrokkene_url,
            "betrokkeneType": r.betrokkene.type_name(),
            "afwijkendeNaamBetrokkene": "",
            "roltype": self.url_of(ctx, Kind::Roltype, r.roltype),
            "omschrijving": rt.map(|t| t.omschrijving.as_str()).unwrap_or(""),
            "omschrijvingGeneriek": rt.map(|t| t.omschrijving_generiek.as_str()).unwrap_or(""),
            "roltoelichting": r.roltoelichting,
            "registratiedatum": r.registratiedatum.to_string(),
            "indicatieMachtiging": "",
            "contactpersoonRol": {
                "emailadres": "",
                "functie": "",
                "telefoonnummer": "",
                "naam": "",
            },
            "statussen": [],
            "betrokkeneIdentificatie": identificatie,
        }));
        Some(with_extra(m, &r.extra))
    }

    pub(crate) fn render_resultaat(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let r = self.resultaten.get(slot)?;
        Some(json!({
            "url": self.url_of(ctx, Kind::Resultaat, slot),
            "uuid": r.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, r.zaak),
            "resultaattype": self.url_of(ctx, Kind::Resultaattype, r.resultaattype),
            "toelichting": r.toelichting,
        }))
    }

    pub(crate) fn render_zaakobject(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let o = self.zaakobjecten.get(slot)?;
        let m = obj(json!({
            "url": self.url_of(ctx, Kind::Zaakobject, slot),
            "uuid": o.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, o.zaak),
            "object": o.object,
            "zaakobjecttype": "",
            "objectType": &*o.object_type,
            "objectTypeOverige": "",
            "objectTypeOverigeDefinitie": null,
            "relatieomschrijving": &*o.relatieomschrijving,
            "objectIdentificatie": match &o.identificatie {
                ObjectId::Pand(id) => json!({"identificatie": &**id}),
                ObjectId::Persoon(bsn) => {
                    super::generate::natuurlijk_persoon_identificatie(bsn, "")
                }
                ObjectId::Json(v) => v.clone(),
            },
        }));
        Some(with_extra(m, &o.extra))
    }

    pub(crate) fn render_zio(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let z = self.zios.get(slot)?;
        let io = match z.document {
            Some(d) => self.url_of(ctx, Kind::Document, d),
            None => z.informatieobject_url.clone(),
        };
        Some(json!({
            "url": self.url_of(ctx, Kind::Zio, slot),
            "uuid": z.uuid.to_string(),
            "informatieobject": io,
            "zaak": self.url_of(ctx, Kind::Zaak, z.zaak),
            "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
            "titel": z.titel,
            "beschrijving": z.beschrijving,
            "registratiedatum": z.registratiedatum.to_string(),
            "vernietigingsdatum": null,
            "status": null,
        }))
    }

    pub(crate) fn render_klantcontact(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let k = self.klantcontacten.get(slot)?;
        Some(json!({
            "url": self.url_of(ctx, Kind::Klantcontact, slot),
            "uuid": k.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, k.zaak),
            "identificatie": k.identificatie,
            "datumtijd": k.datumtijd.to_string(),
            "kanaal": k.kanaal,
            "onderwerp": k.onderwerp,
            "toelichting": k.toelichting,
        }))
    }

    pub(crate) fn render_zaakeigenschap(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let e = self.zaakeigenschappen.get(slot)?;
        let naam = self
            .eigenschappen
            .get(e.eigenschap)
            .map(|x| x.naam.clone())
            .unwrap_or_default();
        Some(json!({
            "url": self.url_of(ctx, Kind::Zaakeigenschap, slot),
            "uuid": e.uuid.to_string(),
            "zaak": self.url_of(ctx, Kind::Zaak, e.zaak),
            "eigenschap": self.url_of(ctx, Kind::Eigenschap, e.eigenschap),
            "naam": naam,
            "waarde": e.waarde,
        }))
    }

    pub(crate) fn render_catalogus(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let c = self.catalogussen.get(slot)?;
        let zaaktypen: Vec<u32> = self
            .zaaktypen
            .iter()
            .filter(|(_, z)| z.catalogus == slot)
            .map(|(s, _)| s)
            .collect();
        let iots: Vec<u32> = self
            .iots
            .iter()
            .filter(|(_, i)| i.catalogus == slot)
            .map(|(s, _)| s)
            .collect();
        Some(json!({
            "url": self.url_of(ctx, Kind::Catalogus, slot),
            "domein": c.domein,
            "rsin": c.rsin,
            "contactpersoonBeheerNaam": "Beheer sluis testkit",
            "contactpersoonBeheerTelefoonnummer": "",
            "contactpersoonBeheerEmailadres": "",
            "zaaktypen": self.urls(ctx, Kind::Zaaktype, &zaaktypen),
            "besluittypen": [],
            "informatieobjecttypen": self.urls(ctx, Kind::Iot, &iots),
            "naam": "Sluis testcatalogus",
            "versie": "1",
            "begindatumVersie": "2019-01-01",
        }))
    }

    pub(crate) fn render_zaaktype(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let z = self.zaaktypen.get(slot)?;
        Some(json!({
            "url": self.url_of(ctx, Kind::Zaaktype, slot),
            "identificatie": z.identificatie,
            "omschrijving": z.omschrijving,
            "omschrijvingGeneriek": "",
            "vertrouwelijkheidaanduiding": z.va.as_str(),
            "doel": format!("Afhandelen van {}", z.omschrijving),
            "aanleiding": "Een verzoek of melding",
            "toelichting": "",
            "indicatieInternOfExtern": "extern",
            "handelingInitiator": "Aanvragen",
            "onderwerp": z.omschrijving,
            "handelingBehandelaar": "Behandelen",
            "doorlooptijd": "P56D",
            "servicenorm": null,
            "opschortingEnAanhoudingMogelijk": false,
            "verlengingMogelijk": false,
            "verlengingstermijn": null,
            "trefwoorden": [],
            "publicatieIndicatie": false,
            "publicatietekst": "",
            "verantwoordingsrelatie": [],
            "productenOfDiensten": [],
            "selectielijstProcestype": "",
            "referentieproces": {"naam": "", "link": ""},
            "verantwoordelijke": "002220647",
            "broncatalogus": null,
            "bronzaaktype": null,
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
            "versiedatum": "2019-01-01",
            "concept": z.concept,
            "catalogus": self.url_of(ctx, Kind::Catalogus, z.catalogus),
            "statustypen": self.urls(ctx, Kind::Statustype, &z.statustypen),
            "resultaattypen": self.urls(ctx, Kind::Resultaattype, &z.resultaattypen),
            "eigenschappen": self.urls(ctx, Kind::Eigenschap, &z.eigenschappen),
            "informatieobjecttypen": self.urls(ctx, Kind::Iot, &z.informatieobjecttypen),
            "roltypen": self.urls(ctx, Kind::Roltype, &z.roltypen),
            "besluittypen": [],
            "deelzaaktypen": [],
            "gerelateerdeZaaktypen": [],
            "zaakobjecttypen": [],
        }))
    }

    pub(crate) fn render_statustype(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let s = self.statustypen.get(slot)?;
        let zt = self.zaaktypen.get(s.zaaktype);
        Some(json!({
            "url": self.url_of(ctx, Kind::Statustype, slot),
            "omschrijving": s.omschrijving,
            "omschrijvingGeneriek": "",
            "statustekst": "",
            "zaaktype": self.url_of(ctx, Kind::Zaaktype, s.zaaktype),
            "zaaktypeIdentificatie": zt.map(|z| z.identificatie.as_str()).unwrap_or(""),
            "volgnummer": s.volgnummer,
            "isEindstatus": self.is_eindstatus(slot),
            "informeren": false,
            "doorlooptijd": null,
            "toelichting": "",
            "checklistitemStatustype": [],
            "catalogus": zt.map(|z| self.url_of(ctx, Kind::Catalogus, z.catalogus)),
            "eigenschappen": [],
            "zaakobjecttypen": [],
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
        }))
    }

    pub(crate) fn render_roltype(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let r = self.roltypen.get(slot)?;
        let zt = self.zaaktypen.get(r.zaaktype);
        Some(json!({
            "url": self.url_of(ctx, Kind::Roltype, slot),
            "zaaktype": self.url_of(ctx, Kind::Zaaktype, r.zaaktype),
            "zaaktypeIdentificatie": zt.map(|z| z.identificatie.as_str()).unwrap_or(""),
            "omschrijving": r.omschrijving,
            "omschrijvingGeneriek": r.omschrijving_generiek,
            "catalogus": zt.map(|z| self.url_of(ctx, Kind::Catalogus, z.catalogus)),
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
        }))
    }

    pub(crate) fn render_resultaattype(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let r = self.resultaattypen.get(slot)?;
        let zt = self.zaaktypen.get(r.zaaktype);
        Some(json!({
            "url": self.url_of(ctx, Kind::Resultaattype, slot),
            "zaaktype": self.url_of(ctx, Kind::Zaaktype, r.zaaktype),
            "zaaktypeIdentificatie": zt.map(|z| z.identificatie.as_str()).unwrap_or(""),
            "omschrijving": r.omschrijving,
            "resultaattypeomschrijving": "",
            "omschrijvingGeneriek": "",
            "selectielijstklasse": "",
            "toelichting": "",
            "archiefnominatie": r.archiefnominatie,
            "archiefactietermijn": format!("P{}Y", r.archiefactietermijn_jaren),
            "brondatumArchiefprocedure": {
                "afleidingswijze": "afgehandeld",
                "datumkenmerk": "",
                "einddatumBekend": false,
                "objecttype": "",
                "registratie": "",
                "procestermijn": null,
            },
            "catalogus": zt.map(|z| self.url_of(ctx, Kind::Catalogus, z.catalogus)),
            "besluittypen": [],
            "informatieobjecttypen": [],
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
        }))
    }

    pub(crate) fn render_eigenschap(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let e = self.eigenschappen.get(slot)?;
        let zt = self.zaaktypen.get(e.zaaktype);
        Some(json!({
            "url": self.url_of(ctx, Kind::Eigenschap, slot),
            "naam": e.naam,
            "definitie": format!("Het {} van de zaak", e.naam),
            "specificatie": {
                "groep": "",
                "formaat": "tekst",
                "lengte": "20",
                "kardinaliteit": "1",
                "waardenverzameling": [],
            },
            "toelichting": "",
            "zaaktype": self.url_of(ctx, Kind::Zaaktype, e.zaaktype),
            "zaaktypeIdentificatie": zt.map(|z| z.identificatie.as_str()).unwrap_or(""),
            "catalogus": zt.map(|z| self.url_of(ctx, Kind::Catalogus, z.catalogus)),
            "statustype": null,
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
        }))
    }

    pub(crate) fn render_iot(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let i = self.iots.get(slot)?;
        let zaaktypen: Vec<u32> = self
            .zaaktypen
            .iter()
            .filter(|(_, z)| z.informatieobjecttypen.contains(&slot))
            .map(|(s, _)| s)
            .collect();
        Some(json!({
            "url": self.url_of(ctx, Kind::Iot, slot),
            "catalogus": self.url_of(ctx, Kind::Catalogus, i.catalogus),
            "omschrijving": i.omschrijving,
            "vertrouwelijkheidaanduiding": i.va.as_str(),
            "beginGeldigheid": "2019-01-01",
            "eindeGeldigheid": null,
            "concept": false,
            "besluittypen": [],
            "informatieobjectcategorie": "Overig",
            "trefwoord": [],
            "zaaktypen": self.urls(ctx, Kind::Zaaktype, &zaaktypen),
        }))
    }

    /// The `inhoud` URL of a document.
    pub(crate) fn download_url(&self, ctx: &Ctx, slot: u32) -> String {
        let d = self.documents.get(slot);
        format!(
            "{}/download?versie={}",
            self.url_of(ctx, Kind::Document, slot),
            d.map_or(1, |d| d.versie)
        )
    }

    pub(crate) fn document_len(&self, slot: u32) -> usize {
        self.documents.get(slot).map_or(0, |d| {
            d.content
                .as_ref()
                .map_or(self.shared_content.len(), bytes::Bytes::len)
        })
    }

    pub(crate) fn render_document(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let d = self.documents.get(slot)?;
        let m = obj(json!({
            "url": self.url_of(ctx, Kind::Document, slot),
            "identificatie": d.identificatie,
            "bronorganisatie": d.bronorganisatie,
            "creatiedatum": d.creatiedatum.to_string(),
            "titel": d.titel,
            "vertrouwelijkheidaanduiding": d.va.as_str(),
            "isGereedVoorPublicatie": d.is_gereed_voor_publicatie,
            "tonenAanInitiator": false,
            "auteur": d.auteur,
            "status": d.status,
            "inhoudIsVervallen": false,
            "formaat": d.formaat,
            "taal": d.taal,
            "versie": d.versie,
            "beginRegistratie": d.beginregistratie.to_string(),
            "bestandsnaam": d.bestandsnaam,
            "inhoud": self.download_url(ctx, slot),
            "bestandsomvang": self.document_len(slot),
            "link": "",
            "beschrijving": "",
            "ontvangstdatum": null,
            "verzenddatum": null,
            "indicatieGebruiksrecht": self
                .gebruiksrechten
                .iter()
                .any(|(_, g)| g.document == slot)
                .then_some(true),
            "verschijningsvorm": "",
            "ondertekening": {"soort": "", "datum": null},
            "integriteit": {"algoritme": "", "waarde": "", "datum": null},
            "informatieobjecttype": self.url_of(ctx, Kind::Iot, d.informatieobjecttype),
            "locked": !d.lock.is_empty(),
            "bestandsdelen": [],
            "trefwoorden": [],
        }));
        Some(with_extra(m, &d.extra))
    }

    pub(crate) fn render_gebruiksrecht(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let g = self.gebruiksrechten.get(slot)?;
        Some(json!({
            "url": self.url_of(ctx, Kind::Gebruiksrecht, slot),
            "informatieobject": self.url_of(ctx, Kind::Document, g.document),
            "startdatum": g.startdatum.to_string(),
            "einddatum": null,
            "omschrijvingVoorwaarden": g.omschrijving_voorwaarden,
        }))
    }

    pub(crate) fn render_oio(&self, ctx: &Ctx, slot: u32) -> Option<Value> {
        let o = self.oios.get(slot)?;
        let object = match o.zaak {
            Some(z) => self.url_of(ctx, Kind::Zaak, z),
            None => o.object.clone(),
        };
        Some(json!({
            "url": self.url_of(ctx, Kind::Oio, slot),
            "informatieobject": self.url_of(ctx, Kind::Document, o.document),
            "object": object,
            "objectType": o.object_type,
        }))
    }
}

const COMPONENT_WEERGAVE: &[(&str, &str)] = &[
    ("ac", "Autorisatiecomponent"),
    ("nrc", "Notificatierouteringcomponent"),
    ("zrc", "Zaakregistratiecomponent"),
    ("ztc", "Zaaktypecatalogus"),
    ("drc", "Documentregistratiecomponent"),
    ("brc", "Besluitregistratiecomponent"),
    ("cmc", "Contactmomenten API"),
    ("kc", "Klanten API"),
    ("vrc", "Verzoeken API"),
];

/// An Applicatie as the AC renders it.
pub(crate) fn render_applicatie(ctx: &Ctx, a: &Applicatie) -> Value {
    let autorisaties: Vec<Value> = a
        .autorisaties
        .iter()
        .map(|au| {
            let component = au.get("component").and_then(Value::as_str).unwrap_or("");
            let weergave = COMPONENT_WEERGAVE
                .iter()
                .find(|(c, _)| *c == component)
                .map_or("", |(_, w)| *w);
            let mut m = Map::new();
            m.insert("component".into(), json!(component));
            m.insert("componentWeergave".into(), json!(weergave));
            m.insert(
                "scopes".into(),
                au.get("scopes").cloned().unwrap_or_else(|| json!([])),
            );
            let fields: &[&str] = match component {
                "zrc" => &["zaaktype", "maxVertrouwelijkheidaanduiding"],
                "drc" => &["informatieobjecttype", "maxVertrouwelijkheidaanduiding"],
                "brc" => &["besluittype"],
                _ => &[],
            };
            for f in fields {
                m.insert(
                    (*f).to_owned(),
                    au.get(*f).cloned().unwrap_or_else(|| json!("")),
                );
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "url": ctx.url(Kind::Applicatie, a.uuid),
        "clientIds": a.client_ids,
        "label": a.label,
        "heeftAlleAutorisaties": a.heeft_alle_autorisaties,
        "alleenIsGereedVoorPublicatie": a.alleen_is_gereed_voor_publicatie,
        "autorisaties": autorisaties,
    })
}
