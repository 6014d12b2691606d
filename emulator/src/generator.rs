//! Realistic events from a seed.
//!
//! Each event is built from its own RNG seeded by `(seed, index)`, so event `i` is the same
//! whichever call produces it: an emulator's successive [`generate`](crate::Emulator::generate)
//! calls continue one deterministic sequence, and IDs never repeat within it.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngCore};
use serde_json::{Map, Value, json};

/// The `assessment.completed` example from the platform's documentation page, field for field.
///
/// ```
/// let e = smartai_emulator::generator::sample_completed_event();
/// assert_eq!(e["eventId"], "evt_01J9XYZABC");
/// assert_eq!(e["proctoring"]["violationCount"], 2);
/// ```
pub fn sample_completed_event() -> Value {
    json!({
        "eventId": "evt_01J9XYZABC",
        "event": "assessment.completed",
        "assessmentId": "asmt_xyz789",
        "candidateId": "cand_abc123",
        "candidateName": "Priya Sharma",
        "candidateEmail": "priya@example.com",
        "assessmentName": "Full Stack Developer Assessment",
        "jobTitle": "Senior Software Engineer",
        "score": 78,
        "totalMarks": 100,
        "passMarks": 60,
        "passed": true,
        "status": "completed",
        "submittedAt": "2026-06-09T10:30:00.000Z",
        "durationMinutes": 45,
        "reportUrl": "https://platform.smartai.app/reports/evt_01J9XYZABC",
        "proctoring": {
            "score": 88,
            "violationCount": 2
        },
        "storedAt": "2026-06-09T10:31:00.000Z"
    })
}

/// `n` events for `seed`, their `storedAt` 1 ms apart and ending now, so retention keeps
/// them. Everything but the timestamps is the same for the same seed; use
/// [`generate_events_at`] for fully fixed output.
///
/// ```
/// use smartai_emulator::generator::generate_events;
/// let a = generate_events(7, 20);
/// let b = generate_events(7, 20);
/// assert_eq!(a.len(), 20);
/// assert_eq!(a[3]["eventId"], b[3]["eventId"]);
/// ```
pub fn generate_events(seed: u64, n: usize) -> Vec<Value> {
    generate_events_at(seed, n, crate::state::real_now_ms())
}

/// Like [`generate_events`], with the last event's `storedAt` at `end_ms` (Unix ms):
/// the output depends only on the arguments.
pub fn generate_events_at(seed: u64, n: usize, end_ms: i64) -> Vec<Value> {
    generate_range(seed, 0, n, end_ms)
}

/// Events `start .. start + n` of the seed's sequence, `storedAt` ending at `end_ms`.
pub(crate) fn generate_range(seed: u64, start: u64, n: usize, end_ms: i64) -> Vec<Value> {
    let n_i64 = i64::try_from(n).unwrap_or(i64::MAX);
    (0..n)
        .map(|k| {
            let k_i64 = i64::try_from(k).unwrap_or(i64::MAX);
            let stored_at = end_ms.saturating_sub(n_i64 - 1 - k_i64);
            one_event(seed, start + k as u64, stored_at)
        })
        .collect()
}

/// An ID for an event enqueued without one.
pub(crate) fn filler_event_id(n: u64) -> String {
    format!("evt_F{}", base36(n, 9))
}

/// Formats Unix ms as ISO-8601 with milliseconds and `Z`, as the platform does.
pub(crate) fn iso_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an ISO-8601 / RFC 3339 timestamp to Unix ms.
pub(crate) fn parse_iso_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_millis())
}

/// SplitMix64. Small and fast even unoptimised, and, unlike `SplitMix64`, its output is fixed
/// forever, so a seed keeps naming the same events across `rand` upgrades.
struct SplitMix64(u64);

impl RngCore for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix_finish(self.0)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

fn splitmix_finish(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn splitmix(x: u64) -> u64 {
    splitmix_finish(x.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn alnum(rng: &mut SplitMix64, len: usize, upper: bool) -> String {
    let digits: &[u8] =
        if upper { b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" } else { b"0123456789abcdefghijklmnopqrstuvwxyz" };
    (0..len).map(|_| char::from(digits[rng.random_range(0..digits.len())])).collect()
}

/// Unique within a seed's sequence: the index is part of every non-UUID ID.
fn event_id(rng: &mut SplitMix64, index: u64) -> String {
    if rng.random_bool(0.6) {
        format!("evt_{}{}", alnum(rng, 4, true), base36(index, 6))
    } else {
        uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string()
    }
}

const CANDIDATES: &[(&str, &str)] = &[
    ("Priya Sharma", "priya.sharma@example.com"),
    ("José Álvarez", "jose.alvarez@example.es"),
    ("Zoë Müller", "zoe.mueller@example.de"),
    ("李伟", "li.wei@example.cn"),
    ("Ольга Иванова", "olga.ivanova@example.ru"),
    ("Søren Kierkegaard", "soren.k@example.dk"),
    ("Aarav Patel", "aarav.patel@example.in"),
    ("Emily Chen", "emily.chen@example.com"),
    ("Mohammed Al-Farsi", "m.alfarsi@example.ae"),
    ("Chloé Dubois", "chloe.dubois@example.fr"),
    ("Kwame Mensah", "kwame.mensah@example.com.gh"),
    ("佐藤 由美", "yumi.sato@example.jp"),
    ("Łukasz Nowak", "lukasz.nowak@example.pl"),
    ("Nguyễn Văn An", "an.nguyen@example.vn"),
    ("Renée O'Connor", "renee.oconnor@example.ie"),
    ("Ιωάννης Παπαδόπουλος", "ioannis.p@example.gr"),
    ("김민준", "minjun.kim@example.kr"),
    ("Amelia \"Amy\" Watson", "amy.watson@example.co.uk"),
    ("Alex 😀 Kim", "alex.kim@example.com"),
    ("John Smith", "john.smith@example.com"),
];

const ASSESSMENTS: &[(&str, &str)] = &[
    ("Full Stack Developer Assessment", "Senior Software Engineer"),
    ("Data Analyst Screening", "Data Analyst"),
    ("Backend Engineering Challenge", "Backend Engineer"),
    ("Frontend React Assessment", "Frontend Developer"),
    ("DevOps Fundamentals", "Site Reliability Engineer"),
    ("Product Sense Interview", "Product Manager"),
    ("Machine Learning Take-home", "ML Engineer"),
    ("Customer Support Aptitude", "Support Specialist (EMEA)"),
];

const SKILLS: &[&str] = &[
    "JavaScript",
    "TypeScript",
    "React",
    "Node.js",
    "Python",
    "SQL",
    "Rust",
    "Go",
    "AWS",
    "Docker",
    "Kubernetes",
    "System Design",
    "Communication",
    "Problem Solving",
    "Data Structures",
    "Statistics",
];

const QUESTIONS: &[(&str, &str)] = &[
    ("What is the time complexity of binary search?", "O(log n)"),
    ("Which HTTP status code means Too Many Requests?", "429"),
    ("Write a SQL query that finds duplicate emails.", "SELECT email FROM users\nGROUP BY email\nHAVING COUNT(*) > 1;"),
    ("What does \"idempotent\" mean for an API?", "Repeating the call has the same effect as making it once."),
    ("Explain the difference between TCP and UDP.", "TCP is connection-oriented and reliable; UDP is connectionless."),
    (
        "Describe a time you resolved a conflict in your team.",
        "We paired on the disputed design and agreed on measurable criteria.",
    ),
    ("What is a closure in JavaScript?", "A function together with the variables of the scope it was created in."),
    ("Name two ways to avoid an N+1 query.", "Eager loading / a JOIN, or batching IDs into one IN (…) query."),
];

const FEEDBACK: &[&str] = &[
    "Strong fundamentals in data structures; could improve on system design trade-offs.",
    "Clear, well-structured answers. Recommended for the next round.",
    "Good problem solving, but several answers lacked detail.",
    "Excellent SQL skills. Communication was concise — very good.",
    "Struggled with time management; later questions were left incomplete.",
];

fn pick<'a, T>(rng: &mut SplitMix64, items: &'a [T]) -> &'a T {
    // Every table above is non-empty.
    items.choose(rng).unwrap_or(&items[0])
}

fn one_event(seed: u64, index: u64, stored_at_ms: i64) -> Value {
    let mut rng = SplitMix64(splitmix(seed) ^ splitmix(index.wrapping_add(1)));
    let event_id = event_id(&mut rng, index);
    let roll: f64 = rng.random();
    if roll < 0.73 {
        assessment_result(&mut rng, event_id, "assessment.completed", stored_at_ms)
    } else if roll < 0.83 {
        assessment_result(&mut rng, event_id, "assessment.disqualified", stored_at_ms)
    } else if roll < 0.98 {
        assessment_sent(&mut rng, event_id, stored_at_ms)
    } else {
        unknown_type(&mut rng, event_id, stored_at_ms)
    }
}

fn assessment_result(rng: &mut SplitMix64, event_id: String, kind: &str, stored_at_ms: i64) -> Value {
    let disqualified = kind == "assessment.disqualified";
    let (name, email) = *pick(rng, CANDIDATES);
    let (assessment, job) = *pick(rng, ASSESSMENTS);
    let pass_marks: u32 = *pick(rng, &[50, 60, 65, 70, 75]);
    let whole: u32 = rng.random_range(0..=100);
    let score = if whole < 100 && rng.random_bool(0.15) { json!(f64::from(whole) + 0.5) } else { json!(whole) };
    let passed = score.as_f64().unwrap_or(0.0) >= f64::from(pass_marks);
    let status = match rng.random_range(0..100) {
        0..80 => "completed",
        80..95 => "timeout",
        _ => "abandoned",
    };
    let submit_delay_ms = rng.random_range(5_000..120_000);
    let submitted_at = stored_at_ms - submit_delay_ms;
    let duration = if rng.random_bool(0.08) { Value::Null } else { json!(rng.random_range(1..=120)) };
    let ai_feedback = if disqualified {
        json!("Session disqualified: proctoring detected repeated violations.")
    } else if rng.random_bool(0.6) {
        Value::Null
    } else {
        json!(*pick(rng, FEEDBACK))
    };
    let mut skills: Vec<&str> = SKILLS.to_vec();
    skills.shuffle(rng);
    skills.truncate(rng.random_range(2..=5));
    let answers: Vec<Value> = (0..rng.random_range(2..=4))
        .map(|i| {
            let (q, a) = *pick(rng, QUESTIONS);
            let correct = rng.random_bool(0.65);
            json!({
                "questionId": format!("q_{}", i + 1),
                "question": q,
                "answer": a,
                "correct": correct,
                "marks": if correct { rng.random_range(5..=25) } else { 0 },
            })
        })
        .collect();
    let candidate_id = format!("cand_{}", alnum(rng, 6, false));
    let violations = if disqualified { rng.random_range(5..=12) } else { rng.random_range(0..=3) };
    let mut proctoring = Map::new();
    proctoring.insert("score".into(), json!(rng.random_range(40..=100)));
    proctoring.insert("violationCount".into(), json!(violations));
    proctoring.insert("tabSwitches".into(), json!(rng.random_range(0..=10)));
    if rng.random_bool(0.3) {
        proctoring.insert("faceNotDetected".into(), json!(rng.random_range(0..=4)));
    }

    let mut e = Map::new();
    e.insert("eventId".into(), json!(event_id));
    e.insert("event".into(), json!(kind));
    e.insert("assessmentId".into(), json!(format!("asmt_{}", alnum(rng, 6, false))));
    e.insert("candidateId".into(), json!(candidate_id));
    e.insert("candidateName".into(), json!(name));
    e.insert("candidateEmail".into(), json!(email));
    e.insert("assessmentName".into(), json!(assessment));
    e.insert("jobTitle".into(), json!(job));
    e.insert("score".into(), score);
    e.insert("totalMarks".into(), json!(100));
    e.insert("passMarks".into(), json!(pass_marks));
    e.insert("passed".into(), json!(passed));
    e.insert("status".into(), json!(status));
    e.insert("submittedAt".into(), json!(iso_ms(submitted_at)));
    e.insert("durationMinutes".into(), duration);
    e.insert("aiFeedback".into(), ai_feedback);
    e.insert("reportUrl".into(), json!(format!("https://platform.smartai.app/reports/{event_id}")));
    e.insert("skills".into(), json!(skills));
    e.insert("questionAnswers".into(), Value::Array(answers));
    e.insert(
        "verification".into(),
        json!({ "imageUrl": format!("https://storage.smartai.app/verification/{candidate_id}.jpg") }),
    );
    e.insert("proctoring".into(), Value::Object(proctoring));
    e.insert("storedAt".into(), json!(iso_ms(stored_at_ms)));
    // Fields the SDK does not know yet must pass through untouched.
    match rng.random_range(0..100) {
        0..4 => {
            e.insert("experimentalFlag".into(), json!(true));
        }
        4..7 => {
            e.insert("scoring".into(), json!({ "version": "2026-10", "weights": [0.4, 0.6] }));
        }
        _ => {}
    }
    Value::Object(e)
}

fn assessment_sent(rng: &mut SplitMix64, event_id: String, stored_at_ms: i64) -> Value {
    let (_, job) = *pick(rng, ASSESSMENTS);
    let assessment_id = format!("asmt_{}", alnum(rng, 6, false));
    let count = rng.random_range(1..=5);
    let candidates: Vec<Value> = (0..count)
        .map(|_| {
            let (name, email) = *pick(rng, CANDIDATES);
            json!({ "id": format!("cand_{}", alnum(rng, 6, false)), "name": name, "email": email })
        })
        .collect();
    let mut e = Map::new();
    e.insert("eventId".into(), json!(event_id));
    e.insert("storedAt".into(), json!(iso_ms(stored_at_ms)));
    e.insert("event".into(), json!("assessment.sent"));
    e.insert("assessmentId".into(), json!(assessment_id));
    e.insert("assessmentUrl".into(), json!(format!("https://platform.smartai.app/a/{assessment_id}")));
    e.insert("keyId".into(), json!(format!("key_{}", alnum(rng, 8, false))));
    e.insert("orgId".into(), json!(format!("org_{}", alnum(rng, 8, false))));
    e.insert("jobTitle".into(), json!(job));
    e.insert("candidates".into(), Value::Array(candidates));
    e.insert("totalCandidates".into(), json!(count));
    Value::Object(e)
}

fn unknown_type(rng: &mut SplitMix64, event_id: String, stored_at_ms: i64) -> Value {
    let kind = *pick(rng, &["assessment.reviewed", "candidate.withdrawn"]);
    json!({
        "eventId": event_id,
        "event": kind,
        "assessmentId": format!("asmt_{}", alnum(rng, 6, false)),
        "candidateId": format!("cand_{}", alnum(rng, 6, false)),
        "reviewer": { "email": "recruiter@example.com", "decision": "shortlisted" },
        "storedAt": iso_ms(stored_at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        let ms = 1_780_993_860_000;
        assert_eq!(iso_ms(ms), "2026-06-09T08:31:00.000Z");
        assert_eq!(parse_iso_ms(&iso_ms(ms)), Some(ms));
        assert_eq!(parse_iso_ms("2026-06-09T10:31:00.000+02:00"), Some(ms));
        assert_eq!(parse_iso_ms("yesterday"), None);
    }

    #[test]
    fn ranges_continue_one_sequence() {
        let all = generate_range(5, 0, 10, 1_000_000);
        let tail = generate_range(5, 6, 4, 1_000_000);
        assert_eq!(all[6]["eventId"], tail[0]["eventId"]);
        assert_eq!(all[9]["candidateName"], tail[3]["candidateName"]);
    }

    #[test]
    fn filler_ids_are_ten_characters() {
        assert_eq!(filler_event_id(35), "evt_F00000000Z");
    }
}
