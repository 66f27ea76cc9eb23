//! `GET /{prefix}/openapi.json`: an OpenAPI 3.1 description of the API as the caller may use
//! it — the operations its rules allow, the fields it may see (hidden and secret ones absent
//! from read schemas) and write, the list parameters and the error shape.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use sonic_db_core::query::Op;
use sonic_db_core::{ColumnDef, SqlType, Table};

use crate::context::{Ctx, Operation};
use crate::rules::Decision;
use crate::table::TableApi;

/// The paths and component schemas one table adds.
pub(crate) struct TableDoc {
    pub(crate) paths: Vec<(String, Json)>,
    pub(crate) schemas: Vec<(String, Json)>,
}

/// The whole document.
pub(crate) fn document(prefix: &str, tables: Vec<TableDoc>) -> Json {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error", "status"],
            "properties": {
                "error": {"type": "string", "description": "what went wrong; for a 500 only the request id"},
                "status": {"type": "integer"},
                "request_id": {"type": "string"}
            }
        }),
    );
    for table in tables {
        paths.extend(table.paths);
        schemas.extend(table.schemas);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sonic table API",
            "version": "1",
            "description": format!("Tables under {prefix}/, as the caller's access rules allow.")
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "an error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                }
            }
        }
    })
}

/// The JSON Schema of one column's values, found by asking the table what it accepts (a
/// `bool` is an INTEGER column that takes `true`; a `Json<T>` a TEXT column that takes an
/// object).
fn column_schema<T: Table>(index: usize, column: &ColumnDef) -> Json {
    let accepts = |probe: Json| T::column_from_json(index, &probe).is_ok();
    let mut schema = match column.sql_type {
        SqlType::Integer if accepts(json!(true)) => json!({"type": "boolean"}),
        SqlType::Integer => {
            json!({"type": "integer", "minimum": -9_007_199_254_740_991_i64, "maximum": 9_007_199_254_740_991_i64})
        }
        SqlType::Real => json!({"type": "number"}),
        SqlType::Text if accepts(json!({})) => json!({"description": "a JSON document"}),
        SqlType::Text => json!({"type": "string"}),
        SqlType::Blob => {
            json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}})
        }
    };
    if column.nullable {
        if let Some(Json::String(kind)) = schema.get("type").cloned() {
            set(&mut schema, "type", json!([kind, "null"]));
        }
    }
    if column.audit.is_some() {
        set(&mut schema, "readOnly", json!(true));
        set(
            &mut schema,
            "description",
            json!("Unix ms, set by the server"),
        );
    }
    schema
}

fn set(schema: &mut Json, key: &str, value: Json) {
    if let Json::Object(map) = schema {
        map.insert(key.into(), value);
    }
}

fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The `truncated` member: loaded relations cut at their cap, by name, with the cap.
fn truncated() -> Json {
    json!({
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "loaded relations that held more records than their cap, by name (`posts.comments`), with the cap: only the first ones (by primary key) are in `data`"
    })
}

fn error_responses(codes: &[&str]) -> Map<String, Json> {
    codes
        .iter()
        .map(|code| {
            (
                (*code).to_string(),
                json!({"$ref": "#/components/responses/Error"}),
            )
        })
        .collect()
}

fn ok(description: &str, schema: Json) -> Json {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// One table's part, for the principal of `ctx`.
pub(crate) async fn table_doc<T, P>(table: &TableApi<T, P>, prefix: &str, ctx: Ctx<P>) -> TableDoc
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let name = T::DEF.name;
    let as_op = |operation| Ctx {
        operation,
        ..ctx.clone()
    };
    let mut allowed = Vec::new();
    for operation in [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ] {
        let yes = match table.rule(operation) {
            Some(rule) => !matches!(rule.decide(&as_op(operation)).await, Decision::Denied),
            None => false,
        };
        if yes {
            allowed.push(operation);
        }
    }
    let hidden = table.hidden_fields(&as_op(Operation::Read)).await;
    let mut read = Map::new();
    for (index, column) in T::DEF.columns.iter().enumerate() {
        if !hidden.contains(&column.field) {
            read.insert(column.field.into(), column_schema::<T>(index, column));
        }
    }
    let mut schemas = vec![(
        name.to_string(),
        json!({"type": "object", "properties": read, "description": format!("a `{name}` record (relations appear when loaded with `with`)")}),
    )];
    let input = |writable: Vec<bool>, what: &str| {
        let mut properties = Map::new();
        for (index, column) in T::DEF.columns.iter().enumerate() {
            if writable.get(index).copied().unwrap_or(false) {
                let mut schema = column_schema::<T>(index, column);
                if hidden.contains(&column.field) {
                    set(&mut schema, "writeOnly", json!(true));
                }
                properties.insert(column.field.into(), schema);
            }
        }
        json!({"type": "object", "properties": properties, "description": what})
    };
    let mut collection = Map::new();
    let mut item = Map::new();
    let id_param = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 512}});
    let with_names: Vec<&str> = table.relations.iter().map(|(n, _)| n.as_str()).collect();
    let with_param = json!({"name": "with", "in": "query", "schema": {"type": "string"},
        "description": format!("relations to load, comma-separated: {}", with_names.join(", "))});
    if allowed.contains(&Operation::Read) {
        let fields: Vec<&str> = T::DEF
            .columns
            .iter()
            .map(|c| c.field)
            .filter(|f| !hidden.contains(f))
            .collect();
        let operators: Vec<String> = Op::NAMES.iter().map(|(n, _)| format!("${n}")).collect();
        let mut responses = error_responses(&["400", "403", "413", "500"]);
        responses.insert("200".into(), ok("a page and the total", json!({
            "type": "object",
            "required": ["data", "total", "source"],
            "properties": {"data": {"type": "array", "items": reference(name)}, "total": {"type": "integer"}, "source": {"const": "d1"}, "truncated": truncated()}
        })));
        collection.insert("get".into(), json!({
            "summary": format!("list `{name}`"),
            "operationId": format!("list_{name}"),
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": table.max_page}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": format!("field[:asc|:desc], comma-separated; fields: {}", fields.join(", "))},
                {"name": "filters", "in": "query", "style": "deepObject", "explode": true, "schema": {"type": "object"},
                 "description": format!("filters[field][$op]=value; fields: {}; operators: {}", fields.join(", "), operators.join(" "))},
                with_param.clone()
            ],
            "responses": responses
        }));
        let mut responses = error_responses(&["400", "403", "404", "413", "500"]);
        responses.insert(
            "200".into(),
            ok(
                "the record, and where it was read",
                json!({
                    "type": "object", "required": ["data", "source"],
                    "properties": {"data": reference(name), "source": {"enum": ["kv", "d1"]}, "truncated": truncated()}
                }),
            ),
        );
        item.insert(
            "get".into(),
            json!({
                "summary": format!("one `{name}`"),
                "operationId": format!("get_{name}"),
                "parameters": [id_param.clone(), with_param],
                "responses": responses
            }),
        );
    }
    if allowed.contains(&Operation::Create) {
        let create_name = format!("{name}.create");
        schemas.push((
            create_name.clone(),
            input(
                table.writable_columns(&as_op(Operation::Create)).await,
                "fields of a new record",
            ),
        ));
        let mut responses = error_responses(&["400", "403", "409", "413", "415", "500"]);
        responses.insert("201".into(), ok("as stored", json!({"type": "object", "properties": {
            "data": {"oneOf": [reference(name), {"type": "array", "items": reference(name)}]}
        }})));
        collection.insert("post".into(), json!({
            "summary": format!("create one `{name}`, or many at once"),
            "operationId": format!("create_{name}"),
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "oneOf": [reference(&create_name), {"type": "array", "items": reference(&create_name)}]
            }}}},
            "responses": responses
        }));
    }
    let if_match = json!({"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "the ETag read; 412 when the record changed"});
    if allowed.contains(&Operation::Update) {
        let update_name = format!("{name}.update");
        schemas.push((
            update_name.clone(),
            input(
                table.writable_columns(&as_op(Operation::Update)).await,
                "the fields to change",
            ),
        ));
        for method in ["put", "patch"] {
            let mut responses = error_responses(&["400", "403", "404", "412", "413", "415", "500"]);
            responses.insert(
                "200".into(),
                ok(
                    "as stored",
                    json!({"type": "object", "properties": {"data": reference(name)}}),
                ),
            );
            item.insert(method.into(), json!({
                "summary": format!("change some fields of one `{name}`"),
                "operationId": format!("{method}_{name}"),
                "parameters": [id_param.clone(), if_match.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": reference(&update_name)}}},
                "responses": responses
            }));
        }
    }
    if allowed.contains(&Operation::Delete) {
        let mut responses = error_responses(&["400", "403", "404", "412", "500"]);
        responses.insert("204".into(), json!({"description": "deleted"}));
        item.insert(
            "delete".into(),
            json!({
                "summary": format!("delete one `{name}`"),
                "operationId": format!("delete_{name}"),
                "parameters": [id_param, if_match],
                "responses": responses
            }),
        );
    }
    let mut paths = Vec::new();
    if !collection.is_empty() {
        paths.push((
            format!("{prefix}/{}", table.route),
            Json::Object(collection),
        ));
    }
    if !item.is_empty() {
        paths.push((
            format!("{prefix}/{}/{{id}}", table.route),
            Json::Object(item),
        ));
    }
    TableDoc { paths, schemas }
}
