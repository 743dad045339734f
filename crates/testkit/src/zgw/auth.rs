//! The ZGW JWT check as Open Zaak's middleware does it (commonground-api-common `JWTAuth`):
//! HS256 with a secret per `client_id`, `iat` required, expiry counted from `iat`; every
//! failure is a 403 with the OZ error code. Also mints tokens for the register endpoint.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::model::Moment;

/// The caller a valid token names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) user_representation: String,
}

/// A rejected token: OZ's code and detail message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denied {
    pub(crate) code: String,
    pub(crate) detail: String,
}

fn denied(code: &str, detail: &str) -> Denied {
    Denied {
        code: code.to_owned(),
        detail: detail.to_owned(),
    }
}

/// The token of an `Authorization` header value: exactly `Bearer <token>`, else none.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    let token = header?.strip_prefix("Bearer ")?;
    (!token.is_empty()).then_some(token)
}

/// What the check needs besides the token.
#[derive(Debug)]
pub(crate) struct Settings<'a> {
    pub(crate) superuser: (&'a str, &'a str),
    pub(crate) secrets: &'a HashMap<String, String>,
    pub(crate) expiry: u64,
    pub(crate) leeway: u64,
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Verifies a token (C1 rules 2–8).
pub(crate) fn verify(token: &str, settings: &Settings<'_>) -> Result<Caller, Denied> {
    let decode_error = || {
        denied(
            "jwt-decode-error",
            "JWT could not be decoded. Possibly you made a copy-paste mistake.",
        )
    };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(decode_error());
    };
    let header = decode_part(header).ok_or_else(decode_error)?;
    let claims = decode_part(payload).ok_or_else(decode_error)?;
    if !claims.is_object() {
        return Err(decode_error());
    }
    let Some(client_id) = claims.get("client_id") else {
        return Err(denied(
            "missing-client-identifier",
            "Client identifier is niet aanwezig in JWT",
        ));
    };
    let client_id = match client_id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let secret = if client_id == settings.superuser.0 {
        Some(settings.superuser.1)
    } else {
        settings.secrets.get(&client_id).map(String::as_str)
    };
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(denied(
            "invalid-client-identifier",
            "Client identifier bestaat niet",
        ));
    };
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(denied("jwt-invalidalgorithmerror", "JWT did not validate"));
    }
    // jsonwebtoken checks the signature only; the claims are checked below in PyJWT's order.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = settings.leeway;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_secret(secret.as_bytes());
    if let Err(e) = jsonwebtoken::decode::<Value>(token, &key, &validation) {
        return Err(match e.kind() {
            ErrorKind::InvalidSignature => denied(
                "invalid-jwt-signature",
                "Client credentials zijn niet geldig",
            ),
            ErrorKind::InvalidAlgorithm => {
                denied("jwt-invalidalgorithmerror", "JWT did not validate")
            }
            _ => denied("jwt-decodeerror", "JWT did not validate"),
        });
    }
    if claims.get("iat").is_none() {
        return Err(denied(
            "jwt-missing-iat-claim",
            "Missing required iat claim",
        ));
    }
    let now = Moment::now().0;
    let leeway = i64::try_from(settings.leeway).unwrap_or(i64::MAX);
    let number = |name: &str| claims.get(name).and_then(Value::as_f64);
    if let Some(nbf) = number("nbf")
        && nbf > (now.saturating_add(leeway)) as f64
    {
        return Err(denied("jwt-immaturesignatureerror", "JWT did not validate"));
    }
    if let Some(exp) = number("exp")
        && exp <= (now.saturating_sub(leeway)) as f64
    {
        return Err(denied("jwt-expiredsignatureerror", "JWT did not validate"));
    }
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        _ => None,
    };
    let Some(iat) = iat else {
        return Err(denied(
            "permission_denied",
            "The iat claim must be an integer.",
        ));
    };
    let age = now - iat;
    let limit = i64::try_from(settings.expiry.saturating_add(settings.leeway)).unwrap_or(i64::MAX);
    if age >= limit {
        return Err(denied(
            "jwt-expired",
            "The JWT used for this request is expired",
        ));
    }
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Ok(Caller {
        client_id,
        user_id: text("user_id"),
        user_representation: text("user_representation"),
    })
}

/// An HS256 token with `iss` = `client_id`, `iat` = now (the shape ZGW clients send).
pub(crate) fn mint(client_id: &str, secret: &str) -> Option<String> {
    let claims = json!({
        "iss": client_id,
        "iat": Moment::now().0,
        "client_id": client_id,
        "user_id": "",
        "user_representation": "",
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secrets: &HashMap<String, String>) -> Settings<'_> {
        Settings {
            superuser: ("sluis", "geheim"),
            secrets,
            expiry: 3600,
            leeway: 0,
        }
    }

    fn token(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn codes_follow_open_zaak() {
        let secrets = HashMap::from([("app".to_owned(), "s".to_owned())]);
        let s = settings(&secrets);
        let now = Moment::now().0;
        let ok = token(
            &json!({"client_id": "sluis", "iat": now, "user_id": null}),
            "geheim",
        );
        assert_eq!(verify(&ok, &s).unwrap().client_id, "sluis");
        assert_eq!(
            verify(&mint("app", "s").unwrap(), &s).unwrap().client_id,
            "app"
        );
        let code = |t: &str| verify(t, &s).unwrap_err().code;
        assert_eq!(code("abc"), "jwt-decode-error");
        assert_eq!(
            code(&token(&json!({"client_id": "sluis", "iat": now}), "fout")),
            "invalid-jwt-signature"
        );
        assert_eq!(
            code(&token(&json!({"client_id": "wie", "iat": now}), "geheim")),
            "invalid-client-identifier"
        );
        assert_eq!(
            code(&token(&json!({"iat": now}), "geheim")),
            "missing-client-identifier"
        );
        assert_eq!(
            code(&token(&json!({"client_id": "sluis"}), "geheim")),
            "jwt-missing-iat-claim"
        );
        assert_eq!(
            code(&token(
                &json!({"client_id": "sluis", "iat": now - 3600}),
                "geheim"
            )),
            "jwt-expired"
        );
        assert_eq!(
            code(&token(
                &json!({"client_id": "sluis", "iat": now, "nbf": now + 60}),
                "geheim"
            )),
            "jwt-immaturesignatureerror"
        );
        assert_eq!(bearer(Some("bearer x")), None);
        assert_eq!(bearer(Some("Bearer x")), Some("x"));
    }
}
