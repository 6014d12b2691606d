//! Request signing: `hex(HMAC-SHA256(secret, METHOD:PATH:TIMESTAMP:BODY))`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Builds the string that is signed, `METHOD:PATH:TIMESTAMP:BODY`.
///
/// `path` is the URL path as sent, without the query string; `body` is the canonical
/// JSON of the request body, or `""` when there is none.
///
/// ```
/// assert_eq!(
///     smartai_events::signing::payload("GET", "/api/v1/webhook/events", 1717200000000, ""),
///     "GET:/api/v1/webhook/events:1717200000000:"
/// );
/// ```
pub fn payload(method: &str, path: &str, timestamp_ms: i64, body: &str) -> String {
    format!("{}:{path}:{timestamp_ms}:{body}", method.to_ascii_uppercase())
}

/// Signs `payload` with `secret_key`, returning the lowercase hex digest.
///
/// ```
/// let sig = smartai_events::signing::sign(
///     "wc_sk_test_9e345f2b48dd318d301a2bdd",
///     "GET:/api/v1/webhook/events:1717200000000:",
/// );
/// assert_eq!(sig, "d9261ca373a63e347f714f458e240fcee2128dbe14da75628d8700a817bd6040");
/// ```
pub fn sign(secret_key: &str, payload: &str) -> String {
    hex::encode(mac(secret_key, payload).finalize().into_bytes())
}

/// Checks `signature` against `payload` in constant time. The signature must be written
/// as the protocol writes it, 64 lower-case hex digits and nothing around them, so that a
/// client that writes it otherwise is caught here rather than by the platform.
///
/// ```
/// let secret = "wc_sk_test_9e345f2b48dd318d301a2bdd";
/// let sig = smartai_events::signing::sign(secret, "GET:/x:1:");
/// assert!(smartai_events::signing::verify(secret, "GET:/x:1:", &sig));
/// assert!(!smartai_events::signing::verify(secret, "GET:/y:1:", &sig));
/// assert!(!smartai_events::signing::verify(secret, "GET:/x:1:", &sig.to_uppercase()));
/// assert!(!smartai_events::signing::verify(secret, "GET:/x:1:", &format!(" {sig}")));
/// ```
pub fn verify(secret_key: &str, payload: &str, signature: &str) -> bool {
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if signature.len() != 64 || !signature.bytes().all(lower_hex) {
        return false;
    }
    match hex::decode(signature) {
        Ok(bytes) => mac(secret_key, payload).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn mac(secret_key: &str, payload: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical;
    use serde_json::json;

    const SECRET: &str = "wc_sk_test_9e345f2b48dd318d301a2bdd";

    #[test]
    fn vector_get_events() {
        let p = payload("GET", "/api/v1/webhook/events", 1717200000000, "");
        assert_eq!(sign(SECRET, &p), "d9261ca373a63e347f714f458e240fcee2128dbe14da75628d8700a817bd6040");
    }

    #[test]
    fn vector_create_session() {
        let body = canonical::to_string(&json!({"users": [{"name": "A", "email": "a@b.com"}]}));
        let p = payload("POST", "/api/v1/sessions", 1717200000000, &body);
        assert_eq!(p, r#"POST:/api/v1/sessions:1717200000000:{"users":[{"email":"a@b.com","name":"A"}]}"#);
        assert_eq!(sign(SECRET, &p), "af6ce817f34b81261657dede9077376cdfb61a8b1a3973d155876a3103c399af");
    }

    #[test]
    fn vector_acknowledge() {
        let body =
            canonical::to_string(&json!({"eventIds": ["evt_01J9XYZABC", "550e8400-e29b-41d4-a716-446655440000"]}));
        let p = payload("post", "/api/v1/webhook/events/acknowledge", 1717200000000, &body);
        assert_eq!(sign(SECRET, &p), "f7ec072ee0000e3e70bbdf97ffc8dabfa6684be12debed06aeccda16b8e93726");
    }

    #[test]
    fn vector_acknowledge_escaped_unicode() {
        let body = canonical::to_string(&json!({"eventIds": ["évt_ü\"\\\n/"]}));
        let p = payload("POST", "/api/v1/webhook/events/acknowledge", 1717200000123, &body);
        assert_eq!(sign(SECRET, &p), "19f5ec03a695b511f60152c135dbdc7bc98044b604d976047524d002277b79a6");
    }

    #[test]
    fn verify_rejects_garbage() {
        assert!(!verify(SECRET, "x", "not-hex"));
        assert!(!verify(SECRET, "x", ""));
    }
}
