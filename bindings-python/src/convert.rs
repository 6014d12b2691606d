//! Python values to JSON (the core's loose-input entry points take JSON), and core events
//! to the Python event classes.

use crate::errors::invalid_argument;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use smartai_events::validate::{self, MAX_NESTING};
use smartai_events::{Error, EventKind, RawEvent, WebhookEventBatch};

/// Converts a Python argument to JSON: `None`, `bool`, `int`, `float` (finite), `str`,
/// `list`/`tuple` and `dict` with string keys, nested at most the core's `MAX_NESTING` deep
/// (which also stops a value that contains itself, which would otherwise recurse until the
/// stack overflows). `name` is the argument's name for messages, as the core names it
/// (`eventIds`, not `event_ids`), so that a value refused here is named as one the core
/// refuses. The keys of a top-level dict (a request, options) are its fields' names;
/// deeper values are named by their path (`eventIds[1]`, `users[0].name`), as in the
/// core's messages.
pub fn py_to_json(obj: &Bound<'_, PyAny>, name: &str) -> Result<Value, Error> {
    to_json(obj, name, name, 0)
}

/// `root`: the argument (or its top-level field) named by the depth error, where the
/// innermost `name` would be a key deep down; `depth`: the lists and dicts `obj` is inside.
fn to_json(obj: &Bound<'_, PyAny>, name: &str, root: &str, depth: usize) -> Result<Value, Error> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool first: it is a subclass of int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(invalid_argument(format!("{name} is out of range, got {}", short_repr(obj))));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| validate::not_finite(name, v));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str().map_err(|_| validate::not_text(name))?.into()));
    }
    let nests = obj.is_instance_of::<PyDict>() || obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>();
    if nests && depth >= MAX_NESTING {
        return Err(validate::nested_too_deep(root));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| invalid_argument(format!("{name} keys must be strings, got {}", type_name(&k))))?
                .to_string();
            // The request's fields are what the caller passed: name them, not the request.
            let (path, root) = if depth == 0 { (key.clone(), key.as_str()) } else { (format!("{name}.{key}"), root) };
            let value = to_json(&v, &path, root, depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in obj.try_iter().map_err(|e| invalid_argument(e.to_string()))?.enumerate() {
            let item = item.map_err(|e| invalid_argument(e.to_string()))?;
            items.push(to_json(&item, &format!("{name}[{i}]"), root, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    Err(invalid_argument(format!("{name} has an unsupported type {}", type_name(obj))))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let text = obj.repr().map(|r| r.to_string()).unwrap_or_default();
    if text.chars().count() > 40 { format!("{}…", text.chars().take(40).collect::<String>()) } else { text }
}

/// Kinds handed to `_events.py`; they follow the core's enum variant.
const COMPLETED: u8 = 0;
const DISQUALIFIED: u8 = 1;
const SENT: u8 = 2;
const UNKNOWN: u8 = 3;

static EVENTS_FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static BATCH_FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn micros(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_micros())
}

/// A batch's events, kept on the Rust side until Python asks for one's JSON (the core
/// keeps each event's text and builds its `Value` on first use).
#[pyclass(frozen, module = "smartai_events._native")]
pub struct RawEvents {
    events: Vec<RawEvent>,
}

#[pymethods]
impl RawEvents {
    /// The `index`-th event's JSON as Python objects (a new dict each call), read from the
    /// text the server sent by `json.loads`, so that every integer stays exact, however large.
    fn get(&self, py: Python<'_>, index: usize) -> PyResult<Py<PyAny>> {
        match self.events.get(index) {
            Some(event) => {
                Ok(crate::loop_pump::cached(py, &JSON_LOADS, "json", "loads")?.call1((event.raw_json(),))?.unbind())
            }
            None => Err(pyo3::exceptions::PyIndexError::new_err(index)),
        }
    }

    fn __len__(&self) -> usize {
        self.events.len()
    }
}

/// The events as `(source, meta)`. Per event, `meta` holds what the core decoded:
/// `(kind, index, event_id, event_type, stored_at_us, submitted_at_us, decode_error)`,
/// with the kind following the core's enum variant. `source` holds the raw JSON: a
/// `RawEvents`, which converts an event's JSON only when Python first reads more than its
/// ID, type and timestamps. (Eager dicts through the C API, and one JSON text for the
/// batch, measured slower, see `_bench_convert`; the C API also made an integer above
/// `u64` a float.)
fn payload<'py>(py: Python<'py>, events: Vec<RawEvent>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
    let meta = PyList::empty(py);
    for (index, e) in events.iter().enumerate() {
        let kind = match e.kind() {
            EventKind::AssessmentCompleted => COMPLETED,
            EventKind::AssessmentDisqualified => DISQUALIFIED,
            EventKind::AssessmentSent => SENT,
            EventKind::Unknown => UNKNOWN,
        };
        let item = (
            kind,
            index,
            e.event_id(),
            e.event_type(),
            micros(e.stored_at()),
            micros(e.submitted_at()),
            e.decode_error(),
        )
            .into_pyobject(py)?;
        meta.append(item)?;
    }
    let source = Bound::new(py, RawEvents { events })?.into_any();
    Ok((source, meta))
}

/// A Python `list[WebhookEvent]`.
pub fn events_to_py(py: Python<'_>, events: Vec<RawEvent>) -> PyResult<Py<PyAny>> {
    let (source, meta) = payload(py, events)?;
    let factory = EVENTS_FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("smartai_events._events")?.getattr("_events")?.unbind())
    })?;
    Ok(factory.bind(py).call1((source, meta))?.unbind())
}

/// A Python `WebhookEventBatch`.
pub fn batch_to_py(py: Python<'_>, batch: WebhookEventBatch<RawEvent>) -> PyResult<Py<PyAny>> {
    let (source, meta) = payload(py, batch.events)?;
    let factory = BATCH_FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("smartai_events._events")?.getattr("_batch")?.unbind())
    })?;
    Ok(factory.bind(py).call1((source, meta, batch.pending_count))?.unbind())
}

/// JSON to Python objects through the C API, one object at a time: the alternative to
/// `json.loads` measured by `_bench_convert`.
fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, value_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Times two ways to hand a batch of events (a JSON array) to Python, `rounds` times:
/// mode 0 serialises the core's values to one JSON text and calls `json.loads`; mode 1
/// builds the dicts from the values through the C API. Returns seconds.
#[pyfunction]
pub fn _bench_convert(py: Python<'_>, text: &str, mode: u8, rounds: usize) -> PyResult<f64> {
    let events: Vec<Value> =
        serde_json::from_str(text).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let loads = py.import("json")?.getattr("loads")?;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        if mode == 0 {
            let mut out = Vec::with_capacity(text.len());
            out.push(b'[');
            for (i, e) in events.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, e)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            }
            out.push(b']');
            let s = String::from_utf8(out).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            loads.call1((s,))?;
        } else {
            let list = PyList::empty(py);
            for e in &events {
                list.append(value_to_py(py, e)?)?;
            }
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
