// Evaluates a form's relevance and calculations with the browser runtime, for the Python tests.
//
//   node run_form.js RUNTIME.js BATCH.json  ->  JSON on stdout
//
// BATCH is {form: <renderers.form_json(form)>, samples: [{answers, now}, ...]} with answers in
// normalised JSON. For each sample the answers are converted by item type with fromJson, then
// every step of form.evaluation_order runs as forms/_late.py runs it (an item or page whose
// relevance is not true loses its answer; a calculation that gives null has none). The result
// per sample is {answers: toJson(the answers after every step), relevant: {"path": boolean}}, the
// second being each item's relevance evaluated once more over the final answers, one entry per
// instance ("suspects/0/suspect_name").
'use strict';
const fs = require('fs');
const path = require('path');
const expr = require(path.resolve(process.argv[2]));
const batch = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const form = batch.form;

// Every item by id, with its chain of enclosing groups and repeats: [[id, isRepeat], ...].
const items = {};
(function index(list, chain) {
  for (const item of list) {
    items[item.id] = { item: item, chain: chain };
    if (item.items) index(item.items, chain.concat([[item.id, item.type === 'repeat']]));
  }
})([].concat(...form.pages.map((p) => p.items)), []);

const SCALAR = { date: 'date', time: 'time', datetime: 'datetime' };
function convert(value, item) {
  if (value === null || value === undefined) return null;
  if (item.type === 'group') return record(value, item.items);
  if (item.type === 'repeat') return Array.isArray(value) ? value.map((v) => record(v, item.items)) : value;
  const type = item.type === 'calculate' ? item.value_type.replace(/^list of /, '') : item.type;
  return expr.fromJson(value, SCALAR[type] || type);
}
function record(value, list) {
  const out = {};
  for (const key of Object.keys(value)) {
    const item = list.find((i) => i.id === key);
    out[key] = item ? convert(value[key], item) : value[key];
  }
  return out;
}

// Every (frames, container, path) where an item with enclosing `chain` keeps its answer.
function instances(answers, chain, attach, hidden) {
  let level = [[[answers], answers, []]];
  for (const [id, isRepeat] of chain) {
    const next = [];
    for (const [frames, container, prefix] of level) {
      const sub = container[id];
      if (isRepeat) {
        (sub || []).forEach((item, i) => next.push([frames.concat([item]), item, prefix.concat([id, i])]));
        continue;
      }
      let group = sub;
      if (group == null) {
        if (hidden.has(prefix.concat([id]).join('/'))) continue;
        group = {};
        if (attach) container[id] = group;
      }
      next.push([frames, group, prefix.concat([id])]);
    }
    level = next;
  }
  return level;
}

function run(sample) {
  const now = expr.fromJson(sample.now, 'datetime');
  const answers = record(sample.answers, [].concat(...form.pages.map((p) => p.items)));
  const hidden = new Set();
  for (const [kind, id] of form.evaluation_order) {
    if (kind === 'page') {
      const page = form.pages.find((p) => p.id === id);
      if (expr.evaluate(page.relevant, [answers], now) !== true) {
        for (const item of page.items) { delete answers[item.id]; hidden.add(item.id); }
      }
      continue;
    }
    const { item, chain } = items[id];
    for (const [frames, container, prefix] of instances(answers, chain, kind === 'value', hidden)) {
      const where = prefix.concat([id]).join('/');
      if (kind === 'relevant') {
        if (expr.evaluate(item.relevant, frames, now) !== true) { delete container[id]; hidden.add(where); }
      } else if (!hidden.has(where)) {
        const value = expr.evaluate(item.value, frames, now);
        if (value === null) delete container[id]; else container[id] = value;
      }
    }
  }
  const relevant = {};
  for (const id of Object.keys(items)) {
    const { item, chain } = items[id];
    if (!item.relevant) continue;
    for (const [frames, , prefix] of instances(answers, chain, false, new Set())) {
      relevant[prefix.concat([id]).join('/')] = expr.evaluate(item.relevant, frames, now);
    }
  }
  return { answers: expr.toJson(answers), relevant: relevant };
}

process.stdout.write(JSON.stringify(batch.samples.map(run)));
