//! Sonic in a Worker on a Durable Object's database: each statement (or atomic batch) is sent
//! to the object, which runs it with [`serve_sql`] on its own storage.

use sonic_db_core::{Capabilities, Error, QueryResult, Result, SqlBackend, Statement};
use worker::{Env, Method, Request, RequestInit, Response, Stub};

use crate::wire::{WireRequest, WireResponse};
use crate::DoSqlBackend;

/// A Sonic SQL backend in a Worker, on the database of one Durable Object reached through
/// its stub; the object answers with [`serve_sql`].
///
/// Every statement is a round trip to the object, as on D1, so the capabilities are D1's
/// (eager relations load in one statement).
///
/// ```no_run
/// use sonic_db_core::Db;
/// use sonic_db_do::DoStubBackend;
///
/// fn tenant_db(env: &worker::Env, tenant: &str) -> sonic_db_core::Result<Db> {
///     Ok(Db::new(DoStubBackend::from_env(env, "OBJECTS", tenant)?))
/// }
/// ```
pub struct DoStubBackend {
    stub: Stub,
    capabilities: Capabilities,
}

impl DoStubBackend {
    /// The backend of the object behind `stub`.
    pub fn new(stub: Stub) -> Self {
        DoStubBackend {
            stub,
            capabilities: Capabilities::D1,
        }
    }

    /// The backend of the object named `name` in the Durable Object namespace `binding`.
    pub fn from_env(env: &Env, binding: &str, name: &str) -> Result<Self> {
        let stub = env
            .durable_object(binding)
            .and_then(|namespace| namespace.id_from_name(name)?.get_stub())
            .map_err(|e| Error::Database {
                message: format!("Durable Object `{binding}` / `{name}`: {e}"),
            })?;
        Ok(DoStubBackend::new(stub))
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    async fn send(&self, statements: &[Statement], atomic: bool) -> Result<Vec<QueryResult>> {
        let body = serde_json::to_string(&WireRequest::new(statements, atomic))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init("https://sonic-do.internal/sql", &init)
            .map_err(|e| transport(&e))?;
        let mut response = self
            .stub
            .fetch_with_request(request)
            .await
            .map_err(|e| transport(&e))?;
        let text = response.text().await.map_err(|e| transport(&e))?;
        if response.status_code() != 200 {
            return Err(Error::Database {
                message: format!(
                    "the Durable Object answered {}: {text}",
                    response.status_code()
                ),
            });
        }
        serde_json::from_str::<WireResponse>(&text)?.into_result()
    }
}

fn transport(e: &worker::Error) -> Error {
    Error::Database {
        message: format!("Durable Object request: {e}"),
    }
}

#[cfg(target_arch = "wasm32")]
#[async_trait::async_trait(?Send)]
impl SqlBackend for DoStubBackend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        crate::check(&self.capabilities, statement)?;
        let mut results = self.send(std::slice::from_ref(statement), false).await?;
        results.pop().ok_or_else(|| Error::Database {
            message: "the Durable Object returned no result".to_string(),
        })
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        statements
            .iter()
            .try_for_each(|s| crate::check(&self.capabilities, s))?;
        self.send(statements, true).await
    }
}

/// Natively there is no Durable Object: statements are checked as on wasm32, then fail.
#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
impl SqlBackend for DoStubBackend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        crate::check(&self.capabilities, statement)?;
        Err(crate::not_in_a_worker())
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        statements
            .iter()
            .try_for_each(|s| crate::check(&self.capabilities, s))?;
        Err(crate::not_in_a_worker())
    }
}

/// Answers a [`DoStubBackend`]'s request inside the object: runs the statements on the
/// object's storage (a batch as one transaction) and returns the results, or the error to
/// classify again on the caller's side. Route only the stub's requests here: whoever reaches
/// it runs SQL on the object's database.
///
/// ```no_run
/// async fn fetch(backend: &sonic_db_do::DoSqlBackend, req: worker::Request) -> worker::Result<worker::Response> {
///     match req.path().as_str() {
///         "/sql" => sonic_db_do::serve_sql(backend, req).await,
///         _ => worker::Response::error("not found", 404),
///     }
/// }
/// ```
pub async fn serve_sql(backend: &DoSqlBackend, mut req: Request) -> worker::Result<Response> {
    let body = req.text().await?;
    let request: WireRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(e) => return Response::error(format!("not a Sonic SQL request: {e}"), 400),
    };
    let atomic = request.atomic;
    let statements = request.into_statements();
    let result = match (atomic, statements.as_slice()) {
        (true, _) => backend.batch(&statements).await,
        (false, [one]) => backend.execute(one).await.map(|result| vec![result]),
        (false, _) => return Response::error("one statement, or an atomic batch", 400),
    };
    Response::from_json(&WireResponse::from_result(result))
}
