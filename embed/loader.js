/*! widget-server loader v1: the call-back button, window.WidgetServer (README) */
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
  // A refusal's sentence (a removed widget, a site not on its list) goes to the console.
  const get = (path, as) => fetch(app + '/embed/v1/' + path)
    .then(r => r.ok ? r[as]() : r.json().then(b => { throw Error(b.message); }));
  const ready = Promise.all([get('config/' + encodeURIComponent(s.dataset.widget), 'json'),
    get('loader.css', 'text')])
    .then(([c, style]) => {
      // Closed, and the widget offers nothing outside its hours.
      if (c.hidden) return;
      // Right to left, the corner mirrors; the dialog reads in the widget's direction,
      // not the page's.
      const side = (c.position == 'bottom-left') != (c.dir == 'rtl') ? 'left' : 'right',
        h = d.createElement('widget-server-button'), root = h.attachShadow({ mode: 'open' });
      h.dir = c.dir;
      // Fixed and out of the flow: the page never shifts.
      h.style.cssText = `position:fixed;bottom:20px;${side}:20px;z-index:2147483000;display:block`;
      // A constructed stylesheet, not <style>: a host CSP without 'unsafe-inline' allows it.
      const css = new CSSStyleSheet();
      css.replaceSync(style);
      root.adoptedStyleSheets = [css];
      h.dataset.side = side;
      // A phone handset (as the frame's send button): an inline SVG, no font to load.
      // The dialog's header is no landmark: the page has its own banner.
      root.innerHTML = '<button class=b aria-haspopup=dialog aria-expanded=false hidden>' +
        '<svg viewBox=0,0,32,32 aria-hidden=true><path d=M9,3l4,7-3,3c2,4,5,7,9,9l3-3,7,4-2,6C15,29,3,17,3,5z></svg></button>' +
        '<dialog><header role=none><span></span><button class=x>\u00d7</button></header>' +
        '<p role=status><span></span><br><br><button class=b hidden></button></p></dialog>';
      const [b, x, r] = root.querySelectorAll('button'), g = root.querySelector('dialog'),
        [l, t] = root.querySelectorAll('span'), p = t.parentNode;
      let f, back;
      b.append(l.textContent = c.label);
      r.textContent = c.retry;
      b.style.background = l.parentNode.style.background = r.style.background = c.colour;
      // Black or white, whichever meets WCAG AA on the colour (colours.py).
      b.style.color = l.parentNode.style.color = r.style.color = x.style.color = c.text_colour;
      g.setAttribute('aria-label', c.label);
      x.setAttribute('aria-label', c.close);
      // A sentence stands in for the frame until the frame says it is ready; a frame
      // that loaded without saying so (the browser's error page) gives way to a retry.
      const frame = () => {
        t.textContent = c.loading;
        p.hidden = 0;
        r.hidden = f = d.createElement('iframe');
        f.title = c.label;
        // Reopened, the dialog focuses the frame.
        f.hidden = f.autofocus = 1;
        f.onload = () => setTimeout(() => f.hidden && (t.textContent = c.failed, r.hidden = 0), 1500);
        // The page's URL rides in the fragment (never sent to a server): metadata
        // the frame sends with a request, never a field's value.
        f.src = c.frame_url + '#' + encodeURIComponent(location.href);
        // Only after the page's own load: the frame never holds back its load event.
        d.readyState == 'complete' ? g.append(f) : addEventListener('load', () => g.append(f));
      };
      r.onclick = () => { f.remove(); frame(); };
      const open = () => {
        f || frame();
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
      // The frame's news (its card's height, Escape, the call's progress): only our
      // frame, from our origin.
      addEventListener('message', e => {
        const m = f && e.origin === app && e.source === f.contentWindow &&
          /^widget-server:([a-z]+)(\d*)$/.exec(e.data);
        // h<number>: the card's height, the frame's too. Ready: the frame shows and takes
        // the focus (its first field, not the close button).
        if (m) m[2] ? f.style.height = m[2] + 'px' : m[1] == 'ready' ? (p.hidden = 1, f.hidden = 0, f.focus()) :
          m[1] == 'close' ? g.close() : emit(m[1]);
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
      // Phones: the sheet follows the visual viewport, the part the keyboard leaves.
      const v = window.visualViewport, fit = () => {
        h.style.setProperty('--vh', v.height + 'px');
        h.style.setProperty('--vb', d.documentElement.clientHeight - v.offsetTop - v.height + 'px');
      };
      if (v) { v.addEventListener('resize', fit); v.addEventListener('scroll', fit); fit(); }
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
