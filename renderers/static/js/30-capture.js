/* Waypost.capture: photo/file uploads, signature pad and geolocation for the markup of
 * renderers/templates/fields.html (docs/supervisors.md, "Capture"). */
(function () {
  'use strict';
  const doc = globalThis.document;
  const el = (tag, cls, text) => { const e = doc.createElement(tag); e.className = cls || ''; e.textContent = text || ''; return e; };
  const btn = (text, cls) => { const b = el('button', 'button button--secondary ' + (cls || ''), text); b.type = 'button'; return b; };
  const mb = (n) => (n / 1048576).toFixed(1) + ' MB';
  const fire = (n) => n.dispatchEvent(new Event('change', { bubbles: true }));
  const live = (p) => { p.setAttribute('aria-live', 'polite'); return p; };

  async function sha256(blob) {
    const s = globalThis.crypto && crypto.subtle;
    if (!s) return '';
    const h = new Uint8Array(await s.digest('SHA-256', await blob.arrayBuffer()));
    return Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function upload(blob, name, o) {
    const sum = await sha256(blob).catch(() => '');
    return new Promise((ok, fail) => {
      const x = new XMLHttpRequest(), head = (k, v) => v && x.setRequestHeader(k, v);
      x.open('POST', '/attachments?' + new URLSearchParams(o.query || {}));
      head('Content-Type', blob.type || 'application/octet-stream');
      head('X-Filename', encodeURIComponent(name));
      head('X-Captured-At', new Date(blob.lastModified || Date.now()).toISOString());
      head('X-Sha256', sum);
      head('X-CSRF-Token', o.csrf);
      x.upload.onprogress = (e) => o.progress && e.lengthComputable && o.progress(e.loaded / e.total);
      x.onerror = () => fail(Error(''));
      x.onload = () => {
        let r = {};
        try { r = JSON.parse(x.responseText) || {}; } catch (e) { /* a proxy's page */ }
        if (x.status < 300 && r.sha256) ok(r);
        else fail(Error((x.status > 399 && x.status < 500 && r.error && r.error.message) || ''));
      };
      x.send(blob);
    });
  }

  function attach(ul, path, rec, one) {
    if (one) ul.textContent = '';
    const li = el('li', 'attachment'), input = el('input'), rm = btn('Remove', 'button--small'), img = el('img', 'thumb');
    li.dataset.wpAttachment = rec.sha256;
    input.type = 'hidden';
    input.name = path + '.attachment';
    input.value = JSON.stringify(rec);
    img.src = '/attachments/' + rec.sha256;
    img.alt = rec.filename;
    img.width = img.height = 96;
    rm.append(el('span', 'visually-hidden', ' ' + rec.filename));
    li.append(input, ...(/^image\//.test(rec.content_type) ? [img] : []), el('span', 'attachment__name', rec.filename), rm);
    ul.append(li);
    fire(input);
  }

  function send(box, at, path, file, name, one) {
    const form = box.closest('form'), csrf = form.querySelector('[name=csrf_token]');
    const json = (form.dataset.wpFormJson || '').split('/');
    const row = el('div', 'upload__row'), bar = el('progress'), say = live(el('p', 'upload__status', 'Uploading ' + name));
    let ul = at.parentNode.querySelector('ul.attachments');
    if (!ul) at.before((ul = el('ul', 'attachments')));
    bar.max = 1;
    bar.value = 0;
    row.append(say, bar);
    box.append(row);
    const o = { csrf: csrf && csrf.value, query: { department: json[2], form: json[3], field: path }, progress: (f) => { bar.value = f; } };
    return upload(file, name, o).then((rec) => { row.remove(); attach(ul, path, rec, one); }, (err) => {
      bar.remove();
      say.className = 'error-message';
      say.textContent = err.message || 'Upload failed — try again';
      const again = btn('Try again');
      again.onclick = () => { row.remove(); send(box, at, path, file, name, one).catch(() => 0); };
      if (!err.message) row.append(again); // a refusal ("too big") will not change on a retry
      throw err;
    });
  }

  function initUpload(box) {
    const path = box.dataset.wpUpload, input = box.querySelector('[type=file]'), say = live(el('p', 'error-message'));
    const limit = +box.dataset.wpMaxSize || 0;
    box.append(say);
    input.onchange = () => {
      box.querySelectorAll('.upload__row').forEach((r) => r.querySelector('progress,button') || r.remove());
      say.textContent = '';
      for (const f of input.files) { // the number of files is checked when the page is sent
        if (limit && f.size > limit) say.textContent = f.name + ' is ' + mb(f.size) + ': it must be smaller than ' + mb(limit);
        else send(box, box, path, f, f.name).catch(() => 0);
      }
      input.value = ''; // never posted twice
    };
  }

  function initSignature(box) {
    const path = box.dataset.wpSignature, pad = el('canvas', 'signature__pad'), g = pad.getContext('2d');
    const help = el('p', 'hint', 'Sign in the box with a finger or stylus, then select Done.');
    const clear = btn('Clear'), done = btn('Done'), row = el('div', 'signature__actions'), form = box.closest('form');
    let dirty, last, saving;
    help.id = 'sig-' + path.replace(/\./g, '-');
    pad.setAttribute('role', 'img');
    pad.setAttribute('aria-label', 'Signature pad');
    pad.setAttribute('aria-describedby', help.id);
    const back = box.querySelector('[data-wp-signature-fallback]');
    row.append(clear, done);
    back ? back.before(help, pad, row) : box.append(help, pad, row);
    const reset = () => {
      const r = globalThis.devicePixelRatio || 1;
      pad.width = (pad.clientWidth || 600) * r;
      pad.height = 200 * r;
      g.scale(r, r);
      g.fillStyle = '#fff'; // a white page, not transparency, wherever the picture is shown
      g.fillRect(0, 0, pad.width, pad.height);
      g.lineWidth = 2.5;
      g.lineCap = 'round';
      dirty = false;
    };
    reset();
    const at = (e) => { const b = pad.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
    pad.onpointerdown = (e) => {
      if (!dirty) reset(); // shown since it was sized (a question that became relevant): size it now
      pad.setPointerCapture(e.pointerId);
      last = at(e);
      e.preventDefault();
    };
    pad.onpointermove = (e) => {
      if (!last) return;
      g.beginPath();
      g.moveTo(...last);
      g.lineTo(...(last = at(e)));
      g.stroke();
      dirty = true;
      saving = null;
    };
    pad.onpointerup = pad.onpointercancel = () => { last = null; };
    clear.onclick = reset;
    const save = () => !dirty ? Promise.resolve() : saving || (saving = new Promise((ok, no) => pad.toBlob((b) => (b ? ok(b) : no(Error(''))), 'image/png'))
      .then((b) => send(box, pad, path, b, 'signature.png', 1)).then(() => { dirty = false; }, (e) => { saving = null; throw e; }));
    done.onclick = () => save().catch(() => 0);
    // Before the page's own checks (capture phase): they run again on the submit that follows.
    if (form) form.addEventListener('submit', (e) => {
      if (!dirty) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      save().then(() => form.requestSubmit(e.submitter), () => 0);
    }, true);
  }

  function initGeo(b) {
    const path = b.dataset.wpGeolocate, geo = navigator.geolocation, say = live(el('p'));
    const put = (k, v) => { const i = b.closest('form').querySelector('[name="' + path + '.' + k + '"]'); if (i) { i.value = v; fire(i); } };
    if (!geo) return;
    b.after(say);
    b.hidden = false;
    b.onclick = () => {
      say.className = '';
      say.textContent = 'Finding your location…';
      geo.getCurrentPosition((p) => {
        const c = p.coords, m = Math.round(c.accuracy);
        put('lat', c.latitude.toFixed(6));
        put('lon', c.longitude.toFixed(6));
        put('accuracy', m);
        say.textContent = 'Accurate to ' + m + ' m';
      }, (e) => {
        say.className = 'error-message';
        say.textContent = (e.code == 1 ? 'Location is blocked: allow it in Settings' : 'Location not found: try again') + ', or type it in.';
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    };
  }

  // The page posts the attachment inputs that remain: removing needs no server trip.
  function remove(e) {
    const li = e.target.closest && e.target.closest('.attachment'), ul = li && li.parentNode;
    if (!li || !e.target.closest('button')) return;
    e.preventDefault();
    li.remove();
    fire(ul);
  }

  function init(root) {
    const all = (s, f) => root.querySelectorAll(s).forEach(f);
    all('[data-wp-upload]', initUpload);
    all('[data-wp-signature]', initSignature);
    all('[data-wp-geolocate]', initGeo);
    root.addEventListener('click', remove);
  }

  const api = { init: init, sha256: sha256, upload: upload };
  (globalThis.Waypost = globalThis.Waypost || {}).capture = api;
  if (typeof module == 'object' && module.exports) module.exports = api;
  if (doc) doc.readyState == 'loading' ? doc.addEventListener('DOMContentLoaded', () => init(doc)) : init(doc);
})();
