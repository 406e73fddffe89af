//! Reading a Micropub `POST` into one [`Request`], whatever its syntax: form-encoded
//! (`h=entry&content=…&category[]=…`), JSON (`{"type": ["h-entry"], "properties": {…}}` or
//! `{"action": "update", "url": …, "replace": {…}}`) or multipart (the form's fields plus
//! `photo`/`photo[]` files, received into temporary files for the media service).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt as _;
use percent_encoding::percent_decode_str;
use quire_storage::micropub::{check_arrays, Update};
use quire_storage::Properties;
use serde_json::Value;

use super::MicropubError;
use crate::media::Received;
use crate::state::AppState;

/// What the request asks for.
#[derive(Debug)]
pub enum Action {
    /// A new post with these properties; `files` are uploaded photos (property name, file).
    Create {
        properties: Properties,
        files: Vec<(String, Received)>,
    },
    /// Change the post at `url`.
    Update {
        url: String,
        update: Update,
    },
    Delete {
        url: String,
    },
    Undelete {
        url: String,
    },
}

/// A parsed request.
#[derive(Debug)]
pub struct Request {
    pub action: Action,
    /// The form's `access_token`, if it had one.
    pub token: Option<String>,
}

/// Most photo files in one request (each up to `media.max_bytes`).
const MAX_PHOTOS: usize = 10;

fn invalid(message: impl Into<String>) -> MicropubError {
    MicropubError::invalid(message)
}

/// Reads the body (at most `api.max_body_bytes`, or `media.max_bytes` per photo file).
pub async fn read_request(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Request, MicropubError> {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if kind.starts_with("multipart/form-data") {
        let form = Multipart::new(req.headers(), payload);
        return read_multipart(state, form).await;
    }
    let body = read_body(payload, state.config.api.max_body_bytes).await?;
    if kind.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&body).map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
        return from_json(value);
    }
    if kind.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(&body).map_err(|_| invalid("the form is not UTF-8"))?;
        return from_pairs(parse_form(text)?, Vec::new());
    }
    Err(MicropubError {
        status: actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        error: "invalid_request",
        description: "send application/x-www-form-urlencoded, application/json or multipart/form-data".into(),
    })
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, MicropubError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| invalid(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(MicropubError {
                status: actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                error: "invalid_request",
                description: format!("the body is larger than api.max_body_bytes ({limit} bytes)"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A query string's pairs (`properties[]` keeps its brackets).
pub fn parse_query(text: &str) -> Result<Vec<(String, String)>, MicropubError> {
    parse_form(text)
}

/// `a=1&b%5B%5D=2` → pairs, `+` as space.
fn parse_form(text: &str) -> Result<Vec<(String, String)>, MicropubError> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| invalid("the form is not UTF-8"))
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Form fields → a request: `h`, `action`, `url`, `access_token` are parameters; every other
/// field is a property (`name[]` and `name` both add a value).
fn from_pairs(pairs: Vec<(String, String)>, files: Vec<(String, Received)>) -> Result<Request, MicropubError> {
    let (mut h, mut action, mut url, mut token) = (None, None, None, None);
    let mut properties = Properties::new();
    for (key, value) in pairs {
        match key.as_str() {
            "h" => h = Some(value),
            "action" => action = Some(value),
            "url" => url = Some(value),
            "access_token" => token = Some(value),
            _ => {
                let name = key.strip_suffix("[]").unwrap_or(&key).to_owned();
                let entry = properties.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(values) = entry {
                    values.push(Value::String(value));
                }
            }
        }
    }
    let action = match action.as_deref() {
        None => {
            if h.as_deref().unwrap_or("entry") != "entry" {
                return Err(invalid("only h=entry posts are supported"));
            }
            Action::Create { properties, files }
        }
        Some(other) => {
            let url = url.ok_or_else(|| invalid(format!("action={other} needs the post's url")))?;
            match other {
                "delete" => Action::Delete { url },
                "undelete" => Action::Undelete { url },
                _ => {
                    return Err(invalid(format!(
                        "action={other} is not supported in a form; send updates as JSON"
                    )))
                }
            }
        }
    };
    Ok(Request { action, token })
}

fn from_json(value: Value) -> Result<Request, MicropubError> {
    let Value::Object(mut body) = value else {
        return Err(invalid("the JSON body must be an object"));
    };
    let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    let token = text(body.remove("access_token"));
    if let Some(action) = body.remove("action") {
        let action = action
            .as_str()
            .ok_or_else(|| invalid("action must be a string"))?
            .to_owned();
        let url = text(body.remove("url")).ok_or_else(|| invalid(format!("{action} needs the post's url")))?;
        let action = match action.as_str() {
            "update" => Action::Update {
                url,
                update: Update {
                    replace: body.remove("replace"),
                    add: body.remove("add"),
                    delete: body.remove("delete"),
                },
            },
            "delete" => Action::Delete { url },
            "undelete" => Action::Undelete { url },
            other => return Err(invalid(format!("action {other:?} is not supported"))),
        };
        return Ok(Request { action, token });
    }
    let types = body.get("type").and_then(Value::as_array);
    if types.is_none_or(|t| t.first().and_then(Value::as_str) != Some("h-entry")) {
        return Err(invalid("send {\"type\": [\"h-entry\"], \"properties\": {…}}"));
    }
    let Some(Value::Object(properties)) = body.remove("properties") else {
        return Err(invalid("properties must be an object of arrays"));
    };
    check_arrays(&properties).map_err(|e| MicropubError::from(crate::error::ApiError::from(e)))?;
    Ok(Request {
        action: Action::Create {
            properties: properties.into_iter().collect(),
            files: Vec::new(),
        },
        token,
    })
}

/// A multipart form: text fields as in a form-encoded body, `photo`/`photo[]` (and `video`,
/// `audio`) files into temporary files.
async fn read_multipart(state: &AppState, mut form: Multipart) -> Result<Request, MicropubError> {
    let (mut pairs, mut files, mut text_bytes) = (Vec::new(), Vec::new(), 0usize);
    let limit = state.config.media.max_bytes;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| invalid(format!("the multipart body is malformed: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.content_disposition().and_then(|d| d.get_filename()).is_some();
        if is_file {
            let property = name.strip_suffix("[]").unwrap_or(&name).to_owned();
            if property != "photo" {
                return Err(invalid(format!("files are accepted as photo, not {name:?}")));
            }
            if files.len() >= MAX_PHOTOS {
                return Err(invalid(format!("at most {MAX_PHOTOS} photos per post")));
            }
            let received = crate::media::receive(&mut field, state.media.blobs(), limit).await?;
            files.push((property, received));
        } else {
            let value = crate::media::read_text(&mut field).await?;
            text_bytes += value.len();
            if text_bytes > state.config.api.max_body_bytes {
                return Err(invalid("the form's text fields are larger than api.max_body_bytes"));
            }
            pairs.push((name, value));
        }
    }
    from_pairs(pairs, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_properties_and_parameters_do_not() {
        let pairs =
            parse_form("h=entry&content=Hello+World%21&category%5B%5D=a&category[]=b&access_token=t").expect("form");
        let request = from_pairs(pairs, Vec::new()).expect("valid");
        assert_eq!(request.token.as_deref(), Some("t"));
        let Action::Create { properties, .. } = request.action else {
            panic!("a create");
        };
        assert_eq!(properties["content"], serde_json::json!(["Hello World!"]));
        assert_eq!(properties["category"], serde_json::json!(["a", "b"]));
        assert!(!properties.contains_key("h") && !properties.contains_key("access_token"));
    }

    #[test]
    fn json_needs_an_h_entry_with_array_values() {
        assert!(from_json(serde_json::json!({})).is_err());
        assert!(from_json(serde_json::json!({"type": ["h-entry"], "properties": {"content": "x"}})).is_err());
        let ok = from_json(serde_json::json!({"type": ["h-entry"], "properties": {"content": ["x"]}}));
        assert!(matches!(
            ok,
            Ok(Request {
                action: Action::Create { .. },
                ..
            })
        ));
    }
}
