/* widget-server frame: sends the call-back form, solves the ALTCHA proof of
 * work (or reads the vendor captcha's token) and shows the call's progress.
 * Data comes from #w's data-* attributes: the frame's CSP forbids inline script.
 * It acts only on what the visitor does inside it: nothing in its URL, name or
 * referrer fills a field, ticks a box or sends, and it works only when framed
 * by a whitelisted page. The host page's URL, which the loader puts in this
 * frame's URL fragment, is sent with a request as metadata and nothing more; the
 * loader hears the call's progress and the card's height by postMessage, addressed
 * to the page's origin. */
(() => {
  'use strict';
  const $ = id => document.getElementById(id), D = $('w').dataset;
  const T = JSON.parse(D.t), codes = JSON.parse(D.codes);
  const form = $('form'), phone = $('phone'), country = $('country'), consent = $('consent');
  const captcha = $('captcha'), send = $('send'), altcha = D.captcha == 'altcha';
  const FIELDS = { phone, consent, captcha, form: null };
  const END = ['completed', 'failed', 'rejected'];
  let pageUrl;
  try { pageUrl = decodeURIComponent(location.hash.slice(1)); } catch (e) { /* not a URL */ }
  // Tells the loader (and through it the page's WidgetServer.on) what happened.
  const tell = news => { if (parent !== window) parent.postMessage('widget-server:' + news, D.origin); };

  // The card's height, which the loader sizes the frame to: measured in the full
  // layout. The short one (.short, frame.css) applies only when the dialog leaves
  // less room than that, as with a phone's keyboard up.
  const root = document.documentElement;
  let height;
  const fit = () => {
    root.classList.remove('short');
    const h = Math.ceil(document.body.getBoundingClientRect().height);
    root.classList.toggle('short', innerHeight < h && innerHeight <= 420);
    if (h != height) tell('h' + (height = h));
  };
  // After the frame's layout, not inside it: no ResizeObserver loop.
  new ResizeObserver(() => requestAnimationFrame(fit)).observe(document.body);
  addEventListener('resize', fit);
  fit();

  // On the whitelist, as security/origins.py matches it: host, *.host (subdomains
  // only), each with the scheme's default port unless the entry names one.
  const W = JSON.parse(D.whitelist);
  const listed = origin => {
    let u;
    try { u = new URL(origin); } catch (e) { return false; }
    const scheme = u.protocol.slice(0, -1), port = p => p || (scheme == 'https' ? '443' : '80');
    return W.schemes.includes(scheme) && W.entries.some(entry => {
      const [host, p] = entry.split(':');
      return port(p) == port(u.port) &&
        (host.startsWith('*.') ? u.hostname.endsWith(host.slice(1)) : u.hostname == host);
    });
  };
  // Framed by the page it was opened for, under whitelisted pages only: never
  // top-level. Browsers without ancestorOrigins rely on the CSP's frame-ancestors.
  const ancestors = location.ancestorOrigins;
  if (window.top === window || ancestors &&
      (ancestors[0] !== D.origin || !Array.from(ancestors).every(listed))) {
    const refused = document.createElement('p');
    refused.id = 'refused';
    refused.className = 'intro';
    refused.setAttribute('role', 'alert');
    refused.textContent = T.not_framed;
    $('w').replaceChildren(refused);
    tell('ready');  // the loader shows the refusal, not its own sentence
    return;
  }

  // Country names in the widget's language, where the browser knows them.
  if (country) try {
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
    const err = $(k + '-err');
    err.textContent = message;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      if (focus) field.focus();
    } else {
      // No field to go to: the message itself, in view on a small screen too.
      err.focus();
      err.scrollIntoView({ block: 'nearest' });
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

  // The dialog opens with the frame focused: the first field takes it, or the
  // call's progress once the form is sent. Closing the dialog drops the focus, so
  // each opening gives it again.
  const first = () => (form.hidden ? $('progress') : form.querySelector('select,input')).focus();
  first();
  addEventListener('focus', () => { if (document.activeElement == document.body) first(); });

  // A national number is sent as +<calling code> unless it is the home country's.
  const number = raw => raw[0] == '+' || !country || country.value == D.home ? raw : '+' + codes[country.value] + ' ' + raw;

  // The form's nonce; a fresh one comes from our own origin when it is spent or refused.
  let nonce = D.nonce;
  const renew = async () => {
    const r = await fetch(D.renew, { cache: 'no-store' });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw { error: body.error || '', message: body.message || T.error };
    return body.nonce;
  };

  let busy = false;
  const words = send.lastChild, label = words.textContent;
  form.addEventListener('submit', async e => {
    e.preventDefault();
    // Only the visitor's own click on the button, or Enter in the form, sends it.
    const gesture = !navigator.userActivation || navigator.userActivation.isActive;
    if (busy || !e.isTrusted || e.submitter !== send || !gesture) return;
    clear();
    const raw = phone.value.trim();
    if (!raw) fail('phone_missing', T.phone_missing);
    if (!consent.checked) fail('consent_missing', T.consent_missing);
    if (!raw || !consent.checked) return form.querySelector('[aria-invalid]').focus();
    busy = send.disabled = true;
    words.textContent = T.sending;
    try {
      let token;
      try { token = altcha ? await verify() : vendorToken(); } catch (err) { token = null; }
      if (!token) return fail('captcha_missing', altcha ? T.captcha_error : T.captcha_missing, true);
      for (let renewed = false; ; renewed = true) {
        nonce = nonce || await renew();
        const r = await fetch(D.calls, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ token: D.token, nonce, phone: number(raw), captcha: token,
            page_origin: D.origin, page_url: pageUrl, consent: true, callback_at: $('slot') ? $('slot').value : undefined }),
        });
        const body = await r.json().catch(() => ({}));
        if (r.status == 202) {
          nonce = null;
          tell('requested');
          if ($('slot')) tell('scheduled');
          return progress(body);
        }
        // Expired or already spent (a 503 after it was taken): this click's request is
        // sent once more, on a fresh nonce and, for ALTCHA, a fresh solution.
        if (/^nonce_/.test(body.error) && !renewed) {
          nonce = null;
          if (altcha) {
            solving = null;
            token = await verify().catch(() => null);
            if (!token) return fail('captcha_missing', T.captcha_error, true);
          }
          continue;
        }
        if (/^captcha_/.test(body.error)) resetCaptcha();
        return fail(body.error || '', body.message || T.error, true);
      }
    } catch (err) {
      // A refusal of the renewal is shown as it came; anything else is the network.
      if (err && 'error' in err) fail(err.error, err.message);
      else fail('', T.network);
    } finally {
      busy = send.disabled = false;
      words.textContent = label;
    }
  });

  // The call's progress: poll its status about once a second until it completes.
  // After a failure it keeps looking, every 5 s for up to 10 minutes, since the
  // server may try again (the status follows the newest attempt).
  let told;
  const show = s => {
    const news = s.status == 'connected' ? s.status : END.includes(s.status) && s.status != 'completed' && 'failed';
    if (news && news != told) tell(told = news);
    $('status').textContent = T['s_' + s.status] || s.status;
    $('message').textContent = s.message || '';
    $('w').dataset.status = s.status;
    let reached = true;
    for (const li of $('steps').children) {
      const here = li.dataset.step == s.status;
      li.className = here ? (s.status == 'completed' ? 'done now' : 'now') : reached ? 'done' : '';
      if (here) { li.setAttribute('aria-current', 'step'); reached = false; } else li.removeAttribute('aria-current');
    }
    // A failed call may be tried again (the business's next number, a redial): the
    // steps come back when the next attempt starts.
    const over = END.includes(s.status) && s.status != 'completed';
    $('steps').hidden = over;
    $('again').hidden = !over;
  };
  let following = 0;  // the request whose status is polled; "Try again" drops it
  function progress(accepted) {
    told = null;
    const mine = ++following;
    form.hidden = true;
    $('progress').hidden = false;
    show(accepted);
    $('progress').focus();
    let failedAt = 0;
    const poll = async () => {
      if (mine != following) return;
      let next = 1000;
      try {
        const r = await fetch(accepted.status_url, { headers: { 'X-Call-Token': accepted.call_token }, cache: 'no-store' });
        if (r.ok) {
          const s = await r.json();
          if (mine != following) return;
          show(s);
          if (s.status == 'completed') return;
          if (END.includes(s.status) || (failedAt && s.status == 'queued')) {
            failedAt = failedAt || Date.now();
            if (Date.now() - failedAt > 600000) return;
            next = 5000;
          }
        } else if (r.status != 429 && r.status < 500) return show({ status: 'failed', message: T.error });
        else next = 5000;
      } catch (e) { next = 3000; }
      setTimeout(poll, next);
    };
    setTimeout(poll, 500);
  }
  // A new request: the same form again, with what the visitor typed and ticked, a
  // fresh captcha, and a fresh nonce when sent; nothing goes until the visitor sends it.
  $('again').addEventListener('click', () => {
    following++;
    $('progress').hidden = $('again').hidden = true;
    $('steps').hidden = form.hidden = false;
    delete $('w').dataset.status;
    resetCaptcha();
    phone.focus();
  });

  // Escape inside the frame closes the dialog the loader drew around it.
  document.addEventListener('keydown', e => {
    if (e.key == 'Escape') tell('close');
  });
  // The loader shows the frame, in place of its loading sentence, once it is ready.
  tell('ready');
})();
