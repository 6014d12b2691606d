//! Realistic events from a seed.
//!
//! Each event is built from its own RNG seeded by `(seed, index)`, so event `i` is the same
//! whichever call produces it: an emulator's successive [`generate`](crate::Emulator::generate)
//! calls continue one deterministic sequence, and IDs never repeat within it.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngCore};
use serde::Serialize;
use serde_json::{Value, json};

/// The most events one generation may make (about 12 GB of event text). More is a typo
/// that would keep the emulator busy for hours and hold its memory, not a test.
pub const MAX_GENERATED: usize = 10_000_000;

/// `n` as a count of events to generate, or a message that names it.
///
/// ```
/// use smartai_emulator::generator::{MAX_GENERATED, generated_count};
/// assert_eq!(generated_count("generate", 500), Ok(500));
/// assert!(generated_count("generate", MAX_GENERATED as u64 + 1).is_err());
/// ```
pub fn generated_count(name: &str, n: u64) -> Result<usize, String> {
    usize::try_from(n).ok().filter(|&n| n <= MAX_GENERATED).ok_or_else(|| too_many(name, n))
}

/// The message for a count above [`MAX_GENERATED`], `got` as the caller shows it (a binding
/// may hold a number no `u64` can).
pub fn too_many(name: &str, got: impl std::fmt::Display) -> String {
    format!("{name} must be at most {MAX_GENERATED} events, got {got}")
}

/// The message for a count that is negative or not a whole number, `got` as the caller
/// shows it.
///
/// ```
/// assert_eq!(smartai_emulator::generator::not_a_count("generate", -1), "generate needs a non-negative integer, got -1");
/// ```
pub fn not_a_count(name: &str, got: impl std::fmt::Display) -> String {
    format!("{name} needs a non-negative integer, got {got}")
}

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
            serde_json::to_value(one_event(seed, start + k as u64, stored_at)).unwrap_or(Value::Null)
        })
        .collect()
}

/// Like [`generate_range`], as `(eventId, storedAt ms, JSON text)` without building values.
pub(crate) fn generate_range_json(seed: u64, start: u64, n: usize, end_ms: i64) -> Vec<(String, i64, String)> {
    let n_i64 = i64::try_from(n).unwrap_or(i64::MAX);
    (0..n)
        .map(|k| {
            let k_i64 = i64::try_from(k).unwrap_or(i64::MAX);
            let stored_at = end_ms.saturating_sub(n_i64 - 1 - k_i64);
            let (id, json) = event_json(seed, start + k as u64, stored_at);
            (id, stored_at, json)
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

const OTHER_TYPES: &[&str] = &["assessment.reviewed", "candidate.withdrawn"];

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

// The shapes are typed structs serialised straight to text: building `serde_json::Value`s
// (a map and a key string per field) made generating a million events take minutes.

/// A score is a whole number most of the time and sometimes ends in .5.
#[derive(Serialize)]
#[serde(untagged)]
enum Score {
    Whole(u32),
    Half(f64),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuestionAnswer {
    question_id: String,
    question: &'static str,
    answer: &'static str,
    correct: bool,
    marks: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    image_url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Proctoring {
    score: u32,
    violation_count: u32,
    tab_switches: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    face_not_detected: Option<u32>,
}

#[derive(Serialize)]
struct Scoring {
    version: &'static str,
    weights: [f64; 2],
}

/// `assessment.completed` and `assessment.disqualified`, fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AssessmentResult {
    event_id: String,
    event: &'static str,
    assessment_id: String,
    candidate_id: String,
    candidate_name: &'static str,
    candidate_email: &'static str,
    assessment_name: &'static str,
    job_title: &'static str,
    score: Score,
    total_marks: u32,
    pass_marks: u32,
    passed: bool,
    status: &'static str,
    submitted_at: String,
    duration_minutes: Option<u32>,
    ai_feedback: Option<&'static str>,
    report_url: String,
    skills: Vec<&'static str>,
    question_answers: Vec<QuestionAnswer>,
    verification: Verification,
    proctoring: Proctoring,
    stored_at: String,
    // Fields the SDK does not know yet must pass through untouched.
    #[serde(skip_serializing_if = "Option::is_none")]
    experimental_flag: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scoring: Option<Scoring>,
}

#[derive(Serialize)]
struct SentCandidate {
    id: String,
    name: &'static str,
    email: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AssessmentSent {
    event_id: String,
    stored_at: String,
    event: &'static str,
    assessment_id: String,
    assessment_url: String,
    key_id: String,
    org_id: String,
    job_title: &'static str,
    candidates: Vec<SentCandidate>,
    total_candidates: usize,
}

#[derive(Serialize)]
struct Reviewer {
    email: &'static str,
    decision: &'static str,
}

/// An event type the SDK does not know.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OtherType {
    event_id: String,
    event: &'static str,
    assessment_id: String,
    candidate_id: String,
    reviewer: Reviewer,
    stored_at: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Generated {
    Result(Box<AssessmentResult>),
    Sent(AssessmentSent),
    Other(OtherType),
}

impl Generated {
    fn event_id(&self) -> &str {
        match self {
            Generated::Result(e) => &e.event_id,
            Generated::Sent(e) => &e.event_id,
            Generated::Other(e) => &e.event_id,
        }
    }
}

/// Event `index` of the seed's sequence as `(eventId, JSON text)`, ready for a queue.
pub(crate) fn event_json(seed: u64, index: u64, stored_at_ms: i64) -> (String, String) {
    let event = one_event(seed, index, stored_at_ms);
    let mut out = Vec::with_capacity(1536);
    // Serialising plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, &event);
    (event.event_id().to_string(), String::from_utf8(out).unwrap_or_default())
}

fn one_event(seed: u64, index: u64, stored_at_ms: i64) -> Generated {
    let mut rng = SplitMix64(splitmix(seed) ^ splitmix(index.wrapping_add(1)));
    let event_id = event_id(&mut rng, index);
    let roll: f64 = rng.random();
    if roll < 0.73 {
        Generated::Result(Box::new(assessment_result(&mut rng, event_id, "assessment.completed", stored_at_ms)))
    } else if roll < 0.83 {
        Generated::Result(Box::new(assessment_result(&mut rng, event_id, "assessment.disqualified", stored_at_ms)))
    } else if roll < 0.98 {
        Generated::Sent(assessment_sent(&mut rng, event_id, stored_at_ms))
    } else {
        Generated::Other(other_type(&mut rng, event_id, stored_at_ms))
    }
}

fn assessment_result(
    rng: &mut SplitMix64,
    event_id: String,
    kind: &'static str,
    stored_at_ms: i64,
) -> AssessmentResult {
    let disqualified = kind == "assessment.disqualified";
    let (name, email) = *pick(rng, CANDIDATES);
    let (assessment, job) = *pick(rng, ASSESSMENTS);
    let pass_marks: u32 = *pick(rng, &[50, 60, 65, 70, 75]);
    let whole: u32 = rng.random_range(0..=100);
    let (score, passed) = if whole < 100 && rng.random_bool(0.15) {
        let half = f64::from(whole) + 0.5;
        (Score::Half(half), half >= f64::from(pass_marks))
    } else {
        (Score::Whole(whole), whole >= pass_marks)
    };
    let status = match rng.random_range(0..100) {
        0..80 => "completed",
        80..95 => "timeout",
        _ => "abandoned",
    };
    let submitted_at = stored_at_ms - rng.random_range(5_000..120_000);
    let duration_minutes = if rng.random_bool(0.08) { None } else { Some(rng.random_range(1..=120)) };
    let ai_feedback = if disqualified {
        Some("Session disqualified: proctoring detected repeated violations.")
    } else if rng.random_bool(0.6) {
        None
    } else {
        Some(*pick(rng, FEEDBACK))
    };
    let mut skills: Vec<&'static str> = SKILLS.to_vec();
    skills.shuffle(rng);
    skills.truncate(rng.random_range(2..=5));
    let question_answers = (0..rng.random_range(2..=4))
        .map(|i| {
            let (question, answer) = *pick(rng, QUESTIONS);
            let correct = rng.random_bool(0.65);
            QuestionAnswer {
                question_id: format!("q_{}", i + 1),
                question,
                answer,
                correct,
                marks: if correct { rng.random_range(5..=25) } else { 0 },
            }
        })
        .collect();
    let candidate_id = format!("cand_{}", alnum(rng, 6, false));
    let violation_count = if disqualified { rng.random_range(5..=12) } else { rng.random_range(0..=3) };
    let proctoring = Proctoring {
        score: rng.random_range(40..=100),
        violation_count,
        tab_switches: rng.random_range(0..=10),
        face_not_detected: rng.random_bool(0.3).then(|| rng.random_range(0..=4)),
    };
    let assessment_id = format!("asmt_{}", alnum(rng, 6, false));
    let extra = rng.random_range(0..100);
    AssessmentResult {
        report_url: format!("https://platform.smartai.app/reports/{event_id}"),
        verification: Verification {
            image_url: format!("https://storage.smartai.app/verification/{candidate_id}.jpg"),
        },
        event_id,
        event: kind,
        assessment_id,
        candidate_id,
        candidate_name: name,
        candidate_email: email,
        assessment_name: assessment,
        job_title: job,
        score,
        total_marks: 100,
        pass_marks,
        passed,
        status,
        submitted_at: iso_ms(submitted_at),
        duration_minutes,
        ai_feedback,
        skills,
        question_answers,
        proctoring,
        stored_at: iso_ms(stored_at_ms),
        experimental_flag: (extra < 4).then_some(true),
        scoring: (4..7).contains(&extra).then_some(Scoring { version: "2026-10", weights: [0.4, 0.6] }),
    }
}

fn assessment_sent(rng: &mut SplitMix64, event_id: String, stored_at_ms: i64) -> AssessmentSent {
    let (_, job) = *pick(rng, ASSESSMENTS);
    let assessment_id = format!("asmt_{}", alnum(rng, 6, false));
    let count = rng.random_range(1..=5);
    let candidates: Vec<SentCandidate> = (0..count)
        .map(|_| {
            let (name, email) = *pick(rng, CANDIDATES);
            SentCandidate { id: format!("cand_{}", alnum(rng, 6, false)), name, email }
        })
        .collect();
    AssessmentSent {
        event_id,
        stored_at: iso_ms(stored_at_ms),
        event: "assessment.sent",
        assessment_url: format!("https://platform.smartai.app/a/{assessment_id}"),
        assessment_id,
        key_id: format!("key_{}", alnum(rng, 8, false)),
        org_id: format!("org_{}", alnum(rng, 8, false)),
        job_title: job,
        candidates,
        total_candidates: count,
    }
}

fn other_type(rng: &mut SplitMix64, event_id: String, stored_at_ms: i64) -> OtherType {
    OtherType {
        event_id,
        event: OTHER_TYPES[rng.random_range(0..OTHER_TYPES.len())],
        assessment_id: format!("asmt_{}", alnum(rng, 6, false)),
        candidate_id: format!("cand_{}", alnum(rng, 6, false)),
        reviewer: Reviewer { email: "recruiter@example.com", decision: "shortlisted" },
        stored_at: iso_ms(stored_at_ms),
    }
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
