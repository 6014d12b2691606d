//! The requests and results of the three platform calls.

use crate::error::{Error, Result};
use crate::events::WebhookEvent;
use crate::validate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Options of one fetch.
///
/// ```
/// use smartai_events::FetchOptions;
/// let opts = FetchOptions::new().limit(20).since_ms(1_717_200_000_000);
/// assert_eq!(opts.get_limit(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    limit: i64,
    since: Option<i64>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions { limit: validate::DEFAULT_LIMIT as i64, since: None }
    }
}

impl FetchOptions {
    /// The defaults: 50 events, no `since`.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most this many events (1 or more; above 100 means 100).
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = limit;
        self
    }

    /// Only events stored after this Unix time in milliseconds.
    pub fn since_ms(mut self, since: i64) -> Self {
        self.since = Some(since);
        self
    }

    /// Only events stored after this time.
    pub fn since(self, since: chrono::DateTime<chrono::Utc>) -> Self {
        self.since_ms(since.timestamp_millis())
    }

    /// The requested limit, before validation.
    pub fn get_limit(&self) -> i64 {
        self.limit
    }

    /// The requested `since`, before validation.
    pub fn get_since(&self) -> Option<i64> {
        self.since
    }

    /// Reads `{ "limit": ..., "since": ... }` as a binding receives it; validates both.
    pub fn from_json(options: &Value) -> Result<Self> {
        let obj = options_object(options)?;
        if let Some(obj) = obj {
            crate::options::check_keys(obj, &["limit", "since"], "fetch", crate::Spelling::CamelCase)?;
        }
        let limit = validate::limit_value(obj.and_then(|o| o.get("limit")), validate::DEFAULT_LIMIT)?;
        let since = validate::since_value(obj.and_then(|o| o.get("since")))?;
        Ok(FetchOptions { limit: limit as i64, since })
    }

    /// The validated `(limit, since)`.
    pub(crate) fn validated(&self) -> Result<(u32, Option<i64>)> {
        Ok((validate::limit(self.limit)?, self.since.map(validate::since).transpose()?))
    }
}

pub(crate) fn options_object(options: &Value) -> Result<Option<&serde_json::Map<String, Value>>> {
    match options {
        Value::Null => Ok(None),
        Value::Object(o) => Ok(Some(o)),
        other => Err(Error::invalid_argument(format!("options must be an object, got {}", validate::describe(other)))),
    }
}

/// One fetched batch: typed events, or [`RawEvent`](crate::RawEvent)s.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEventBatch<E = WebhookEvent> {
    /// The events, in queue order (`storedAt`, then arrival).
    pub events: Vec<E>,
    /// Events still queued after this batch; more than 0 means "fetch again".
    pub pending_count: u64,
}

/// The result of an acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AcknowledgeResult {
    /// How many events the server removed (already-acknowledged IDs are not counted).
    pub acknowledged: u64,
}

/// A candidate to create a session for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The candidate's name; must not be blank.
    pub name: String,
    /// The candidate's email; must not be blank.
    pub email: String,
}

/// The request of `create_session`.
///
/// ```
/// use smartai_events::{SessionRequest, SessionUser};
/// let req = SessionRequest::new(vec![SessionUser { name: "A".into(), email: "a@b.com".into() }])
///     .recruiter_email("r@b.com");
/// assert!(req.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// The candidates; at least one.
    pub users: Vec<SessionUser>,
    /// `recruiterId`; this or `recruiter_email` (or both) is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recruiter_id: Option<String>,
    /// `recruiterEmail`; this or `recruiter_id` (or both) is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recruiter_email: Option<String>,
}

impl SessionRequest {
    /// A request for these users; add a recruiter with the setters.
    pub fn new(users: Vec<SessionUser>) -> Self {
        SessionRequest { users, ..Default::default() }
    }

    /// Sets the recruiter ID.
    pub fn recruiter_id(mut self, id: impl Into<String>) -> Self {
        self.recruiter_id = Some(id.into());
        self
    }

    /// Sets the recruiter email.
    pub fn recruiter_email(mut self, email: impl Into<String>) -> Self {
        self.recruiter_email = Some(email.into());
        self
    }

    /// Checks the rules the platform documents, with its own messages.
    pub fn validate(&self) -> Result<()> {
        if self.users.is_empty() {
            return Err(Error::invalid_argument("users must be a non-empty array"));
        }
        for (i, user) in self.users.iter().enumerate() {
            if user.name.trim().is_empty() {
                return Err(Error::invalid_argument(format!("name is required (users[{i}])")));
            }
            if user.email.trim().is_empty() {
                return Err(Error::invalid_argument(format!("email is required (users[{i}])")));
            }
        }
        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !present(&self.recruiter_id) && !present(&self.recruiter_email) {
            return Err(Error::invalid_argument(
                "Provide at least one of recruiterId or recruiterEmail — pass one or both",
            ));
        }
        Ok(())
    }

    /// Reads `{ users, recruiterId?, recruiterEmail? }` as a binding receives it. Other keys,
    /// and user fields other than `name` and `email`, are refused: they would not be sent.
    pub fn from_json(value: &Value) -> Result<Self> {
        let obj = options_object(value)?.ok_or_else(|| Error::invalid_argument("users must be a non-empty array"))?;
        // What is not sent is refused, so that a misspelt recruiterID does not go unnoticed.
        crate::options::check_keys(
            obj,
            &["users", "recruiterId", "recruiterEmail"],
            "session",
            crate::Spelling::CamelCase,
        )?;
        let users = match obj.get("users") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            _ => return Err(Error::invalid_argument("users must be a non-empty array")),
        };
        let mut out = Vec::with_capacity(users.len());
        for (i, user) in users.iter().enumerate() {
            if let Some(key) = user.as_object().and_then(|u| u.keys().find(|k| !matches!(k.as_str(), "name" | "email")))
            {
                return Err(Error::invalid_argument(format!(
                    "unknown field {key:?} in users[{i}]; expected name, email"
                )));
            }
            let field = |name: &str| -> Result<String> {
                match user.get(name) {
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                    // The platform's words for a missing one; a value of another type is named.
                    Some(other) if !other.is_null() && !other.is_string() => Err(Error::invalid_argument(format!(
                        "users[{i}].{name} must be a string, got {}",
                        validate::describe(other)
                    ))),
                    _ => Err(Error::invalid_argument(format!("{name} is required (users[{i}])"))),
                }
            };
            out.push(SessionUser { name: field("name")?, email: field("email")? });
        }
        let text = |name: &str| -> Result<Option<String>> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => {
                    Err(Error::invalid_argument(format!("{name} must be a string, got {}", validate::describe(other))))
                }
            }
        };
        let req =
            SessionRequest { users: out, recruiter_id: text("recruiterId")?, recruiter_email: text("recruiterEmail")? };
        req.validate()?;
        Ok(req)
    }
}

/// A candidate session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionToken {
    /// A JWT.
    pub token: String,
    /// When the token expires (ISO-8601), if the platform said.
    #[serde(default)]
    pub expires_at: Option<String>,
}
