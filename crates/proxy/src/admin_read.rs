//! The admin API on the admin listener, for a token holding `[server] admin_scope`: the
//! register, the rights matrix and the change the last reload made, as JSON. Every call — a
//! read, a refusal, an unauthenticated probe — is recorded before it is answered.

use std::sync::Arc;

use serde_json::{Value, json};
use sluis_rights::{Filter, Glob};

use crate::context::{Incoming, bounded_list};
use crate::error::{ProxyError, Refusal, RequestFault};
use crate::problem::Body;
use crate::record::Reply;
use crate::state::{Runtime, Shared};

/// `GET /admin/register`, `GET /admin/rights?field=&app=&scope=`, `GET /admin/rights/changes`.
pub async fn read(shared: Arc<Shared>, req: Incoming) -> hyper::Response<Body> {
    let rt = shared.runtime.load_full();
    let mut ctx = crate::pipeline::begin(&rt, req);
    ctx.trail.api = "admin".into();
    let path = ctx.request.path.clone();
    ctx.trail.operation = match path.as_str() {
        "/admin/register" => "admin.register",
        "/admin/rights" => "admin.rights",
        "/admin/rights/changes" => "admin.rights.changes",
        _ => "admin.unknown",
    }
    .into();
    let result = match rt.config.admin_scope.clone() {
        None => Err(ProxyError::NotFound),
        Some(scope) => match crate::pipeline::authenticate(&rt, &mut ctx).await {
            Err(e) => Err(e),
            Ok(principal) if !principal.has_scope(&scope) => {
                Err(ProxyError::Forbidden(Refusal::AdminScope))
            }
            Ok(_) => {
                let params = crate::query::parse(ctx.request.query.as_deref())
                    .ok_or(ProxyError::BadRequest(RequestFault::QueryNotUtf8));
                match params {
                    Err(e) => Err(e),
                    Ok(params) => {
                        ctx.trail.params = bounded_list(params.iter().map(|(k, _)| k));
                        // The matrix decides every field for every application: not on an
                        // async worker.
                        let rt = Arc::clone(&rt);
                        let path = path.clone();
                        tokio::task::spawn_blocking(move || answer(&rt, &path, &params))
                            .await
                            .unwrap_or_else(|e| {
                                Err(ProxyError::Internal(format!("admin read failed: {e}")))
                            })
                            .map(Reply::Json)
                    }
                }
            }
        },
    };
    crate::record::finish(&shared, ctx, result).await
}

fn answer(rt: &Runtime, path: &str, params: &[(String, String)]) -> Result<Value, ProxyError> {
    let source = &rt.rights;
    match path {
        "/admin/register" => Ok(json!({
            "policyVersion": rt.policy.version(),
            "register": source.config.register,
        })),
        "/admin/rights" => {
            let mut filter = Filter::default();
            for (k, v) in params {
                match k.as_str() {
                    "field" => filter.fields.push(Glob::new(v.clone())),
                    "app" => filter.apps.push(v.clone()),
                    "scope" => filter.scopes.push(v.clone()),
                    _ => {
                        return Err(ProxyError::BadRequest(RequestFault::InvalidParam {
                            name: k.clone(),
                            why: "not a parameter of /admin/rights (field, app, scope)",
                        }));
                    }
                }
            }
            let cells = source.rights().matrix(&filter);
            Ok(json!({"policyVersion": rt.policy.version(), "rights": cells}))
        }
        "/admin/rights/changes" => Ok(json!({
            "policyVersion": rt.policy.version(),
            "changes": rt.rights_change.get(),
        })),
        _ => Err(ProxyError::NotFound),
    }
}
