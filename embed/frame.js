/* widget-server frame: sends the call-back form, solves the ALTCHA proof of
 * work (or reads the vendor captcha's token) and shows the call's progress.
 * Data comes from #w's data-* attributes: the frame's CSP forbids inline script. */
(() => {
  'use strict';
  const $ = id => document.getElementById(id), D = $('w').dataset;
  const T = JSON.parse(D.t), codes = JSON.parse(D.codes);
  const form = $('form'), phone = $('phone'), country = $('country'), consent = $('consent');
  const captcha = $('captcha'), send = $('send'), altcha = D.captcha == 'altcha';
  const FIELDS = { phone, consent, captcha, form: null };
  const END = ['completed', 'failed', 'rejected'];

  // A reopened form (see reopen) comes back with what the visitor typed, in the
  // fragment, which no server sees; after a refused nonce it is sent again.
  const carried = new URLSearchParams(location.hash.slice(1));
  if (carried.has('phone')) {
    history.replaceState(null, '', location.pathname + location.search);
    phone.value = carried.get('phone');
    country.value = carried.get('country');
    consent.checked = true;  // only a form sent with consent is reopened
  }

  // Country names in the widget's language, where the browser knows them.
  try {
    const names = new Intl.DisplayNames([document.documentElement.lang, 'en'], { type: 'region' });
    for (const o of country.options) o.text = names.of(o.value) + ' +' + codes[o.value];
  } catch (e) { /* keep the codes */ }

  const clear = () => {
    for (const k in FIELDS) {
      $(k + '-err').textContent = '';
      if (FIELDS[k]) FIELDS[k].removeAttribute('aria-invalid');
    }
  };
  // Shows a refusal next to the field it is about (by its code's prefix).
  const fail = (code, message, focus) => {
    const k = (/^(phone|consent|captcha)_/.exec(code) || [, 'form'])[1], field = FIELDS[k];
    $(k + '-err').textContent = message;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      if (focus) field.focus();
    }
  };

  // ALTCHA v1: find n with hex(SHA-256(salt + n)) == challenge, in batches.
  let solving = null;
  const hex = buf => Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');
  const state = text => { $('captcha-state').textContent = text; };
  async function solve() {
    const r = await fetch(D.challenge, { cache: 'no-store' });
    if (!r.ok) throw Error('challenge ' + r.status);
    const c = await r.json(), enc = new TextEncoder(), bar = $('captcha-bar');
    bar.hidden = false;
    for (let n = 0; n <= c.maxnumber; n += 500) {
      const batch = [];
      for (let i = n; i < n + 500 && i <= c.maxnumber; i++) {
        batch.push(crypto.subtle.digest('SHA-256', enc.encode(c.salt + i)));
      }
      const found = (await Promise.all(batch)).findIndex(h => hex(h) === c.challenge);
      if (found >= 0) {
        bar.hidden = true;
        return btoa(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge,
          number: n + found, salt: c.salt, signature: c.signature }));
      }
      bar.value = 100 * n / c.maxnumber;
    }
    throw Error('no solution');
  }
  const verify = () => {
    if (!solving) {
      captcha.checked = false;
      captcha.setAttribute('aria-busy', 'true');
      state(T.verifying);
      solving = solve().then(solution => {
        captcha.checked = true;
        state(T.verified);
        return solution;
      }, e => {
        solving = null;
        $('captcha-bar').hidden = true;
        state('');
        throw e;
      }).finally(() => captcha.removeAttribute('aria-busy'));
      solving.catch(() => fail('captcha_failed', T.captcha_error));
    }
    return solving;
  };
  const vendorToken = () => {
    const input = form.querySelector('[name=h-captcha-response],[name=cf-turnstile-response]');
    return input && input.value;
  };
  const resetCaptcha = () => {
    if (altcha) { solving = null; verify(); } else {
      const vendor = window.hcaptcha || window.turnstile;
      if (vendor) vendor.reset();
    }
  };
  if (altcha) {
    // The box mirrors the solver's state: a click starts it, never unticks it.
    captcha.addEventListener('click', e => { e.preventDefault(); $('captcha-err').textContent = ''; verify(); });
    verify();
  }

  // A national number is sent as +<calling code> unless it is the home country's.
  const number = raw => raw[0] == '+' || country.value == D.home ? raw : '+' + codes[country.value] + ' ' + raw;

  let busy = false;
  const label = send.textContent;
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (busy) return;
    clear();
    const raw = phone.value.trim();
    if (!raw) fail('phone_missing', T.phone_missing);
    if (!consent.checked) fail('consent_missing', T.consent_missing);
    if (!raw || !consent.checked) return form.querySelector('[aria-invalid]').focus();
    busy = send.disabled = true;
    send.textContent = T.sending;
    try {
      let token;
      try { token = altcha ? await verify() : vendorToken(); } catch (err) { token = null; }
      if (!token) return fail('captcha_missing', altcha ? T.captcha_error : T.captcha_missing, true);
      const r = await fetch(D.calls, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: D.token, nonce: D.nonce, phone: number(raw), captcha: token,
          page_origin: D.origin, consent: true, callback_at: $('slot') ? $('slot').value : undefined }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status == 202) return progress(body);
      // Expired or already spent (a 503 after it was taken): a fresh form, once.
      if (/^nonce_/.test(body.error) && !carried.has('resend')) return reopen(raw, true);
      if (/^captcha_/.test(body.error)) resetCaptcha();
      fail(body.error || '', body.message || T.error, true);
    } catch (err) {
      fail('', T.network);
    } finally {
      busy = send.disabled = false;
      send.textContent = label;
    }
  });

  // The call's progress: poll its status about once a second until it ends.
  const show = s => {
    $('status').textContent = T['s_' + s.status] || s.status;
    $('message').textContent = s.message || '';
    $('w').dataset.status = s.status;
    let reached = true;
    for (const li of $('steps').children) {
      const here = li.dataset.step == s.status;
      li.className = here ? (s.status == 'completed' ? 'done now' : 'now') : reached ? 'done' : '';
      if (here) { li.setAttribute('aria-current', 'step'); reached = false; } else li.removeAttribute('aria-current');
    }
    if (END.includes(s.status) && s.status != 'completed') {
      $('steps').hidden = true;
      $('again').hidden = false;
    }
  };
  function progress(accepted) {
    form.hidden = true;
    $('progress').hidden = false;
    show(accepted);
    $('progress').focus();
    const poll = async () => {
      let next = 1000;
      try {
        const r = await fetch(accepted.status_url, { headers: { 'X-Call-Token': accepted.call_token }, cache: 'no-store' });
        if (r.ok) {
          const s = await r.json();
          show(s);
          if (END.includes(s.status)) return;
        } else if (r.status != 429 && r.status < 500) return show({ status: 'failed', message: T.error });
        else next = 5000;
      } catch (e) { next = 3000; }
      setTimeout(poll, next);
    };
    setTimeout(poll, 500);
  }
  // A new request needs a fresh form nonce and captcha: reload the frame, keeping
  // the number (the visitor sends it again when ready).
  $('again').addEventListener('click', () => reopen(phone.value.trim(), false));
  function reopen(raw, resend) {
    const keep = { phone: raw, country: country.value };
    if (resend) keep.resend = '1';
    // Replaced, not pushed: the number stays out of the frame's history.
    history.replaceState(null, '', '#' + new URLSearchParams(keep));
    location.reload();
  }
  if (carried.has('resend') && altcha) form.requestSubmit();

  // Escape inside the frame closes the dialog the loader drew around it.
  document.addEventListener('keydown', e => {
    if (e.key == 'Escape' && parent !== window) parent.postMessage('widget-server:close', D.origin);
  });
})();
