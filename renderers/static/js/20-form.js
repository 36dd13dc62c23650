/* Waypost.form: live relevance, calculations and checks on a form[data-wp-form-json] page, as
 * docs/forms.md ("How the page behaves with JavaScript") describes. Only IR is evaluated (by
 * Waypost.expr); what it cannot decide is left to the server, which checks every post. */
(function () {
  'use strict';
  const doc = globalThis.document, E = globalThis.Waypost && Waypost.expr;
  if (!doc || !E) return;
  const $$ = (s, r) => Array.from((r || doc).querySelectorAll(s));
  const en = (t) => (t && t.en) || t || '';
  const dig = (o, ks) => ks.reduce((x, k) => (x == null ? x : x[k]), o);
  const join = (l) => [].concat(...l);
  const call = (f, ...a) => E.evaluate(['call', f].concat(a.map((x) => ['lit', x])));
  const mk = (tag, cls, text) => { const e = doc.createElement(tag); e.className = cls || ''; e.textContent = text || ''; return e; };
  const dom = (el) => 'f-' + el.dataset.wpPath.replace(/\./g, '-');
  // The frames of an IR at a path: the answers, then each repeat item around it.
  const frames = (A, ks) => ks.slice(0, -1).reduce((f, k, i) => (/^\d/.test(k) ? f.concat([dig(A, ks.slice(0, i + 1))]) : f), [A]);
  const deps = (n, s) => (Array.isArray(n) && n[0] != 'lit' && (n[0] == 'ref' && !n[1] ? s.push(n[2][0]) : n.forEach((x) => deps(x, s))), s);
  // read() gives a message as a String object (answers are plain strings), BAD when the
  // answer does not read: the server words that.
  const BAD = {}, msg = (m) => new String(m);

  // How forms/_messages.py names a field: [subject, phrase, is a question].
  function words(it) {
    const t = (en(it.label) || it.id.replace(/_/g, ' ')).trim().replace(/[:.]+$/, '').split(/\s+/).join(' ') || it.id, a = t.slice(0, 2);
    return t.slice(-1) == '?' ? ['The answer', 'an answer to ‘' + t + '’', 1] :
      [t[0].toUpperCase() + t.slice(1), /^\S\S/.test(t) && a == a.toUpperCase() && a != a.toLowerCase() ? t : t[0].toLowerCase() + t.slice(1)];
  }

  // A raw answer (engine/_drafts.py's shape) read as forms/_readers.py does in coerce mode.
  function read(it, v, w) {
    const t = it.type, s = typeof v == 'string' ? v.trim() : '', n = Array.from(s).length, d = /date/.test(t), S = w[0] + ' must be ';
    let x = s;
    if (v == null || /calculate|note/.test(t)) return null;
    if (/photo|file|signature|select_many/.test(t)) return (x = [].concat(v).filter((c) => c)).length ? (t == 'signature' ? x[0] : x) : null;
    if (t == 'geopoint') return v.lat || v.lon ? { lat: +v.lat, lon: +v.lon } : null;
    if (d) {
      x = ['year', 'month', 'day', 'time'].map((k) => String(v[k] || '').trim());
      if (!x.join('')) return null;
      x = x[0] + '-' + x[1].padStart(2, 0) + '-' + x[2].padStart(2, 0) + (t == 'date' ? '' : 'T' + x[3]);
      x = /^\d{4}-\d\d-\d\d(T\d\d:\d\d)?$/.test(x) ? E.fromJson(x, t) : BAD;
    } else if (!s) return null;
    else if (t == 'yesno') return /^(yes|true)$/i.test(s) || (/^(no|false)$/i.test(s) ? false : BAD);
    else if (t == 'time') x = E.fromJson(s, t);
    else if (/integer|decimal/.test(t)) x = (t == 'integer' ? /^[+-]?\d+(\.0*)?$/ : /^[+-]?(\d+\.?\d*|\.\d+)$/).test(s) ? parseFloat(s) : BAD;
    else if (/text/.test(t)) {
      if (n > it.max_length) return msg(S + it.max_length + ' characters or fewer');
      if (n < it.min_length) return msg(S + it.min_length + ' characters or more');
      if (it.pattern && !call('matches', s, '^(?:' + it.pattern + ')$(?![\\s\\S])')) {
        return msg(en(it.pattern_message).replace('{subject}', w[0]).replace('{phrase}', w[1]) || 'Enter ' + w[1] + ' in the correct format');
      }
    }
    // Out of bounds: numbers get the server's message; dates and times are left to the server.
    const key = (y) => (y.n == null ? +y : y.n), lo = it.min, hi = it.max;
    if (x == null || x === BAD) return BAD;
    for (const [b, more] of [[lo, 1], [hi]]) {
      if (b != null && (more ? key(x) < key(E.fromJson(b, t)) : key(x) > key(E.fromJson(b, t)))) {
        return d || t == 'time' ? BAD : msg(S + (lo != null && hi != null ? 'between ' + lo + ' and ' + hi : b + (more ? ' or more' : ' or less')));
      }
    }
    return x;
  }

  // The page's inputs as raw answers: dotted names as nested objects and lists.
  function rawOf(form) {
    const out = {};
    for (const e of form.elements) {
      let ks = e.name.split('.'), v = e.value, many = /checkbox|file/.test(e.type), o = out;
      if (!e.name || e.disabled || /^(_|csrf_token$)/.test(e.name) || /submit|button/.test(e.type) || (/radio|checkbox/.test(e.type) && !e.checked)) continue;
      if (e.type == 'file') v = Array.from(e.files, (f) => ({ filename: f.name }));
      else if (ks[ks.length - 1] == 'attachment') {
        try { v = JSON.parse(v); } catch (err) { continue; }
        many = ks.pop();
      }
      const last = ks.pop();
      ks.forEach((k, i) => { o = o[k] || (o[k] = /^(\d+|_count)$/.test(ks[i + 1] || last) ? [] : {}); });
      if (last == '_count') o.length = Math.max(o.length, +v || 0);
      else o[last] = many ? (o[last] || []).concat(v) : v;
    }
    return out;
  }

  // Raw answers as typed answers (what does not read is no answer, as in forms.evaluate).
  function typed(items, raw, out) {
    items.forEach((it) => {
      const v = Object(raw)[it.id], x = it.items ? Object(v) === v && v : read(it, v, it.w || (it.w = words(it)));
      if (it.type == 'repeat') x && x.map && (out[it.id] = Array.from(x, (e) => typed(it.items, e, {})));
      else if (it.items ? x : x != null && x !== BAD && !(x instanceof String)) out[it.id] = it.items ? typed(it.items, x, {}) : x;
    });
    return out;
  }

  function start(form, J, other) {
    if (J.format != 'waypost-form' || J.ir_version != E.IR_VERSION) return;
    const byId = {}, pages = {}, dirty = new Set(), all = join(J.pages.map((p) => p.items));
    const index = (items, chain) => items.forEach((it) => {
      byId[it.id] = it;
      it.chain = chain;
      if (it.items) index(it.items, chain.concat([[it.id, it.type == 'repeat']]));
    });
    J.pages.forEach((p) => { pages[p.id] = p; index(p.items, []); });
    const here = J.pages.filter((p) => p.id == form.dataset.wpPage || p.items.some((it) => form.querySelector('[data-wp-item="' + it.id + '"]')));
    let S;

    // forms.evaluate, in evaluation_order. U: top-level answers not known here (on pages not
    // shown); H: paths of hidden items; L: paths whose relevance reads U, left as drawn.
    function run() {
      const dom = rawOf(form), R = Object.assign({}, other), U = new Set(), H = new Set(), L = new Set(), now = new Date();
      J.pages.forEach((p) => p.items.forEach((it) => (here.indexOf(p) >= 0 ? (R[it.id] = dom[it.id]) : other || U.add(it.id))));
      const A = typed(all, R, {}), unk = (ir) => deps(ir, []).some((k) => U.has(k));
      // Where an item has its answer (forms/_late.py _instances): frames, container, path.
      const each = (it, attach) => it.chain.reduce((lv, [id, rep]) => join(lv.map((x) => {
        let sub = x.c[id];
        const p = x.p.concat(id);
        if (rep) return Array.from(sub || [], (e, i) => ({ f: x.f.concat([e]), c: e, p: p.concat(i) }));
        if (sub == null) {
          if (H.has(p.join('.'))) return [];
          sub = {};
          if (attach) x.c[id] = sub;
        }
        return [{ f: x.f, c: sub, p: p }];
      })), [{ f: [A], c: A, p: [] }]);
      J.evaluation_order.forEach(([kind, id]) => {
        const pg = pages[id], it = byId[id], value = kind == 'value';
        if (kind == 'page') {
          if (pg.relevant && here.indexOf(pg) < 0 && !unk(pg.relevant) && E.evaluate(pg.relevant, [A], now) !== true) {
            pg.items.forEach((i) => { delete A[i.id]; U.delete(i.id); H.add(i.id); });
          }
          return;
        }
        const ir = it[kind], u = ir && unk(ir);
        if (!ir || U.has(it.path[0])) return;
        if (u && value) return U.add(it.path[0]);
        each(it, value).forEach((x) => {
          const p = x.p.concat(it.id).join('.'), el = form.querySelector('[data-wp-path="' + p + '"]');
          const v = value && !H.has(p) ? E.evaluate(ir, x.f, now) : null;
          if (value) v == null ? delete x.c[it.id] : (x.c[it.id] = v);
          else if (u && !el) U.add(it.path[0]);
          else if (u ? (L.add(p), el.hidden) : E.evaluate(ir, x.f, now) !== true) delete x.c[it.id], H.add(p);
        });
      });
      S = { A: A, R: R, U: U, unk: unk, now: now };
      $$('[data-wp-path]', form).forEach((el) => {
        const ks = el.dataset.wpPath.split('.'), h = ks.some((k, i) => H.has(ks.slice(0, i + 1).join('.')));
        if (!U.has(ks[0]) && !L.has(ks.join('.'))) el.classList.toggle('wp-irrelevant', (el.hidden = h));
      });
      $$('output[data-wp-value]', form).forEach((o) => {
        const ks = o.dataset.wpValue.split('.'), v = dig(A, ks);
        if (!U.has(ks[0])) o.textContent = v === !!v ? (v ? 'Yes' : 'No') : E.text(v);
      });
      // A drop-down offers the choices its choice_filter allows now (the server drew the list
      // for the answers it had); a chosen value stays, as on the server. Radios keep theirs.
      $$('select', form).forEach((sel) => {
        const el = sel.closest('[data-wp-item]'), it = (el && byId[el.dataset.wpItem]) || {}, f = it.choice_filter, v = sel.value;
        const ks = f ? el.dataset.wpPath.split('.') : [];
        if (!f || U.has(ks[0]) || unk(f)) return;
        const fr = frames(A, ks), cs = (it.choices || J.lists[it.list_name].choices).filter((c) => c.value == v ||
          E.evaluate(f, fr.concat([{ choice: Object.assign({}, c.data, { value: c.value, label: en(c.label) }) }]), now) === true);
        if (cs.map((c) => c.value) + '' != $$('option', sel).slice(1).map((o) => o.value) + '') {
          sel.replaceChildren(sel.options[0], ...cs.map((c) => Object.assign(mk('option', '', en(c.label)), { value: c.value, selected: c.value == v })));
        }
      });
      // Repeat items are named by item_label, as engine/_web_fill_view.py names them.
      $$('[data-wp-entry]', form).forEach((f) => {
        const ks = f.dataset.wpEntry.split('.'), r = byId[ks[ks.length - 2]], lg = f.querySelector('legend'), rm = f.querySelector('[data-wp-remove] span');
        if (!r.item_label || U.has(ks[0]) || unk(r.item_label)) return;
        const t = dig(A, ks) ? E.render(r.item_label, frames(A, ks.concat('')), now).replace(/^[ :–,()-]+|[ :–,()-]+$/g, '') : '';
        lg.textContent = 'Item ' + (+ks[ks.length - 1] + 1) + (t ? ': ' + t : '');
        if (rm) rm.textContent = ' ' + lg.textContent;
      });
    }

    // A field's message: null when it is fine, undefined when only the server can tell.
    function check(el) {
      const it = byId[el.dataset.wpItem], ks = el.dataset.wpPath.split('.'), t = it && it.type;
      if (!it || !('required' in it) || /calculate|note/.test(t) || S.U.has(ks[0])) return;
      if (el.closest('[hidden]')) return null;
      const w = it.w || (it.w = words(it)), v = read(it, dig(S.R, ks), w), ask = (ir) => (S.unk(ir) ? undefined : E.evaluate(ir, frames(S.A, ks), S.now) === true);
      const r = v == null ? it.required || (it.required_expr ? ask(it.required_expr) : false) : !it.constraint || ask(it.constraint);
      if (v === BAD) return;
      if (v instanceof String) return '' + v;
      if (r === undefined || (v == null) == !r) return r && null;
      return v != null ? en(it.message) || 'Check this answer' : en(it.required_message) ||
        (/text|integer|decimal|date|time|email|phone|postcode/.test(t) ? 'Enter ' : t == 'yesno' ? 'Select yes or no' + (w[2] ? '' : ' for ') :
          /photo|file|signature/.test(t) ? 'Add ' : t == 'geopoint' ? 'Record ' : 'Select ') + (t == 'yesno' && w[2] ? '' : w[1]);
    }

    // Shows or clears a field's inline error as fields.html renders it.
    function mark(el, m) {
      // aria-describedby is on a fieldset wrapper, else on the input.
      const id = dom(el), first = el.tagName == 'FIELDSET' ? el : doc.getElementById(id), sum = doc.querySelector('[data-wp-error-summary]'), a = sum && sum.querySelector('a[href="#' + id + '"]');
      let p = doc.getElementById(id + '-error');
      if (m === undefined) return;
      el.classList.toggle('field--error', !!m);
      $$('.input,.textarea,.select', el).forEach((i) => i.classList.toggle('input--error', !!m));
      if (!m) p && p.remove();
      else {
        if (!p) (doc.getElementById(id + '-hint') || el.querySelector('label,legend')).after((p = mk('p', 'error-message')));
        p.id = id + '-error';
        p.replaceChildren(mk('span', 'visually-hidden', 'Error:'), ' ' + m);
      }
      const by = ['-hint', '-error', '-warning'].map((s) => id + s).filter((i) => doc.getElementById(i)).join(' ');
      if (first) by ? first.setAttribute('aria-describedby', by) : first.removeAttribute('aria-describedby');
      if (a) m ? (a.textContent = m) : a.parentNode.remove();
      if (sum && !sum.querySelector('a')) sum.remove();
    }

    const update = () => { try { run(); } catch (err) { S = null; } };
    form.addEventListener('input', (e) => {
      const el = e.target.closest('[data-wp-item]');
      update();
      if (el) dirty.add(el);
      if (S && el && el.classList.contains('field--error') && !check(el)) mark(el, null);
    });
    form.addEventListener('change', update);
    // Checked when the officer moves on to another field: not when they tap a button, as a
    // message appearing then moves the button from under their finger (Continue checks all).
    form.addEventListener('focusout', (e) => {
      const el = e.target.closest('[data-wp-item]'), to = e.relatedTarget;
      if (S && dirty.has(el) && to && /^(INPUT|SELECT|TEXTAREA)$/.test(to.tagName) && !el.contains(to)) mark(el, check(el));
    });
    form.addEventListener('submit', (e) => {
      const b = e.submitter, n = mk('div', 'error-summary'), ul = mk('ul', 'error-summary__list');
      if (!S || (b && b.name == '_action' && b.value != 'continue')) return;
      try {
        update();
        $$('[data-wp-item]', form).forEach((el) => {
          const m = check(el), li = mk('li'), a = mk('a', '', m);
          mark(el, m);
          if (m) ul.append(li), li.append(a), (a.href = '#' + dom(el));
        });
      } catch (err) { return; }
      if (!ul.children.length) return;
      e.preventDefault();
      const old = doc.querySelector('[data-wp-error-summary]'), back = doc.querySelector('.back-link');
      n.id = 'error-summary';
      n.setAttribute('role', 'alert');
      n.tabIndex = -1;
      n.dataset.wpErrorSummary = '';
      n.append(mk('h2', 'error-summary__title', 'There is a problem'), ul);
      old ? old.replaceWith(n) : back ? back.after(n) : form.before(n);
      if (doc.title.indexOf('Error: ')) doc.title = 'Error: ' + doc.title;
      n.focus();
    });
    const js = mk('input');
    js.type = 'hidden';
    js.name = '_js';
    js.value = 1;
    form.append(js);
    update();
  }

  // form[data-wp-answers]: the draft's raw answers, as JSON or the URL of some.
  $$('form[data-wp-form-json]').forEach((form) => {
    const get = (u) => fetch(u, { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : Promise.reject(r))), a = form.dataset.wpAnswers;
    Promise.all([get(form.dataset.wpFormJson), a && (a[0] == '{' ? JSON.parse(a) : get(a))]).then((j) => start(form, j[0], j[1])).catch(() => {});
  });
  // As GOV.UK Frontend: the error summary takes focus, and its links focus their field.
  doc.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('[data-wp-error-summary] a'), t = a && doc.getElementById(a.hash.slice(1));
    if (t) e.preventDefault(), t.focus(), (t.closest('[data-wp-item]') || t).scrollIntoView();
  });
  const sum = doc.querySelector('[data-wp-error-summary]');
  if (sum) sum.focus();
  Waypost.form = { read: read, words: words, rawOf: rawOf, BAD: BAD };
})();
