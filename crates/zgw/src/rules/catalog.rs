//! What the rules may name: ZGW resources and their actions, rol descriptions and the standard's
//! scopes. Validation checks every name in a rules file against these tables, so a typo is a
//! configuration error instead of a rule that silently never matches.

/// An operation on a resource, named as in the OAS `operationId`s (`zaak__zoek` is `search`,
/// `zaaknotitie_read` is `retrieve`, `zaaknotitie_delete` is `destroy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    List,
    Retrieve,
    Search,
    Create,
    Update,
    PartialUpdate,
    Destroy,
    Download,
    Lock,
    Unlock,
    Publish,
}

/// How many [`Action`]s there are: the length of per-action lookup arrays.
pub(crate) const ACTION_COUNT: usize = 11;

/// Every action, in [`Action::index`] order.
pub(crate) const ACTIONS: [Action; ACTION_COUNT] = [
    Action::List,
    Action::Retrieve,
    Action::Search,
    Action::Create,
    Action::Update,
    Action::PartialUpdate,
    Action::Destroy,
    Action::Download,
    Action::Lock,
    Action::Unlock,
    Action::Publish,
];

impl Action {
    /// The action a name stands for, as written in a rules file and passed by the caller.
    pub fn parse(name: &str) -> Option<Action> {
        ACTIONS.iter().copied().find(|a| a.as_str() == name)
    }

    /// The name as written in a rules file.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Retrieve => "retrieve",
            Action::Search => "search",
            Action::Create => "create",
            Action::Update => "update",
            Action::PartialUpdate => "partial_update",
            Action::Destroy => "destroy",
            Action::Download => "download",
            Action::Lock => "lock",
            Action::Unlock => "unlock",
            Action::Publish => "publish",
        }
    }

    /// The position in per-action lookup arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// True for the actions that change data (the ones a `[[writes]]` rule may name).
    pub(crate) fn writes_body(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::PartialUpdate
        )
    }
}

use Action::{
    Create, Destroy, Download, List, Lock, PartialUpdate, Publish, Retrieve, Search, Unlock, Update,
};

const READ: &[Action] = &[List, Retrieve];
const CRUD: &[Action] = &[List, Retrieve, Create, Update, PartialUpdate, Destroy];
const CREATE_DESTROY: &[Action] = &[List, Retrieve, Create, Destroy];
const PUBLISHED_TYPE: &[Action] = &[
    List,
    Retrieve,
    Create,
    Update,
    PartialUpdate,
    Destroy,
    Publish,
];

/// The ZGW resources and the actions each offers. Zaken and Documenten follow the operationIds
/// of the Zaken 1.7.0 and Documenten 1.7.1 OAS (HEAD maps to `retrieve`); Besluiten and Catalogi
/// follow their scope tables.
pub const RESOURCES: &[(&str, &[Action])] = &[
    // Zaken API (zrc)
    (
        "zaak",
        &[
            List,
            Retrieve,
            Search,
            Create,
            Update,
            PartialUpdate,
            Destroy,
        ],
    ),
    ("status", &[List, Retrieve, Create]),
    ("rol", CREATE_DESTROY),
    ("resultaat", CRUD),
    ("zaakobject", CRUD),
    ("zaakinformatieobject", CRUD),
    ("klantcontact", &[List, Retrieve, Create]),
    ("zaakcontactmoment", CREATE_DESTROY),
    ("zaakverzoek", CREATE_DESTROY),
    ("zaakbesluit", CREATE_DESTROY),
    ("zaakeigenschap", CRUD),
    ("zaaknotitie", CRUD),
    ("audittrail", READ),
    // Documenten API (drc)
    (
        "enkelvoudiginformatieobject",
        &[
            List,
            Retrieve,
            Search,
            Create,
            Update,
            PartialUpdate,
            Destroy,
            Download,
            Lock,
            Unlock,
        ],
    ),
    ("gebruiksrechten", CRUD),
    ("objectinformatieobject", CREATE_DESTROY),
    ("bestandsdeel", &[Update]),
    ("verzending", CRUD),
    // Besluiten API (brc)
    ("besluit", CRUD),
    ("besluitinformatieobject", CREATE_DESTROY),
    // Catalogi API (ztc)
    ("catalogus", &[List, Retrieve, Create]),
    ("zaaktype", PUBLISHED_TYPE),
    ("informatieobjecttype", PUBLISHED_TYPE),
    ("besluittype", PUBLISHED_TYPE),
    ("statustype", CRUD),
    ("roltype", CRUD),
    ("resultaattype", CRUD),
    ("eigenschap", CRUD),
    ("zaaktypeinformatieobjecttype", CRUD),
    ("zaakobjecttype", CRUD),
];

/// The actions a resource offers, or `None` for a name that is not a ZGW resource.
pub fn resource_actions(resource: &str) -> Option<&'static [Action]> {
    RESOURCES
        .iter()
        .find(|(name, _)| *name == resource)
        .map(|(_, actions)| *actions)
}

/// The `omschrijvingGeneriek` values of a rol (`RolOmschrijving` in vng-api-common).
pub const ROLES: &[&str] = &[
    "adviseur",
    "behandelaar",
    "belanghebbende",
    "beslisser",
    "initiator",
    "klantcontacter",
    "zaakcoordinator",
    "mede_initiator",
];

/// The scopes the ZGW OAS security blocks name (short names, without the legacy `zds.scopes.`).
pub const STANDARD_SCOPES: &[&str] = &[
    "zaken.lezen",
    "zaken.aanmaken",
    "zaken.bijwerken",
    "zaken.statussen.toevoegen",
    "zaken.heropenen",
    "zaken.geforceerd-bijwerken",
    "zaken.verwijderen",
    "audittrails.lezen",
    "documenten.lezen",
    "documenten.aanmaken",
    "documenten.bijwerken",
    "documenten.geforceerd-bijwerken",
    "documenten.verwijderen",
    "documenten.lock",
    "documenten.geforceerd-unlock",
    "besluiten.lezen",
    "besluiten.aanmaken",
    "besluiten.bijwerken",
    "besluiten.verwijderen",
    "catalogi.lezen",
    "catalogi.schrijven",
    "catalogi.geforceerd-schrijven",
    "catalogi.geforceerd-verwijderen",
    "notificaties.consumeren",
    "notificaties.publiceren",
    "autorisaties.lezen",
    "autorisaties.bijwerken",
];

/// Top-level attributes the OAS marks required in responses (Zaken 1.7.0, Documenten 1.7.1).
/// A `[[fields]]` rule below `read` on one of them makes some responses deviate from the OAS;
/// [`super::Rules::oas_deviations`] lists such rules for `sluis check`.
pub(crate) const OAS_REQUIRED: &[(&str, &[&str])] = &[
    (
        "zaak",
        &[
            "betalingsindicatieWeergave",
            "bronorganisatie",
            "deelzaken",
            "eigenschappen",
            "einddatum",
            "resultaat",
            "rollen",
            "startdatum",
            "status",
            "verantwoordelijkeOrganisatie",
            "zaakinformatieobjecten",
            "zaakobjecten",
            "zaaktype",
        ],
    ),
    (
        "status",
        &[
            "datumStatusGezet",
            "indicatieLaatstGezetteStatus",
            "statustype",
            "zaak",
            "zaakinformatieobjecten",
        ],
    ),
    (
        "rol",
        &[
            "betrokkeneType",
            "omschrijving",
            "omschrijvingGeneriek",
            "registratiedatum",
            "roltoelichting",
            "roltype",
            "statussen",
            "zaak",
        ],
    ),
    ("resultaat", &["resultaattype", "zaak"]),
    ("zaakobject", &["objectType", "zaak"]),
    (
        "zaakinformatieobject",
        &[
            "aardRelatieWeergave",
            "informatieobject",
            "registratiedatum",
            "zaak",
        ],
    ),
    ("klantcontact", &["datumtijd", "zaak"]),
    ("zaakeigenschap", &["eigenschap", "naam", "waarde", "zaak"]),
    ("zaakcontactmoment", &["contactmoment", "zaak"]),
    ("zaakverzoek", &["verzoek", "zaak"]),
    ("zaakbesluit", &["besluit"]),
    (
        "enkelvoudiginformatieobject",
        &[
            "auteur",
            "beginRegistratie",
            "bestandsdelen",
            "bronorganisatie",
            "creatiedatum",
            "informatieobjecttype",
            "locked",
            "taal",
            "titel",
            "versie",
        ],
    ),
    (
        "gebruiksrechten",
        &["informatieobject", "omschrijvingVoorwaarden", "startdatum"],
    ),
    (
        "objectinformatieobject",
        &["informatieobject", "object", "objectType"],
    ),
    (
        "verzending",
        &[
            "aardRelatie",
            "betrokkene",
            "contactPersoon",
            "informatieobject",
        ],
    ),
];

/// True when the OAS marks this top-level attribute of the resource required in responses.
pub(crate) fn oas_required(resource: &str, attribute: &str) -> bool {
    OAS_REQUIRED
        .iter()
        .any(|(r, attributes)| *r == resource && attributes.contains(&attribute))
}

/// The prefix the design notes and the spec prose put before scope names.
pub(crate) const LEGACY_SCOPE_PREFIX: &str = "zds.scopes.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_index_in_order() {
        for (i, a) in ACTIONS.iter().enumerate() {
            assert_eq!(a.index(), i);
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Action::parse("read"), None);
    }

    #[test]
    fn resources_are_unique() {
        for (i, (name, _)) in RESOURCES.iter().enumerate() {
            assert!(
                RESOURCES.iter().skip(i + 1).all(|(other, _)| other != name),
                "{name} listed twice"
            );
        }
    }
}
