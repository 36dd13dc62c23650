// Evaluates a batch of expression IRs with the browser runtime, for the Python tests.
//
//   node run_cases.js RUNTIME.js CASES.json  ->  a JSON array of results on stdout
//
// Each case is {ir, fields, answers, now}: `answers` are normalised JSON answers (dates
// "YYYY-MM-DD", times "HH:MM", datetimes ISO with an offset) converted with the runtime's own
// fromJson by the types in `fields` (a type name, {group: {...}} or {repeat: {...}}, as in
// tests/conformance/README.md); a field not in `fields` passes through unchanged. `now` is ISO
// text. A result is encoded with the IR's literal tags ({$date}, {$time}, {$datetime}) so the
// Python side can compare types strictly; {$error} reports an exception, {$number} a
// non-finite number and {$undefined} a value the runtime must never give.
'use strict';
const fs = require('fs');
const path = require('path');
const expr = require(path.resolve(process.argv[2]));

function convert(value, spec) {
  if (value === null || value === undefined) return null;
  if (typeof spec === 'string') return expr.fromJson(value, spec);
  if (spec && spec.group) return record(value, spec.group);
  if (spec && spec.repeat) return Array.isArray(value) ? value.map((item) => record(item, spec.repeat)) : value;
  return value;
}

function record(value, fields) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out = {};
  for (const key of Object.keys(value)) {
    out[key] = Object.prototype.hasOwnProperty.call(fields, key) ? convert(value[key], fields[key]) : value[key];
  }
  return out;
}

function encode(value) {
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (value instanceof expr.LDate) return { $date: expr.toJson(value) };
  if (value instanceof expr.LTime) return { $time: expr.toJson(value) };
  if (value instanceof Date) return { $datetime: expr.toJson(value) };
  if (Array.isArray(value)) return value.map(encode);
  const out = {};
  for (const key of Object.keys(value)) out[key] = encode(value[key]);
  return out;
}

const cases = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const results = cases.map((c) => {
  try {
    const frames = [record(c.answers || {}, c.fields || {})];
    return encode(expr.evaluate(c.ir, frames, expr.fromJson(c.now, 'datetime')));
  } catch (error) {
    return { $error: String(error && error.stack ? error.stack : error) };
  }
});
process.stdout.write(JSON.stringify(results));
