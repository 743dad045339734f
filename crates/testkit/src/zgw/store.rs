//! The fixture's data: one table per resource, indexes, and the business rules that change
//! more than one record (closing and reopening a zaak, cascading deletes).

use std::collections::HashMap;

use bytes::Bytes;

use super::model::{
    Applicatie, AuditRecord, Catalogus, Day, Document, Eigenschap, Gebruiksrecht,
    Informatieobjecttype, Klantcontact, Moment, Oio, Resultaat, Resultaattype, Rol, Roltype,
    Status, Statustype, Uuid, Zaak, Zaakeigenschap, Zaakobject, Zaaktype, Zio,
};
use crate::rng::SplitMix64;

/// Records with a UUID.
pub(crate) trait Keyed {
    fn key(&self) -> Uuid;
}

macro_rules! keyed {
    ($($t:ty),* $(,)?) => {$(
        impl Keyed for $t {
            fn key(&self) -> Uuid {
                self.uuid
            }
        }
    )*};
}

keyed!(
    Catalogus,
    Zaaktype,
    Statustype,
    Roltype,
    Resultaattype,
    Eigenschap,
    Informatieobjecttype,
    Zaak,
    Status,
    Rol,
    Resultaat,
    Zaakobject,
    Zio,
    Klantcontact,
    Zaakeigenschap,
    Document,
    Gebruiksrecht,
    Oio,
    Applicatie,
);

/// Rows in insertion order (the slot is the primary key; deleted rows leave a hole), with a
/// UUID index.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    rows: Vec<Option<T>>,
    index: HashMap<Uuid, u32>,
    live: usize,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            index: HashMap::new(),
            live: 0,
        }
    }
}

impl<T: Keyed> Table<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            rows: Vec::with_capacity(n),
            index: HashMap::with_capacity(n),
            live: 0,
        }
    }

    pub(crate) fn insert(&mut self, row: T) -> u32 {
        let slot = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        self.index.insert(row.key(), slot);
        self.rows.push(Some(row));
        self.live += 1;
        slot
    }

    pub(crate) fn get(&self, slot: u32) -> Option<&T> {
        self.rows.get(slot as usize).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.rows.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub(crate) fn slot(&self, uuid: Uuid) -> Option<u32> {
        self.index.get(&uuid).copied()
    }

    pub(crate) fn by_uuid(&self, uuid: Uuid) -> Option<(u32, &T)> {
        let slot = self.slot(uuid)?;
        self.get(slot).map(|r| (slot, r))
    }

    pub(crate) fn remove(&mut self, slot: u32) -> Option<T> {
        let row = self.rows.get_mut(slot as usize).and_then(Option::take)?;
        self.index.remove(&row.key());
        self.live -= 1;
        Some(row)
    }

    /// Live rows, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (u32, &T)> {
        self.rows.iter().enumerate().filter_map(|(i, r)| {
            r.as_ref()
                .map(|r| (u32::try_from(i).unwrap_or(u32::MAX), r))
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Gives back the capacity left over from growing.
    pub(crate) fn shrink(&mut self) {
        self.rows.shrink_to_fit();
        self.index.shrink_to_fit();
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.index.clear();
        self.live = 0;
    }
}

/// Everything the fixture serves.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) catalogussen: Table<Catalogus>,
    pub(crate) zaaktypen: Table<Zaaktype>,
    pub(crate) statustypen: Table<Statustype>,
    pub(crate) roltypen: Table<Roltype>,
    pub(crate) resultaattypen: Table<Resultaattype>,
    pub(crate) eigenschappen: Table<Eigenschap>,
    pub(crate) iots: Table<Informatieobjecttype>,
    pub(crate) zaken: Table<Zaak>,
    /// Zaak slots per zaaktype slot, ascending.
    pub(crate) by_zaaktype: Vec<Vec<u32>>,
    pub(crate) statussen: Table<Status>,
    pub(crate) rollen: Table<Rol>,
    pub(crate) resultaten: Table<Resultaat>,
    pub(crate) zaakobjecten: Table<Zaakobject>,
    pub(crate) zios: Table<Zio>,
    pub(crate) klantcontacten: Table<Klantcontact>,
    pub(crate) zaakeigenschappen: Table<Zaakeigenschap>,
    pub(crate) documents: Table<Document>,
    pub(crate) gebruiksrechten: Table<Gebruiksrecht>,
    pub(crate) oios: Table<Oio>,
    pub(crate) audit: Vec<AuditRecord>,
    pub(crate) applicaties: Table<Applicatie>,
    /// JWT secrets of registered clients (the configured superuser client is separate).
    pub(crate) secrets: HashMap<String, String>,
    /// The content every generated document serves.
    pub(crate) shared_content: Bytes,
    /// Fresh UUIDs and other run-time randomness.
    pub(crate) rng: Option<SplitMix64>,
    /// Next number for a generated zaak identificatie.
    pub(crate) zaak_seq: u64,
    pub(crate) document_seq: u64,
}

/// Why a status could not be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusError {
    /// The statustype belongs to another zaaktype.
    ZaaktypeMismatch,
    /// An eindstatus needs a resultaat first (OZ `resultaat-does-not-exist`).
    NoResultaat,
}

impl Store {
    pub(crate) fn new_uuid(&mut self) -> Uuid {
        let rng = self.rng.get_or_insert_with(|| SplitMix64::new(0x5eed));
        Uuid::random(rng)
    }

    /// Releases spare capacity after bulk generation.
    pub(crate) fn shrink(&mut self) {
        self.zaken.shrink();
        self.statussen.shrink();
        self.rollen.shrink();
        self.resultaten.shrink();
        self.zaakobjecten.shrink();
        self.zios.shrink();
        self.zaakeigenschappen.shrink();
        self.oios.shrink();
        self.documents.shrink();
        for list in &mut self.by_zaaktype {
            list.shrink_to_fit();
        }
    }

    pub(crate) fn add_zaak(&mut self, zaak: Zaak) -> u32 {
        let zt = zaak.zaaktype as usize;
        let slot = self.zaken.insert(zaak);
        if self.by_zaaktype.len() <= zt {
            self.by_zaaktype.resize_with(zt + 1, Vec::new);
        }
        if let Some(list) = self.by_zaaktype.get_mut(zt) {
            list.push(slot);
        }
        slot
    }

    pub(crate) fn add_zaaktype(&mut self, zt: Zaaktype) -> u32 {
        let slot = self.zaaktypen.insert(zt);
        if self.by_zaaktype.len() <= slot as usize {
            self.by_zaaktype.resize_with(slot as usize + 1, Vec::new);
        }
        slot
    }

    pub(crate) fn add_statustype(&mut self, st: Statustype) -> u32 {
        let zt = st.zaaktype;
        let slot = self.statustypen.insert(st);
        if let Some(z) = self.zaaktypen.get_mut(zt) {
            z.statustypen.push(slot);
        }
        slot
    }

    pub(crate) fn add_roltype(&mut self, rt: Roltype) -> u32 {
        let zt = rt.zaaktype;
        let slot = self.roltypen.insert(rt);
        if let Some(z) = self.zaaktypen.get_mut(zt) {
            z.roltypen.push(slot);
        }
        slot
    }

    pub(crate) fn add_resultaattype(&mut self, rt: Resultaattype) -> u32 {
        let zt = rt.zaaktype;
        let slot = self.resultaattypen.insert(rt);
        if let Some(z) = self.zaaktypen.get_mut(zt) {
            z.resultaattypen.push(slot);
        }
        slot
    }

    pub(crate) fn add_eigenschap(&mut self, e: Eigenschap) -> u32 {
        let zt = e.zaaktype;
        let slot = self.eigenschappen.insert(e);
        if let Some(z) = self.zaaktypen.get_mut(zt) {
            z.eigenschappen.push(slot);
        }
        slot
    }

    /// Whether the statustype is the last of its zaaktype (highest volgnummer).
    pub(crate) fn is_eindstatus(&self, statustype: u32) -> bool {
        let Some(st) = self.statustypen.get(statustype) else {
            return false;
        };
        let Some(zt) = self.zaaktypen.get(st.zaaktype) else {
            return false;
        };
        zt.statustypen
            .iter()
            .filter_map(|s| self.statustypen.get(*s))
            .all(|other| other.volgnummer <= st.volgnummer)
    }

    /// The zaak's current status: latest `datumStatusGezet`, then the newest.
    pub(crate) fn current_status(&self, zaak: &Zaak) -> Option<u32> {
        zaak.statussen
            .iter()
            .filter_map(|s| self.statussen.get(*s).map(|st| (st.datum_status_gezet, *s)))
            .max()
            .map(|(_, s)| s)
    }

    /// Adds a status and applies its consequences to the zaak, as OZ's `StatusSerializer`
    /// does: an eindstatus closes the zaak (einddatum, archiefnominatie, archiefactiedatum
    /// from the resultaattype); any other status on a closed zaak reopens it and nulls those
    /// three fields (zrc-008).
    pub(crate) fn add_status(&mut self, status: Status) -> Result<u32, StatusError> {
        let zaak_slot = status.zaak;
        let is_eind = self.is_eindstatus(status.statustype);
        let moment = status.datum_status_gezet;
        let (zt_ok, resultaat) = {
            let Some(zaak) = self.zaken.get(zaak_slot) else {
                return Err(StatusError::ZaaktypeMismatch);
            };
            let st_zt = self.statustypen.get(status.statustype).map(|s| s.zaaktype);
            (st_zt == Some(zaak.zaaktype), zaak.resultaat)
        };
        if !zt_ok {
            return Err(StatusError::ZaaktypeMismatch);
        }
        let archive = if is_eind {
            let Some(rt) = resultaat
                .and_then(|r| self.resultaten.get(r))
                .and_then(|r| self.resultaattypen.get(r.resultaattype))
            else {
                return Err(StatusError::NoResultaat);
            };
            Some((rt.archiefnominatie, rt.archiefactietermijn_jaren))
        } else {
            None
        };
        let slot = self.statussen.insert(status);
        if let Some(zaak) = self.zaken.get_mut(zaak_slot) {
            zaak.statussen.push(slot);
            match archive {
                Some((nominatie, jaren)) => {
                    let eind = moment.day();
                    zaak.einddatum = Some(eind);
                    zaak.archiefnominatie = Some(nominatie.to_owned());
                    zaak.archiefactiedatum = Some(eind.plus_years(jaren));
                }
                None => {
                    if zaak.einddatum.is_some() {
                        zaak.archiefnominatie = None;
                        zaak.archiefactiedatum = None;
                    }
                    zaak.einddatum = None;
                }
            }
        }
        Ok(slot)
    }

    pub(crate) fn add_rol(&mut self, rol: Rol) -> u32 {
        let zaak = rol.zaak;
        let slot = self.rollen.insert(rol);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.rollen.push(slot);
        }
        slot
    }

    pub(crate) fn add_resultaat(&mut self, r: Resultaat) -> u32 {
        let zaak = r.zaak;
        let slot = self.resultaten.insert(r);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.resultaat = Some(slot);
        }
        slot
    }

    pub(crate) fn add_zaakobject(&mut self, o: Zaakobject) -> u32 {
        let zaak = o.zaak;
        let slot = self.zaakobjecten.insert(o);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.zaakobjecten.push(slot);
        }
        slot
    }

    /// Adds the link and, for a document of this fixture, the objectinformatieobject the DRC
    /// keeps for it (as OZ does with its local DRC).
    pub(crate) fn add_zio(&mut self, mut zio: Zio) -> u32 {
        if let Some(doc) = zio.document {
            let uuid = self.new_uuid();
            let oio = self.oios.insert(Oio {
                uuid,
                document: doc,
                zaak: Some(zio.zaak),
                object: String::new(),
                object_type: "zaak".to_owned(),
            });
            zio.oio = Some(oio);
        }
        let zaak = zio.zaak;
        let slot = self.zios.insert(zio);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.zios.push(slot);
        }
        slot
    }

    pub(crate) fn add_klantcontact(&mut self, k: Klantcontact) -> u32 {
        let zaak = k.zaak;
        let slot = self.klantcontacten.insert(k);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.klantcontacten.push(slot);
        }
        slot
    }

    pub(crate) fn add_zaakeigenschap(&mut self, e: Zaakeigenschap) -> u32 {
        let zaak = e.zaak;
        let slot = self.zaakeigenschappen.insert(e);
        if let Some(z) = self.zaken.get_mut(zaak) {
            z.eigenschappen.push(slot);
        }
        slot
    }

    /// Removes the zaak, everything that hangs from it and its audit trail (C9 rule 39).
    pub(crate) fn delete_zaak(&mut self, slot: u32) -> Option<Zaak> {
        let zaak = self.zaken.remove(slot)?;
        for s in &zaak.statussen {
            self.statussen.remove(*s);
        }
        for r in &zaak.rollen {
            self.rollen.remove(*r);
        }
        for o in &zaak.zaakobjecten {
            self.zaakobjecten.remove(*o);
        }
        for z in &zaak.zios {
            if let Some(zio) = self.zios.remove(*z)
                && let Some(oio) = zio.oio
            {
                self.oios.remove(oio);
            }
        }
        for k in &zaak.klantcontacten {
            self.klantcontacten.remove(*k);
        }
        for e in &zaak.eigenschappen {
            self.zaakeigenschappen.remove(*e);
        }
        if let Some(r) = zaak.resultaat {
            self.resultaten.remove(r);
        }
        if let Some(list) = self.by_zaaktype.get_mut(zaak.zaaktype as usize) {
            list.retain(|s| *s != slot);
        }
        self.audit.retain(|a| a.hoofd != zaak.uuid);
        Some(zaak)
    }

    pub(crate) fn delete_status(&mut self, slot: u32) {
        if let Some(s) = self.statussen.remove(slot)
            && let Some(z) = self.zaken.get_mut(s.zaak)
        {
            z.statussen.retain(|x| *x != slot);
        }
    }

    pub(crate) fn delete_rol(&mut self, slot: u32) {
        if let Some(r) = self.rollen.remove(slot)
            && let Some(z) = self.zaken.get_mut(r.zaak)
        {
            z.rollen.retain(|x| *x != slot);
        }
    }

    pub(crate) fn delete_resultaat(&mut self, slot: u32) {
        if let Some(r) = self.resultaten.remove(slot)
            && let Some(z) = self.zaken.get_mut(r.zaak)
        {
            z.resultaat = None;
        }
    }

    pub(crate) fn delete_zaakobject(&mut self, slot: u32) {
        if let Some(o) = self.zaakobjecten.remove(slot)
            && let Some(z) = self.zaken.get_mut(o.zaak)
        {
            z.zaakobjecten.retain(|x| *x != slot);
        }
    }

    pub(crate) fn delete_zio(&mut self, slot: u32) {
        if let Some(zio) = self.zios.remove(slot) {
            if let Some(oio) = zio.oio {
                self.oios.remove(oio);
            }
            if let Some(z) = self.zaken.get_mut(zio.zaak) {
                z.zios.retain(|x| *x != slot);
            }
        }
    }

    pub(crate) fn delete_klantcontact(&mut self, slot: u32) {
        if let Some(k) = self.klantcontacten.remove(slot)
            && let Some(z) = self.zaken.get_mut(k.zaak)
        {
            z.klantcontacten.retain(|x| *x != slot);
        }
    }

    pub(crate) fn delete_zaakeigenschap(&mut self, slot: u32) {
        if let Some(e) = self.zaakeigenschappen.remove(slot)
            && let Some(z) = self.zaken.get_mut(e.zaak)
        {
            z.eigenschappen.retain(|x| *x != slot);
        }
    }

    /// Removes a document with its gebruiksrechten, objectinformatieobjecten and audit trail.
    pub(crate) fn delete_document(&mut self, slot: u32) -> Option<Document> {
        let doc = self.documents.remove(slot)?;
        let rechten: Vec<u32> = self
            .gebruiksrechten
            .iter()
            .filter(|(_, g)| g.document == slot)
            .map(|(s, _)| s)
            .collect();
        for g in rechten {
            self.gebruiksrechten.remove(g);
        }
        let oios: Vec<u32> = self
            .oios
            .iter()
            .filter(|(_, o)| o.document == slot)
            .map(|(s, _)| s)
            .collect();
        for o in oios {
            self.oios.remove(o);
        }
        for (_, zio) in self.zios.rows_mut() {
            if zio.document == Some(slot) {
                zio.document = None;
                zio.oio = None;
            }
        }
        self.audit.retain(|a| a.hoofd != doc.uuid);
        Some(doc)
    }

    /// Forgets a deleted objectinformatieobject on the zaak side.
    pub(crate) fn detach_oio(&mut self, oio: u32) {
        for (_, zio) in self.zios.rows_mut() {
            if zio.oio == Some(oio) {
                zio.oio = None;
            }
        }
    }

    /// The applicatie holding `client_id`.
    pub(crate) fn applicatie_for(&self, client_id: &str) -> Option<&Applicatie> {
        self.applicaties
            .iter()
            .map(|(_, a)| a)
            .find(|a| a.client_ids.iter().any(|c| c == client_id))
    }

    /// The audit records of one main object, oldest first.
    pub(crate) fn audit_of(&self, hoofd: Uuid) -> Vec<&AuditRecord> {
        self.audit.iter().filter(|a| a.hoofd == hoofd).collect()
    }

    pub(crate) fn next_zaak_identificatie(&mut self, year: i32) -> String {
        self.zaak_seq += 1;
        format!("ZAAK-{year}-{:010}", self.zaak_seq)
    }

    pub(crate) fn next_document_identificatie(&mut self, year: i32) -> String {
        self.document_seq += 1;
        format!("DOCUMENT-{year}-{:010}", self.document_seq)
    }
}

impl<T> Table<T> {
    fn rows_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> {
        self.rows
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| r.as_mut().map(|r| (i, r)))
    }
}

/// Today (UTC) as a [`Day`].
pub(crate) fn today() -> Day {
    Moment::now().day()
}
