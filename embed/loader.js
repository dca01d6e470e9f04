/*! widget-server loader v1: the call-me-back button and window.WidgetServer (README) */
// Draws the button in a Shadow DOM and opens the widget's form (an iframe from the
// widget server) in a dialog. Served compacted: comment lines and indentation go.
// Snippet: <script async src="APP/embed/v1/loader.js" data-widget="TOKEN"></script>
(() => {
  const d = document, s = d.currentScript || d.querySelector('script[data-widget]');
  if (!s || !s.dataset.widget) return;
  const app = new URL(s.src, location.href).origin, L = {},
    emit = type => (L[type] || []).map(fn => fn({ type })),
    // A page path against the widget's globs: * is any characters, the rest literal.
    on = globs => globs.some(p => RegExp('^' + p.split('*').map(x => x.replace(/\W/g, '\\$&'))
      .join('.*') + '$').test(location.pathname));
  const ready = fetch(app + '/embed/v1/config/' + encodeURIComponent(s.dataset.widget))
    .then(r => { if (!r.ok) throw Error('HTTP ' + r.status); return r.json(); })
    .then(c => {
      if (c.hidden) return; // closed, and the widget offers nothing outside its hours
      const side = c.position == 'bottom-left' ? 'left' : 'right',
        h = d.createElement('widget-server-button'), root = h.attachShadow({ mode: 'open' });
      // Fixed and out of the flow: the page never shifts.
      h.style.cssText = `position:fixed;bottom:20px;${side}:20px;z-index:2147483000;display:block`;
      root.innerHTML = '<style>' +
        'button{font:600 15px/1.2 system-ui,sans-serif;color:#fff;border:0;cursor:pointer}' +
        '.b{padding:13px 20px;border-radius:99px;box-shadow:0 3px 12px #0004}' +
        'button:focus-visible{outline:3px solid #111;outline-offset:2px;box-shadow:0 0 0 2px #fff}' +
        `dialog{padding:0;border:0;border-radius:12px;overflow:hidden;margin:auto ${side == 'left' ? 'auto 20px 20px' : '20px 20px auto'};` +
        'width:min(380px,calc(100vw - 40px));height:min(600px,calc(100vh - 40px));box-shadow:0 8px 40px #0006}' +
        'dialog[open]{display:flex;flex-direction:column}dialog::backdrop{background:#0003}' +
        'header{display:flex;align-items:center;justify-content:space-between;padding:6px 6px 6px 16px;font:600 15px system-ui,sans-serif;color:#fff}' +
        '.x{background:none;font-size:24px;width:40px;height:40px;border-radius:8px}' +
        'iframe{flex:1;border:0;width:100%;background:#fff}</style>' +
        '<button class=b aria-haspopup=dialog aria-expanded=false hidden></button>' +
        '<dialog><header><span></span><button class=x aria-label=Close>\u00d7</button></header></dialog>';
      const [b, x] = root.querySelectorAll('button'), g = root.querySelector('dialog');
      let f, back;
      b.textContent = root.querySelector('span').textContent = c.label;
      b.style.background = root.querySelector('header').style.background = c.colour;
      g.setAttribute('aria-label', c.label);
      const open = () => {
        if (!f) {
          f = d.createElement('iframe');
          f.title = c.label;
          // The page's URL rides in the fragment (never sent to a server): metadata
          // the frame sends with a request, never a field's value.
          f.src = c.frame_url + '#' + encodeURIComponent(location.href);
          g.append(f);
        }
        if (g.open) return;
        back = d.activeElement;
        g.showModal();
        b.setAttribute('aria-expanded', 'true');
        emit('open');
      };
      b.onclick = open;
      x.onclick = () => g.close();
      g.onclick = e => e.target == g && g.close();
      g.onclose = () => {
        b.setAttribute('aria-expanded', 'false');
        (back != h && back || b).focus();
        emit('close');
      };
      // The frame's news (Escape, the call's progress): only our frame, from our origin.
      addEventListener('message', e => {
        const m = f && e.origin === app && e.source === f.contentWindow &&
          /^widget-server:(\w+)$/.exec(e.data);
        if (m) m[1] == 'close' ? g.close() : emit(m[1]);
      });
      // The floating button: not with data-button="none", only where the paths allow,
      // after the delay and once the page is scrolled far enough.
      if (s.dataset.button != 'none' && !on(c.hide_on_paths) &&
          !(c.show_on_paths[0] && !on(c.show_on_paths))) {
        const shown = () => {
          if (scrollY + innerHeight >= d.documentElement.scrollHeight * c.show_after_scroll / 100) b.hidden = 0;
        };
        setTimeout(() => { addEventListener('scroll', shown); shown(); }, c.show_after_seconds * 1e3);
      }
      const add = () => d.body.append(h);
      d.body ? add() : d.addEventListener('DOMContentLoaded', add);
      return v => v ? open() : g.close();
    })
    .catch(e => console.warn('widget-server: the call-back button is not shown:', e.message));
  window.WidgetServer = {
    open: () => ready.then(o => o && o(1)),
    close: () => ready.then(o => o && o()),
    on: (type, fn) => { (L[type] = L[type] || []).push(fn); },
  };
  // The page's own buttons: any element with data-widget-server-open.
  d.addEventListener('click', e => {
    if (e.target.closest && e.target.closest('[data-widget-server-open]')) {
      e.preventDefault();
      WidgetServer.open();
    }
  });
  dispatchEvent(new Event('widget-server:ready'));
})();
