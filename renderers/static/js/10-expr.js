/* Waypost expressions in the browser: evaluates the JSON IR of checked expressions
 * (docs/expressions.md) exactly as dsl/ does; tests/renderers/test_js_conformance.py runs every
 * case of tests/conformance/expressions.yaml through it. No text becomes code.
 * window.Waypost.expr (module.exports under node):
 *   evaluate(ir, frames, now)  value of an IR; frames[0] = the answers; now: a Date
 *   render(ir, frames, now)    text of a ["template", ...] IR (rule 8)
 *   text(value)                a value as a template shows it
 *   fromJson(json, type)       a normalised JSON answer as a runtime value: for type 'date'
 *                              ("YYYY-MM-DD"), 'time' ("HH:MM[:SS]"), 'datetime' (ISO with an
 *                              offset, or London time) text is parsed (bad text: null), arrays
 *                              item by item; other types pass through
 *   toJson(value)              back: "YYYY-MM-DD", "HH:MM" (":SS" if not 0), datetimes
 *                              "YYYY-MM-DDTHH:MM:SS+01:00" in London time; lists, records deep
 *   LDate, LTime, IR_VERSION   the classes below (for instanceof) and the IR version read (1)
 * Values: null, string, number, boolean, Array, plain object (group, repeat item, geopoint,
 * attachment); date: LDate {n: days since 1970-01-01}; time: LTime {n: seconds since
 * midnight}; datetime: Date (an instant, to the millisecond). */
(function () {
  'use strict';
  const DAY = 864e5, H = 36e5, M = 6e4;
  function LDate(n) { this.n = n; }
  function LTime(n) { this.n = n; }
  const isD = (v) => v instanceof LDate, isT = (v) => v instanceof LTime, isX = (v) => v instanceof Date;
  const str = (v) => typeof v == 'string', own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const fin = (v) => typeof v == 'number' && isFinite(v), whole = (v) => (fin(v) ? Math.trunc(v) : null);
  const pad = (n, w) => String(n).padStart(w || 2, '0'), chars = (s) => Array.from(s);
  // W: what Python's str.isspace() calls space, for the functions that strip or split text.
  const re = (s, f) => new RegExp(s.replace(/W/g, '\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'), f);
  const TRIM = re('^[W]+|[W]+$', 'g'), trim = (s) => s.replace(TRIM, '');

  // Dates are day numbers (proleptic Gregorian) in years 1 to 9999.
  const dn = (y, m, d) => new Date(0).setUTCFullYear(y, m - 1, d) / DAY;
  const ymd = (n) => { const t = new Date(n * DAY); return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()]; };
  const MIN = dn(1, 1, 1), MAX = dn(9999, 12, 31);
  const day = (n) => (n >= MIN && n <= MAX ? new LDate(n) : null);
  const iso = (n) => { const c = ymd(n); return pad(c[0], 4) + '-' + pad(c[1]) + '-' + pad(c[2]); };

  // Europe/London's offset at an instant, from Intl (full ICU in browsers and Node).
  let fmt;
  function offset(ms) {
    if (ms < -3852662325000) return -75000; // local mean time until December 1847
    if (!fmt) {
      const o = { timeZone: 'Europe/London', hourCycle: 'h23' };
      'year month day hour minute second'.split(' ').forEach((k) => { o[k] = 'numeric'; });
      fmt = new Intl.DateTimeFormat('en-GB', o);
    }
    const p = {}, s = Math.floor(ms / 1000) * 1000;
    fmt.formatToParts(s).forEach((x) => { p[x.type] = +x.value; });
    return dn(p.year, p.month, p.day) * DAY + ((p.hour * 60 + p.minute) * 60 + p.second) * 1000 - s;
  }
  // [day number, ms since midnight] of a date, a time (no day) or a datetime in London time.
  function loc(v) {
    if (!isX(v) || !isFinite(v)) return isD(v) ? [v.n, 0] : isT(v) ? [null, v.n * 1000] : null;
    const w = +v + offset(+v), n = Math.floor(w / DAY);
    return day(n) && [n, w - n * DAY];
  }
  // London wall-clock ms as an instant; a repeated or skipped time takes the offset from
  // before the change, as Python's zoneinfo (fold=0).
  function fromLocal(w) {
    const a = offset(w - DAY), b = offset(w + DAY);
    return offset(w - a) != a && offset(w - b) == b ? w - b : w - a;
  }

  function kind(v) {
    const t = typeof v;
    if (v == null || t != 'object') return v == null ? 'n' : t == 'number' ? 'f' : t[0];
    return isD(v) ? 'd' : isT(v) ? 't' : isX(v) ? 'x' : Array.isArray(v) ? 'l' : 'o';
  }
  const key = (v) => (isD(v) || isT(v) ? v.n : +v);
  // The order of two values of one orderable kind, else NaN. Text by code point, as Python.
  function cmp(a, b) {
    const k = kind(a);
    if (k != kind(b) || 'sfdtx'.indexOf(k) < 0) return NaN;
    if (k == 's') {
      for (let i = 0, x, y; i < a.length && i < b.length; i += x > 0xffff ? 2 : 1) {
        if ((x = a.codePointAt(i)) != (y = b.codePointAt(i))) return x - y;
      }
      return a.length - b.length;
    }
    const x = key(a), y = key(b);
    return x < y ? -1 : x > y ? 1 : x == y ? 0 : NaN;
  }
  function eq(a, b) {
    const k = kind(a), ks = k == 'o' && Object.keys(a);
    if (k != kind(b)) return false;
    if (k == 'l') return a.length == b.length && a.every((x, i) => eq(x, b[i]));
    if (ks) return ks.length == Object.keys(b).length && ks.every((x) => own(b, x) && eq(a[x], b[x]));
    return k == 'n' || ('dtx'.indexOf(k) < 0 ? a === b : key(a) === key(b));
  }
  const isIn = (x, l) => x != null && Array.isArray(l) && l.some((y) => eq(x, y));

  // Rule 8; numbers as Python's repr (1e-05 where String() gives 0.00001).
  function text(v) {
    const k = kind(v), l = k == 'x' && loc(v);
    if (k == 'f') return !isFinite(v) ? '' : Number.isInteger(v) || Math.abs(v) >= 1e-4 ? String(v) : v.toExponential().replace(/e(.)(\d)$/, 'e$10$2');
    if (k == 'o') return own(v, 'filename') ? text(v.filename) : own(v, 'lat') && own(v, 'lon') ? text(v.lat) + ', ' + text(v.lon) : '';
    return k == 'n' ? '' : k == 'b' ? (v ? 'yes' : 'no') : k == 'd' ? iso(v.n) : k == 'l' ? v.map(text).join(', ') :
      k == 't' ? pad(Math.floor(v.n / 3600)) + ':' + pad(Math.floor(v.n / 60) % 60) :
      k == 'x' ? (l ? iso(l[0]) + 'T' + text(new LTime(l[1] / 1000)) : '') : v;
  }

  // Half away from zero on the shortest decimal that reads back as x (dsl/ rounds
  // Decimal(repr(x)), so round(1.005, 2) is 1.01), the digits rounded as text.
  function round(x, p) {
    p = p === undefined ? 0 : whole(p);
    if (!fin(x) || p === null) return null;
    const e = Math.abs(x).toExponential().split('e'), ds = e[0].replace('.', ''), k = +e[1] + 1 + p;
    if (k >= ds.length) return x;
    let s = k < 0 ? '0' : ds.slice(0, k) || '0', i = s.length - 1;
    if (k >= 0 && ds[k] >= '5') {
      while (s[i] == '9') i--;
      s = (i < 0 ? '1' : s.slice(0, i) + (+s[i] + 1)) + '0'.repeat(s.length - i - 1);
    }
    return (x < 0 ? -1 : 1) * parseFloat(s + 'e' + -p) || 0;
  }
  function extreme(args, sign) {
    const vs = (args.length == 1 && Array.isArray(args[0]) ? args[0] : args).filter((v) => v != null);
    if (!vs.length || vs.some((v) => kind(v) != kind(vs[0]) || 'fdtx'.indexOf(kind(v)) < 0 || !isFinite(key(v)))) return null;
    return vs.reduce((a, b) => (cmp(b, a) * sign > 0 ? b : a));
  }

  function shift(n, months) {
    const c = ymd(n), i = c[0] * 12 + c[1] - 1 + months, y = Math.floor(i / 12), m = i - y * 12 + 1;
    return y < 1 || y > 9999 ? null : new LDate(dn(y, m, Math.min(c[2], ymd(dn(y, m + 1, 0))[2])));
  }
  // For from <= to: birthdays passed (29 February is 1 March in a common year), and the
  // months add_months can add without passing `to`; completed() mirrors them for to < from.
  function years(f, l) {
    const a = ymd(f), b = ymd(l), y = b[0], bd = a[1] == 2 && a[2] == 29 && (y % 4 || (y % 100 == 0 && y % 400)) ? [3, 1] : a.slice(1);
    return y - a[0] - (b[1] < bd[0] || (b[1] == bd[0] && b[2] < bd[1]));
  }
  function months(f, l) {
    const a = ymd(f), b = ymd(l), n = (b[0] - a[0]) * 12 + b[1] - a[1], got = shift(f, n);
    return !got || got.n > l ? n - 1 : n;
  }
  function completed(a, b, count) {
    const f = (loc(a) || [])[0], l = (loc(b) || [])[0];
    return f == null || l == null ? null : l < f ? -count(l, f) : count(f, l);
  }
  function elapsed(a, b, unit) {
    if (isX(a) && isX(b)) return Math.trunc((b - a) / unit) || 0;
    return isD(a) && isD(b) && unit == DAY ? b.n - a.n : null;
  }
  function addTime(t, count, unit) {
    const r = fin(count) && isX(t) ? Math.round(+t + count * unit) : NaN;
    return r >= MIN * DAY && r < (MAX + 1) * DAY ? new Date(r) : null;
  }
  // year, month, day (i = 0, 1, 2) of a date or datetime; hour, minute (3, 4) of a time or datetime.
  const part = (i) => (v) => {
    const l = loc(v);
    if (!l || (i < 3 ? l[0] == null : isD(v))) return null;
    return i < 3 ? ymd(l[0])[i] : Math.floor(l[1] / (i == 3 ? H : M)) % (i == 3 ? 24 : 60);
  };
  const weekday = (n) => ((((n + 3) % 7) + 7) % 7) + 1;
  const NAMES = 'January February March April May June July August September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday'.split(' ');
  function formatDate(v, pattern) {
    const l = loc(v);
    if (!l) return null;
    const c = ymd(l[0]), w = NAMES[weekday(l[0]) + 11], m = NAMES[c[1] - 1], h = Math.floor(l[1] / M);
    const f = { YYYY: pad(c[0], 4), YY: pad(c[0] % 100), MMMM: m, MMM: m.slice(0, 3), MM: pad(c[1]), M: c[1],
      DD: pad(c[2]), D: c[2], dddd: w, ddd: w.slice(0, 3), HH: pad(Math.floor(h / 60)), mm: pad(h % 60) };
    return pattern.replace(/\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|mm/g, (t) => (t[0] == '[' ? t.slice(1, -1) : f[t]));
  }
  function parseDate(s) {
    const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s), n = m && dn(+m[1], +m[2], +m[3]);
    return m && +m[1] && iso(n) == s ? new LDate(n) : null;
  }
  function parseTime(s) {
    const m = /^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$/.exec(s);
    return m ? new LTime(m[1] * 3600 + m[2] * 60 + +(m[3] || ':0').slice(1)) : null;
  }
  function parseDateTime(s) {
    const m = /^(.{10})[T ](\d\d:\d\d(:\d\d)?)(\.\d{1,6})?(Z|([+-])(\d\d):?(\d\d)(:?(\d\d))?)?$/.exec(s);
    const d = m && parseDate(m[1]), t = m && parseTime(m[2]), w = d && t && d.n * DAY + t.n * 1000 + Math.round((m[4] || 0) * 1000);
    if (!w && w !== 0) return null;
    return new Date(!m[5] ? fromLocal(w) : w - (m[6] == '-' ? -1 : 1) * ((m[7] || 0) * H + (m[8] || 0) * M + (m[10] || 0) * 1000));
  }

  // matches(): Python reads patterns with re.ASCII, so \s is ASCII space, '.' anything but \n
  // and '$' also matches before a final \n; the rest dsl/_regex.py allows reads the same. The
  // u flag counts code points as Python does, but refuses some escapes Python takes ('\-'):
  // such patterns run without it.
  const RX = {};
  function regex(p) {
    for (const u of own(RX, p) ? [] : ['u', '']) {
      const sp = '\\t-\\r ', ns = '\\0-\\x08\\x0e-\\x1f!-' + (u ? '\\u{10ffff}' : '\\uffff');
      let out = '', cls = 0;
      for (let i = 0, c, e; i < p.length; out += c) {
        c = p[i++];
        if (c == '\\') c = (e = p[i++] || '') == 's' ? (cls ? sp : '[' + sp + ']') : e == 'S' ? (cls ? ns : '[' + ns + ']') : c + e;
        else if (cls) cls = c != ']';
        else if (c == '[') {
          cls = 1;
          if (p[i] == '^') c += p[i++];
        } else if (c == '.') c = '[^\\n]';
        else if (c == '$') c = '(?=\\n?$)';
      }
      try { RX[p] = new RegExp(out, u); break; } catch (err) { RX[p] = null; }
    }
    return RX[p];
  }
  // UK formats, as dsl/_lib_formats.py.
  const POSTCODE = /^(?:([A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRV-Y])) ?([0-9][ABD-HJLNP-UW-Z]{2})|(GIR) ?(0AA))$/;
  function postcode(s) {
    const m = str(s) && /^[\0-\x7f]*$/.test(s) && POSTCODE.exec(trim(s).toUpperCase());
    return m ? (m[1] || m[3]) + ' ' + (m[2] || m[4]) : null;
  }
  const PHONE = re('^\\+?[0-9W()-]+$'), SEP = re('[W()-]', 'g'), NATIONAL = /^0(?:[18][0-9]{8,9}|[237][0-9]{9})$/;
  function phone(s) {
    if (!str(s) || !PHONE.test(trim(s))) return false;
    s = trim(s).replace(re('\\+44[W]*\\(0\\)'), '+44').replace(SEP, '');
    return s.slice(0, 3) == '+44' ? s[3] != '0' && NATIONAL.test('0' + s.slice(3)) : NATIONAL.test(s);
  }
  const LOCAL = re('^[^W\\0-\\x1f\\x7f@<>()\\[\\]\\\\,;:"]+$'), LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
  function email(s) {
    const at = str(s) ? s.split('@') : [], labels = (at[1] || '').split('.'), tld = labels[labels.length - 1];
    return at.length == 2 && chars(s).length < 255 && chars(at[0]).length < 65 && LOCAL.test(at[0]) && at[0].split('.').indexOf('') < 0 &&
      labels.length > 1 && !/^\p{Nd}+$/u.test(tld) && chars(tld).length > 1 && labels.every((l) => LABEL.test(l));
  }

  // Every function of dsl.default_library(); a call of one not in OWN_NULLS with a null argument
  // is null without calling it. A value of the wrong type (an answer sent in the wrong shape)
  // gives null where dsl/ gives None, rather than an exception.
  const OWN_NULLS = 'count sum selected count_selected len contains starts_with ends_with matches concat min max is_postcode is_uk_phone is_email'.split(' ');
  const test = (f) => (s, p) => str(s) && str(p) && f(s, p), text1 = (f) => (s) => (str(s) ? f(s) : null);
  const NUMBER = re('^[W]*(-?[0-9]+(\\.[0-9]+)?)[W]*$'), LETTER = /\p{L}/u;
  const F = {
    count: (l) => (l ? l.length : 0),
    sum: (l) => (l || []).reduce((a, v) => (v == null ? a : a + v), 0),
    selected: (l, v) => isIn(v, l),
    len: (v) => (v == null ? 0 : chars(v).length),
    text: text,
    number: (v) => { const m = str(v) && NUMBER.exec(v); return typeof v == 'number' ? v : m ? +m[1] || 0 : null; },
    years_between: (a, b) => completed(a, b, years),
    months_between: (a, b) => completed(a, b, months),
    days_between: (a, b) => elapsed(a, b, DAY),
    hours_between: (a, b) => elapsed(a, b, H),
    add_days: (d, n) => (isD(d) && whole(n) != null ? day(d.n + whole(n)) : null),
    add_months: (d, n) => (isD(d) && whole(n) != null && Math.abs(n) < 12 * 9999 + 1 ? shift(d.n, whole(n)) : null),
    add_years: (d, n) => (whole(n) != null && Math.abs(n) < 10000 ? F.add_months(d, whole(n) * 12) : null),
    add_hours: (t, n) => addTime(t, n, H),
    add_minutes: (t, n) => addTime(t, n, M),
    year: part(0),
    month: part(1),
    day: part(2),
    hour: part(3),
    minute: part(4),
    weekday: (v) => { const l = !isT(v) && loc(v); return l ? weekday(l[0]) : null; },
    date: (v) => (str(v) ? parseDate(trim(v)) : isX(v) ? day((loc(v) || [])[0]) : null),
    format_date: (v, p) => (str(p) && !isT(v) ? formatDate(v, p) : null),
    lower: text1((s) => s.toLowerCase()),
    upper: text1((s) => s.toUpperCase()),
    trim: text1(trim),
    initials: text1((s) => s.split(re('[W]+')).map((w) => chars(w).find((c) => LETTER.test(c)) || '').join('').toUpperCase()),
    contains: test((s, p) => s.indexOf(p) >= 0),
    starts_with: test((s, p) => s.startsWith(p)),
    ends_with: test((s, p) => s.endsWith(p)),
    matches: test((s, p) => !!regex(p) && regex(p).test(s)),
    replace: (s, f, r) => (f ? s.split(f).join(r) : s),
    substr: (s, a, n) => {
      const cs = chars(s), f = whole(a), l = n === undefined ? cs.length : f + Math.max(whole(n), 0);
      return f == null || (n !== undefined && whole(n) == null) ? null : cs.slice(Math.max(f, 0), Math.max(l, 0)).join('');
    },
    concat: (...a) => a.filter(str).join(''),
    join: (l, s) => l.filter(str).join(s),
    split: (s, p) => (s == '' ? [] : p == '' ? chars(s) : s.split(p)),
    round: round,
    floor: (x) => (fin(x) ? Math.floor(x) : null),
    ceil: (x) => (fin(x) ? Math.ceil(x) : null),
    abs: (x) => (fin(x) ? Math.abs(x) : null),
    int: (x) => (fin(x) ? Math.trunc(x) || 0 : null),
    min: (...a) => extreme(a, -1),
    max: (...a) => extreme(a, 1),
    is_postcode: (s) => postcode(s) != null,
    is_uk_phone: phone,
    is_email: email,
    format_postcode: (s) => postcode(s) || s,
  };
  F.count_selected = F.count;

  const num = (a, b) => (typeof a == 'number' && typeof b == 'number') || null;
  // Nodes of two evaluated operands ('and', 'or' and 'coalesce' short-circuit in ev).
  const BIN = {
    eq: eq,
    ne: (a, b) => !eq(a, b),
    lt: (a, b) => cmp(a, b) < 0,
    le: (a, b) => cmp(a, b) <= 0,
    gt: (a, b) => cmp(a, b) > 0,
    ge: (a, b) => cmp(a, b) >= 0,
    in: isIn,
    not_in: (a, b) => !isIn(a, b),
    concat: (a, b) => (str(a) ? a : '') + (str(b) ? b : ''),
    add: (a, b) => (num(a, b) ? a + b : (str(a) || str(b)) && kind(a) in { s: 1, n: 1 } && kind(b) in { s: 1, n: 1 } ? (a || '') + (b || '') : null),
    sub: (a, b) => num(a, b) && a - b,
    mul: (a, b) => num(a, b) && a * b,
    div: (a, b) => (num(a, b) && b ? a / b : null),
    // Floored: the sign of the divisor, exactly as Python's % on floats.
    mod: (a, b) => { const m = num(a, b) && b ? a % b : null; return m && m < 0 != b < 0 ? m + b : m; },
  };

  function lit(v) {
    if (Array.isArray(v) || !v || typeof v != 'object') return Array.isArray(v) ? v.map(lit) : v;
    return own(v, '$date') ? parseDate(v.$date) : own(v, '$time') ? parseTime(v.$time) : own(v, '$datetime') ? parseDateTime(v.$datetime) : v;
  }
  function dig(v, keys) {
    for (const k of keys) v = kind(v) == 'o' && own(v, k) ? v[k] : null;
    return v === undefined ? null : v;
  }
  function ev(n, env) {
    const op = n[0], a = n[1];
    switch (op) {
      case 'lit': return lit(a);
      case 'ref': return dig(env.f[a], n[2]);
      case 'project': { const l = ev(a, env); return Array.isArray(l) ? l.map((i) => dig(i, n[2])) : null; }
      case 'list': return n.slice(1).map((x) => ev(x, env));
      case 'template': return n.slice(1).map((x) => (str(x) ? x : text(ev(x, env)))).join('');
      case 'not': return ev(a, env) !== true;
      case 'neg': { const v = ev(a, env); return typeof v == 'number' ? -v : null; }
      case 'and': return ev(a, env) === true && ev(n[2], env) === true;
      case 'or': return ev(a, env) === true || ev(n[2], env) === true;
      case 'coalesce': { const v = ev(a, env); return v == null ? ev(n[2], env) : v; }
      case 'scoped': { // count, any, all: the condition runs with each item pushed as a frame
        const l = ev(n[2], env), t = (i) => ev(n[3], { f: env.f.concat([i]), now: env.now }) === true;
        return !Array.isArray(l) ? (a == 'count' ? 0 : a == 'all') : a == 'count' ? l.filter(t).length : a == 'any' ? l.some(t) : l.every(t);
      }
      case 'call': {
        if (a == 'if') return ev(n[ev(n[2], env) === true ? 3 : 4], env);
        if (a == 'coalesce') {
          for (let i = 2, v; i < n.length; i++) if ((v = ev(n[i], env)) != null) return v;
          return null;
        }
        if (a == 'today' || a == 'now') return a == 'now' ? new Date(+env.now) : day((loc(env.now) || [])[0]);
        if (!own(F, a)) break;
        const args = n.slice(2).map((x) => ev(x, env));
        if (OWN_NULLS.indexOf(a) < 0 && args.some((v) => v == null)) return null;
        try { const v = F[a].apply(null, args); return v === undefined ? null : v; } catch (err) { return null; }
      }
      default:
        if (own(BIN, op)) return BIN[op](ev(a, env), ev(n[2], env));
    }
    throw new Error('Waypost: unknown IR ' + op + ' ' + a);
  }

  const evaluate = (ir, frames, now) => { const v = ev(ir, { f: frames || [], now: now || new Date() }); return v === undefined ? null : v; };
  function fromJson(v, type) {
    const parse = { date: parseDate, time: parseTime, datetime: parseDateTime }[type];
    return Array.isArray(v) ? v.map((x) => fromJson(x, type)) : v == null ? null : parse && str(v) ? parse(v) : v;
  }
  function toJson(v) {
    const k = kind(v), l = k == 'x' && loc(v), o = l && offset(+v), a = Math.abs(o) / 1000, ms = l && l[1] % 1000, r = {};
    if (k == 'l') return v.map(toJson);
    if (k == 'o') return Object.keys(v).forEach((x) => { r[x] = toJson(v[x]); }) || r;
    if (k == 'd' || k == 't') return text(v) + (k == 't' && v.n % 60 ? ':' + pad(v.n % 60) : '');
    if (k != 'x') return k == 'n' || (k == 'f' && !isFinite(v)) ? null : v;
    return l && text(v) + ':' + pad(Math.floor(l[1] / 1000) % 60) + (ms ? '.' + pad(ms, 3) + '000' : '') + (o < 0 ? '-' : '+') +
      pad(Math.floor(a / 3600)) + ':' + pad(Math.floor(a / 60) % 60) + (a % 60 ? ':' + pad(a % 60) : '');
  }

  const api = { evaluate: evaluate, render: (ir, frames, now) => text(evaluate(ir, frames, now)), text: text,
    fromJson: fromJson, toJson: toJson, LDate: LDate, LTime: LTime, IR_VERSION: 1 };
  (globalThis.Waypost = globalThis.Waypost || {}).expr = api;
  if (typeof module == 'object' && module.exports) module.exports = api;
})();
