//! The audit trail Open Zaak writes for successful API writes (commonground-api-common
//! `AuditTrailMixin.create_audittrail`): one record per create, update, partial update and
//! destroy, with the full bodies before and after. Reads and failures are not recorded; a
//! deleted main object takes its whole trail with it (C9 rules 38 and 39).

use serde_json::{Value, json};

use super::http::Req;
use super::model::{AuditRecord, Moment, Uuid};
use super::store::Store;

/// What was written.
#[derive(Debug)]
pub(crate) struct Write<'a> {
    pub(crate) bron: &'static str,
    pub(crate) actie: &'static str,
    pub(crate) resultaat: u16,
    pub(crate) hoofd: Uuid,
    pub(crate) hoofd_url: &'a str,
    pub(crate) resource: &'static str,
    pub(crate) resource_url: &'a str,
    pub(crate) weergave: String,
    pub(crate) oud: Option<Value>,
    pub(crate) nieuw: Option<Value>,
}

fn actie_weergave(actie: &str) -> &'static str {
    match actie {
        "create" => "Object aangemaakt",
        "list" => "Lijst van objecten opgehaald",
        "retrieve" => "Object opgehaald",
        "destroy" => "Object verwijderd",
        "update" => "Object bijgewerkt",
        "partial_update" => "Object deels bijgewerkt",
        _ => "",
    }
}

/// Appends a record for `write`, made by the caller of `req`.
pub(crate) fn record(store: &mut Store, req: &Req, write: Write<'_>) {
    let (app_id, app_label) = match store.applicatie_for(&req.caller.client_id) {
        Some(a) => (a.uuid.to_string(), a.label.clone()),
        None => {
            let header = req
                .header("x-nlx-request-application-id")
                .unwrap_or("")
                .to_owned();
            (header.clone(), header)
        }
    };
    let uuid = store.new_uuid();
    let body = json!({
        "uuid": uuid.to_string(),
        "bron": write.bron,
        "applicatieId": app_id,
        "applicatieWeergave": app_label,
        "gebruikersId": req.caller.user_id,
        "gebruikersWeergave": req.caller.user_representation,
        "actie": write.actie,
        "actieWeergave": actie_weergave(write.actie),
        "resultaat": write.resultaat,
        "hoofdObject": write.hoofd_url,
        "resource": write.resource,
        "resourceUrl": write.resource_url,
        "toelichting": req.header("x-audit-toelichting").unwrap_or(""),
        "resourceWeergave": write.weergave,
        "aanmaakdatum": Moment::now().to_string(),
        "wijzigingen": {
            "oud": write.oud,
            "nieuw": write.nieuw,
        },
    });
    store.audit.push(AuditRecord {
        hoofd: write.hoofd,
        uuid,
        body,
    });
}
